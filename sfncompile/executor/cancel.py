"""Cancellation tokens: an execution's abort, a Map/Parallel scope's fail-fast, a task's timeout.

A token is cancelled when it or any ancestor is; waiting on one is a sleep
that ends early when that happens (Wait states, retry intervals, tasks).
"""

from __future__ import annotations

import threading
import time


class Cancelled(Exception):
    """Raised inside a scope whose token was cancelled (the scope stops where it is)."""


class CancelToken:
    _POLL = 0.05

    def __init__(self, parent: "CancelToken | None" = None):
        self.parent = parent
        self._event = threading.Event()
        self.reason: str | None = None

    def child(self) -> "CancelToken":
        return CancelToken(self)

    def cancel(self, reason: str = "cancelled"):
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    def cancelled(self) -> bool:
        token = self
        while token is not None:
            if token._event.is_set():
                return True
            token = token.parent
        return False

    def check(self):
        if self.cancelled():
            raise Cancelled(self.why())

    def why(self) -> str | None:
        token = self
        while token is not None:
            if token._event.is_set():
                return token.reason
            token = token.parent
        return None

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True if cancelled (possibly early)."""
        deadline = time.monotonic() + max(0.0, seconds)
        while True:
            if self.cancelled():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            # Our own event wakes us at once; an ancestor's is noticed within _POLL.
            self._event.wait(min(remaining, self._POLL) if self.parent else remaining)
