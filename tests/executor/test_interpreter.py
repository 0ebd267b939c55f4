"""Interpreter behaviour the AWS corpus does not cover: Task states, Retry timing,
Catch, TimeoutSeconds, worker limits, abort, history and billing counts."""

from __future__ import annotations

import threading
import time

import pytest

from sfncompile.executor import DefinitionError, Interpreter, StatesError
from sfncompile.executor.cancel import CancelToken
from sfncompile.executor.choice import evaluate_rule
from sfncompile.executor import intrinsics, jsonpath

TASK = "arn:aws:states:::test:task"


def machine(states, start=None):
    return {"StartAt": start or next(iter(states)), "States": states}


def test_task_result_selector_result_path_output_path():
    seen = []

    def handler(params, call):
        seen.append(params)
        return {"JobId": "j1", "Status": "SUCCEEDED", "big": "x" * 10}

    definition = machine({
        "T": {"Type": "Task", "Resource": TASK, "InputPath": "$.in",
              "Parameters": {"name.$": "$.name", "run.$": "$$.Execution.Name", "n": 1},
              "ResultSelector": {"id.$": "$.JobId"}, "ResultPath": "$.out", "OutputPath": "$.out", "End": True},
    })
    result = Interpreter(definition, {TASK: handler}).run({"in": {"name": "a"}}, name="exec-1")
    assert result.succeeded, result.cause
    assert result.output == {"id": "j1"}
    assert seen == [{"name": "a", "run": "exec-1", "n": 1}]
    assert result.history.types() == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "ExecutionSucceeded"]


def test_retry_then_success_counts_attempts_and_retry_count():
    attempts = []

    def flaky(params, call):
        attempts.append(params["retry"])
        if len(attempts) < 3:
            raise StatesError("Boom", "not yet")
        return {"ok": True}

    definition = machine({
        "T": {"Type": "Task", "Resource": TASK, "Parameters": {"retry.$": "$$.State.RetryCount"},
              "Retry": [{"ErrorEquals": ["Other"], "MaxAttempts": 5},
                        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 0, "MaxAttempts": 2}],
              "ResultPath": None, "End": True},
    })
    result = Interpreter(definition, {TASK: flaky}).run({})
    assert result.succeeded
    assert attempts == [0, 1, 2]
    assert result.history.types().count("TaskFailed") == 2
    # 1 state entered + 2 retries
    assert result.state_transitions() == 3


def test_retry_exhausted_then_catch_with_result_path():
    def failing(params, call):
        raise StatesError("Boom", "always")

    definition = machine({
        "T": {"Type": "Task", "Resource": TASK,
              "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 0, "MaxAttempts": 1}],
              "Catch": [{"ErrorEquals": ["Nope"], "Next": "Wrong"},
                        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Handled"}],
              "End": True},
        "Wrong": {"Type": "Fail", "Error": "Wrong"},
        "Handled": {"Type": "Pass", "End": True},
    })
    result = Interpreter(definition, {TASK: failing}).run({"keep": 1})
    assert result.succeeded
    assert result.output == {"keep": 1, "caught": {"Error": "Boom", "Cause": "always"}}


def test_retry_backoff_and_max_delay():
    from sfncompile.executor.interpreter import Interpreter as I

    retrier = {"IntervalSeconds": 2, "BackoffRate": 3, "MaxDelaySeconds": 10}
    assert [I._retry_delay(retrier, i) for i in range(4)] == [2, 6, 10, 10]
    jittered = [I._retry_delay(dict(retrier, JitterStrategy="FULL"), 3) for _ in range(50)]
    assert all(0 <= d <= 10 for d in jittered) and len(set(jittered)) > 1


def test_timeout_seconds_cancels_the_handler():
    cancelled = threading.Event()

    def slow(params, call):
        if call.cancel.wait(120):
            cancelled.set()
            return None
        return {}

    definition = machine({
        "T": {"Type": "Task", "Resource": TASK, "TimeoutSeconds": 1,
              "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}], "End": True},
        "Late": {"Type": "Pass", "Result": "late", "End": True},
    })
    started = time.monotonic()
    result = Interpreter(definition, {TASK: slow}).run({})
    assert result.output == "late"
    assert cancelled.is_set()
    assert "TaskTimedOut" in result.history.types()
    assert time.monotonic() - started < 60


def test_states_all_does_not_catch_runtime_errors():
    definition = machine({
        "P": {"Type": "Parallel", "Branches": [machine({"X": {"Type": "Pass", "InputPath": "$.missing", "End": True}})],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}], "End": True},
        "C": {"Type": "Pass", "End": True},
    })
    result = Interpreter(definition).run({})
    assert result.status == "FAILED" and result.error == "States.Runtime"


def test_unknown_resource_is_a_clear_definition_error():
    definition = machine({"T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True}})
    with pytest.raises(DefinitionError, match="sqs:sendMessage.*no local equivalent"):
        Interpreter(definition, {TASK: lambda p, c: None})


def test_map_respects_max_workers_for_tasks():
    running, peak, started = [0], [0], [0]
    changed = threading.Condition()

    def task(params, call):
        with changed:
            started[0] += 1
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            changed.notify_all()
            # Hold the slot until three tasks run at once (or a while passes), so the
            # peak does not depend on how fast threads get scheduled.
            changed.wait_for(lambda: running[0] >= 3 or started[0] > 9, timeout=5)
            running[0] -= 1
            changed.notify_all()
        return params

    definition = machine({
        "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 0,
              "ItemProcessor": machine({"T": {"Type": "Task", "Resource": TASK, "End": True}}), "End": True},
    })
    result = Interpreter(definition, {TASK: task}, max_workers=3).run({"items": list(range(12))})
    assert result.output == list(range(12))
    assert peak[0] == 3


def test_inline_map_failure_aborts_siblings_and_fails_the_state():
    def task(params, call):
        if params == 2:
            raise StatesError("Bad", "item 2")
        call.cancel.wait(60)
        return params

    definition = machine({
        "M": {"Type": "Map", "ItemProcessor": machine({"T": {"Type": "Task", "Resource": TASK, "End": True}}),
              "End": True},
    })
    started = time.monotonic()
    result = Interpreter(definition, {TASK: task}).run([0, 1, 2, 3])
    assert (result.error, result.cause) == ("Bad", "item 2")
    assert time.monotonic() - started < 30  # the siblings were cancelled, not waited for
    assert "MapStateFailed" in result.history.types()


def test_distributed_map_children_and_tolerated_failures():
    def task(params, call):
        if params % 4 == 0:
            raise StatesError("Bad", str(params))
        return params

    def definition(pct):
        return machine({
            "M": {"Type": "Map", "ToleratedFailurePercentage": pct, "MaxConcurrency": 4,
                  "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                    **machine({"T": {"Type": "Task", "Resource": TASK, "End": True}})},
                  "ResultPath": None, "End": True},
        })

    ok = Interpreter(definition(25), {TASK: task}).run(list(range(8)))
    assert ok.succeeded
    assert len(ok.history.children) == 8
    # parent: Map entered; children: one Task entered each
    assert ok.state_transitions() == 1 + 8
    failed = Interpreter(definition(10), {TASK: task}).run(list(range(8)))
    assert failed.error == "States.ExceedToleratedFailureThreshold"


def test_item_reader_json_and_csv():
    bodies = {"a.json": b"[1, 2, 3]", "b.csv": b"x,y\n1,2\n3,4\n"}

    def get_object(params, call):
        return bodies[params["Key"]]

    def reader_machine(key, input_type):
        return machine({
            "M": {"Type": "Map",
                  "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                                 "ReaderConfig": {"InputType": input_type},
                                 "Parameters": {"Bucket": "b", "Key": key}},
                  "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"},
                                    **machine({"P": {"Type": "Pass", "End": True}})},
                  "End": True},
        })

    res = {"arn:aws:states:::s3:getObject": get_object}
    assert Interpreter(reader_machine("a.json", "JSON"), res).run({}).output == [1, 2, 3]
    assert Interpreter(reader_machine("b.csv", "CSV"), res).run({}).output == [{"x": "1", "y": "2"}, {"x": "3", "y": "4"}]


def test_abort_stops_a_waiting_execution():
    token = CancelToken()
    definition = machine({"W": {"Type": "Wait", "Seconds": 120, "End": True}})
    threading.Timer(0.2, token.cancel, args=("user",)).start()
    started = time.monotonic()
    result = Interpreter(definition).run({}, cancel=token)
    assert result.status == "ABORTED"
    assert result.history.types()[-1] == "ExecutionAborted"
    assert time.monotonic() - started < 60


def test_variables_are_scoped_to_map_iterations():
    definition = machine({
        "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "M"},
        "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
              "ItemProcessor": machine({"I": {"Type": "Pass", "Assign": {"x": 99}, "Parameters": {"x.$": "$x"}, "End": True}}),
              "ResultPath": "$.r", "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"x.$": "$x", "r.$": "$.r"}, "End": True},
    })
    result = Interpreter(definition).run({"items": [0, 0]})
    assert result.output == {"x": 1, "r": [{"x": 1}, {"x": 1}]}


def test_jsonpath_features():
    doc = {"a": [{"b": 1, "c": "x"}, {"b": 2}, {"b": 3, "c": "y"}], "k-1": {"d": True}}
    ev = lambda p: jsonpath.evaluate(jsonpath.parse(p), doc)
    assert ev("$.a[-1].b") == 3
    assert ev("$.a[0:2]") == doc["a"][:2]
    assert ev("$.a[*].c") == ["x", "y"]
    assert ev("$.a[?(@.b > 1 && @.c)]") == [doc["a"][2]]
    assert ev("$..b") == [1, 2, 3]
    assert ev("$['k-1'].d") is True
    with pytest.raises(Exception, match=r"No results for path: \$\['a'\]\[5\]"):
        ev("$.a[5]")


def test_intrinsics_misc():
    resolve = {"$.n": 5}.__getitem__
    assert intrinsics.evaluate("States.MathRandom(1, 2)", resolve) == 1
    assert len(intrinsics.evaluate("States.UUID()", resolve)) == 36
    assert intrinsics.evaluate("States.Base64Decode(States.Base64Encode('hé'))", resolve) == "hé"
    assert intrinsics.evaluate(r"States.Format('\{\} {}', $.n)", resolve) == "{} 5"
    with pytest.raises(StatesError, match="States.IntrinsicFailure"):
        intrinsics.evaluate("States.ArrayGetItem(States.Array(1), 3)", resolve)


def test_string_matches_and_not():
    resolve = {"$.s": "log-2024.txt"}.__getitem__
    assert evaluate_rule({"Variable": "$.s", "StringMatches": "log-*.txt"}, resolve)
    assert evaluate_rule({"Not": {"Variable": "$.s", "StringMatches": r"log-\*"}}, resolve)


def test_execution_timeout_from_the_definition():
    definition = machine({"W": {"Type": "Wait", "Seconds": 120, "End": True}})
    definition["TimeoutSeconds"] = 1
    started = time.monotonic()
    result = Interpreter(definition).run({})
    assert result.status == "TIMED_OUT" and result.error == "States.Timeout"
    assert result.history.types()[-1] == "ExecutionTimedOut"
    assert time.monotonic() - started < 60


def test_jsonata_is_refused_clearly():
    definition = machine({"P": {"Type": "Pass", "End": True}})
    definition["QueryLanguage"] = "JSONata"
    with pytest.raises(DefinitionError, match="only the JSONPath query language"):
        Interpreter(definition)
