"""Facts about one step's body that the lint needs, read from the syntax tree.

* every ``self.next(...)`` call (the receiver is the method's first
  parameter, whatever it is called);
* the *transition*: the call that is the step's final statement, or when
  there is none, the last call in source order (so the graph still has edges
  while lint reports the misplacement);
* ``next_not_last``: some ``self.next`` call is not the step's final
  statement (followed by more code, or nested inside if/for/try/...);
  Metaflow only honours a ``self.next`` that is the last statement;
* ``next_missing_on_some_path``: a path through the body completes (falls off
  the end or ``return``s) without calling ``self.next``. Computed by a small
  forward analysis over statements with the state "called yet?": ``if``
  without ``else`` keeps the incoming state, loop bodies may run zero times
  (``while True`` without ``break`` never falls through), ``try`` handlers
  may start before the body called it, ``raise`` ends a path without
  needing a transition, ``match`` without a catch-all case may match nothing.
  It is ``False`` when the step has no ``self.next`` at all (the "missing
  transition" rule covers that, and the end step needs none);
* ``next_missing_at``: where the first such path ends, so the lint can point
  there: the first ``return`` reached before any ``self.next``; when no
  return does it, the statement a path falls through without calling it (the
  ``if`` without ``else`` / whose other branch lacks the call, the loop that
  may run zero times, the ``try`` whose handler skips it), the innermost one
  when they nest;
* ``assigned_attrs``: ``self.x = ...``, ``self.x += ...``, annotated, tuple
  and starred targets, ``for self.x in``, ``with ... as self.x`` and
  ``setattr(self, "x", ...)`` with a literal name; the first assignment's span;
* ``guarded_attrs``: those of them assigned inside a ``try`` whose handlers catch
  ``AttributeError`` (or ``Exception``, ``BaseException``, everything): the step
  expects the assignment to raise, as Metaflow's does for a parameter.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Iterator

import libcst as cst

from ..ir import Span


@dataclass
class BodyFacts:
    next_calls: list[cst.Call] = field(default_factory=list)
    transition_call: cst.Call | None = None
    next_not_last: bool = False
    next_missing_on_some_path: bool = False
    next_missing_at: cst.CSTNode | None = None
    assigned_attrs: dict[str, Span] = field(default_factory=dict)
    guarded_attrs: set[str] = field(default_factory=set)


# Handlers that catch the AttributeError a read-only attribute raises.
_CATCHES_ATTRIBUTE_ERROR = {"AttributeError", "Exception", "BaseException"}


def _catches_attribute_error(handler: cst.ExceptHandler) -> bool:
    kind = handler.type
    if kind is None:
        return True
    names = kind.elements if isinstance(kind, cst.Tuple) else [kind]
    for item in names:
        value = item.value if isinstance(item, cst.Element) else item
        name = value.attr.value if isinstance(value, cst.Attribute) else getattr(value, "value", None)
        if name in _CATCHES_ATTRIBUTE_ERROR:
            return True
    return False


def _guarded_assignments(func_body: cst.CSTNode, receiver: str) -> set[str]:
    out: set[str] = set()
    for node in walk(func_body):
        if type(node) not in (cst.Try, cst.TryStar):
            continue
        if not any(_catches_attribute_error(h) for h in node.handlers):
            continue
        for inner in walk(node.body):
            for target in _assign_targets(inner):
                out.update(a.attr.value for a in _self_attributes(target, receiver))
            name_node = _setattr_name(inner, receiver)
            if name_node is not None:
                out.add(name_node.evaluated_value)
    return out


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under ``node`` (itself included), depth first, without recursion.

    Reads the nodes' fields directly: libcst's ``children`` property rebuilds
    each node to list its children, and ``isinstance`` against libcst's
    abstract classes is slow, so both are avoided (per-type caches instead).
    Whitespace and other trivia nodes are skipped.
    """
    stack = [node]
    keep = _KEEP
    while stack:
        current = stack.pop()
        yield current
        found = []
        for name in _field_names(type(current)):
            value = getattr(current, name)
            kind = type(value)
            if kind is list or kind is tuple:
                for item in value:
                    wanted = keep.get(type(item))
                    if wanted is None:
                        wanted = _keep(type(item))
                    if wanted:
                        found.append(item)
            else:
                wanted = keep.get(kind)
                if wanted is None:
                    wanted = _keep(kind)
                if wanted:
                    found.append(value)
        if found:
            found.reverse()
            stack.extend(found)


_FIELDS: dict[type, tuple[str, ...]] = {}
_KEEP: dict[type, bool] = {}


def _field_names(node_type: type) -> tuple[str, ...]:
    names = _FIELDS.get(node_type)
    if names is None:
        names = _FIELDS[node_type] = tuple(f.name for f in dataclasses.fields(node_type))
    return names


def _keep(kind: type) -> bool:
    wanted = _KEEP[kind] = issubclass(kind, cst.CSTNode) and not issubclass(kind, _TRIVIA)
    return wanted


_TRIVIA = (cst.BaseParenthesizableWhitespace, cst.EmptyLine, cst.TrailingWhitespace, cst.Newline, cst.Comment,
           cst.LeftParen, cst.RightParen)


def is_next_call(node: cst.CSTNode, receiver: str) -> bool:
    # ``type(...) is`` rather than isinstance: libcst's classes are ABCs, and
    # this runs on every node of every step body.
    if type(node) is not cst.Call:
        return False
    func = node.func
    return (
        type(func) is cst.Attribute
        and type(func.value) is cst.Name
        and func.value.value == receiver
        and func.attr.value == "next"
    )


def analyse_body(func: cst.FunctionDef, receiver: str, span_of: Callable[[cst.CSTNode], Span]) -> BodyFacts:
    facts = BodyFacts()
    body = _statements(func.body)

    for node in walk(func.body):
        if is_next_call(node, receiver):
            facts.next_calls.append(node)
        else:
            for target in _assign_targets(node):
                for attr_node in _self_attributes(target, receiver):
                    facts.assigned_attrs.setdefault(attr_node.attr.value, span_of(attr_node))
            name_node = _setattr_name(node, receiver)
            if name_node is not None:
                facts.assigned_attrs.setdefault(name_node.evaluated_value, span_of(name_node))

    if facts.assigned_attrs:
        facts.guarded_attrs = _guarded_assignments(func.body, receiver)

    tail_call = None
    if body:
        last = body[-1]
        if isinstance(last, cst.Expr) and is_next_call(last.value, receiver):
            tail_call = last.value
    if tail_call is not None:
        facts.transition_call = tail_call
    elif facts.next_calls:
        facts.transition_call = facts.next_calls[-1]
    facts.next_not_last = any(call is not tail_call for call in facts.next_calls)

    if facts.next_calls:
        paths = _Paths(receiver)
        end_states = paths.block(body, frozenset([False]), None)
        facts.next_missing_on_some_path = paths.missing or (False in end_states)
        if paths.missing:
            facts.next_missing_at = paths.missing_at
        elif False in end_states:
            facts.next_missing_at = _Paths(receiver).fall_through(body) or body[-1]
    return facts


# -- helpers ---------------------------------------------------------------


def _statements(suite) -> list[cst.CSTNode]:
    """The statements of a block, with ``a; b`` lines split into small statements."""
    if suite is None:
        return []
    if isinstance(suite, cst.SimpleStatementSuite):
        return list(suite.body)
    out: list[cst.CSTNode] = []
    for statement in getattr(suite, "body", ()):
        if isinstance(statement, cst.SimpleStatementLine):
            out.extend(statement.body)
        else:
            out.append(statement)
    return out


_TARGET_HOLDERS = frozenset([cst.Assign, cst.AugAssign, cst.AnnAssign, cst.For, cst.WithItem])


def _assign_targets(node: cst.CSTNode) -> list[cst.CSTNode]:
    if type(node) not in _TARGET_HOLDERS:
        return []
    if isinstance(node, cst.Assign):
        return [t.target for t in node.targets]
    if isinstance(node, (cst.AugAssign, cst.AnnAssign)):
        return [node.target]
    if isinstance(node, cst.For):
        return [node.target]
    if isinstance(node, cst.WithItem) and node.asname is not None:
        return [node.asname.name]
    return []


def _setattr_name(node: cst.CSTNode, receiver: str) -> cst.SimpleString | None:
    """The literal name in ``setattr(self, "x", value)``, if that is what ``node`` is."""
    if type(node) is not cst.Call or type(node.func) is not cst.Name or node.func.value != "setattr":
        return None
    args = node.args
    if len(args) != 3 or type(args[0].value) is not cst.Name or args[0].value.value != receiver:
        return None
    name = args[1].value
    if type(name) is cst.SimpleString and "b" not in name.prefix.lower():
        return name
    return None


def _self_attributes(target: cst.CSTNode, receiver: str) -> Iterator[cst.Attribute]:
    stack = [target]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Attribute):
            if isinstance(node.value, cst.Name) and node.value.value == receiver:
                yield node
        elif isinstance(node, (cst.Tuple, cst.List)):
            stack.extend(reversed([e.value for e in node.elements]))
        elif isinstance(node, cst.StarredElement):
            stack.append(node.value)


class _Paths:
    """Forward analysis: the set of "self.next called yet?" states reaching each point."""

    def __init__(self, receiver: str):
        self.receiver = receiver
        self.missing = False  # a path returned without a transition
        self.missing_at = None  # the first such return

    def _calls_next(self, node) -> bool:
        return any(is_next_call(n, self.receiver) for n in walk(node))

    def block(self, statements, states: frozenset, breaks: list | None) -> frozenset:
        for statement in statements:
            if not states:
                return states  # unreachable code
            states = self.statement(statement, states, breaks)
        return states

    def statement(self, node, states: frozenset, breaks: list | None) -> frozenset:
        empty: frozenset = frozenset()
        if isinstance(node, cst.Return):
            if node.value is not None and self._calls_next(node.value):
                return empty
            if False in states:
                if not self.missing:
                    self.missing_at = node
                self.missing = True
            return empty
        if isinstance(node, cst.Raise):
            return empty
        if isinstance(node, cst.Break):
            if breaks is not None:
                breaks.append(states)
            return empty
        if isinstance(node, cst.Continue):
            return empty
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            return states
        if isinstance(node, cst.If):
            taken = self.block(_statements(node.body), states, breaks)
            if node.orelse is None:
                other = states
            elif isinstance(node.orelse, cst.If):
                other = self.statement(node.orelse, states, breaks)
            else:
                other = self.block(_statements(node.orelse.body), states, breaks)
            return taken | other
        if isinstance(node, (cst.For, cst.While)):
            loop_breaks: list = []
            after_body = self.block(_statements(node.body), states, loop_breaks)
            exhausted = states | after_body
            if isinstance(node, cst.While) and _always_true(node.test):
                exhausted = frozenset()
            if node.orelse is not None and exhausted:
                exhausted = self.block(_statements(node.orelse.body), exhausted, breaks)
            out = exhausted
            for s in loop_breaks:
                out = out | s
            return out
        if isinstance(node, (cst.Try, cst.TryStar)):
            finally_calls = node.finalbody is not None and self._calls_next(node.finalbody)
            # A return inside the try still runs a finally that calls self.next().
            missing_before = (self.missing, self.missing_at)
            after_body = self.block(_statements(node.body), states, breaks)
            handler_in = states | after_body
            out = frozenset()
            for handler in node.handlers:
                out = out | self.block(_statements(handler.body), handler_in, breaks)
            if node.orelse is not None:
                out = out | self.block(_statements(node.orelse.body), after_body, breaks)
            else:
                out = out | after_body
            if finally_calls:
                self.missing, self.missing_at = missing_before
            if node.finalbody is not None:
                if finally_calls:
                    out = frozenset([True]) if out else out
                else:
                    out = self.block(_statements(node.finalbody.body), out, breaks) if out else out
            return out
        if isinstance(node, cst.With):
            return self.block(_statements(node.body), states, breaks)
        if isinstance(node, cst.Match):
            out = frozenset()
            catch_all = False
            for case in node.cases:
                out = out | self.block(_statements(case.body), states, breaks)
                if case.guard is None and isinstance(case.pattern, cst.MatchAs) and case.pattern.pattern is None:
                    catch_all = True
            return out if catch_all else out | states
        # A simple statement (or anything else): a self.next inside it counts.
        if self._calls_next(node):
            return frozenset([True])
        return states


    def fall_through(self, statements) -> cst.CSTNode | None:
        """The innermost statement through which a path without self.next leaves ``statements``.

        Called when such a path (the "not called yet" state) reaches the end
        of the block; since that state is never re-created, it went through
        every statement, and the first statement containing a call that lets
        it through is where a branch fell past the call.
        """
        states = frozenset([False])
        for statement in statements:
            out = self.statement(statement, states, None)
            if False in out and self._calls_next(statement):
                return self._fall_through_in(statement) or statement
            states = out
        return None

    def _fall_through_in(self, node) -> cst.CSTNode | None:
        """Inside an ``if``/``with`` that lets the state through: the branch that does, if it is more precise."""
        start = frozenset([False])
        if isinstance(node, cst.With):
            return self.fall_through(_statements(node.body))
        if not isinstance(node, cst.If):
            return None  # a loop that may not run, a try whose handler skips the call: the statement itself
        body = _statements(node.body)
        if False in self.block(body, start, None) and self._calls_next(node.body):
            return self.fall_through(body)
        if isinstance(node.orelse, cst.If):
            if False in self.statement(node.orelse, start, None) and self._calls_next(node.orelse):
                return self._fall_through_in(node.orelse) or node.orelse
        elif node.orelse is not None:
            orelse = _statements(node.orelse.body)
            if False in self.block(orelse, start, None) and self._calls_next(node.orelse):
                return self.fall_through(orelse)
        return None


def _always_true(test) -> bool:
    if isinstance(test, cst.Name) and test.value == "True":
        return True
    if isinstance(test, cst.Integer):
        try:
            return int(test.value, 0) != 0
        except ValueError:
            return False
    return False
