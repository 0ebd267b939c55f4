"""Reading data in a state: paths over the three roots and payload templates (``"x.$"`` keys)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import intrinsics, jsonpath
from .errors import PathError, StatesError


class RuntimeFailure(Exception):
    """A failure AWS reports as ``States.Runtime``; the interpreter adds the state prefix."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class View:
    """What a path can see: the state's (effective) input, the context object and variables."""

    input: Any
    context: dict
    variables: dict = field(default_factory=dict)


# JSON text as AWS shows it in errors and the history (no spaces, unicode kept):
# the same text States.JsonToString produces.
compact = intrinsics.json_dumps


def resolve_path(text: str, view: View) -> Any:
    """Value at ``text``; raises PathError when a definite path finds nothing."""
    path = jsonpath.parse(text)
    if path.root == jsonpath.CONTEXT:
        root = view.context
    elif path.root == jsonpath.VARIABLE:
        if path.variable not in view.variables:
            raise PathError(f"The variable '{path.variable}' is not defined")
        root = view.variables[path.variable]
    else:
        root = view.input
    return jsonpath.evaluate(path, root)


def evaluate_expression(text: str, view: View) -> Any:
    """A ``.$`` value: an intrinsic function call or a path."""
    if intrinsics.is_intrinsic(text):
        return intrinsics.evaluate(text, lambda p: _resolve_for_intrinsic(p, view))
    return resolve_path(text, view)


def _resolve_for_intrinsic(text: str, view: View) -> Any:
    try:
        return resolve_path(text, view)
    except PathError as exc:
        raise RuntimeFailure(f"Invalid path '{text}' : {exc.message}") from None


def render(template: Any, view: View) -> Any:
    """Evaluate a payload template (Parameters, ItemSelector, ResultSelector, Assign)."""
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key.endswith(".$") and isinstance(value, str):
                try:
                    out[key[:-2]] = evaluate_expression(value, view)
                except PathError as exc:
                    if not jsonpath.is_path(value):
                        raise RuntimeFailure(f"Invalid path '{value}' : {exc.message}") from None
                    where = _root_text(value, view)
                    raise RuntimeFailure(
                        f"The JSONPath '{value}' specified for the field '{key}' could not be found "
                        f"in the input '{where}'"
                    ) from None
            else:
                out[key] = render(value, view)
        return out
    if isinstance(template, list):
        return [render(v, view) for v in template]
    return template


def _root_text(text: str, view: View) -> str:
    path = jsonpath.parse(text)
    if path.root == jsonpath.CONTEXT:
        return compact(view.context)
    if path.root == jsonpath.VARIABLE:
        return compact(view.variables.get(path.variable))
    return compact(view.input)


def apply_input_path(state: dict, key: str, value: Any, view: View) -> Any:
    """InputPath / OutputPath: ``null`` gives ``{}``; absent keeps the value."""
    if key not in state:
        return value
    text = state[key]
    if text is None:
        return {}
    try:
        return resolve_path(text, View(value, view.context, view.variables))
    except PathError as exc:
        raise RuntimeFailure(f"Invalid path '{text}' : {exc.message}") from None


def apply_result_path(state: dict, raw_input: Any, result: Any) -> Any:
    if "ResultPath" not in state:
        return result
    text = state["ResultPath"]
    if text is None:
        return raw_input
    try:
        return jsonpath.set_reference(jsonpath.parse(text), raw_input, result)
    except PathError:
        raise StatesError(
            "States.ResultPathMatchFailure",
            f"Unable to apply ResultPath \"{text}\" to input \"{compact(raw_input)}\"",
        ) from None
