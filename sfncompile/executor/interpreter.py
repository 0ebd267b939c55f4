"""An Amazon States Language (JSONPath) interpreter.

``Interpreter(definition, resources).run(input)`` executes a state machine
definition the way Step Functions does and returns an ``ExecutionResult``:
status, output or error/cause, and the history in AWS's event vocabulary.

Task states call ``resources[resource_arn](parameters, call)``; everything
else (Pass, Wait, Choice, Parallel, Map, Succeed, Fail, Retry, Catch, paths,
templates, intrinsics, variables) is interpreted here. Parallel branches and
Map iterations run on threads; tasks wait for one of ``max_workers`` slots.

This module holds the execution loop (validate, run, one state after another,
the common exit of a state); each kind of state is a mixin of its own module:
``flow_states`` (Pass, Succeed, Fail, Wait, Choice), ``task_state``,
``parallel_state`` (and running branches on threads), ``map_state``, and
``retry_catch`` (Retry and Catch around Task, Parallel and Map). What they
share (results, frames, the payload limit) is in ``execution``.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any, Mapping

from . import errors as E
from .cancel import Cancelled, CancelToken
from .errors import DefinitionError, StatesError
from .execution import (ABORTED, EXECUTION_TIMEOUT, FAILED, PAYLOAD_LIMIT, SUCCEEDED, TIMED_OUT, ExecutionResult,
                        Frame, Handler, TaskCall, now_iso, payload_size)
from .flow_states import FlowStates
from .history import History
from .map_state import MapState
from .parallel_state import ParallelState
from .payload import RuntimeFailure, View, apply_input_path, apply_result_path, render
from .retry_catch import RetryCatch
from .task_state import TaskState

STATE_TYPES = ("Task", "Pass", "Wait", "Succeed", "Fail", "Choice", "Parallel", "Map")
__all__ = ["Interpreter", "ExecutionResult", "TaskCall", "SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT",
           "PAYLOAD_LIMIT", "STATE_TYPES"]


class Interpreter(FlowStates, RetryCatch, TaskState, ParallelState, MapState):
    def __init__(
        self,
        definition: Mapping,
        resources: Mapping[str, Handler] | None = None,
        *,
        max_workers: int | None = None,
        state_machine_name: str = "StateMachine",
        region: str = "us-east-1",
        account: str = "123456789012",
        max_iteration_threads: int = 256,
        retry_delays: bool = True,
    ):
        if isinstance(definition, str):
            definition = json.loads(definition)
        self.definition = definition
        self.resources = dict(resources or {})
        self.state_machine_name = state_machine_name
        self.region = region
        self.account = account
        self.max_iteration_threads = max_iteration_threads
        # False: a Retry fires at once (Metaflow's local runtime ignores minutes_between_retries).
        self.retry_delays = retry_delays
        self.task_slots = threading.BoundedSemaphore(max_workers) if max_workers else None
        self.validate()

    # ------------------------------------------------------------ definition

    def validate(self):
        def walk(program, where):
            if program.get("QueryLanguage", "JSONPath") != "JSONPath":
                raise DefinitionError(f"{where}: only the JSONPath query language is supported")
            if "StartAt" not in program or "States" not in program:
                raise DefinitionError(f"{where}: a state machine needs StartAt and States")
            if program["StartAt"] not in program["States"]:
                raise DefinitionError(f"{where}: StartAt '{program['StartAt']}' is not a state")
            for name, state in program["States"].items():
                kind = state.get("Type")
                if state.get("QueryLanguage", "JSONPath") != "JSONPath":
                    raise DefinitionError(f"state '{name}': only the JSONPath query language is supported")
                if kind not in STATE_TYPES:
                    raise DefinitionError(f"state '{name}': unknown Type {kind!r}")
                if kind == "Task":
                    resource = state.get("Resource", "")
                    if self._handler(resource) is None:
                        raise DefinitionError(
                            f"state '{name}': resource '{resource}' has no local equivalent "
                            f"(supported: {', '.join(sorted(self.resources)) or 'none'})"
                        )
                if kind == "Parallel":
                    for i, branch in enumerate(state.get("Branches", [])):
                        walk(branch, f"{name}.Branches[{i}]")
                if kind == "Map":
                    walk(state.get("ItemProcessor") or state.get("Iterator") or {}, f"{name}.ItemProcessor")

        walk(self.definition, "definition")

    def _handler(self, resource: str) -> Handler | None:
        if resource in self.resources:
            return self.resources[resource]
        # arn:aws:states:::lambda:invoke and friends may be registered by their
        # service-integration ARN without the region/account parts.
        for key, handler in self.resources.items():
            if key.endswith("*") and resource.startswith(key[:-1]):
                return handler
        return None

    # ------------------------------------------------------------ execution

    def run(self, input: Any = None, *, name: str | None = None, cancel: CancelToken | None = None,
            timeout: float | None = None) -> ExecutionResult:
        """Run one execution. ``timeout`` (else the definition's ``TimeoutSeconds``) ends it
        as ``TIMED_OUT``, as AWS does; cancelling ``cancel`` ends it as ``ABORTED``."""
        name = name or str(uuid.uuid4())
        timeout = timeout if timeout is not None else self.definition.get("TimeoutSeconds")
        history = History(name)
        sm_arn = f"arn:aws:states:{self.region}:{self.account}:stateMachine:{self.state_machine_name}"
        exec_arn = f"arn:aws:states:{self.region}:{self.account}:execution:{self.state_machine_name}:{name}"
        input = {} if input is None else input
        context = {
            "Execution": {
                "Id": exec_arn,
                "Input": input,
                "Name": name,
                "RoleArn": f"arn:aws:iam::{self.account}:role/{self.state_machine_name}-role",
                "StartTime": now_iso(),
                "RedriveCount": 0,
            },
            "StateMachine": {"Id": sm_arn, "Name": self.state_machine_name},
        }
        token = (cancel or CancelToken()).child()
        timer = None
        if timeout:
            timer = threading.Timer(timeout, token.cancel, args=(EXECUTION_TIMEOUT,))
            timer.daemon = True
            timer.start()
        try:
            return self._execute(self.definition, input, Frame(history, context, {}, token), name)
        finally:
            if timer is not None:
                timer.cancel()

    def _execute(self, program: Mapping, input: Any, frame: Frame, name: str) -> ExecutionResult:
        history = frame.history
        history.add("ExecutionStarted", input=input)
        result = ExecutionResult(name, SUCCEEDED, history=history)
        try:
            if payload_size(input) > PAYLOAD_LIMIT:
                raise StatesError(E.DATA_LIMIT_EXCEEDED, "The execution input exceeds the maximum number of bytes service limit.")
            result.output = self._run_program(program, input, frame)
            history.add("ExecutionSucceeded", output=result.output)
        except StatesError as err:
            result.status, result.error, result.cause = FAILED, err.error, err.cause
            history.add("ExecutionFailed", error=err.error, cause=err.cause)
        except Cancelled:
            why = frame.cancel.why()
            if why == EXECUTION_TIMEOUT:
                result.status, result.error = TIMED_OUT, E.TIMEOUT
                result.cause = "The execution ran longer than its timeout"
                history.add("ExecutionTimedOut", error=result.error, cause=result.cause)
            else:
                result.status, result.error, result.cause = ABORTED, "States.Aborted", why
                history.add("ExecutionAborted")
        return result

    def _run_program(self, program: Mapping, input: Any, frame: Frame) -> Any:
        states = program["States"]
        name = program["StartAt"]
        value = input
        while True:
            frame.cancel.check()
            state = states[name]
            next_name, value = self._run_state(name, state, value, frame)
            if next_name is None:
                return value
            name = next_name

    # ------------------------------------------------------------ one state

    def _run_state(self, name: str, state: Mapping, value: Any, frame: Frame):
        kind = state["Type"]
        entered = frame.history.add(f"{kind}StateEntered", name=name, input=value)
        context = dict(frame.context)
        context["State"] = {"Name": name, "EnteredTime": now_iso(), "RetryCount": 0}
        try:
            runner = getattr(self, f"_state_{kind.lower()}")
            return runner(name, state, value, frame, context, entered)
        except RuntimeFailure as failure:
            raise StatesError(
                E.RUNTIME,
                f"An error occurred while executing the state '{name}' (entered at the event id #{entered}). "
                f"{failure.message}",
            ) from None

    def _finish(self, name, state, kind, raw, result, frame, context, view_input, assign_input=None):
        """ResultPath, OutputPath, Assign, size check and the Exited event; returns (next, output)."""
        view = View(view_input, context, frame.variables)
        output = apply_result_path(state, raw, result)
        output = apply_input_path(state, "OutputPath", output, view)
        self._assign(state.get("Assign"), View(assign_input if assign_input is not None else result, context, frame.variables), frame)
        if payload_size(output) > PAYLOAD_LIMIT:
            raise StatesError(
                E.DATA_LIMIT_EXCEEDED,
                f"The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit.",
            )
        frame.history.add(f"{kind}StateExited", name=name, output=output)
        return self._next(state), output

    @staticmethod
    def _next(state):
        if state.get("End"):
            return None
        return state.get("Next")

    def _assign(self, assign, view: View, frame: Frame):
        if not assign:
            return
        values = render(assign, view)  # all evaluated against the values before this state
        frame.variables.update(values)

    def _result_selector(self, state, result, context, frame):
        if "ResultSelector" in state:
            return render(state["ResultSelector"], View(result, context, frame.variables))
        return result
