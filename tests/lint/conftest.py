"""Helpers for the lint tests: parse real source through the front end."""

from __future__ import annotations

import re
from pathlib import Path

from sfncompile.diagnostics import ERROR
from sfncompile.pipeline import parse, parse_text  # noqa: F401  (re-exported for the tests)

HERE = Path(__file__).parent
EXPECT = re.compile(r"#\s*expect:\s*((?:SFN\d{3}\s*)+)")


def expected_markers(source: str) -> set[tuple[str, int]]:
    """``# expect: SFN123 SFN124`` on a line = those rules are reported at that line."""
    out = set()
    for lineno, line in enumerate(source.splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            out.update((rule, lineno) for rule in match.group(1).split())
    return out


def errors_of(diagnostics) -> set[tuple[str, int]]:
    """Errors, and the findings of the rules that only warn (SFN133: Metaflow accepts such a flow)."""
    from sfncompile.lint import RULES

    def reported(d):
        return d.severity == ERROR or (d.rule in RULES and RULES[d.rule].severity != ERROR)

    return {(d.rule, d.span.line if d.span else 0) for d in diagnostics if reported(d)}


__all__ = ["HERE", "expected_markers", "errors_of", "parse", "parse_text"]
