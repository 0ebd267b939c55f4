"""Finding the flow class: imports, aliases, several flows, none, inheritance."""

from __future__ import annotations

import pytest

from .helpers import parse, parse_ok, rules_of

BODY = """
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def flow_with(header: str, base: str, deco: str = "step", name: str = "MyFlow") -> str:
    return header + f"\nclass {name}({base}):\n" + BODY.replace("@step", f"@{deco}")


@pytest.mark.parametrize(
    "header, base, deco, origin",
    [
        ("from sfncompile import FlowSpec, step", "FlowSpec", "step", "sfncompile"),
        ("from metaflow import FlowSpec, step", "FlowSpec", "step", "metaflow"),
        ("from metaflow import FlowSpec as FS, step as s", "FS", "s", "metaflow"),
        ("import metaflow as mf", "mf.FlowSpec", "mf.step", "metaflow"),
        ("import metaflow", "metaflow.FlowSpec", "metaflow.step", "metaflow"),
        ("import sfncompile", "sfncompile.FlowSpec", "sfncompile.step", "sfncompile"),
        ("from metaflow import *", "FlowSpec", "step", "metaflow"),
        ("try:\n    from metaflow import FlowSpec, step\nexcept ImportError:\n    from sfncompile import FlowSpec, step",
         "FlowSpec", "step", "sfncompile"),
    ],
)
def test_import_forms(header, base, deco, origin):
    graph = parse_ok(flow_with(header, base, deco))
    assert graph.name == "MyFlow"
    assert list(graph.steps) == ["start", "end"]
    assert graph.imported_from == origin


def test_flow_class_from_another_library_is_not_a_flow():
    graph, diagnostics = parse(flow_with("from mylib import FlowSpec\nfrom metaflow import step", "FlowSpec"))
    assert graph is None
    assert rules_of(diagnostics) == ["SFN002"]
    assert "FlowSpec" in diagnostics[0].message


def test_no_flow_class():
    graph, diagnostics = parse("x = 1\nclass A:\n    pass\n")
    assert graph is None
    assert rules_of(diagnostics) == ["SFN002"]
    assert diagnostics[0].span.line == 1


def test_several_flows_need_a_choice():
    source = (flow_with("from metaflow import FlowSpec, step", "FlowSpec", name="One")
              + flow_with("", "FlowSpec", name="Two"))
    graph, diagnostics = parse(source)
    assert graph is None
    assert rules_of(diagnostics) == ["SFN003"]
    assert "One" in diagnostics[0].message and "Two" in diagnostics[0].message
    assert "--flow" in diagnostics[0].message
    assert diagnostics[0].span.line == source.splitlines().index("class Two(FlowSpec):") + 1
    chosen = parse_ok(source, flow="Two")
    assert chosen.name == "Two"


def test_unknown_flow_name():
    graph, diagnostics = parse(flow_with("from metaflow import FlowSpec, step", "FlowSpec"), flow="Nope")
    assert graph is None and rules_of(diagnostics) == ["SFN004"]
    assert "MyFlow" in diagnostics[0].message


def test_inherited_steps_and_leaf_choice():
    graph = parse_ok("""
        from sfncompile import FlowSpec, Parameter, step
        class Base(FlowSpec):
            alpha = Parameter("alpha", default=1)
            @step
            def start(self):
                self.next(self.end)
            @step
            def end(self):
                pass
        class Child(Base):
            @step
            def end(self):
                print("child end")
    """)
    assert graph.name == "Child"
    assert list(graph.steps) == ["start", "end"]
    assert graph["end"].span.line == 12  # the override in Child
    assert [p.name for p in graph.parameters] == ["alpha"]


def test_class_attributes_and_helper_methods():
    graph = parse_ok("""
        from sfncompile import FlowSpec, step
        class F(FlowSpec):
            \"\"\"The flow's doc.\"\"\"
            threshold = 3
            labels: list = ["a"]
            def helper(self):
                return 1
            @step
            def start(self):
                \"\"\"Start here.\"\"\"
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    assert set(graph.class_attrs) == {"threshold", "labels", "helper"}
    assert graph.class_attrs["threshold"].line == 4
    assert graph.docstring == "The flow's doc."
    assert graph["start"].docstring == "Start here."
    assert graph["end"].docstring is None


def test_step_defined_twice_warns_and_keeps_the_later():
    graph, diagnostics = parse("""
        from sfncompile import FlowSpec, step
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end)
            @step
            def start(self):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    assert rules_of(diagnostics) == ["SFN011"]
    assert diagnostics[0].severity == "warning" and diagnostics[0].span.line == 7
    assert graph["start"].span.line == 7


def test_base_flow_from_another_module_gets_a_hint():
    graph, diagnostics = parse("""
        from sfncompile import step
        from mylib.flows import BaseFlow
        class MyFlow(BaseFlow):
            @step
            def start(self):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    assert graph is None and rules_of(diagnostics) == ["SFN002"]
    assert "BaseFlow" in diagnostics[0].message and "never imports" in diagnostics[0].message
    assert (diagnostics[0].span.line, diagnostics[0].span.col) == (3, 14)
