"""The Parallel state, and running a set of branches or iterations on threads (fail fast)."""

from __future__ import annotations

import copy
import threading
from typing import Any

from .cancel import Cancelled, CancelToken
from .execution import Frame
from .payload import View, apply_input_path, render


class ParallelState:
    """Mixin of ``Interpreter``."""

    # ------------------------------------------------------------ Parallel

    def _state_parallel(self, name, state, raw, frame, context, entered):
        view = View(raw, context, frame.variables)
        effective = apply_input_path(state, "InputPath", raw, view)
        if "Parameters" in state:
            effective = render(state["Parameters"], View(effective, context, frame.variables))
        branches = state.get("Branches", [])

        def attempt(retry_count):
            frame.history.add("ParallelStateStarted", name=name, retry=retry_count > 0)
            scope = frame.cancel.child()
            jobs = []
            for branch in branches:
                sub = Frame(frame.history, frame.context, dict(frame.variables), scope.child())
                jobs.append(lambda b=branch, f=sub: self._run_program(b, copy.deepcopy(effective), f))
            results = self._run_all(jobs, len(jobs), scope, frame.cancel)
            frame.history.add("ParallelStateSucceeded", name=name)
            result = self._result_selector(state, results, context, frame)
            return self._finish(name, state, "Parallel", raw, result, frame, context, result)

        return self._with_retry_catch(name, "Parallel", state, raw, frame, context, attempt)

    def _run_all(self, jobs, limit, scope: CancelToken, outer: CancelToken):
        """Run ``jobs`` (callables) with at most ``limit`` at once; fail fast.

        Returns the results in order, or raises the first StatesError after
        cancelling the others (``scope``). With limit 1 the jobs run here, in order.
        """
        n = len(jobs)
        results: list[Any] = [None] * n
        if limit == 1 or n <= 1:
            for i, job in enumerate(jobs):
                outer.check()
                results[i] = job()
            return results
        failure: list[BaseException] = []
        gate = threading.BoundedSemaphore(limit)
        lock = threading.Lock()
        threads = []

        def runner(i, job):
            try:
                results[i] = job()
            except BaseException as exc:
                with lock:
                    if not failure and not isinstance(exc, Cancelled):
                        failure.append(exc)
                        scope.cancel("sibling failed")
                    elif isinstance(exc, Cancelled) and not failure and outer.cancelled():
                        failure.append(exc)
            finally:
                gate.release()

        for i, job in enumerate(jobs):
            if not self._acquire_unless(gate, scope):
                break  # a sibling failed (or the execution stopped): start nothing more
            thread = threading.Thread(target=runner, args=(i, job), daemon=True)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        outer.check()
        if failure:
            raise failure[0]
        return results

    @staticmethod
    def _acquire_unless(gate: threading.BoundedSemaphore, scope: CancelToken) -> bool:
        """Take a slot of ``gate``; False (and no slot) once ``scope`` is cancelled."""
        while not gate.acquire(timeout=0.1):
            if scope.cancelled():
                return False
        if scope.cancelled():
            gate.release()
            return False
        return True
