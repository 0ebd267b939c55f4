"""A step's transition: the ``self.next(...)`` call read into a ``Transition``.

``body`` finds the call (and whether every path reaches it); this reads its
arguments: the targets, a switch's cases, ``foreach=``, ``num_parallel=`` and
``condition=``. A call that is readable but wrong is not reported here: its
problems are collected in ``Transition.malformed`` and the lint reports them
with the rest of the graph's.
"""

from __future__ import annotations

import libcst as cst

from ..ir import Transition
from .evaluate import NotStatic
from .state import ReadState

TRANSITION_KEYWORDS = ("foreach", "num_parallel", "condition")


def read_transition(state: ReadState, call: cst.Call, receiver: str) -> Transition:
    t = Transition(span=state.span(call))
    problems: list[str] = []
    positional = [a for a in call.args if a.keyword is None]
    for arg in call.args:
        if arg.star:
            problems.append("*args/**kwargs are not allowed in self.next()")
    keywords = {a.keyword.value: a for a in call.args if a.keyword is not None}
    t.unknown_keywords = [k for k in keywords if k not in TRANSITION_KEYWORDS]
    if positional and isinstance(positional[0].value, cst.Dict):
        t.switch_cases = {}
        dict_node = positional[0].value
        for element in dict_node.elements:
            if isinstance(element, cst.StarredDictElement):
                problems.append("switch cases cannot be unpacked with **")
                continue
            try:
                key = state.evaluate(element.key)
            except NotStatic:
                problems.append(f"switch case key `{state.code(element.key)}` must be a string or number literal")
                continue
            if isinstance(key, (list, dict)) or key is None:
                problems.append(f"switch case key `{state.code(element.key)}` must be a string or number literal")
                continue
            target = _self_attr(element.value, receiver)
            if target is None:
                problems.append(f"switch case value `{state.code(element.value)}` must be a step, e.g. self.{'a'}")
                continue
            t.switch_cases[str(key) if not isinstance(key, str) else key] = target
        t.targets = list(t.switch_cases.values())
        if len(positional) > 1:
            problems.append("a switch takes one dict of cases")
        if "condition" not in keywords:
            problems.append('a switch needs condition="attribute" naming the artifact to switch on')
    else:
        for arg in positional:
            target = _self_attr(arg.value, receiver)
            if target is None:
                problems.append(f"`{state.code(arg.value)}` is not a step; transitions are written self.step_name")
            else:
                t.targets.append(target)
        if not positional:
            problems.append("self.next() needs at least one step")
        if "condition" in keywords:
            problems.append("condition= is only for a switch: self.next({\"case\": self.a, ...}, condition=\"attr\")")
    if "foreach" in keywords:
        value = keywords["foreach"].value
        if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
            try:
                t.foreach = state.evaluate(value)
            except NotStatic:
                t.foreach_is_literal = False
                t.foreach = state.code(value)
        else:
            t.foreach_is_literal = False
            t.foreach = state.code(value)
    if "num_parallel" in keywords:
        value = keywords["num_parallel"].value
        attr = _self_attr(value, receiver)
        if attr is not None:
            t.num_parallel = attr
        else:
            try:
                t.num_parallel = state.evaluate(value)
            except NotStatic:
                t.num_parallel = state.code(value)
                problems.append("num_parallel= must be an integer or self.<parameter>")
    if "condition" in keywords:
        value = keywords["condition"].value
        try:
            cond = state.evaluate(value)
        except NotStatic:
            cond = None
        if isinstance(cond, str) and isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
            t.condition = cond
        else:
            # Not malformed (the call is readable): lint refuses it by this field.
            t.condition_is_literal = False
            t.condition = state.code(value)
    if "foreach" in keywords and "num_parallel" in keywords:
        problems.append("foreach= and num_parallel= cannot be combined")
    if ("foreach" in keywords or "num_parallel" in keywords) and len(t.targets) != 1:
        problems.append("a foreach or num_parallel transition goes to exactly one step")
    if t.unknown_keywords:
        problems.append("unknown keyword(s) " + ", ".join(f"{k}=" for k in t.unknown_keywords)
                        + "; self.next accepts foreach=, num_parallel= and condition=")
    if problems:
        t.malformed = "; ".join(dict.fromkeys(problems))
    return t


def _self_attr(node: cst.BaseExpression, receiver: str) -> str | None:
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == receiver:
        return node.attr.value
    return None
