"""Configs that only the flow's own code can give (issue 9, Metaflow's BasicConfigTest): a
``parser=`` function, a function ``default_value=``/``default=``, a ``config_expr`` calling the
flow's helpers. They are evaluated at launch by importing the flow in a child process
(``frontend.launch``), never in the compiling process; static configs start no child."""

from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest

from sfncompile.frontend import launch as launch_module
from sfncompile.frontend.configs import CLI_OPTIONS
from sfncompile.pipeline import parse as parse_file

FLOW = '''
import os
from metaflow import Config, FlowSpec, config_expr, environment, resources, step

# What the module's top level does runs in the process that imports it: record which one.
with open("imported_by.txt", "a") as record:
    record.write(f"{{os.getpid()}}\\n")

def silly_parser(s):
    k, v = s.split(":")
    return {{k: v.strip()}}

def config_default(ctx):
    return {{"val": 456, "asked_for": ctx.parameter_name}}

def a_path(ctx):
    return "other.txt"

def doubled(c):
    return c.val * 2

class F(FlowSpec):
    silly = Config("silly", default="silly.txt", parser=silly_parser)
    computed = Config("computed", default_value=config_default)
    from_file = Config("from_file", default=a_path, parser=silly_parser)
    parsed_default = Config("parsed_default", default_value="k: v", parser=silly_parser)
    {extra}

    @resources(cpu=config_expr("doubled(computed) // 228"))
    @environment(vars={{"S": silly.baz, "D": config_expr("str(doubled(computed))")}})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


@pytest.fixture
def flow_dir(tmp_path, monkeypatch):
    for name in ("METAFLOW_FLOW_CONFIG", "METAFLOW_FLOW_CONFIG_VALUE", CLI_OPTIONS):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "silly.txt").write_text("baz: amazing\n")
    (tmp_path / "other.txt").write_text("from: a function's path\n")
    return tmp_path


def write(flow_dir, extra: str = "") -> str:
    path = flow_dir / "flow.py"
    path.write_text(textwrap.dedent(FLOW.format(extra=extra)))
    return str(path)


def test_user_code_configs_are_evaluated_at_launch_in_a_child_process(flow_dir):
    path = write(flow_dir)
    graph, diagnostics = parse_file(path)
    assert diagnostics == [], [d.format() for d in diagnostics]
    assert {c.name: c.value for c in graph.configs} == {
        "silly": {"baz": "amazing"},
        "computed": {"val": 456, "asked_for": "computed"},  # called with Metaflow's context
        "from_file": {"from": "a function's path"},
        "parsed_default": {"k": "v"},
    }
    assert graph.steps["start"].decorator("environment").args == {"vars": {"S": "amazing", "D": "912"}}
    assert graph.steps["start"].decorator("resources").args["cpu"] == 4
    # One child imported the flow, once; this process did not.
    pids = (flow_dir / "imported_by.txt").read_text().split()
    assert len(pids) == 1 and int(pids[0]) != os.getpid()
    assert not any(getattr(m, "__file__", None) == path for m in list(sys.modules.values()))


def test_a_command_line_value_goes_through_the_users_parser(flow_dir, monkeypatch):
    monkeypatch.setenv(CLI_OPTIONS, json.dumps({"config": [], "config_value": [["silly", "baz: given"]]}))
    graph, diagnostics = parse_file(write(flow_dir))
    assert diagnostics == [], [d.format() for d in diagnostics]
    assert next(c for c in graph.configs if c.name == "silly").value == {"baz": "given"}


def test_static_configs_start_no_process(flow_dir, monkeypatch):
    def refuse(self):
        raise AssertionError("a flow whose configs are static must not start the launch process")

    monkeypatch.setattr(launch_module.LaunchValues, "_start", refuse)
    (flow_dir / "flow.py").write_text(textwrap.dedent('''
        from metaflow import Config, FlowSpec, config_expr, environment, step

        class F(FlowSpec):
            cfg = Config("cfg", default_value={"a": 1, "name": "x"})

            @environment(vars={"A": config_expr("str(cfg.a)"), "N": cfg.name})
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    '''))
    graph, diagnostics = parse_file(str(flow_dir / "flow.py"))
    assert diagnostics == [] and graph.configs[0].value == {"a": 1, "name": "x"}
    assert not (flow_dir / "imported_by.txt").exists()


def _line(path: str, needle: str) -> int:
    return next(n for n, text in enumerate(open(path).read().splitlines(), 1) if needle in text)


def test_an_error_in_the_users_function_is_one_positioned_message_with_their_frames(flow_dir):
    (flow_dir / "silly.txt").write_text("no colon here\n")
    path = write(flow_dir)
    _, diagnostics = parse_file(path)
    errors = [d for d in diagnostics if d.rule == "SFN015"]
    assert errors, [d.format() for d in diagnostics]
    error = errors[0]
    assert error.span.line == _line(path, 'silly = Config("silly"')
    assert error.message.startswith("Config 'silly': the file silly.txt of config 'silly', parsed by "
                                    "parser=silly_parser at launch: parser silly_parser raised ValueError")
    # The user's own frame, and none of ours.
    assert f'File "{path}", line {_line(path, "k, v = s.split")}, in silly_parser' in error.message
    assert "sfncompile_runtime" not in error.message and "launchvalues" not in error.message


def test_a_function_default_that_raises_and_a_parser_that_returns_no_mapping(flow_dir):
    path = write(flow_dir, extra='bad = Config("bad", default_value=lambda ctx: 1 / 0)\n'
                                 '    listed = Config("listed", default_value="a", parser=lambda s: [s])')
    _, diagnostics = parse_file(path)
    by_line = {d.span.line: d.message for d in diagnostics if d.rule == "SFN015"}
    bad = by_line[_line(path, 'bad = Config("bad"')]
    assert "Config 'bad': default_value=lambda ctx: 1 / 0 (evaluated at launch)" in bad
    assert "ZeroDivisionError: division by zero" in bad
    listed = by_line[_line(path, 'listed = Config("listed"')]
    assert "returned a list, not a mapping" in listed


def test_a_flow_that_cannot_be_imported_says_so_at_the_config(flow_dir):
    path = write(flow_dir)
    text = open(path).read().replace("import os\n", "import os\nimport no_such_module_for_launch\n", 1)
    open(path, "w").write(text)
    _, diagnostics = parse_file(path)
    errors = [d for d in diagnostics if d.rule == "SFN015"]
    assert errors and errors[0].span.line == _line(path, 'silly = Config("silly"')
    assert "importing flow.py raised ModuleNotFoundError: No module named 'no_such_module_for_launch'" \
        in errors[0].message
