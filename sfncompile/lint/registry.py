"""The rule registry: every lint rule is a small function registered here.

A rule is ``check(view) -> iterable of Diagnostic``. Rules are independent:
each reads the graph through a ``FlowView`` and reports what it finds; none
depends on another having run. ``run_lint`` runs them all and never lets one
rule's crash hide the others' findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from ..diagnostics import ERROR, WARNING, Diagnostic


@dataclass(frozen=True)
class Rule:
    id: str
    name: str  # short kebab-case name, shown in docs
    check: Callable[..., Iterable[Diagnostic]]
    severity: str = ERROR


RULES: dict[str, Rule] = {}


def rule(rule_id: str, name: str, severity: str = ERROR):
    """Register ``check`` under ``rule_id``; ids are unique and stable."""

    def register(check):
        if rule_id in RULES:
            raise ValueError(f"duplicate lint rule id {rule_id}")
        RULES[rule_id] = Rule(rule_id, name, check, severity)
        check.rule_id = rule_id
        return check

    return register


def diag(rule_id: str, message: str, span, severity: str | None = None) -> Diagnostic:
    sev = severity or (RULES[rule_id].severity if rule_id in RULES else ERROR)
    return Diagnostic(rule=rule_id, message=message, span=span, severity=sev)


__all__ = ["Rule", "RULES", "rule", "diag", "ERROR", "WARNING"]
