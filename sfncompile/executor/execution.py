"""What an execution is made of: its result, the call a Task handler gets, a running
program's frame, and the payload limit (shared by the interpreter's state modules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from .cancel import CancelToken
from .history import History
from .payload import compact

PAYLOAD_LIMIT = 256 * 1024
SUCCEEDED, FAILED, ABORTED, TIMED_OUT = "SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"


@dataclass
class TaskCall:
    """What a resource handler gets besides the parameters."""

    resource: str
    state_name: str
    context: dict
    cancel: CancelToken
    timeout_seconds: float | None
    history: History
    retry_count: int = 0


Handler = Callable[[Any, TaskCall], Any]


@dataclass
class ExecutionResult:
    name: str
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    history: History = field(default_factory=History)

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED

    def state_transitions(self) -> int:
        return self.history.total_state_transitions()

    def history_events(self) -> int:
        return self.history.event_count()


@dataclass
class Frame:
    """One running program (the top level, a branch, a Map iteration, a child execution)."""

    history: History
    context: dict  # Execution / StateMachine parts of $$
    variables: dict
    cancel: CancelToken
    retry_count: int = 0


EXECUTION_TIMEOUT = "execution timed out"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def payload_size(value: Any) -> int:
    return len(compact(value).encode())
