"""What the user can choose at compile time (flags of ``sfncompile compile``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ...diagnostics import UserError

FOREACH_MODES = ("auto", "inline", "distributed")


@dataclass(frozen=True)
class CompileOptions:
    # MaxConcurrency of every Map (None: the platform's default, unbounded).
    max_workers: int | None = None
    # How a foreach fans out (docs/state-machine.md §7): "distributed" (child
    # executions over the runtime's manifest: any width, no shared history,
    # no 40-way cap, as many transitions as Metaflow's inline Map), "auto" (a
    # Choice on the published items: inline Map when the width fits, one
    # Choice transition more) or "inline" (Metaflow's shape, ≤ 1000 items).
    foreach_mode: str = "distributed"
    foreach_modes: Mapping[str, str] = field(default_factory=dict)  # per foreach step
    # @timeout backstop: the Task's TimeoutSeconds = job timeout + this (the
    # job may wait in the queue before its attempt clock starts).
    timeout_slack_seconds: int = 900

    def __post_init__(self):
        for where, mode in [("--foreach-mode", self.foreach_mode), *self.foreach_modes.items()]:
            if mode not in FOREACH_MODES:
                raise UserError(f"foreach mode {mode!r} for {where} is not one of {', '.join(FOREACH_MODES)}")
        if self.max_workers is not None and (not isinstance(self.max_workers, int) or self.max_workers < 1):
            raise UserError(f"--max-workers must be a positive integer, got {self.max_workers!r}")

    def mode_for(self, step: str) -> str:
        return self.foreach_modes.get(step, self.foreach_mode)

    @classmethod
    def coerce(cls, options: "CompileOptions | Mapping[str, Any] | None") -> "CompileOptions":
        if options is None:
            return cls()
        if isinstance(options, cls):
            return options
        return cls(**dict(options))
