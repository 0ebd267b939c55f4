"""The Map state, inline and distributed (child executions), with ItemReader/ItemBatcher/ResultWriter."""

from __future__ import annotations

import copy
import json
import threading

from . import errors as E
from .cancel import Cancelled
from .errors import PathError, StatesError
from .execution import ABORTED, FAILED, Frame, TaskCall
from .history import History
from .payload import RuntimeFailure, View, apply_input_path, compact, render, resolve_path


class MapState:
    """Mixin of ``Interpreter``."""

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
            sub = Frame(history, frame.context, dict(frame.variables), scope.child())
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
            sub = Frame(child_history, context, {}, scope.child())
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
