"""Every transition form, read into the IR with the kinds Metaflow gives them."""

from __future__ import annotations

from sfncompile.ir import END, FOREACH, JOIN, LINEAR, SPLIT, START, SWITCH

from .helpers import line_of, parse, parse_ok

LINEAR_FLOW = """
from sfncompile import FlowSpec, step

class LinearFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.middle)

    @step
    def middle(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_linear_flow():
    graph = parse_ok(LINEAR_FLOW)
    assert graph.name == "LinearFlow"
    assert list(graph.steps) == ["start", "middle", "end"]
    assert [s.kind for s in graph] == [START, LINEAR, END]
    assert graph.start == "start" and graph.end == "end"
    assert graph["start"].out_funcs == ["middle"]
    assert graph["middle"].in_funcs == ["start"]
    assert graph["end"].out_funcs == [] and graph["end"].transition is None
    assert graph["middle"].transition.span.line == line_of(LINEAR_FLOW, "self.next(self.end)")


STATIC_SPLIT = """
from sfncompile import FlowSpec, step

class SplitFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b, self.c)

    @step
    def a(self):
        self.next(self.join)

    @step
    def b(self):
        self.next(self.join)

    @step
    def c(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_static_split_and_join():
    graph = parse_ok(STATIC_SPLIT)
    assert graph["start"].kind == SPLIT
    assert graph["start"].out_funcs == ["a", "b", "c"]
    assert graph["start"].matching_join == "join"
    assert graph["join"].kind == JOIN and graph["join"].is_join and graph["join"].num_args == 2
    assert graph["join"].in_funcs == ["a", "b", "c"]
    assert graph["a"].split_parents == ["start"]
    assert graph["join"].split_parents == ["start"]  # as Metaflow: a join lists the split it closes
    assert graph["end"].split_parents == []
    assert all(s.foreach_stack == [] for s in graph)


NESTED_FOREACH = """
from sfncompile import FlowSpec, step

class NestedFlow(FlowSpec):
    @step
    def start(self):
        self.outer = [1, 2]
        self.next(self.per_outer, foreach="outer")

    @step
    def per_outer(self):
        self.inner = [3, 4]
        self.next(self.per_inner, foreach='inner')

    @step
    def per_inner(self):
        self.next(self.join_inner)

    @step
    def join_inner(self, inputs):
        self.next(self.join_outer)

    @step
    def join_outer(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_nested_foreach_stacks():
    graph = parse_ok(NESTED_FOREACH)
    assert graph["start"].kind == FOREACH and graph["start"].transition.foreach == "outer"
    assert graph["per_outer"].kind == FOREACH and graph["per_outer"].transition.foreach == "inner"
    assert graph["start"].matching_join == "join_outer"
    assert graph["per_outer"].matching_join == "join_inner"
    assert graph["per_inner"].foreach_stack == ["start", "per_outer"]
    assert graph["per_inner"].split_parents == ["start", "per_outer"]
    assert graph["join_inner"].foreach_stack == ["start"]
    assert graph["join_outer"].foreach_stack == []
    assert graph["end"].foreach_stack == []


def test_foreach_not_a_literal_is_recorded_for_lint():
    graph, diagnostics = parse("""
        from sfncompile import FlowSpec, step
        class F(FlowSpec):
            @step
            def start(self):
                name = "xs"
                self.next(self.each, foreach=name)
            @step
            def each(self):
                self.next(self.join)
            @step
            def join(self, inputs):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    t = graph["start"].transition
    assert graph["start"].kind == FOREACH
    assert t.foreach_is_literal is False and t.foreach == "name"


SWITCH_FLOW = """
from metaflow import FlowSpec, step

class SwitchFlow(FlowSpec):
    @step
    def start(self):
        self.size = "big"
        self.next({"big": self.heavy, "small": self.light}, condition="size")

    @step
    def heavy(self):
        self.next(self.report)

    @step
    def light(self):
        self.next(self.report)

    @step
    def report(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_switch():
    graph = parse_ok(SWITCH_FLOW)
    start = graph["start"]
    assert start.kind == SWITCH
    assert start.transition.switch_cases == {"big": "heavy", "small": "light"}
    assert start.transition.condition == "size"
    assert start.out_funcs == ["heavy", "light"]
    assert graph["report"].in_funcs == ["heavy", "light"]
    assert graph["report"].kind == LINEAR
    assert not any(s.in_loop for s in graph)
    assert graph.imported_from == "metaflow"


def test_switch_loop_is_represented_not_rejected():
    graph = parse_ok("""
        from sfncompile import FlowSpec, step
        class LoopFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.train)
            @step
            def train(self):
                self.next(self.check)
            @step
            def check(self):
                self.next({"again": self.train, "done": self.end}, condition="verdict")
            @step
            def end(self):
                pass
    """)
    assert graph["check"].kind == SWITCH
    assert graph["train"].in_loop and graph["check"].in_loop
    assert not graph["start"].in_loop and not graph["end"].in_loop
    assert graph["train"].in_funcs == ["check", "start"]


def test_switch_to_itself_is_a_loop():
    graph = parse_ok("""
        from sfncompile import FlowSpec, step
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.poll)
            @step
            def poll(self):
                self.next({"wait": self.poll, "ready": self.end}, condition="state")
            @step
            def end(self):
                pass
    """)
    assert graph["poll"].in_loop and graph["poll"].kind == SWITCH


def test_switch_with_numeric_keys_and_missing_condition():
    graph, _ = parse("""
        from sfncompile import FlowSpec, step
        class F(FlowSpec):
            @step
            def start(self):
                self.next({1: self.a, 2: self.end})
            @step
            def a(self):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    t = graph["start"].transition
    assert graph["start"].kind == SWITCH
    assert t.switch_cases == {"1": "a", "2": "end"}
    assert t.condition is None and "condition=" in t.malformed


def test_num_parallel():
    graph = parse_ok("""
        from sfncompile import FlowSpec, step
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.train, num_parallel=4)
            @step
            def train(self):
                self.next(self.join)
            @step
            def join(self, inputs):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    assert graph["start"].kind == FOREACH
    assert graph["start"].transition.num_parallel == 4
    assert graph["start"].matching_join == "join"


def test_join_that_splits_again_keeps_split_kind():
    graph = parse_ok("""
        from sfncompile import FlowSpec, step
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.b)
            @step
            def a(self):
                self.next(self.mid)
            @step
            def b(self):
                self.next(self.mid)
            @step
            def mid(self, inputs):
                self.next(self.c, self.d)
            @step
            def c(self):
                self.next(self.last)
            @step
            def d(self):
                self.next(self.last)
            @step
            def last(self, inputs):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    assert graph["mid"].kind == SPLIT and graph["mid"].is_join
    assert graph["start"].matching_join == "mid"
    assert graph["mid"].matching_join == "last"
    assert graph["c"].split_parents == ["mid"]


def test_malformed_transitions_are_recorded_not_raised():
    graph, diagnostics = parse("""
        from sfncompile import FlowSpec, step
        class F(FlowSpec):
            @step
            def start(self):
                self.next(other.a, self.b, colour="red")
            @step
            def b(self):
                self.next()
            @step
            def end(self):
                pass
    """)
    assert diagnostics == []
    start = graph["start"].transition
    assert start.targets == ["b"]
    assert start.unknown_keywords == ["colour"]
    assert "other.a" in start.malformed and "colour=" in start.malformed
    assert graph["b"].transition.malformed and graph["b"].transition.targets == []


def test_unknown_targets_and_cycles_do_not_crash():
    graph = parse_ok("""
        from sfncompile import FlowSpec, step
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a)
            @step
            def a(self):
                self.next(self.b, self.nowhere)
            @step
            def b(self):
                self.next(self.a)
            @step
            def end(self):
                pass
    """)
    assert graph["a"].out_funcs == ["b", "nowhere"]
    assert graph["a"].in_funcs == ["b", "start"]
    assert not graph["a"].in_loop  # a cycle without a switch is not a switch loop (lint reports it)


def test_annotated_start_and_end():
    graph = parse_ok("""
        from sfncompile import FlowSpec, step
        class F(FlowSpec):
            @step(start=True)
            def begin(self):
                self.next(self.finish)
            @step(end=True)
            def finish(self):
                pass
    """)
    assert graph.start == "begin" and graph.end == "finish"
    assert graph["begin"].kind == START and graph["finish"].kind == END
    assert graph["begin"].step_annotation == {"start": True}
    assert graph["finish"].step_annotation == {"end": True}


def test_single_step_flow_is_start_and_end():
    graph = parse_ok("""
        from sfncompile import FlowSpec, step
        class F(FlowSpec):
            @step
            def only(self):
                print("hi")
    """)
    assert graph.start == graph.end == "only"
    assert graph["only"].kind == END


def test_step_without_transition_is_linear_without_successors():
    graph = parse_ok("""
        from sfncompile import FlowSpec, step
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a)
            @step
            def a(self):
                pass
            @step
            def end(self):
                pass
    """)
    assert graph["a"].kind == LINEAR and graph["a"].transition is None and graph["a"].out_funcs == []


def test_condition_not_a_literal_is_recorded_for_lint():
    graph, diagnostics = parse("""
        from sfncompile import FlowSpec, step
        KEY = "mode"
        class F(FlowSpec):
            @step
            def start(self):
                self.next({"a": self.a, "b": self.end}, condition=KEY)
            @step
            def a(self):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    t = graph["start"].transition
    assert graph["start"].kind == SWITCH
    assert t.condition_is_literal is False and t.condition == "KEY"
    assert t.malformed is None
