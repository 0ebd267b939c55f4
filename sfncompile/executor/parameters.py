"""``--param NAME=VALUE`` parsed and type-checked against the flow's declared parameters.

Everything is checked before a run starts: an unknown name, a value that is
not of the declared type or a missing required parameter is one clear line.
The result is the execution input's ``parameters`` object (JSON values;
contract §5). Parameters left out are not sent: the start step applies the
defaults, as it does for runs started on AWS.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from sfncompile_runtime.parameters import FALSE_WORDS, TRUE_WORDS

from ..backends.asl.limits import check_execution_parameters
from ..diagnostics import UserError


def _convert(spec, text: str) -> Any:
    kind = spec.type
    name = spec.name
    if spec.separator and kind not in ("json", "file"):
        # The runtime splits on the separator and converts each piece; check them here.
        for piece in text.split(spec.separator):
            _convert_one(kind, name, piece.strip())
        return text
    return _convert_one(kind, name, text)


def _convert_one(kind: str, name: str, text: str) -> Any:
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise UserError(f"parameter '{name}' expects an integer, got {text!r}") from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise UserError(f"parameter '{name}' expects a number, got {text!r}") from None
    if kind == "bool":
        low = text.strip().lower()
        if low in TRUE_WORDS:
            return True
        if low and low in FALSE_WORDS:  # --param flag= is a mistake on the command line
            return False
        raise UserError(f"parameter '{name}' expects true or false, got {text!r}")
    if kind == "json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise UserError(f"parameter '{name}' expects JSON: {exc.msg} in {text!r}") from None
    if kind == "file":
        path = Path(text)
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"parameter '{name}' names a file that cannot be read: {text}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise UserError(f"parameter '{name}' names a file that is not UTF-8 text: {text} (byte {exc.start}: "
                            f"{exc.reason})") from None
    return text


def parse_parameters(graph, assignments: Iterable[str]) -> dict[str, Any]:
    """``["alpha=0.1", ...]`` → ``{"alpha": 0.1}`` for ``graph``'s parameters."""
    specs = {p.name: p for p in graph.parameters}
    values: dict[str, Any] = {}
    for item in assignments:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UserError(f"--param expects NAME=VALUE, got {item!r}")
        spec = specs.get(name) or next((p for p in graph.parameters if p.attr == name), None)
        if spec is None:
            known = ", ".join(sorted(specs)) or "none"
            raise UserError(f"flow {graph.name} has no parameter '{name}' (parameters: {known})")
        if spec.name in values:
            raise UserError(f"parameter '{spec.name}' is given twice")
        values[spec.name] = _convert(spec, text)
    missing = [p.name for p in graph.parameters
               if p.required and p.name not in values and not p.has_default]
    if missing:
        raise UserError(f"missing required parameter(s): {', '.join(missing)} (pass --param NAME=VALUE)")
    check_execution_parameters(graph, values)
    return values
