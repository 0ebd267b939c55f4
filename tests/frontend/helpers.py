"""Small helpers shared by the front-end tests."""

from __future__ import annotations

import textwrap

from sfncompile.frontend import parse_source


def parse(source: str, flow: str | None = None, file: str = "flow.py"):
    """Parse dedented source; returns (graph, diagnostics)."""
    return parse_source(textwrap.dedent(source).lstrip("\n"), file, flow)


def parse_ok(source: str, flow: str | None = None):
    graph, diagnostics = parse(source, flow)
    assert graph is not None, [d.format() for d in diagnostics]
    assert diagnostics == [], [d.format() for d in diagnostics]
    return graph


def rules_of(diagnostics) -> list[str]:
    return [d.rule for d in diagnostics]


def line_of(source: str, needle: str) -> int:
    """1-based line of the first line containing ``needle`` in dedented source."""
    lines = textwrap.dedent(source).lstrip("\n").splitlines()
    for number, text in enumerate(lines, 1):
        if needle in text:
            return number
    raise AssertionError(f"{needle!r} not in source")


def col_of(source: str, needle: str, within: str = "") -> int:
    """1-based column of ``needle`` on the first line containing it (and ``within``)."""
    lines = textwrap.dedent(source).lstrip("\n").splitlines()
    for text in lines:
        if needle in text and within in text:
            return text.index(needle) + 1
    raise AssertionError(f"{needle!r} not in source")
