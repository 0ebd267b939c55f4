"""An Amazon States Language (JSONPath) interpreter.

``Interpreter(definition, resources).run(input)`` executes a state machine
definition the way Step Functions does and returns an ``ExecutionResult``:
status, output or error/cause, and the history in AWS's event vocabulary.

Task states call ``resources[resource_arn](parameters, call)``; everything
else (Pass, Wait, Choice, Parallel, Map, Succeed, Fail, Retry, Catch, paths,
templates, intrinsics, variables) is interpreted here. Parallel branches and
Map iterations run on threads; tasks wait for one of ``max_workers`` slots.
"""

from __future__ import annotations

import copy
import json
import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from . import errors as E
from .cancel import Cancelled, CancelToken
from .choice import evaluate_rule, parse_timestamp
from .errors import DefinitionError, PathError, StatesError
from .history import History
from .payload import (
    RuntimeFailure,
    View,
    apply_input_path,
    apply_result_path,
    compact,
    render,
    resolve_path,
    evaluate_expression,
)

PAYLOAD_LIMIT = 256 * 1024
SUCCEEDED, FAILED, ABORTED, TIMED_OUT = "SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"
STATE_TYPES = ("Task", "Pass", "Wait", "Succeed", "Fail", "Choice", "Parallel", "Map")


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
class _Frame:
    """One running program (the top level, a branch, a Map iteration, a child execution)."""

    history: History
    context: dict  # Execution / StateMachine parts of $$
    variables: dict
    cancel: CancelToken
    retry_count: int = 0


_EXECUTION_TIMEOUT = "execution timed out"


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _size(value: Any) -> int:
    return len(compact(value).encode())


class Interpreter:
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
    ):
        if isinstance(definition, str):
            definition = json.loads(definition)
        self.definition = definition
        self.resources = dict(resources or {})
        self.state_machine_name = state_machine_name
        self.region = region
        self.account = account
        self.max_iteration_threads = max_iteration_threads
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
                "StartTime": _now_iso(),
                "RedriveCount": 0,
            },
            "StateMachine": {"Id": sm_arn, "Name": self.state_machine_name},
        }
        token = (cancel or CancelToken()).child()
        timer = None
        if timeout:
            timer = threading.Timer(timeout, token.cancel, args=(_EXECUTION_TIMEOUT,))
            timer.daemon = True
            timer.start()
        try:
            return self._execute(self.definition, input, _Frame(history, context, {}, token), name)
        finally:
            if timer is not None:
                timer.cancel()

    def _execute(self, program: Mapping, input: Any, frame: _Frame, name: str) -> ExecutionResult:
        history = frame.history
        history.add("ExecutionStarted", input=input)
        result = ExecutionResult(name, SUCCEEDED, history=history)
        try:
            if _size(input) > PAYLOAD_LIMIT:
                raise StatesError(E.DATA_LIMIT_EXCEEDED, "The execution input exceeds the maximum number of bytes service limit.")
            result.output = self._run_program(program, input, frame)
            history.add("ExecutionSucceeded", output=result.output)
        except StatesError as err:
            result.status, result.error, result.cause = FAILED, err.error, err.cause
            history.add("ExecutionFailed", error=err.error, cause=err.cause)
        except Cancelled as stop:
            why = frame.cancel.why()
            if why == _EXECUTION_TIMEOUT:
                result.status, result.error = TIMED_OUT, E.TIMEOUT
                result.cause = "The execution ran longer than its timeout"
                history.add("ExecutionTimedOut", error=result.error, cause=result.cause)
            else:
                result.status, result.error, result.cause = ABORTED, "States.Aborted", why
                history.add("ExecutionAborted")
        return result

    def _run_program(self, program: Mapping, input: Any, frame: _Frame) -> Any:
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

    def _run_state(self, name: str, state: Mapping, value: Any, frame: _Frame):
        kind = state["Type"]
        entered = frame.history.add(f"{kind}StateEntered", name=name, input=value)
        context = dict(frame.context)
        context["State"] = {"Name": name, "EnteredTime": _now_iso(), "RetryCount": 0}
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
        if _size(output) > PAYLOAD_LIMIT:
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

    def _assign(self, assign, view: View, frame: _Frame):
        if not assign:
            return
        values = render(assign, view)  # all evaluated against the values before this state
        frame.variables.update(values)

    # ------------------------------------------------------------ Pass

    def _state_pass(self, name, state, raw, frame, context, entered):
        view = View(raw, context, frame.variables)
        effective = apply_input_path(state, "InputPath", raw, view)
        view = View(effective, context, frame.variables)
        if "Parameters" in state:
            effective = render(state["Parameters"], view)
        result = state["Result"] if "Result" in state else effective
        return self._finish(name, state, "Pass", raw, result, frame, context, result)

    # ------------------------------------------------------------ Succeed / Fail

    def _state_succeed(self, name, state, raw, frame, context, entered):
        view = View(raw, context, frame.variables)
        effective = apply_input_path(state, "InputPath", raw, view)
        output = apply_input_path(state, "OutputPath", effective, view)
        frame.history.add("SucceedStateExited", name=name, output=output)
        return None, output

    def _state_fail(self, name, state, raw, frame, context, entered):
        view = View(raw, context, frame.variables)
        error, cause = state.get("Error"), state.get("Cause")
        if "ErrorPath" in state:
            error = self._fail_field(state["ErrorPath"], view, "ErrorPath")
        if "CausePath" in state:
            cause = self._fail_field(state["CausePath"], view, "CausePath")
        raise StatesError(error, cause)

    @staticmethod
    def _fail_field(text, view, field_name):
        try:
            value = evaluate_expression(text, view)
        except PathError as exc:
            raise RuntimeFailure(f"Invalid path '{text}' : {exc.message}") from None
        if not isinstance(value, str):
            raise RuntimeFailure(f"The {field_name} field must resolve to a string: {text}")
        return value

    # ------------------------------------------------------------ Wait

    def _state_wait(self, name, state, raw, frame, context, entered):
        view = View(raw, context, frame.variables)
        effective = apply_input_path(state, "InputPath", raw, view)
        view = View(effective, context, frame.variables)
        seconds = 0.0
        if "Seconds" in state:
            seconds = float(state["Seconds"])
        elif "SecondsPath" in state:
            text = state["SecondsPath"]
            try:
                value = resolve_path(text, view)
            except PathError:
                raise RuntimeFailure(f"The SecondsPath parameter does not reference an input value: {text}") from None
            if isinstance(value, bool) or not isinstance(value, int):
                raise RuntimeFailure(f"The SecondsPath parameter cannot be parsed as a long value: {text} == {compact(value)}")
            if value < 0:
                raise RuntimeFailure(f"The SecondsPath parameter references a negative value: {text} == {value}")
            seconds = value
        elif "Timestamp" in state or "TimestampPath" in state:
            if "Timestamp" in state:
                stamp = parse_timestamp(state["Timestamp"])
                if stamp is None:
                    raise RuntimeFailure(f"The Timestamp parameter is not a valid ISO-8601 timestamp: {state['Timestamp']}")
            else:
                text = state["TimestampPath"]
                try:
                    value = resolve_path(text, view)
                except PathError:
                    raise RuntimeFailure(f"The TimestampPath parameter does not reference an input value: {text}") from None
                stamp = parse_timestamp(value)
                if stamp is None:
                    shown = value if isinstance(value, str) else compact(value)
                    raise RuntimeFailure(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
                        f"date-time format string: {text} == {shown}"
                    )
            seconds = (stamp - datetime.now(timezone.utc)).total_seconds()
        if seconds > 0 and frame.cancel.wait(seconds):
            frame.cancel.check()
        return self._wait_exit(name, state, raw, effective, frame, context)

    def _wait_exit(self, name, state, raw, effective, frame, context):
        view = View(effective, context, frame.variables)
        output = apply_input_path(state, "OutputPath", effective, view)
        self._assign(state.get("Assign"), View(effective, context, frame.variables), frame)
        frame.history.add("WaitStateExited", name=name, output=output)
        return self._next(state), output

    # ------------------------------------------------------------ Choice

    def _state_choice(self, name, state, raw, frame, context, entered):
        view = View(raw, context, frame.variables)
        effective = apply_input_path(state, "InputPath", raw, view)
        view = View(effective, context, frame.variables)

        def resolve(text):
            return resolve_path(text, view)

        target, matched = state.get("Default"), None
        for rule in state.get("Choices", []):
            try:
                ok = evaluate_rule(rule, resolve)
            except PathError as exc:
                raise RuntimeFailure(f"Invalid path '{rule.get('Variable')}' : {exc.message}") from None
            if ok:
                target, matched = rule["Next"], rule
                break
        if target is None:
            raise StatesError(E.NO_CHOICE_MATCHED, "No Matches!")
        output = apply_input_path(state, "OutputPath", effective, view)
        assign_view = View(effective, context, frame.variables)
        # The matched rule's Assign and the state's Assign see the same (old) variables.
        values = {}
        if state.get("Assign"):
            values.update(render(state["Assign"], assign_view))
        if matched is not None and matched.get("Assign"):
            values.update(render(matched["Assign"], assign_view))
        frame.variables.update(values)
        frame.history.add("ChoiceStateExited", name=name, output=output)
        return target, output

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
                        delay = self._retry_delay(retrier, used[index])
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

    def _result_selector(self, state, result, context, frame):
        if "ResultSelector" in state:
            return render(state["ResultSelector"], View(result, context, frame.variables))
        return result

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
                sub = _Frame(frame.history, frame.context, dict(frame.variables), scope.child())
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

    # ------------------------------------------------------------ Map

    def _state_map(self, name, state, raw, frame, context, entered):
        view = View(raw, context, frame.variables)
        effective = apply_input_path(state, "InputPath", raw, view)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        mode = (processor.get("ProcessorConfig") or {}).get("Mode", "INLINE")
        distributed = mode == "DISTRIBUTED"
        # AWS reads MaxConcurrencyPath before the Map starts, the rest after.
        limit = self._map_number(state, "MaxConcurrency", View(effective, context, frame.variables), int)

        def attempt(retry_count):
            nonlocal limit
            history = frame.history
            history.add("MapStateStarted", name=name, retry=retry_count > 0)
            view = View(effective, context, frame.variables)
            tolerated_count = self._map_number(state, "ToleratedFailureCount", view, int)
            tolerated_pct = float(self._map_number(state, "ToleratedFailurePercentage", view, float))
            items = self._map_items(state, effective, view, frame, context)
            selector = state.get("ItemSelector", state.get("Parameters"))
            inputs = []
            for index, item in enumerate(items):
                if selector is None:
                    inputs.append(item)
                else:
                    item_ctx = dict(context, Map={"Item": {"Index": index, "Value": item}})
                    inputs.append(render(selector, View(effective, item_ctx, frame.variables)))
            inputs = self._batch(state, inputs, view)
            cap = self.max_iteration_threads
            limit = min(limit, cap) if limit else cap
            if distributed:
                results = self._map_distributed(name, processor, inputs, limit, frame, tolerated_count, tolerated_pct)
            else:
                results = self._map_inline(name, processor, inputs, limit, frame)
            history.add("MapStateSucceeded", name=name)
            if "ResultWriter" in state:
                results = self._result_writer(state["ResultWriter"], name, view, frame)
            result = self._result_selector(state, results, context, frame)
            return self._finish(name, state, "Map", raw, result, frame, context, result)

        return self._with_retry_catch(name, "Map", state, raw, frame, context, attempt)

    @staticmethod
    def _map_number(state, key, view, number_type):
        """A Map field given as ``key`` (taken as written) or read through ``keyPath``: the
        path may point at a numeric string (AWS parses it), and the value is range-checked."""
        if key in state:
            return state[key]
        path_key = key + "Path"
        if path_key not in state:
            return 0
        text = state[path_key]
        try:
            value = resolve_path(text, view)
        except PathError:
            raise RuntimeFailure(f"The {path_key} field refers to a path that does not exist: {text}") from None
        if isinstance(value, str):
            try:
                value = number_type(value.strip())
            except ValueError:
                pass
        accepted = (int,) if number_type is int else (int, float)
        if isinstance(value, bool) or not isinstance(value, accepted):
            shown = value if isinstance(value, str) else compact(value)
            kind = "integer" if number_type is int else "float"
            raise RuntimeFailure(f"The {path_key} field refers to value \"{shown}\" which is not a valid {kind}: {text}")
        if number_type is int and value < 0:  # MaxConcurrency, ToleratedFailureCount
            raise RuntimeFailure(f"{key} cannot be negative.")
        if number_type is float and not 0 <= value <= 100:  # ToleratedFailurePercentage
            raise RuntimeFailure(f"{key} must be between 0 and 100.")
        return value

    def _map_items(self, state, effective, view, frame, context):
        if "ItemReader" in state:
            return self._read_items(state["ItemReader"], view, frame, context)
        text = state.get("ItemsPath", "$")
        try:
            items = resolve_path(text, view)
        except PathError as exc:
            raise RuntimeFailure(f"Invalid path '{text}' : {exc.message}") from None
        if not isinstance(items, list):
            raise RuntimeFailure(
                f"Invalid path '{text}' : The Map state's ItemsPath field must reference an array: {compact(items)}"
                if text != "$" else f"Map state input must be an array, but was: {compact(items)}"
            )
        return items

    def _read_items(self, reader, view, frame, context):
        resource = reader.get("Resource", "")
        handler = self._handler(resource)
        if handler is None:
            raise StatesError(E.ITEM_READER_FAILED, f"ItemReader resource '{resource}' has no local equivalent")
        parameters = render(reader.get("Parameters", {}), view)
        call = TaskCall(resource, "ItemReader", context, frame.cancel.child(), None, frame.history)
        try:
            body = handler(parameters, call)
        except StatesError as err:
            raise StatesError(E.ITEM_READER_FAILED, err.cause or err.error) from None
        config = reader.get("ReaderConfig", {})
        input_type = config.get("InputType", "JSON")
        if isinstance(body, (bytes, bytearray)):
            body = body.decode()
        if input_type == "JSON":
            items = json.loads(body) if isinstance(body, str) else body
        elif input_type == "JSONL":
            items = [json.loads(line) for line in body.splitlines() if line.strip()]
        elif input_type == "CSV":
            import csv
            import io

            rows = list(csv.reader(io.StringIO(body)))
            if config.get("CSVHeaderLocation", "FIRST_ROW") == "GIVEN":
                header = config.get("CSVHeaders", [])
            else:
                header, rows = rows[0], rows[1:]
            items = [dict(zip(header, row)) for row in rows]
        else:
            items = body
        if not isinstance(items, list):
            raise StatesError(E.ITEM_READER_FAILED, "The ItemReader did not produce an array")
        if "MaxItems" in config:
            items = items[: int(config["MaxItems"])]
        return items

    @staticmethod
    def _batch(state, inputs, view):
        batcher = state.get("ItemBatcher")
        if not batcher:
            return inputs
        size = batcher.get("MaxItemsPerBatch")
        if size is None and "MaxItemsPerBatchPath" in batcher:
            size = resolve_path(batcher["MaxItemsPerBatchPath"], view)
        size = int(size or len(inputs) or 1)
        batch_input = render(batcher["BatchInput"], view) if "BatchInput" in batcher else None
        out = []
        for i in range(0, len(inputs), size):
            batch = {"Items": inputs[i:i + size]}
            if batch_input is not None:
                batch["BatchInput"] = batch_input
            out.append(batch)
        return out

    @staticmethod
    def _result_writer(writer, name, view, frame):
        """What a Map with a ResultWriter returns. Locally the child results are not exported
        (our state machines discard them); the reference to the export is shaped as AWS's."""
        params = render(writer.get("Parameters", {}), view)
        run = f"{frame.context['Execution']['Name']}-{name}"
        prefix = str(params.get("Prefix", "")).rstrip("/")
        return {
            "MapRunArn": f"{frame.context['StateMachine']['Id'].replace(':stateMachine:', ':mapRun:')}/{run}",
            "ResultWriterDetails": {"Bucket": params.get("Bucket"), "Key": f"{prefix}/{run}/manifest.json"},
        }

    def _map_inline(self, name, processor, inputs, limit, frame):
        history = frame.history
        scope = frame.cancel.child()

        def iteration(index, value):
            sub = _Frame(history, frame.context, dict(frame.variables), scope.child())
            history.add("MapIterationStarted", name=name, index=index)
            try:
                output = self._run_program(processor, value, sub)
            except StatesError as err:
                history.add("MapIterationFailed", name=name, index=index, error=err.error, cause=err.cause)
                raise
            except Cancelled:
                history.add("MapIterationAborted", name=name, index=index)
                raise
            history.add("MapIterationSucceeded", name=name, index=index)
            return output

        jobs = [lambda i=i, v=v: iteration(i, v) for i, v in enumerate(inputs)]
        return self._run_all(jobs, limit, scope, frame.cancel)

    def _map_distributed(self, name, processor, inputs, limit, frame, tolerated_count, tolerated_pct):
        history = frame.history
        history.add("MapRunStarted", name=name)
        scope = frame.cancel.child()
        failures: list[StatesError] = []
        lock = threading.Lock()
        total = len(inputs)

        def exceeded(n_failed):
            if n_failed == 0:
                return False
            if n_failed <= tolerated_count:
                return False
            if total and 100.0 * n_failed / total <= tolerated_pct:
                return False
            return True

        def child(index, value):
            child_name = f"{frame.context['Execution']['Name']}:{name}:{index}"
            child_history = History(child_name)
            history.add_child(child_history)
            context = copy.copy(frame.context)
            context["Execution"] = dict(frame.context["Execution"], Input=value, Name=child_name,
                                        Id=f"{frame.context['Execution']['Id']}/{name}:{index}")
            sub = _Frame(child_history, context, {}, scope.child())
            result = self._execute(processor, value, sub, child_name)
            if result.status == ABORTED:
                raise Cancelled("aborted")
            if result.status == FAILED:
                err = StatesError(result.error, result.cause)
                with lock:
                    failures.append(err)
                    if exceeded(len(failures)):
                        scope.cancel("tolerated failure threshold exceeded")
                        raise err
                return {"Error": result.error, "Cause": result.cause}
            return result.output

        jobs = [lambda i=i, v=v: child(i, v) for i, v in enumerate(inputs)]
        try:
            results = self._run_all(jobs, limit, scope, frame.cancel)
        except StatesError:
            history.add("MapRunFailed", name=name)
            raise StatesError(E.EXCEEDED_TOLERATED_FAILURE, "The specified tolerated failure threshold was exceeded")
        history.add("MapRunSucceeded", name=name)
        return results
