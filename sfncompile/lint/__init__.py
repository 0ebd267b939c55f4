"""Lint: small independent checks over the IR, each with a rule id.

``run_lint(graph)`` returns every problem found, sorted by position. Rules
live in one module per topic and register themselves in ``registry.RULES``;
``docs/lint-rules.md`` documents each one. Lint never raises on a malformed
graph: a rule that crashes is reported as an internal warning, and the other
rules still run.
"""

from __future__ import annotations

from ..diagnostics import WARNING, Diagnostic
from ..ir import FlowGraph
from . import decorators, parameters, steps, topology, transitions  # noqa: F401  (register rules)
from .registry import RULES, Rule
from .view import FlowView

INTERNAL_RULE = "SFN199"


def run_lint(graph: FlowGraph, rules: list[str] | None = None) -> list[Diagnostic]:
    """Every diagnostic the rules find (or only ``rules``, by id), sorted by position."""
    view = FlowView(graph)
    found: list[Diagnostic] = []
    for rule_id in sorted(RULES):
        if rules is not None and rule_id not in rules:
            continue
        try:
            found.extend(RULES[rule_id].check(view))
        except Exception as exc:  # a bug in one rule must not hide the others' findings
            found.append(Diagnostic(INTERNAL_RULE, f"lint rule {rule_id} failed on this flow ({type(exc).__name__}: "
                                                   f"{exc}); please report it", graph.span, WARNING))
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=_position)


def _position(d: Diagnostic):
    span = d.span
    return (span.line if span else 0, span.col if span else 0, d.rule)


__all__ = ["run_lint", "RULES", "Rule", "INTERNAL_RULE"]
