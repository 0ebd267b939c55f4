"""The compiler's front half in two calls: source file → validated IR.

``parse(path, flow=None)`` reads the file, runs the front end and the lint and
returns ``(graph or None, diagnostics)`` sorted by position, errors and
warnings together; it raises only ``UserError`` when the file itself cannot
be read (missing, a directory, no permission). ``load_graph`` is the same but
insists on a clean result: any error-severity diagnostic → ``UserError``
carrying all diagnostics, so the CLI prints them and exits non-zero.
"""

from __future__ import annotations

import os

from .diagnostics import ERROR, Diagnostic, UserError
from .ir import FlowGraph, Span


def read_source(path: str | os.PathLike) -> bytes:
    path = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise UserError(f"flow file not found: {path}") from None
    except IsADirectoryError:
        raise UserError(f"flow file is a directory, not a Python file: {path}") from None
    except PermissionError:
        raise UserError(f"flow file cannot be read (permission denied): {path}") from None
    except OSError as exc:
        raise UserError(f"flow file cannot be read: {path}: {exc.strerror or exc}") from None


def parse(path: str | os.PathLike, flow: str | None = None, with_specs=()
          ) -> tuple[FlowGraph | None, list[Diagnostic]]:
    path = os.fspath(path)
    data = read_source(path)
    return parse_text(data, path, flow, with_specs)


def parse_text(source: str | bytes, file: str, flow: str | None = None, with_specs=()
               ) -> tuple[FlowGraph | None, list[Diagnostic]]:
    """Front end + lint on source text; never raises.

    ``with_specs`` (``decospecs.WithSpec``, from ``--with``) are attached before
    lint, so they are checked like decorators written in the source.
    """
    from .decospecs import attach
    from .frontend import parse_source

    graph, diagnostics = parse_source(source, file, flow)
    if graph is not None:
        graph = attach(graph, with_specs)
        diagnostics = diagnostics + _lint(graph)
    return graph, sort_diagnostics(diagnostics)


def load_graph(path: str | os.PathLike, flow: str | None = None, with_specs=()) -> FlowGraph:
    graph, diagnostics = parse(path, flow, with_specs)
    errors = [d for d in diagnostics if d.severity == ERROR]
    if errors or graph is None:
        count = len(errors)
        raise UserError(f"{count} error{'s' if count != 1 else ''} in {os.fspath(path)}",
                        diagnostics=diagnostics)
    return graph


def sort_diagnostics(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    def key(d: Diagnostic):
        span = d.span
        return (0 if d.severity == ERROR else 1, span.line if span else 0, span.col if span else 0, d.rule)

    return sorted(diagnostics, key=key)


def _lint(graph: FlowGraph) -> list[Diagnostic]:
    from .lint import run_lint

    try:
        return list(run_lint(graph))
    except Exception as exc:  # a lint bug must not become a traceback for the user
        return [Diagnostic("SFN099", f"internal error in the lint ({type(exc).__name__}: {exc}); "
                                     "please report this with the flow file", Span(graph.file, 1, 1))]


__all__ = ["parse", "parse_text", "load_graph", "read_source", "sort_diagnostics"]
