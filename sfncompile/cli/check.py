"""``sfncompile check FLOW``: parse and lint, print every problem found.

Text output, one block per diagnostic, errors first then warnings::

    flow.py:12:9: error[SFN104]: message saying what to change
        self.next(self.b)
        ^~~~~~~~~~~~~~~~~

then a summary line. Exit status 1 when there is an error, 0 otherwise
(warnings alone do not fail). ``--format json`` prints a JSON list of
``{file, line, col, end_line, end_col, severity, rule, message}`` instead.
"""

from __future__ import annotations

import json
import sys

import click

from .configopts import config_options

from ..diagnostics import ERROR, Diagnostic


@click.command("check")
@click.argument("flow_file", metavar="FLOW")
@click.option("--flow", "flow_name", default=None, metavar="NAME",
              help="The flow class to check when the file defines several.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@config_options
def check(flow_file: str, flow_name: str | None, fmt: str) -> None:
    """Parse and lint FLOW; report every problem with its position."""
    from ..pipeline import parse_text, read_source

    data = read_source(flow_file)
    graph, diagnostics = parse_text(data, flow_file, flow_name)
    errors = [d for d in diagnostics if d.severity == ERROR]
    warnings = [d for d in diagnostics if d.severity != ERROR]
    if fmt == "json":
        click.echo(json.dumps([as_json(d, flow_file) for d in errors + warnings], indent=2))
    else:
        lines = data.decode("utf-8", errors="replace").splitlines()
        for diagnostic in errors + warnings:
            click.echo(with_source(diagnostic, lines, flow_file))
        click.echo(summary(flow_file, graph, errors, warnings))
    sys.exit(1 if errors else 0)


def as_json(diagnostic: Diagnostic, file: str) -> dict:
    span = diagnostic.span
    return {
        "file": span.file if span else file,
        "line": span.line if span else None,
        "col": span.col if span else None,
        "end_line": (span.end_line or None) if span else None,
        "end_col": (span.end_col or None) if span else None,
        "severity": diagnostic.severity,
        "rule": diagnostic.rule,
        "message": diagnostic.message,
    }


def with_source(diagnostic: Diagnostic, lines: list[str], file: str = "") -> str:
    """The diagnostic's line, then the source line and a caret under the column."""
    span = diagnostic.span
    if span is None:  # about the file as a whole
        return f"{file or '<flow>'}: {diagnostic.severity}[{diagnostic.rule}]: {diagnostic.message}"
    text = diagnostic.format()
    if not (1 <= span.line <= len(lines)):
        return text
    source = lines[span.line - 1].rstrip("\r\n")
    col = max(1, min(span.col, len(source) + 1))
    # Keep tabs as tabs so the caret lines up however the terminal expands them.
    pad = "".join("\t" if ch == "\t" else " " for ch in source[: col - 1])
    width = 1
    if span.end_line == span.line and span.end_col > col:
        width = min(span.end_col, len(source) + 1) - col
    caret = "^" + "~" * max(0, width - 1)
    return f"{text}\n    {source}\n    {pad}{caret}"


def summary(file: str, graph, errors: list, warnings: list) -> str:
    if not errors and not warnings:
        steps = len(graph.steps) if graph is not None else 0
        return f"{file}: ok ({graph.name if graph else 'flow'}, {steps} steps)"
    parts = []
    if errors:
        parts.append(f"{len(errors)} error{'s' if len(errors) != 1 else ''}")
    if warnings:
        parts.append(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}")
    return f"{file}: {', '.join(parts)}"
