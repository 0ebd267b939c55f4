"""The flow's parameters: ``attr = Parameter(...)`` / ``IncludeFile(...)`` read into ``ParameterSpec``s.

Arguments are matched to Metaflow's signatures (positional or by keyword); the
name, type, default, help and ``required`` are evaluated statically. A default
the compiler cannot evaluate (``default=script_path("x.csv")``) is not an error:
the runtime evaluates it when it imports the flow, as Metaflow does. Configs,
the other input of a flow, are read by ``configs.read_configs``.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from ..diagnostics import WARNING
from ..ir import ParameterSpec
from . import rules
from .evaluate import NotStatic
from .state import ReadState

PARAMETER_CALLS = ("Parameter", "IncludeFile")
TYPE_NAMES = {"str": "str", "int": "int", "float": "float", "bool": "bool", "JSONType": "json"}
PARAMETER_KEYWORDS = {
    "Parameter": ("name", "default", "type", "help", "required", "show_default"),
    "IncludeFile": ("name", "required", "is_text", "encoding", "help", "parser", "default"),
}
KNOWN_PARAMETER_KEYWORDS = {"separator", "is_text", "encoding", "parser", "show_default"}
_NOT_STATIC = object()


def read_parameter(state: ReadState, statement) -> ParameterSpec | None:
    if isinstance(statement, cst.Assign):
        if len(statement.targets) != 1 or not isinstance(statement.targets[0].target, cst.Name):
            return None
        attr_node, value = statement.targets[0].target, statement.value
    else:
        if not isinstance(statement.target, cst.Name) or statement.value is None:
            return None
        attr_node, value = statement.target, statement.value
    if not isinstance(value, cst.Call):
        return None
    ref = state.resolve(value.func)
    if ref is None or ref[1] not in PARAMETER_CALLS:
        return None
    kind = ref[1]
    spec = ParameterSpec(attr=attr_node.value, name=attr_node.value, type="file" if kind == "IncludeFile" else "str",
                         kind=kind, span=state.span(attr_node))
    order = PARAMETER_KEYWORDS[kind]
    given: dict[str, cst.Arg] = {}
    for index, arg in enumerate(value.args):
        if arg.star:
            state.error(rules.PARAMETER, f"{kind}(): *args/**kwargs cannot be read statically; write them out", arg)
            continue
        if arg.keyword is not None:
            given[arg.keyword.value] = arg
        elif index < len(order):
            given[order[index]] = arg
        else:
            state.error(rules.PARAMETER, f"{kind}() takes at most {len(order)} positional arguments", arg)
    name_arg = given.get("name")
    if name_arg is None:
        state.error(rules.PARAMETER, f'{kind}() needs a name: {kind}("{attr_node.value}", ...)', value)
    else:
        name = _static(state, name_arg.value, f"{kind}(name=...)")
        if isinstance(name, str):
            spec.name = name
        elif name is not _NOT_STATIC:
            state.error(rules.PARAMETER, f"{kind}() name must be a string", name_arg.value)
    explicit_type = None
    if "type" in given:
        explicit_type = _parameter_type(state, given["type"].value)
    if "default" in given:
        default_node = given["default"].value
        if isinstance(default_node, cst.Lambda) or (
            isinstance(default_node, cst.Name) and default_node.value in state.module_scope.functions
        ):
            spec.default_is_function = True
            spec.has_default = True
        else:
            try:
                default = state.evaluate(default_node)
            except NotStatic:
                # e.g. default=script_path("movies.csv") (Metaflow's tutorial):
                # the runtime imports the flow module and evaluates it there,
                # exactly when Metaflow would; the compiler only cannot see it.
                spec.default_is_function = True
                spec.has_default = True
                if kind == "Parameter" and "type" not in given:
                    state.error(rules.RUNTIME_DEFAULT,
                                f"the default `{state.code(default_node)}` of parameter '{spec.name}' is computed "
                                "when the flow module is imported at run time, so its type is taken as str; "
                                "add type=int/float/bool/JSONType if it is not a string",
                                default_node, severity=WARNING)
            else:
                spec.default = default
                spec.has_default = default is not None
    for key, target in (("help", "help"), ("separator", "separator")):
        if key in given:
            try:
                value_ = state.evaluate(given[key].value)
            except NotStatic as exc:
                # Only shown in help texts: not worth failing the build for.
                state.error(rules.PARAMETER_KEYWORD, f"{kind}({key}=...) is ignored: {exc.reason}", exc.node,
                            severity=WARNING)
                continue
            if value_ is not None:
                setattr(spec, target, str(value_))
    if "required" in given:
        required = _static(state, given["required"].value, f"{kind}(required=...)")
        if required is not _NOT_STATIC:
            spec.required = bool(required)
    for key in given:
        if key not in order and key not in KNOWN_PARAMETER_KEYWORDS:
            state.error(rules.PARAMETER_KEYWORD, f"{kind}(): unknown keyword {key}= is ignored", given[key],
                        severity=WARNING)
    if kind == "IncludeFile":
        spec.type = "file"
    elif explicit_type is not None:
        spec.type = explicit_type
    elif spec.has_default and not spec.default_is_function:
        spec.type = _type_of(spec.default)
    return spec


def _parameter_type(state: ReadState, node: cst.BaseExpression) -> str | None:
    ref = state.resolve(node)
    name = None
    if isinstance(node, cst.Name) and node.value in ("str", "int", "float", "bool"):
        name = node.value
    elif ref is not None and ref[1] == "JSONType":
        name = "JSONType"
    if name is None:
        state.error(rules.PARAMETER, f"Parameter type `{state.code(node)}` is not supported; "
                                     "use str, int, float, bool or JSONType", node)
        return None
    return TYPE_NAMES[name]


def _static(state: ReadState, node: cst.BaseExpression, what: str, hint: str = ""):
    try:
        return state.evaluate(node)
    except NotStatic as exc:
        state.error(rules.PARAMETER, f"{what}: {exc.reason}{hint}", exc.node)
        return _NOT_STATIC


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, (dict, list)):
        return "json"
    return "str"
