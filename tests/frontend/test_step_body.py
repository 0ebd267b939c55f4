"""Facts about step bodies for the lint: self.next placement, paths, assigned attributes."""

from __future__ import annotations

import textwrap

import pytest

from .helpers import parse


def step_facts(body: str, args: str = "self"):
    source = (
        "from sfncompile import FlowSpec, step\n"
        "class F(FlowSpec):\n"
        "    @step\n"
        f"    def start({args}):\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), " " * 8) + "\n"
        "    @step\n"
        "    def a(self):\n"
        "        self.next(self.end)\n"
        "    @step\n"
        "    def b(self):\n"
        "        self.next(self.end)\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
    )
    graph, diagnostics = parse(source)
    assert graph is not None, [d.format() for d in diagnostics]
    return graph["start"]


# (body, next_not_last, next_missing_on_some_path)
CASES = {
    "tail": ("x = 1\nself.next(self.a)", False, False),
    "statement after next": ("self.next(self.a)\nprint('late')", True, False),
    "if/else both next": ("if c:\n    self.next(self.a)\nelse:\n    self.next(self.b)", True, False),
    "if without else": ("if c:\n    self.next(self.a)", True, True),
    "elif chain complete": ("if c:\n    self.next(self.a)\nelif d:\n    self.next(self.b)\nelse:\n    raise ValueError()",
                            True, False),
    "elif chain incomplete": ("if c:\n    self.next(self.a)\nelif d:\n    self.next(self.b)", True, True),
    "return before next": ("if c:\n    return\nself.next(self.a)", False, True),
    "raise before next": ("if c:\n    raise ValueError('no')\nself.next(self.a)", False, False),
    "next in for loop": ("for i in range(3):\n    self.next(self.a)", True, True),
    "while True with next and break": ("while True:\n    self.next(self.a)\n    break", True, False),
    "while True without break": ("while True:\n    if c:\n        self.next(self.a)\n        return", True, False),
    "try with handler missing": ("try:\n    self.next(self.a)\nexcept Exception:\n    pass", True, True),
    "try with handler next": ("try:\n    x = 1\nexcept Exception:\n    x = 2\nself.next(self.a)", False, False),
    "try finally next": ("try:\n    x = 1\nfinally:\n    self.next(self.a)", True, False),
    "return in try, finally next": ("try:\n    if c:\n        return\nfinally:\n    self.next(self.a)", True, False),
    "with block": ("with open('f') as fh:\n    self.next(self.a)", True, False),
    "match with catch-all": ("match c:\n    case 1:\n        self.next(self.a)\n    case _:\n        self.next(self.b)",
                             True, False),
    "match without catch-all": ("match c:\n    case 1:\n        self.next(self.a)", True, True),
    "two nexts": ("self.next(self.a)\nself.next(self.b)", True, False),
    "no next at all": ("x = 1", False, False),
    "semicolon tail": ("x = 1; self.next(self.a)", False, False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_next_placement_and_paths(name):
    body, not_last, missing = CASES[name]
    step = step_facts(body)
    assert step.next_not_last is not_last
    assert step.next_missing_on_some_path is missing


# body -> (line, col) of next_missing_at; the body's first line is line 5, indented 8.
MISSING_AT = {
    "return": ("x = 1\nif c:\n    return\nself.next(self.a)", (7, 13)),
    "first of two returns": ("if c:\n    return\nif d:\n    return\nself.next(self.a)", (6, 13)),
    "if without else": ("if c:\n    self.next(self.a)", (5, 9)),
    "comment above the if": ("x = 1\n\n# why\nif c:\n    self.next(self.a)", (8, 9)),
    "innermost if": ("if c:\n    if d:\n        self.next(self.a)\nelse:\n    self.next(self.b)", (6, 13)),
    "inner if completed later": ("if c:\n    if d:\n        self.next(self.a)\n    self.next(self.b)\ny = 1", (5, 9)),
    "elif without else": ("if c:\n    self.next(self.a)\nelif d:\n    self.next(self.b)", (7, 9)),
    "loop": ("for i in range(3):\n    self.next(self.a)", (5, 9)),
    "try": ("try:\n    self.next(self.a)\nexcept Exception:\n    pass", (5, 9)),
    "inside with": ("with open('f'):\n    if c:\n        self.next(self.a)", (6, 13)),
}


@pytest.mark.parametrize("name", list(MISSING_AT))
def test_next_missing_at_is_where_the_path_ends(name):
    body, where = MISSING_AT[name]
    step = step_facts(body)
    assert step.next_missing_on_some_path
    assert (step.next_missing_at.line, step.next_missing_at.col) == where


def test_next_missing_at_is_none_when_every_path_calls_next():
    assert step_facts("if c:\n    x = 1\nself.next(self.a)").next_missing_at is None
    assert step_facts("x = 1").next_missing_at is None


def test_next_calls_are_all_recorded_and_transition_is_the_tail():
    step = step_facts("if c:\n    self.next(self.b)\nself.next(self.a)")
    assert [s.line for s in step.next_calls] == [6, 7]
    assert step.next_calls[0].col == 13
    assert step.transition.targets == ["a"]
    assert step.transition.span.line == 7 and step.transition.span.col == 9


def test_transition_without_tail_is_the_last_call():
    step = step_facts("if c:\n    self.next(self.a)\nelse:\n    self.next(self.b)")
    assert step.transition.targets == ["b"]


def test_receiver_other_than_self():
    step = step_facts("me.x = 1\nme.next(me.a)", args="me")
    assert step.transition.targets == ["a"]
    assert set(step.assigned_attrs) == {"x"}


def test_assigned_attributes():
    step = step_facts("""
        self.a1 = 1
        self.a2 += 1
        self.a3: int = 3
        self.a4, (self.a5, *self.a6) = 1, (2, 3)
        for self.a7 in range(2):
            pass
        with open("x") as self.a8:
            pass
        self.a1 = 2
        other.not_me = 1
        self.d["key"] = 1
        setattr(self, "a9", 1)
        setattr(self, name, 1)
        self.next(self.a)
    """)
    assert list(step.assigned_attrs) == ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"]
    assert step.assigned_attrs["a1"].line == 5 and step.assigned_attrs["a1"].col == 9
    assert step.assigned_attrs["a6"].line == 8


def test_step_span_and_num_args():
    graph, _ = parse("""
        from sfncompile import FlowSpec, step
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.join)
            @step
            def join(self, inputs, extra):
                self.next(self.end)
            @step
            def end(self):
                pass
    """)
    assert graph["join"].span.line == 7 and graph["join"].span.col == 9
    assert graph["join"].num_args == 3 and graph["join"].is_join
    assert graph.span.line == 2 and graph.span.col == 7
