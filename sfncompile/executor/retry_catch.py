"""Retry and Catch: how a failed Task, Parallel or Map is tried again or diverted."""

from __future__ import annotations

import random

from . import errors as E
from .errors import StatesError
from .payload import View, apply_result_path


class RetryCatch:
    """Mixin of ``Interpreter``: ``_with_retry_catch`` wraps a state's attempt."""

    # ------------------------------------------------------------ Retry / Catch

    @staticmethod
    def _matches(error_equals, error) -> bool:
        if error in error_equals:
            return True
        return E.ALL in error_equals and error not in E.TERMINAL

    def _with_retry_catch(self, name, kind, state, raw, frame, context, attempt):
        """Run ``attempt(retry_count)`` under the state's Retry and Catch; returns (next, output)."""
        retriers = state.get("Retry", [])
        used = [0] * len(retriers)
        retry_count = 0
        while True:
            try:
                return attempt(retry_count)
            except StatesError as err:
                if err.error == E.RUNTIME:
                    raise
                index = next((i for i, r in enumerate(retriers) if self._matches(r.get("ErrorEquals", []), err.error)), None)
                if index is not None:
                    retrier = retriers[index]
                    max_attempts = retrier.get("MaxAttempts", 3)
                    if used[index] < max_attempts:
                        delay = self._retry_delay(retrier, used[index]) if self.retry_delays else 0
                        used[index] += 1
                        retry_count += 1
                        if frame.cancel.wait(delay):
                            frame.cancel.check()
                        continue
                if kind in ("Map", "Parallel"):
                    frame.history.add(f"{kind}StateFailed", name=name, error=err.error, cause=err.cause)
                for catcher in state.get("Catch", []):
                    if self._matches(catcher.get("ErrorEquals", []), err.error):
                        return self._caught(name, kind, state, raw, frame, context, catcher, err)
                raise

    @staticmethod
    def _retry_delay(retrier, attempt_index) -> float:
        interval = retrier.get("IntervalSeconds", 1)
        delay = interval * (retrier.get("BackoffRate", 2.0) ** attempt_index)
        if "MaxDelaySeconds" in retrier:
            delay = min(delay, retrier["MaxDelaySeconds"])
        if retrier.get("JitterStrategy") == "FULL":
            delay = random.uniform(0, delay)
        return delay

    def _caught(self, name, kind, state, raw, frame, context, catcher, err):
        error_output = {"Error": err.error}
        if err.cause is not None:
            error_output["Cause"] = err.cause
        if "ResultPath" in catcher:
            output = apply_result_path({"ResultPath": catcher["ResultPath"]}, raw, error_output)
        else:
            output = error_output
        self._assign(catcher.get("Assign"), View(error_output, context, frame.variables), frame)
        frame.history.add(f"{kind}StateExited", name=name, output=output)
        return catcher["Next"], output
