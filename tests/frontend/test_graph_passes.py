"""Graph passes on hand-made and random graphs: never crash, keep their invariants."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sfncompile.frontend.graph_passes import build_structure
from sfncompile.ir import FOREACH, SPLIT, STEP_KINDS, FlowGraph, Span, StepNode, Transition

NAMES = ["start", "a", "b", "c", "d", "join", "end"]


def make(steps: dict[str, tuple]) -> FlowGraph:
    """steps: name -> (num_args, kind of transition, targets)."""
    graph = FlowGraph(name="G", file="g.py", span=Span("g.py", 1))
    for line, (name, (num_args, shape, targets)) in enumerate(steps.items(), 1):
        node = StepNode(name=name, span=Span("g.py", line), num_args=num_args)
        if shape == "none":
            node.transition = None
        elif shape == "switch":
            node.transition = Transition(targets=list(targets), condition="v",
                                         switch_cases={f"k{i}": t for i, t in enumerate(targets)})
        elif shape == "foreach":
            node.transition = Transition(targets=list(targets), foreach="items")
        else:
            node.transition = Transition(targets=list(targets))
        graph.steps[name] = node
    return build_structure(graph)


def test_no_start_step_leaves_structure_empty():
    graph = make({"a": (1, "linear", ["b"]), "b": (1, "none", [])})
    assert graph.start is None and graph.end is None
    assert graph["a"].split_parents == [] and graph["b"].in_funcs == ["a"]


def test_join_without_split_and_orphans():
    graph = make({"start": (1, "linear", ["j"]), "j": (2, "linear", ["end"]), "orphan": (1, "linear", ["j"]),
                  "end": (1, "none", [])})
    assert graph["j"].kind == "join" and graph["j"].split_parents == []
    assert graph["j"].in_funcs == ["orphan", "start"]
    assert graph["orphan"].split_parents == []


def test_several_annotated_starts_leave_start_unset():
    graph = FlowGraph(name="G", file="g.py", span=Span("g.py", 1))
    for name in ("x", "y"):
        graph.steps[name] = StepNode(name=name, span=Span("g.py", 1), step_annotation={"start": True})
    build_structure(graph)
    assert graph.start is None


@st.composite
def random_graph(draw):
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=7, unique=True))
    spec = {}
    for name in names:
        shape = draw(st.sampled_from(["none", "linear", "split", "foreach", "switch"]))
        count = {"none": 0, "linear": 1, "foreach": 1}.get(shape, draw(st.integers(1, 3)))
        targets = draw(st.lists(st.sampled_from(NAMES + ["ghost"]), min_size=count, max_size=count))
        spec[name] = (draw(st.integers(1, 3)), shape, targets)
    return spec


@settings(max_examples=300, deadline=None)
@given(random_graph())
def test_random_graphs_keep_invariants(spec):
    graph = make(spec)
    for step in graph:
        assert step.kind in STEP_KINDS
        assert step.in_funcs == sorted(step.in_funcs) and set(step.in_funcs) <= set(graph.steps)
        assert set(step.foreach_stack) <= set(step.split_parents) <= set(graph.steps)
        if step.matching_join is not None:
            assert step.kind in (SPLIT, FOREACH) and step.matching_join in graph.steps
        assert all(graph[p].kind == FOREACH for p in step.foreach_stack)
    assert FlowGraph.from_json(graph.to_json()).to_dict() == graph.to_dict()
