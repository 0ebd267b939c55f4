"""Validate ``--params`` JSON against the flow's declared parameters before anything starts."""

from __future__ import annotations

import json
from typing import Any

from ..backends.asl.limits import check_execution_parameters
from ..diagnostics import UserError
from ..ir import FlowGraph


def _convert(name: str, kind: str, value: Any) -> Any:
    def bad(what: str) -> UserError:
        return UserError(f"parameter '{name}' must be {what}, got {json.dumps(value)}")

    if kind == "int":
        if isinstance(value, bool):
            raise bad("an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise bad("an integer") from None
        raise bad("an integer")
    if kind == "float":
        if isinstance(value, bool):
            raise bad("a number")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                raise bad("a number") from None
        raise bad("a number")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise bad("true or false")
    if kind == "str":
        if isinstance(value, (dict, list)):
            raise bad("a string")
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "json":
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad("JSON") from None
        return value
    if kind == "file":
        if not isinstance(value, str):
            raise UserError(f"parameter '{name}' is an IncludeFile: give the path of the file to include")
        return value  # a path: trigger reads the file and stores it (sfncompile.executor.parameters.include_files)
    return value


def validate_parameters(graph: FlowGraph, text: str | None) -> dict[str, Any]:
    """Parse ``--params`` (a JSON object) and check names, types and required ones."""
    given: dict[str, Any] = {}
    if text:
        try:
            given = json.loads(text)
        except ValueError as exc:
            raise UserError(f"--params is not valid JSON: {exc}") from None
        if not isinstance(given, dict):
            raise UserError("--params must be a JSON object, e.g. '{\"alpha\": 0.5}'")
    declared = {p.name: p for p in graph.parameters}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise UserError(f"{graph.name} has no parameter(s) {', '.join(unknown)} "
                        f"(parameters: {', '.join(sorted(declared)) or 'none'})")
    values = {name: _convert(name, declared[name].type, value) for name, value in given.items()}
    missing = sorted(p.name for p in graph.parameters
                     if p.required and not p.has_default and not p.default_is_function and p.name not in values)
    if missing:
        raise UserError(f"missing required parameter(s) {', '.join(missing)}: pass --params "
                        + json.dumps({m: "..." for m in missing}))
    check_execution_parameters(graph, values)
    return values
