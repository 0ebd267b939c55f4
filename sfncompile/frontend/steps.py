"""The flow's steps and their decorators: ``@step`` methods read into ``StepNode``s.

A step's decorators are read into ``Decorator``s with statically evaluated
arguments, except the user's own (a name bound in the flow file), which run when
the runtime imports the flow, as under Metaflow, and are only recorded by name.
The body's facts (``self.next`` calls, paths, assigned attributes) come from
``body``; the transition's arguments from ``transitions``. The flow class's own
decorators are read by the same ``read_decorator``.
"""

from __future__ import annotations

import re

import libcst as cst

from ..ir import Decorator, Span, StepNode
from . import rules
from .body import analyse_body
from .evaluate import NotStatic
from .module_scope import API_ROOTS
from .state import ReadState
from .transitions import read_transition

# Step decorators recognised by name even when their import is not visible.
KNOWN_STEP_DECORATORS = ("batch", "resources", "retry", "catch", "timeout", "environment", "pypi", "conda",
                         "card", "kubernetes", "parallel", "secrets", "exit_hook")
# ``@exit_hook`` arguments whose bare function names evaluate to the names.
HOOK_ARGUMENTS = ("on_success", "on_error")


def step_decorator_index(state: ReadState, func: cst.FunctionDef) -> int | None:
    """Where ``@step`` is among the method's decorators; None for a method that is not a step."""
    for index, dec in enumerate(func.decorators):
        expr = dec.decorator
        target = expr.func if isinstance(expr, cst.Call) else expr
        if _is_api(state, target, "step"):
            return index
    return None


def _is_api(state: ReadState, expr: cst.BaseExpression, name: str) -> bool:
    ref = state.resolve(expr)
    return ref is not None and ref[1] == name


def read_step(state: ReadState, func: cst.FunctionDef) -> StepNode | None:
    """The step a method defines (None if it is not a ``@step``), with its decorators, body facts and transition."""
    step_index = step_decorator_index(state, func)
    if step_index is None:
        return None
    annotation: dict[str, bool] = {}
    step_expr = func.decorators[step_index].decorator
    if isinstance(step_expr, cst.Call):
        annotation = _step_annotation(state, step_expr)
    params = list(func.params.posonly_params) + list(func.params.params)
    receiver = params[0].name.value if params else "self"
    node = StepNode(name=func.name.value, span=state.span(func.name), num_args=len(params))
    node.is_join = node.num_args > 1
    node.docstring = docstring(func)
    node.step_annotation = annotation
    for index, dec in enumerate(func.decorators):
        if index == step_index:
            continue
        if is_user_code(state, dec.decorator):
            # Runs when the runtime imports the flow, as under Metaflow; not ours to read.
            node.user_decorators.append(state.code(decorator_target(dec.decorator)))
            continue
        deco = read_decorator(state, dec)
        if deco is None:
            continue
        if index > step_index and _is_step_decorator(state, dec.decorator):
            state.error(rules.DECORATOR_BELOW_STEP,
                        f"@{deco.name} is below @step; step decorators must be placed above @step",
                        dec.decorator)
        node.decorators.append(deco)
    facts = analyse_body(func, receiver, state.span)
    node.next_calls = [state.span(call) for call in facts.next_calls]
    node.next_not_last = facts.next_not_last
    node.next_missing_on_some_path = facts.next_missing_on_some_path
    if facts.next_missing_at is not None:
        node.next_missing_at = _statement_span(state, facts.next_missing_at)
    node.assigned_attrs = facts.assigned_attrs
    node.guarded_attrs = sorted(facts.guarded_attrs)
    if facts.transition_call is not None:
        node.transition = read_transition(state, facts.transition_call, receiver)
    return node


def _statement_span(state: ReadState, node: cst.CSTNode) -> Span:
    """A statement's span starting at its first token: a compound statement's
    own range starts with the comments and blank lines above it and its indentation."""
    span = state.span(node)
    if not hasattr(node, "leading_lines"):
        return span  # a small statement (``return``) starts where its range does
    line = span.line + len(node.leading_lines)
    if state.lines is None:  # split once per file, not once per call
        state.lines = re.split(r"\r\n?|\n", state.text)  # as libcst counts lines (not str.splitlines)
    lines = state.lines
    text = lines[line - 1] if line <= len(lines) else ""
    return Span(state.file, line, len(text) - len(text.lstrip()) + 1, span.end_line, span.end_col)


def is_user_code(state: ReadState, expr: cst.BaseExpression) -> bool:
    """The decorator is the user's own: its root name is bound in the flow file
    (a def, an assignment, an import from a module other than metaflow/sfncompile)
    or earlier in the class body. Names imported from metaflow/sfncompile, and
    names bound nowhere, are not: the lint judges those by name."""
    root = decorator_target(expr)
    while True:
        if isinstance(root, (cst.Attribute, cst.Subscript)):
            root = root.value
        elif isinstance(root, cst.Call):
            root = root.func
        else:
            break
    if not isinstance(root, cst.Name):
        return False
    name = root.value
    info = state.module_scope
    if name in state.class_scope.bound_so_far:
        return True
    if name in info.names or name in info.modules:
        return False
    return info.binding_counts.get(name, 0) > 0


def _is_step_decorator(state: ReadState, expr: cst.BaseExpression) -> bool:
    """One of Metaflow's/our step decorators (not the user's own function decorator)."""
    target = expr.func if isinstance(expr, cst.Call) else expr
    ref = state.resolve(target)
    if ref is None:
        return False
    root, name = ref
    return root in API_ROOTS or (root is None and name in KNOWN_STEP_DECORATORS)


def _step_annotation(state: ReadState, call: cst.Call) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value not in ("start", "end"):
            state.error(rules.DECORATOR_ARGUMENT,
                        "@step takes only start=True and/or end=True", arg)
            continue
        try:
            value = state.evaluate(arg.value)
        except NotStatic as exc:
            state.error(rules.DECORATOR_ARGUMENT, f"@step({arg.keyword.value}=...): {exc.reason}", exc.node)
            continue
        out[arg.keyword.value] = bool(value)
    return out


def read_decorator(state: ReadState, dec: cst.Decorator) -> Decorator | None:
    expr = dec.decorator
    call = expr if isinstance(expr, cst.Call) else None
    target = call.func if call is not None else expr
    if isinstance(target, cst.Name):
        name = target.value
    elif isinstance(target, cst.Attribute):
        name = target.attr.value
    else:
        state.error(rules.DECORATOR_FORM,
                    "a decorator must be a name or a call such as @retry or @retry(times=2)", expr)
        return None
    ref = state.resolve(target)
    if ref is not None:
        name = ref[1]  # ``from metaflow import retry as r`` → "retry"
    deco = Decorator(name=name, span=state.span(expr))
    if call is None:
        return deco
    for arg in call.args:
        if arg.star == "**":
            # ``@environment(**config)``: a dict (a config's, or a constant's) spread into keywords.
            try:
                spread = state.evaluate(arg.value)
            except NotStatic as exc:
                state.error(rules.DECORATOR_ARGUMENT, f"@{name}(**...): {exc.reason}", exc.node)
                continue
            if not isinstance(spread, dict):
                state.error(rules.DECORATOR_ARGUMENT, f"@{name}(**...) needs a dict of arguments", arg)
                continue
            from .configs import plain

            deco.args.update(plain(spread))
            continue
        if arg.star:
            state.error(rules.DECORATOR_ARGUMENT,
                        f"@{name}: *args/**kwargs cannot be evaluated statically; write the arguments out", arg)
            continue
        hooks = name == "exit_hook" and arg.keyword is not None and arg.keyword.value in HOOK_ARGUMENTS
        try:
            value = (state.evaluate_hooks if hooks else state.evaluate)(arg.value)
        except NotStatic as exc:
            label = f"{arg.keyword.value}=" if arg.keyword is not None else "argument "
            state.error(rules.DECORATOR_ARGUMENT, f"@{name}({label}...): {exc.reason}", exc.node)
            continue
        if arg.keyword is None:
            deco.positional.append(value)
        else:
            from .configs import plain

            deco.args[arg.keyword.value] = plain(value)
    return deco


def docstring(node) -> str | None:
    try:
        doc = node.get_docstring(clean=True)
    except Exception:  # an odd literal (bytes, f-string) is simply not a docstring
        return None
    return doc or None


def decorator_target(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``timed`` for ``@timed`` and ``@timed(label="x")``."""
    return expr.func if isinstance(expr, cst.Call) else expr
