"""The execution history, in Step Functions' own event vocabulary.

Events get increasing ids across the whole execution (Map iterations and
Parallel branches of an inline scope share their parent's history, as on
AWS); a Distributed Map's iterations are child executions with their own
histories, kept in ``children``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

# Billable transitions: AWS bills one transition per state entered (and per
# retry attempt, which re-enters the state's work). These are the events that
# mark a state being entered.
_ENTERED_SUFFIX = "StateEntered"


@dataclass
class Event:
    id: int
    type: str
    timestamp: float
    previous_id: int
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "timestamp": self.timestamp,
                "previousEventId": self.previous_id, **({"details": self.details} if self.details else {})}


class History:
    def __init__(self, name: str = ""):
        self.name = name
        self.events: list[Event] = []
        self.children: list[History] = []
        self._lock = threading.Lock()

    def add(self, type_: str, previous_id: int | None = None, **details) -> int:
        with self._lock:
            event_id = len(self.events) + 1
            prev = previous_id if previous_id is not None else (event_id - 1)
            self.events.append(Event(event_id, type_, time.time(), prev, details))
            return event_id

    def add_child(self, child: "History"):
        with self._lock:
            self.children.append(child)

    def types(self) -> list[str]:
        return [e.type for e in self.events]

    # ------------------------------------------------------------ billing

    def state_transitions(self) -> int:
        """Billable state transitions of this execution (children not included).

        AWS counts one transition each time a state is entered, plus one per
        retry attempt of a state (the retry re-runs the state).
        """
        entered = sum(1 for e in self.events if e.type.endswith(_ENTERED_SUFFIX))
        retries = sum(1 for e in self.events if e.details.get("retry"))
        return entered + retries

    def total_state_transitions(self) -> int:
        return self.state_transitions() + sum(c.total_state_transitions() for c in self.children)

    def event_count(self) -> int:
        return len(self.events)

    def executions(self) -> list["History"]:
        """This execution and every child execution, depth first."""
        out = [self]
        for child in self.children:
            out.extend(child.executions())
        return out
