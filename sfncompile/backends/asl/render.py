"""Text form of a definition, and its ``${Name}`` placeholders.

``render`` is deterministic: the emitter builds dicts in a fixed order and
JSON text follows that order, so the same IR gives byte-identical output.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from ...diagnostics import UserError

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def render(definition: Mapping[str, Any], pretty: bool = True) -> str:
    if pretty:
        return json.dumps(definition, indent=2, ensure_ascii=False) + "\n"
    return json.dumps(definition, separators=(",", ":"), ensure_ascii=False)


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def substitutions_needed(definition: Mapping[str, Any]) -> set[str]:
    """Names of the ``${Name}`` placeholders the definition holds."""
    names: set[str] = set()
    for text in _strings(definition):
        names.update(PLACEHOLDER.findall(text))
    return names


def substitute(definition: Mapping[str, Any], values: Mapping[str, str], require_all: bool = True) -> dict:
    """Fill placeholders (as CloudFormation's DefinitionSubstitutions would)."""
    missing = sorted(substitutions_needed(definition) - set(values))
    if missing and require_all:
        raise UserError("no value for placeholder(s) " + ", ".join(missing)
                        + ": pass --substitute NAME=VALUE for each")

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), value)
        if isinstance(value, Mapping):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    return fill(definition)
