"""The local Batch runner: real processes, Ref:: substitution, environment, timeouts, attempts."""

from __future__ import annotations

import json
import sys
import time

import pytest

from sfncompile.executor import Interpreter, StatesError
from sfncompile.executor.batch import LocalBatch, LocalJobDefinition, substitute_refs
from sfncompile.executor.services import BATCH_SUBMIT_SYNC

SCRIPT = r"""
import os, sys, time
mode, step = sys.argv[1], sys.argv[2]
print("mode", mode, "step", step, "run", os.environ.get("RUN"), "static", os.environ.get("STATIC"), flush=True)
if step == "fail":
    print("boom", file=sys.stderr, flush=True)
    sys.exit(3)
if step == "sleep":
    time.sleep(120)
if step == "flaky":
    marker = os.environ["MARKER"]
    if not os.path.exists(marker):
        open(marker, "w").close()
        sys.exit(1)
"""


def definition(**kw):
    return LocalJobDefinition(name="jd", command=["python3", "-c", SCRIPT, "Ref::mode", "Ref::step"],
                              environment={"STATIC": "s"}, parameters={"mode": "step"}, **kw)


def task_machine(step, extra=None):
    params = {"JobName": f"job-{step}", "JobQueue": "q", "JobDefinition": "jd",
              "Parameters": {"step": step},
              "ContainerOverrides": {"Environment": [{"Name": "RUN", "Value": "r1"}]}}
    params.update(extra or {})
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": BATCH_SUBMIT_SYNC,
                                                "Parameters": params, "End": True}}}


def test_substitute_refs():
    assert substitute_refs(["a", "Ref::x", "Ref::y"], {"x": "1"}) == ["a", "1", "Ref::y"]


def test_job_runs_command_with_environment(tmp_path):
    batch = LocalBatch({"jd": definition()}, log_dir=tmp_path)
    result = Interpreter(task_machine("hello"), {BATCH_SUBMIT_SYNC: batch.submit_job_sync}).run({})
    assert result.succeeded, result.cause
    job = result.output
    assert job["Status"] == "SUCCEEDED" and job["Container"]["ExitCode"] == 0
    assert job["Container"]["Command"][0] == sys.executable
    assert job["Parameters"] == {"mode": "step", "step": "hello"}
    log = open(job["Container"]["LogStreamName"]).read()
    assert "mode step step hello run r1 static s" in log
    assert result.history.types()[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]


def test_failed_job_is_task_failed_with_job_description_cause(tmp_path):
    batch = LocalBatch({"jd": definition()}, log_dir=tmp_path)
    result = Interpreter(task_machine("fail"), {BATCH_SUBMIT_SYNC: batch.submit_job_sync}).run({})
    assert result.error == "States.TaskFailed"
    description = json.loads(result.cause)
    assert description["Status"] == "FAILED"
    assert description["Container"]["ExitCode"] == 3
    assert description["StatusReason"] == "Essential container in task exited"
    assert batch.jobs[0].log_tail[-1] == "boom"


def test_attempt_duration_kills_the_job(tmp_path):
    batch = LocalBatch({"jd": definition()}, log_dir=tmp_path)
    started = time.monotonic()
    result = Interpreter(task_machine("sleep", {"Timeout": {"AttemptDurationSeconds": 1}}),
                         {BATCH_SUBMIT_SYNC: batch.submit_job_sync}).run({})
    assert time.monotonic() - started < 60  # killed at 1 s (plus SIGTERM), not after 120 s
    assert result.error == "States.TaskFailed"
    assert json.loads(result.cause)["StatusReason"] == "Job attempt duration exceeded timeout"


def test_retry_strategy_attempts(tmp_path):
    batch = LocalBatch({"jd": definition(retry_strategy={"attempts": 2})}, log_dir=tmp_path,
                       base_environment={"MARKER": str(tmp_path / "m"), "PATH": "/usr/bin:/bin"})
    result = Interpreter(task_machine("flaky"), {BATCH_SUBMIT_SYNC: batch.submit_job_sync}).run({})
    assert result.succeeded
    assert len(result.output["Attempts"]) == 2


def test_evaluate_on_exit_exit_stops_retries(tmp_path):
    strategy = {"attempts": 3, "evaluateOnExit": [{"onStatusReason": "Host EC2*", "action": "RETRY"},
                                                  {"onReason": "*", "action": "EXIT"}]}
    batch = LocalBatch({"jd": definition(retry_strategy=strategy)}, log_dir=tmp_path)
    result = Interpreter(task_machine("fail"), {BATCH_SUBMIT_SYNC: batch.submit_job_sync}).run({})
    assert len(json.loads(result.cause)["Attempts"]) == 1


def test_unknown_job_definition(tmp_path):
    batch = LocalBatch({"jd": definition()}, log_dir=tmp_path)
    with pytest.raises(StatesError, match="not known"):
        batch._definition("other")
