"""Choice rules: every comparison operator, the ``…Path`` forms, ``Is*`` tests, And/Or/Not.

A comparison whose operand has the wrong type is simply false (AWS does not
fail the state); a ``Variable`` path that finds nothing fails the state with
``States.Runtime``, except under ``IsPresent``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable

from .errors import PathError

_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$"
)


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (uppercase T, an offset or Z), or None."""
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        return None
    text = value.replace("Z", "+00:00")
    if "." in text:
        head, rest = text.split(".", 1)
        digits = re.match(r"\d+", rest).group(0)
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits):]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _string_matches(value: str, pattern: str) -> bool:
    regex = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    return re.fullmatch("".join(regex), value, re.DOTALL) is not None


def _compare(kind: str, op: str, a, b) -> bool:
    if kind == "String":
        if not isinstance(a, str) or not isinstance(b, str):
            return False
    elif kind == "Numeric":
        if not _number(a) or not _number(b):
            return False
    elif kind == "Boolean":
        if not isinstance(a, bool) or not isinstance(b, bool):
            return False
    elif kind == "Timestamp":
        a, b = parse_timestamp(a), parse_timestamp(b)
        if a is None or b is None:
            return False
    if op == "Equals":
        return a == b
    if op == "LessThan":
        return a < b
    if op == "LessThanEquals":
        return a <= b
    if op == "GreaterThan":
        return a > b
    if op == "GreaterThanEquals":
        return a >= b
    raise ValueError(op)


_COMPARISONS = {}
for _kind in ("String", "Numeric", "Timestamp"):
    for _op in ("Equals", "LessThan", "LessThanEquals", "GreaterThan", "GreaterThanEquals"):
        _COMPARISONS[_kind + _op] = (_kind, _op)
_COMPARISONS["BooleanEquals"] = ("Boolean", "Equals")

_TESTS = {
    "IsNull": lambda v: v is None,
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsNumeric": _number,
    "IsString": lambda v: isinstance(v, str),
    "IsTimestamp": lambda v: parse_timestamp(v) is not None,
}


def evaluate_rule(rule: dict, resolve: Callable[[str], Any]) -> bool:
    """``resolve(path)`` returns the value or raises PathError when nothing is there."""
    if "And" in rule:
        return all(evaluate_rule(r, resolve) for r in rule["And"])
    if "Or" in rule:
        return any(evaluate_rule(r, resolve) for r in rule["Or"])
    if "Not" in rule:
        return not evaluate_rule(rule["Not"], resolve)
    variable = rule.get("Variable")
    if "IsPresent" in rule:
        try:
            resolve(variable)
            present = True
        except PathError:
            present = False
        return present == bool(rule["IsPresent"])
    value = resolve(variable)
    for name, expected in rule.items():
        if name in ("Variable", "Next", "Comment", "Assign", "Output"):
            continue
        if name in _TESTS:
            return _TESTS[name](value) == bool(expected)
        if name == "StringMatches":
            return isinstance(value, str) and isinstance(expected, str) and _string_matches(value, expected)
        if name.endswith("Path") and name[:-4] in _COMPARISONS:
            kind, op = _COMPARISONS[name[:-4]]
            return _compare(kind, op, value, resolve(expected))
        if name in _COMPARISONS:
            kind, op = _COMPARISONS[name]
            return _compare(kind, op, value, expected)
    raise ValueError(f"Choice rule without a known operator: {sorted(rule)}")
