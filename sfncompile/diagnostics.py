"""Positioned diagnostics and the one error type the CLI turns into a clean line."""

from __future__ import annotations

from dataclasses import dataclass, asdict
from typing import Any

from .ir import Span

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    rule: str  # stable rule id, e.g. "SFN104"; listed in docs/lint-rules.md
    message: str  # what is wrong *and* what to do
    span: Span | None = None
    severity: str = ERROR

    def format(self) -> str:
        where = self.span.where() if self.span else "<flow>"
        return f"{where}: {self.severity}[{self.rule}]: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class UserError(Exception):
    """A mistake the user can fix: printed as one line, exit status ``exit_code``.

    ``setting`` names the configuration key or flag at fault when there is one.
    """

    def __init__(self, message: str, *, exit_code: int = 1, diagnostics: list[Diagnostic] | None = None):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.diagnostics = diagnostics or []
