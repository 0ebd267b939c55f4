"""Lint on hand-made IR: it must never raise, whatever the graph looks like,
and its split/join analysis must terminate on loops and deep graphs."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfncompile.ir import Decorator, FlowGraph, ParameterSpec, Span, StepNode, Transition
from sfncompile.lint import INTERNAL_RULE, RULES, run_lint


def span(line):
    return Span("hand.py", line, 5)


def graph_of(spec: dict, **extra) -> FlowGraph:
    """``{"start": ["a", "b"], "a": ("foreach", "xs", ["c"]), "j": ("join", ["end"]), "end": None}``."""
    graph = FlowGraph(name="Hand", file="hand.py", span=span(1), **extra)
    for line, (name, how) in enumerate(spec.items(), start=2):
        step = StepNode(name=name, span=span(line * 4))
        if how is None:
            pass
        elif isinstance(how, list):
            step.transition = Transition(targets=how, span=span(line * 4 + 1))
        elif how[0] == "join":
            step.num_args = step.is_join and 2 or 2
            step.is_join = True
            step.transition = Transition(targets=how[1], span=span(line * 4 + 1)) if how[1] else None
        elif how[0] == "foreach":
            step.transition = Transition(targets=how[2], foreach=how[1], span=span(line * 4 + 1))
            step.assigned_attrs = {how[1]: span(line * 4)}
        elif how[0] == "switch":
            step.transition = Transition(targets=list(how[1].values()), switch_cases=how[1], condition="k",
                                         span=span(line * 4 + 1))
            step.assigned_attrs = {"k": span(line * 4)}
        if step.transition is not None:
            step.next_calls = [step.transition.span]
        graph.steps[name] = step
    return graph


def rules_of(diags):
    return {d.rule for d in diags}


def test_lint_has_many_rules():
    assert len(RULES) >= 45


def test_empty_graph():
    diags = run_lint(FlowGraph(name="Empty", file="e.py", span=span(1)))
    assert {"SFN103", "SFN104"} <= rules_of(diags)
    assert INTERNAL_RULE not in rules_of(diags)


def test_missing_start_unknown_targets_and_cycle_do_not_raise():
    g = graph_of({"a": ["b"], "b": ["a", "ghost"], "end": None})
    diags = run_lint(g)
    assert {"SFN103", "SFN114", "SFN115"} <= rules_of(diags)
    assert INTERNAL_RULE not in rules_of(diags)


def test_join_without_inputs_reported_at_the_join_not_end():
    g = graph_of({"start": ["a", "b"], "a": ["j"], "b": ["j"], "j": ["end"], "end": None})
    diags = [d for d in run_lint(g) if d.severity == "error"]
    assert [(d.rule, d.span.line) for d in diags] == [("SFN129", g["j"].span.line)]


def test_valid_hand_graph_is_clean():
    g = graph_of({"start": ("foreach", "xs", ["a"]), "a": ["b", "c"], "b": ["bc"], "c": ["bc"],
                  "bc": ("join", ["j"]), "j": ("join", ["s"]),
                  "s": ("switch", {"x": "t", "y": "u"}), "t": ["end"], "u": ["s"], "end": None})
    assert [d.format() for d in run_lint(g)] == []


def test_switch_loop_is_not_a_cycle_but_plain_loop_is():
    looped = graph_of({"start": ["w"], "w": ("switch", {"again": "w", "done": "end"}), "end": None})
    assert "SFN115" not in rules_of(run_lint(looped))
    plain = graph_of({"start": ["w"], "w": ["v"], "v": ["w"], "end": None})
    assert "SFN115" in rules_of(run_lint(plain))


def test_deep_chain_does_not_recurse():
    names = [f"s{i}" for i in range(3000)]
    spec = {"start": [names[0]]}
    spec.update({n: [names[i + 1] if i + 1 < len(names) else "end"] for i, n in enumerate(names)})
    spec["end"] = None
    assert run_lint(graph_of(spec)) == []


def test_a_rule_that_crashes_becomes_a_warning(monkeypatch):
    def boom(view):
        raise RuntimeError("kaboom")
        yield  # pragma: no cover

    monkeypatch.setitem(RULES, "SFN101", RULES["SFN101"].__class__("SFN101", "x", boom))
    diags = run_lint(graph_of({"start": ["end"], "end": None}))
    assert [(d.rule, d.severity) for d in diags] == [(INTERNAL_RULE, "warning")]


def test_odd_facts_do_not_raise():
    g = graph_of({"start": ["end"], "end": None},
                 parameters=[ParameterSpec(attr="p", name=None, type="str"),
                             ParameterSpec(attr="q", name=3, type="int")],
                 decorators=[Decorator(name="schedule", args={"cron": 5, "timezone": 7}),
                             Decorator(name="retry", args={"times": None}, positional=[1])])
    g["start"].decorators = [Decorator(name="timeout", args={"seconds": "x"}),
                             Decorator(name="resources", args={"cpu": [1]})]
    g["start"].transition.switch_cases = {}
    diags = run_lint(g)
    assert INTERNAL_RULE not in rules_of(diags)
    assert "SFN140" in rules_of(diags)


NAMES = ["start", "a", "b", "c", "d", "end", "ghost"]


@st.composite
def random_graphs(draw):
    graph = FlowGraph(name="Random", file="r.py", span=span(1))
    names = draw(st.lists(st.sampled_from(NAMES[:-1]), unique=True, max_size=6))
    for line, name in enumerate(names, start=2):
        step = StepNode(name=name, span=span(line * 3), num_args=draw(st.integers(0, 3)))
        step.is_join = step.num_args > 1
        kind = draw(st.sampled_from(["none", "linear", "split", "foreach", "switch", "parallel"]))
        targets = draw(st.lists(st.sampled_from(NAMES), min_size=0, max_size=3))
        if kind != "none":
            t = Transition(targets=targets, span=span(line * 3 + 1))
            if kind == "foreach":
                t.foreach = draw(st.sampled_from(["xs", "bad name", ""]))
            elif kind == "switch":
                t.switch_cases = {f"k{i}": x for i, x in enumerate(targets)}
                t.condition = draw(st.sampled_from([None, "k", "1x"]))
            elif kind == "parallel":
                t.num_parallel = 2
            step.transition = t
            step.next_calls = [t.span]
        step.next_not_last = draw(st.booleans())
        step.step_annotation = draw(st.sampled_from([{}, {"start": True}, {"end": True}]))
        if draw(st.booleans()):
            step.decorators = [Decorator(name=draw(st.sampled_from(["parallel", "retry", "nope", "schedule"])),
                                         args={"times": draw(st.integers(-2, 9))})]
        graph.steps[name] = step
    return graph


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs())
def test_lint_never_raises_on_random_graphs(graph):
    diags = run_lint(graph)
    assert INTERNAL_RULE not in rules_of(diags), [d.format() for d in diags]
    for d in diags:
        assert d.rule in RULES and d.message
