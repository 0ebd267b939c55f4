"""The front end: flow source → ``FlowGraph`` (the IR), without importing the flow.

``parse_source(source, file, flow=None) -> (FlowGraph | None, diagnostics)``
never raises: every problem with the input is a positioned ``Diagnostic``
(rule ids ``SFN0xx``, see ``frontend.rules``). The graph is ``None`` only
when no flow could be read at all (syntax error, no flow class, ...); other
diagnostics come with a graph so the lint can still report everything else.

Modules: ``extract`` (source → facts: the passes in order), ``source``
(decoding, Python's syntax errors), ``module_scope`` (imports, bindings),
``flow_class`` (the flow class, its lineage and body), ``steps`` (steps and
their decorators), ``transitions`` (``self.next``), ``parameters``,
``configs``, ``mutators``, ``state`` (what the passes share), ``names`` and
``evaluate`` (static values), ``body`` (per-step facts: self.next calls,
paths, assigned attributes), ``positions`` and ``pieces`` (parsing, node →
line/col), ``graph_passes`` (kinds, joins, nesting, loops), ``rules`` (rule ids).
"""

from __future__ import annotations

from ..diagnostics import Diagnostic
from ..ir import FlowGraph, Span
from . import rules


def parse_source(source: str | bytes, file: str = "<flow>", flow: str | None = None
                 ) -> tuple[FlowGraph | None, list[Diagnostic]]:
    try:
        return _parse(source, file, flow)
    except RecursionError:
        # Python compiled it, but an expression nests deeper than the parser's
        # recursive passes can follow (e.g. a sum of a thousand terms).
        return None, [Diagnostic(rules.TOO_DEEP,
                                 "the source nests too deeply to analyse (an expression hundreds of levels deep); "
                                 "split it into smaller expressions", Span(file, 1, 1))]
    except Exception as exc:  # the front end must never raise on any input
        return None, [Diagnostic(rules.INTERNAL,
                                 f"internal error in the front end ({type(exc).__name__}: {exc}); "
                                 "please report this with the flow file", Span(file, 1, 1))]


def _parse(source, file, flow):
    from .extract import extract
    from .graph_passes import build_structure
    from .source import decode, python_syntax_errors

    text, diagnostics = decode(source, file)
    if text is None:
        return None, diagnostics
    diagnostics = python_syntax_errors(text, file)
    if diagnostics:
        return None, diagnostics
    graph, diagnostics = extract(text, file, flow)
    if graph is not None:
        build_structure(graph)
    return graph, diagnostics


__all__ = ["parse_source"]
