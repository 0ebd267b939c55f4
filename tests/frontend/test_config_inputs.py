"""Where a Config's value comes from at launch (issue 9): --config/--config-value, the
METAFLOW_FLOW_CONFIG[_VALUE] variables, and the flow module's own literal os.environ[...]
assignments, in Metaflow 2.19's order and with its refusals."""

from __future__ import annotations

import json

import pytest

from sfncompile.frontend.configs import CLI_OPTIONS

from .helpers import line_of, parse, parse_ok

FLOW = """
import json
import os
from metaflow import Config, FlowSpec, environment, step
{header}
class F(FlowSpec):
    cfg = Config("cfg", default_value={{"a": 1}})
    other = Config("other", default="other.json")

    @environment(vars={{"A": str(cfg.a)}})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.fixture(autouse=True)
def clean(monkeypatch, tmp_path):
    for name in ("METAFLOW_FLOW_CONFIG", "METAFLOW_FLOW_CONFIG_VALUE", CLI_OPTIONS):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "other.json").write_text('{"o": 0}')
    (tmp_path / "b.json").write_text('{"b": 2}')


def values(graph) -> dict:
    return {c.name: c.value for c in graph.configs}


def cli(monkeypatch, config=(), config_value=()):
    monkeypatch.setenv(CLI_OPTIONS, json.dumps({"config": [list(p) for p in config],
                                                "config_value": [list(p) for p in config_value]}))


def test_flow_module_literal_assignments_are_read_and_beat_the_environment(monkeypatch):
    monkeypatch.setenv("METAFLOW_FLOW_CONFIG_VALUE", '{"cfg": {"a": 7}}')
    source = FLOW.format(header="""
os.environ['METAFLOW_FLOW_CONFIG_VALUE'] = json.dumps({"cfg": {"a": 5}})
os.environ["METAFLOW_FLOW_CONFIG"] = '{"other": "b.json"}'
""")
    graph = parse_ok(source)
    assert values(graph) == {"cfg": {"a": 5}, "other": {"b": 2}}
    assert graph.steps["start"].decorator("environment").args == {"vars": {"A": "5"}}


def test_environment_variables_and_their_json_text_values(monkeypatch):
    # Metaflow reads a string in the map as JSON text, anything else as the value
    monkeypatch.setenv("METAFLOW_FLOW_CONFIG_VALUE", json.dumps({"cfg": '{"a": 3}'}))
    monkeypatch.setenv("METAFLOW_FLOW_CONFIG", '{"other": "b.json"}')
    assert values(parse_ok(FLOW.format(header=""))) == {"cfg": {"a": 3}, "other": {"b": 2}}


def test_a_command_line_option_replaces_its_variable_entirely(monkeypatch):
    # As click's envvar: --config given → METAFLOW_FLOW_CONFIG ignored, METAFLOW_FLOW_CONFIG_VALUE still read
    monkeypatch.setenv("METAFLOW_FLOW_CONFIG_VALUE", '{"cfg": {"a": 9}}')
    monkeypatch.setenv("METAFLOW_FLOW_CONFIG", '{"other": "missing.json"}')
    cli(monkeypatch, config=[("other", "b.json")])
    assert values(parse_ok(FLOW.format(header=""))) == {"cfg": {"a": 9}, "other": {"b": 2}}
    cli(monkeypatch, config_value=[("other", '{"x": 1}')])
    _, diagnostics = parse(FLOW.format(header=""))  # a value and (by the variable) a file: Metaflow refuses it
    assert any("a file (METAFLOW_FLOW_CONFIG)" in d.message for d in diagnostics)
    monkeypatch.delenv("METAFLOW_FLOW_CONFIG")
    assert values(parse_ok(FLOW.format(header=""))) == {"cfg": {"a": 1}, "other": {"x": 1}}


def test_refusals_as_metaflow(monkeypatch):
    cli(monkeypatch, config=[("cfg", "b.json")], config_value=[("cfg", '{"c": 3}')])
    _, diagnostics = parse(FLOW.format(header=""))
    assert any("cannot give both a value" in d.message and "cfg" in d.message for d in diagnostics)

    cli(monkeypatch, config_value=[("nope", "{}")])
    _, diagnostics = parse(FLOW.format(header=""))
    assert any("--config-value names config(s) the flow does not declare: nope" in d.message for d in diagnostics)

    cli(monkeypatch, config_value=[("cfg", "{bad")])
    _, diagnostics = parse(FLOW.format(header=""))
    assert any("is not JSON" in d.message for d in diagnostics)


def test_a_missing_default_file_is_an_error_as_in_metaflow(tmp_path):
    (tmp_path / "other.json").unlink()
    source = FLOW.format(header="")
    _, diagnostics = parse(source)
    [error] = [d for d in diagnostics if d.rule == "SFN015"]
    assert "default configuration file other.json does not exist" in error.message
    assert error.span.line == line_of(source, 'default="other.json"')


def test_module_assignments_the_source_does_not_settle_are_read_by_importing_the_flow(tmp_path):
    """Metaflow's launcher reads the variables after importing the module, whatever the form of
    the module's assignment; so does the launch process (frontend.launch), when the source alone
    does not say. Without a file to import, that is an error at the assignment."""
    (tmp_path / "v.json").write_text('{"cfg": {"a": 5}}')
    cases = {
        "conditional": ("if True:\n    os.environ['METAFLOW_FLOW_CONFIG_VALUE'] = '{\"cfg\": {\"a\": 4}}'\n", 4),
        "computed": ("os.environ['METAFLOW_FLOW_CONFIG_VALUE'] = open('v.json').read()\n", 5),
        "update": ("os.environ.update({'METAFLOW_FLOW_CONFIG_VALUE': '{\"cfg\": {\"a\": 6}}'})\n", 6),
    }
    for what, (header, expected) in cases.items():
        source = FLOW.format(header=header)
        (tmp_path / "flow.py").write_text(source)
        graph, diagnostics = parse(source)
        assert diagnostics == [], (what, [d.format() for d in diagnostics])
        assert values(graph)["cfg"] == {"a": expected}, what
        assert graph.steps["start"].decorator("environment").args == {"vars": {"A": str(expected)}}, what
    source = FLOW.format(header=cases["computed"][0])
    _, diagnostics = parse(source, file="not_on_disk/flow.py")
    errors = [d for d in diagnostics if d.rule == "SFN015"]
    assert errors and errors[0].span.line == line_of(source, "METAFLOW_FLOW_CONFIG"), [d.format() for d in diagnostics]
    assert "reading it by importing the flow at launch failed" in errors[0].message


def test_options_for_a_flow_without_configs_are_refused(monkeypatch):
    cli(monkeypatch, config_value=[("cfg", "{}")])
    _, diagnostics = parse("""
        from metaflow import FlowSpec, step
        class G(FlowSpec):
            @step
            def start(self):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    assert any("does not declare: cfg" in d.message and "none" in d.message for d in diagnostics)


TOML_FLOW = """
import tomllib
from tomllib import loads
from metaflow import Config, FlowSpec, resources, step

class T(FlowSpec):
    by_name = Config("by_name", default="c.toml", parser="tomllib.loads")
    by_ref = Config("by_ref", default="c.toml", parser=tomllib.loads)
    imported = Config("imported", default="c.toml", parser=loads)
    {extra}

    @resources(cpu=by_name.resources.cpu)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_library_parser_runs_at_compile_time_as_metaflow_runs_it_at_launch(tmp_path):
    pytest.importorskip("tomllib", reason="the parser under test is tomllib (Python 3.11+)")
    # Metaflow's docs example: Config(..., parser="tomllib.loads"); the parser is a library's, not the flow's code
    (tmp_path / "c.toml").write_text("[resources]\ncpu = 3\n")
    graph = parse_ok(TOML_FLOW.format(extra=""))
    assert values(graph) == {name: {"resources": {"cpu": 3}} for name in ("by_name", "by_ref", "imported")}
    assert graph.steps["start"].decorator("resources").args == {"cpu": 3}


def test_library_parsers_that_fail_are_refused_at_their_position(tmp_path):
    # (A parser of the flow's own code runs at launch: test_config_launch.py.)
    pytest.importorskip("tomllib", reason="the parser under test is tomllib (Python 3.11+)")
    (tmp_path / "c.toml").write_text("[resources]\ncpu = 3\n")
    cases = {
        'parser="no_such_module_xyz.parse"': "cannot be imported where sfncompile runs",
        'parser="tomllib.nothing"': "not part of tomllib",
        'parser="json.dumps"': "returned a str, not a mapping",
        'parser="tomllib.loads", default_value="not toml ="': "parser tomllib.loads failed: TOMLDecodeError",
    }
    for arguments, needle in cases.items():
        source = TOML_FLOW.format(extra=f"bad = Config(\"bad\", {arguments})" if "default_value" in arguments
                                  else f"bad = Config(\"bad\", default=\"c.toml\", {arguments})")
        _, diagnostics = parse(source)
        errors = [d for d in diagnostics if d.rule == "SFN015"]
        assert errors and needle in errors[0].message, (arguments, [d.format() for d in diagnostics])
        assert errors[0].span.line == line_of(source, "bad = Config"), arguments
