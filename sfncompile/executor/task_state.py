"""The Task state: parameters, the handler call under a worker slot, TimeoutSeconds."""

from __future__ import annotations

import threading
from typing import Any

from . import errors as E
from .cancel import Cancelled
from .errors import PathError, StatesError
from .execution import TaskCall
from .payload import RuntimeFailure, View, apply_input_path, render, resolve_path


class TaskState:
    """Mixin of ``Interpreter``."""

    # ------------------------------------------------------------ Task

    def _state_task(self, name, state, raw, frame, context, entered):
        resource = state.get("Resource", "")
        handler = self._handler(resource)

        def attempt(retry_count):
            ctx = dict(context)
            ctx["State"] = dict(context["State"], RetryCount=retry_count)
            view = View(raw, ctx, frame.variables)
            effective = apply_input_path(state, "InputPath", raw, view)
            view = View(effective, ctx, frame.variables)
            parameters = render(state["Parameters"], view) if "Parameters" in state else effective
            timeout = self._number_field(state, "TimeoutSeconds", view)
            history = frame.history
            history.add("TaskScheduled", resource=resource, parameters=parameters, retry=retry_count > 0)
            result = self._invoke(handler, resource, parameters, name, ctx, frame, timeout, retry_count)
            result = self._result_selector(state, result, ctx, frame)
            return self._finish(name, state, "Task", raw, result, frame, ctx, result)

        return self._with_retry_catch(name, "Task", state, raw, frame, context, attempt)

    @staticmethod
    def _number_field(state, key, view):
        if key in state:
            return state[key]
        if key + "Path" in state:
            text = state[key + "Path"]
            try:
                value = resolve_path(text, view)
            except PathError:
                raise RuntimeFailure(f"The {key}Path parameter does not reference an input value: {text}") from None
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise RuntimeFailure(f"The {key}Path parameter does not reference a positive integer: {text}")
            return value
        return None

    def _invoke(self, handler, resource, parameters, name, context, frame, timeout, retry_count):
        history = frame.history
        token = frame.cancel.child()
        call = TaskCall(resource, name, context, token, timeout, history, retry_count)
        slot = self.task_slots
        if slot is not None:
            while not slot.acquire(timeout=0.1):
                frame.cancel.check()
        try:
            frame.cancel.check()
            history.add("TaskStarted", resource=resource)
            if resource.endswith(".sync") or ".sync:" in resource:
                history.add("TaskSubmitted", resource=resource)
            outcome: dict[str, Any] = {}

            def work():
                try:
                    outcome["result"] = handler(parameters, call)
                except BaseException as exc:  # handed to the waiting thread
                    outcome["error"] = exc

            if timeout is None:
                work()
            else:
                worker = threading.Thread(target=work, name=f"task-{name}", daemon=True)
                worker.start()
                worker.join(timeout)
                if worker.is_alive():
                    token.cancel("timeout")
                    worker.join()
                    history.add("TaskTimedOut", resource=resource, error=E.TIMEOUT)
                    raise StatesError(E.TIMEOUT, f"The task '{name}' timed out after {timeout} seconds")
        finally:
            if slot is not None:
                slot.release()
        if "error" in outcome:
            exc = outcome["error"]
            frame.cancel.check()
            if isinstance(exc, StatesError):
                history.add("TaskTimedOut" if exc.error == E.TIMEOUT else "TaskFailed",
                            resource=resource, error=exc.error, cause=exc.cause)
                raise exc
            if isinstance(exc, Cancelled):
                raise exc
            history.add("TaskFailed", resource=resource, error=E.TASK_FAILED, cause=repr(exc))
            raise StatesError(E.TASK_FAILED, f"{type(exc).__name__}: {exc}")
        history.add("TaskSucceeded", resource=resource, output=outcome["result"])
        return outcome["result"]
