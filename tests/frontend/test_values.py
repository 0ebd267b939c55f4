"""Decorators and parameters: static evaluation, normalised values, errors with positions."""

from __future__ import annotations

import textwrap

import pytest

from .helpers import col_of, line_of, parse, parse_ok, rules_of

DECORATED = """
from metaflow import FlowSpec, step, batch, retry, schedule, project, environment
import metaflow as mf

GiB = 1024
CPUS = 2 * 2
IMAGE = "repo/" + "image:" + "1.0"
TAGS = ("a", "b")
ENV = {"MODE": "prod", "LEVEL": str}

@schedule(cron="0 3 * * ? *", timezone="Europe/Paris")
@project(name="demo")
class F(FlowSpec):
    @batch(cpu=CPUS, memory=16 * GiB, image=IMAGE, queue=None, gpu=-(-1))
    @retry(times=3, minutes_between_retries=0.5)
    @mf.timeout(hours=1 + 1)
    @step
    def start(self):
        self.next(self.end)

    @environment(vars={"A": "x" * 3, "B": f"plain", "C": f"{IMAGE}-{CPUS}\\t{{x}}"}, tags=[*TAGS, "c"], flags={1, 2}, enabled=not False)
    @mf.catch
    @step
    def end(self):
        pass
"""


def test_decorators_evaluated_statically():
    graph, diagnostics = parse(DECORATED)
    start = graph["start"]
    assert [d.name for d in start.decorators] == ["batch", "retry", "timeout"]
    assert start.decorator("batch").args == {"cpu": 4, "memory": 16384, "image": "repo/image:1.0",
                                              "queue": None, "gpu": 1}
    assert start.decorator("retry").args == {"times": 3, "minutes_between_retries": 0.5}
    assert start.decorator("timeout").args == {"hours": 2}
    end = graph["end"]
    assert end.decorator("environment").args == {"vars": {"A": "xxx", "B": "plain", "C": "repo/image:1.0-4\t{x}"}, "tags": ["a", "b", "c"],
                                                 "flags": [1, 2], "enabled": True}
    assert end.decorator("catch").args == {}
    assert [d.name for d in graph.decorators] == ["schedule", "project"]
    assert graph.decorator("schedule").args == {"cron": "0 3 * * ? *", "timezone": "Europe/Paris"}
    assert graph.decorator("schedule").span.line == line_of(DECORATED, "@schedule")
    assert start.decorator("batch").span.line == line_of(DECORATED, "@batch")
    assert start.decorator("batch").span.col == col_of(DECORATED, "batch(")
    assert graph.constants["GiB"] == 1024 and graph.constants["IMAGE"] == "repo/image:1.0"
    # ENV holds a name that is not a constant; it is never used, so no error.
    assert diagnostics == []


@pytest.mark.parametrize(
    "expression, needle, fragment",
    [
        ('cpu=os.cpu_count()', "os.cpu_count()", "cannot be evaluated statically"),
        ('cpu=UNKNOWN', "UNKNOWN", "not defined at module level"),
        ('cpu=TWICE', "TWICE", "assigned more than once"),
        ('cpu=helper', "helper", "is a function"),
        ('cpu=[x for x in range(3)]', "[x for x", "cannot be evaluated statically"),
        ('cpu=1 / 0', "1 / 0", "division by zero"),
        ('cpu=2 ** 100000', "2 ** 100000", "too large"),
        ('cpu="a" - "b"', '"a" - "b"', "only arithmetic on numbers"),
        ('cpu=f"{X}"', "X", "not defined at module level"),
        ('cpu=f"{CPUS!r}"', '{CPUS!r}', "conversions and format specs"),
        ('cpu=FROM_CALL', "FROM_CALL", "cannot be evaluated statically"),
    ],
)
def test_decorator_argument_errors_are_positioned(expression, needle, fragment):
    source = f"""
import os
from sfncompile import FlowSpec, step, resources

TWICE = 1
TWICE = 2
FROM_CALL = len("abc")
CPUS = 2

def helper():
    return 1

class F(FlowSpec):
    @resources({expression}, memory=1024)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""
    graph, diagnostics = parse(source)
    assert rules_of(diagnostics) == ["SFN005"], [d.format() for d in diagnostics]
    diagnostic = diagnostics[0]
    assert fragment in diagnostic.message
    assert "@resources(cpu=...)" in diagnostic.message
    expected_line = line_of(source, "@resources(")
    assert diagnostic.span.line == expected_line
    if needle != "FROM_CALL":  # a constant's failure is reported where the constant is used
        assert diagnostic.span.col == col_of(source, needle, within="@resources(")
    # The graph is still built, with the argument that could be read.
    assert graph["start"].decorator("resources").args == {"memory": 1024}


def test_step_annotation_must_be_static_and_known():
    graph, diagnostics = parse("""
        from sfncompile import FlowSpec, step
        import os
        class F(FlowSpec):
            @step(start=os.environ.get("X"), colour=1)
            def start(self):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    assert rules_of(diagnostics) == ["SFN005", "SFN005"]
    assert all(d.span.line == 4 for d in diagnostics)


def test_decorator_below_step_is_an_error():
    graph, diagnostics = parse("""
        from sfncompile import FlowSpec, step, retry
        class F(FlowSpec):
            @step
            @retry(times=1)
            def start(self):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    assert rules_of(diagnostics) == ["SFN009"]
    assert diagnostics[0].span.line == 4 and diagnostics[0].span.col == 6


def test_odd_decorator_expression():
    _, diagnostics = parse("""
        from sfncompile import FlowSpec, step
        DECOS = []
        class F(FlowSpec):
            @(lambda f: f)
            @step
            def start(self):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    assert rules_of(diagnostics) == ["SFN007"]
    assert diagnostics[0].span.line == 4


PARAMS = """
import metaflow as mf
from metaflow import FlowSpec, Parameter, IncludeFile, JSONType, step

DEFAULT_LR = 0.01

def today(ctx):
    return "2024-01-01"

class F(FlowSpec):
    lr = Parameter("learning-rate", default=DEFAULT_LR, help="Learning " + "rate")
    epochs = Parameter("epochs", help="how many", type=int, required=True)
    name = Parameter("name", "world")
    flag = Parameter("flag", default=False)
    config = Parameter("config", type=JSONType, default='{"a": 1}')
    config2 = mf.Parameter("config2", type=mf.JSONType)
    grid = Parameter("grid", default={"a": [1, 2]})
    day = Parameter("day", default=today)
    stamp = Parameter("stamp", default=lambda ctx: ctx.run_id, type=str)
    ids = Parameter("ids", default="a,b", separator=",")
    data = IncludeFile("data", is_text=True, help="A CSV file", default="data.csv")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_parameters():
    graph = parse_ok(PARAMS)
    params = {p.attr: p for p in graph.parameters}
    assert list(params) == ["lr", "epochs", "name", "flag", "config", "config2", "grid", "day", "stamp", "ids",
                            "data"]
    lr = params["lr"]
    assert (lr.name, lr.type, lr.default, lr.has_default, lr.help) == ("learning-rate", "float", 0.01, True,
                                                                        "Learning rate")
    assert lr.span.line == 10 and lr.span.col == 5
    assert (params["epochs"].type, params["epochs"].required, params["epochs"].has_default) == ("int", True, False)
    assert (params["name"].type, params["name"].default) == ("str", "world")
    assert params["flag"].type == "bool"
    assert params["config"].type == "json" and params["config"].default == '{"a": 1}'
    assert params["config2"].type == "json"
    assert params["grid"].type == "json" and params["grid"].default == {"a": [1, 2]}
    assert params["day"].default_is_function and params["day"].has_default
    assert params["stamp"].default_is_function and params["stamp"].type == "str"
    assert params["ids"].separator == ","
    data = params["data"]
    assert (data.kind, data.type, data.default, data.help) == ("IncludeFile", "file", "data.csv", "A CSV file")
    assert "lr" not in graph.class_attrs


def test_parameter_errors():
    source = """
        import os
        from sfncompile import FlowSpec, Parameter, step
        class F(FlowSpec):
            a = Parameter(default=1)
            b = Parameter("b", default=os.getcwd())
            c = Parameter("c", type=list)
            d = Parameter(NAME_VAR)
            e = Parameter("e", colour="red")
            @step
            def start(self):
                self.next(self.end)
            @step
            def end(self):
                pass
    """
    graph, diagnostics = parse(source)
    by_line = {d.span.line: d for d in diagnostics}
    assert rules_of(diagnostics) == ["SFN006", "SFN013", "SFN006", "SFN006", "SFN010"]
    assert "needs a name" in by_line[4].message
    # A computed default is the runtime's to evaluate (as Metaflow does at import); a warning, not an error.
    assert by_line[5].severity == "warning" and "type=" in by_line[5].message
    assert by_line[5].span.col == col_of(source, "os.getcwd()")
    b = next(p for p in graph.parameters if p.name == "b")
    assert b.default_is_function and b.has_default and b.type == "str"
    assert "str, int, float, bool or JSONType" in by_line[6].message
    assert "NAME_VAR" in by_line[7].message
    assert by_line[8].severity == "warning"


def test_own_function_decorator_below_step_is_fine():
    graph, diagnostics = parse("""
        import functools
        from sfncompile import FlowSpec, step
        def timed(f):
            return f
        class F(FlowSpec):
            @step
            @timed
            def start(self):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    assert diagnostics == []
    assert graph["start"].decorators == []
    assert graph["start"].user_decorators == ["timed"]


def test_user_decorators_are_kept_apart_from_ours():
    """The user's own decorators (this file, their modules, the class body) are
    recorded by name and never read as ours, even when named like ours; names
    from metaflow/sfncompile and names bound nowhere are left to the lint."""
    graph, diagnostics = parse("""
        from metaflow import FlowSpec, step, retry as mf_retry, card
        from tenacity import retry
        import mylib
        import metaflow
        DECOS = {}
        try:
            from mylib import timed
        except ImportError:
            def timed(f):
                return f
        @mylib.register("x")
        class F(FlowSpec):
            def audited(f):
                return f
            @mf_retry(times=2)
            @retry(stop=mylib.stop_after(3))
            @step
            @timed
            @DECOS["trace"]
            @audited
            def start(self):
                self.next(self.end)
            @metaflow.card
            @card
            @nowhere
            @step
            def end(self):
                pass
    """)
    assert diagnostics == []
    assert graph.user_decorators == ["mylib.register"] and graph.decorators == []
    start = graph["start"]
    assert [(d.name, d.args) for d in start.decorators] == [("retry", {"times": 2})]
    assert start.user_decorators == ["retry", "timed", 'DECOS["trace"]', "audited"]
    assert [d.name for d in graph["end"].decorators] == ["card", "card", "nowhere"]
    assert graph["end"].user_decorators == []


def test_class_body_names_count_only_once_bound():
    # Python evaluates a decorator when the def runs: a class-body function defined
    # later is not in scope yet (here it would be a NameError), so not the user's.
    graph, _ = parse("""
        from sfncompile import FlowSpec, step
        class F(FlowSpec):
            @step
            @audited
            def start(self):
                self.next(self.end)
            def audited(f):
                return f
            @step
            @audited
            def end(self):
                pass
    """)
    assert [d.name for d in graph["start"].decorators] == ["audited"]
    assert graph["end"].user_decorators == ["audited"]


def test_computed_default_with_a_type_is_silent():
    graph = parse_ok("""
        import os
        from sfncompile import FlowSpec, Parameter, step
        def script_path(name):
            return os.path.join(os.path.dirname(__file__), name)
        class F(FlowSpec):
            n = Parameter("n", default=int(os.environ.get("N", "3")), type=int)
            data = Parameter("data", default=script_path("movies.csv"), type=str, help="a" + str(1))
            @step
            def start(self):
                self.next(self.end)
            @step
            def end(self):
                pass
    """.replace(', help="a" + str(1)', ""))
    params = {p.name: p for p in graph.parameters}
    assert params["n"].default_is_function and params["n"].type == "int"
    assert params["data"].default_is_function and params["data"].type == "str"


def test_help_that_is_not_static_is_ignored_with_a_warning():
    graph, diagnostics = parse("""
        from sfncompile import FlowSpec, Parameter, step
        class F(FlowSpec):
            n = Parameter("n", default=1, help="rows: " + ", ".join(["a", "b"]))
            @step
            def start(self):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    assert rules_of(diagnostics) == ["SFN010"] and diagnostics[0].severity == "warning"
    assert graph.parameters[0].help is None


def test_json_dumps_of_a_static_value_is_static():
    graph, diagnostics = parse("""
        import json as j
        from json import dumps
        from sfncompile import FlowSpec, JSONType, Parameter, step
        BASE = {"b": 2, "a": [1, 2]}
        class F(FlowSpec):
            one = Parameter("one", type=JSONType, default=j.dumps(BASE, sort_keys=True))
            two = Parameter("two", type=JSONType, default=dumps([1, "x"]))
            three = Parameter("three", type=JSONType, default=j.dumps(BASE, default=str))
            @step
            def start(self):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    params = {p.name: p for p in graph.parameters}
    assert params["one"].default == '{"a": [1, 2], "b": 2}'
    assert params["two"].default == '[1, "x"]'
    assert params["three"].default_is_function  # an option we do not evaluate: left to the runtime
    assert diagnostics == []


def test_class_level_constants_in_step_decorators():
    graph, diagnostics = parse("""
        from sfncompile import FlowSpec, Parameter, resources, step
        CPUS = 1
        class F(FlowSpec):
            CPUS = 4
            MEMORY = CPUS * 1024
            TWICE = 1
            TWICE = 2
            size = Parameter("size", default=MEMORY)
            @resources(cpu=CPUS, memory=MEMORY)
            @step
            def start(self):
                self.next(self.end)
            @resources(cpu=TWICE)
            @step
            def end(self):
                pass
    """)
    assert graph["start"].decorator("resources").args == {"cpu": 4, "memory": 4096}
    assert graph.parameters[0].default == 4096
    assert [d.rule for d in diagnostics] == ["SFN005"]
    assert "`TWICE` is assigned more than once in the class body" in diagnostics[0].message


def test_class_body_binding_that_is_not_a_constant_is_named_as_such():
    graph, diagnostics = parse("""
        from sfncompile import FlowSpec, resources, step
        CPUS = 2
        class F(FlowSpec):
            def CPUS(self):
                return 4
            @resources(cpu=CPUS)
            @step
            def start(self):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    assert [d.rule for d in diagnostics] == ["SFN005"]
    assert "`CPUS` is not assigned a static value in the class body" in diagnostics[0].message


def test_dict_call_of_static_values_is_a_dict():
    graph = parse_ok("""
from metaflow import FlowSpec, card, step

LIMIT = 20

class F(FlowSpec):
    @card(type="blank", options=dict(timeout=LIMIT, title="t", nested=dict(a=[1, 2])))
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
""")
    args = next(d for d in graph.steps["start"].decorators if d.name == "card").args
    assert args["options"] == {"timeout": 20, "title": "t", "nested": {"a": [1, 2]}}


def test_config_that_needs_user_code_but_has_no_file_on_disk_is_refused_at_its_line():
    """Source without a file (an editor's buffer): the parser and the function default would run
    at launch by importing the file (test_config_launch.py); here there is none to import."""
    graph, diagnostics = parse("""
        from metaflow import Config, FlowSpec, resources, step

        def silly_parser(text):
            return dict([text.split(":")])

        def compute(ctx):
            return {"cpu": 2}

        class F(FlowSpec):
            silly = Config("silly", default_value="a:b", parser=silly_parser)
            computed = Config("computed", default_value=compute)
            needed = Config("needed", required=True)

            @resources(cpu=computed.cpu)
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    """, file="no_such_dir/flow.py")
    found = [(d.rule, d.span.line) for d in diagnostics]
    assert ("SFN015", 10) in found and ("SFN015", 11) in found and ("SFN015", 12) in found
    assert ("SFN005", 14) in found  # the decorator that uses the unreadable config
    messages = " ".join(d.message for d in diagnostics)
    assert "parser=silly_parser at launch" in messages and "default_value=compute (evaluated at launch)" in messages
    assert "is not on disk, so it cannot be imported" in messages


def test_sibling_module_constants_and_known_helpers(tmp_path):
    """Issue 9: constants imported from a module beside the flow, and the tutorials'
    get_python_version(), are evaluated from source (nothing is imported)."""
    from sfncompile.pipeline import parse as parse_file

    (tmp_path / "settings.py").write_text("CPU = 4\nMEM = CPU * 1024\nNOT_STATIC = len('x')\n"
                                          "raise SystemExit('never imported')\n")
    flow = tmp_path / "flow.py"
    flow.write_text(textwrap.dedent('''
        from metaflow import FlowSpec, step, resources, conda_base, batch
        from settings import CPU, MEM, NOT_STATIC
        from missing_module import GPU

        def get_python_version():
            """the tutorials' helper"""
            import platform
            versions = {"2": "2.7.15", "3": "3.9.10"}
            return versions[platform.python_version_tuple()[0]]

        def opaque():
            import os
            return os.cpu_count()

        @conda_base(python=get_python_version())
        class F(FlowSpec):
            @resources(cpu=CPU, memory=MEM)
            @step
            def start(self):
                self.next(self.end)

            @batch(cpu=NOT_STATIC, gpu=GPU, memory=opaque())
            @step
            def end(self):
                pass
    '''))
    graph, diagnostics = parse_file(flow)
    assert graph.decorator("conda_base").args == {"python": "3.9.10"}
    assert graph.steps["start"].decorator("resources").args == {"cpu": 4, "memory": 4096}
    messages = sorted(d.message for d in diagnostics if d.rule == "SFN005")
    assert len(messages) == 3
    assert any("from settings.py" in m for m in messages)
    assert any("not a module beside the flow file" in m for m in messages)
    assert any("cannot be evaluated without running it" in m for m in messages)
