"""Failure semantics: exceptions, @retry, @catch (in-process and fallback),
@timeout, SIGKILL mid-write, tampered code packages, logs while running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sfncompile_runtime.bootstrap import BOOTSTRAP_SOURCE
from sfncompile_runtime.datastore import Datastore

from .harness import new_run_id


def _records(driver, backend, run_id, step):
    store = Datastore(backend.datastore, driver.name)
    task = driver.task_id(step)
    return [store.attempt_record(run_id, step, task, n) for n in store.attempts(run_id, step, task)]


def test_exception_retry_and_catch(local_backend, client_root):
    driver = local_backend.driver("failing_flow.py")
    run_id = new_run_id()
    assert driver.run_step("start", run_id).returncode == 0
    for attempt in range(3):
        proc = driver.run_step("flaky", run_id, retry=attempt)
        assert proc.returncode == (0 if attempt == 2 else 1), proc.stderr
    flaky = _records(driver, local_backend, run_id, "flaky")
    assert [r["status"] for r in flaky] == ["failed", "failed", "ok"]
    assert flaky[0]["exit_code"] == 1 and flaky[0]["exception"]["type"] == "builtins.RuntimeError"
    assert flaky[1]["exception"]["message"] == "flaky failure on attempt 1"
    assert "Traceback" in flaky[0]["exception"]["traceback"]
    # @catch waits for the last @retry attempt: retry_count 0 still fails, 1 is caught
    assert driver.run_step("guarded", run_id, retry=0).returncode == 1
    proc = driver.run_step("guarded", run_id, retry=1)
    assert proc.returncode == 0, proc.stderr
    # Metaflow's words on stdout: "@catch caught an exception from <flow F step s>", then ">  " + traceback
    assert f"@catch caught an exception from <flow FailingFlow step guarded>\n>  Traceback" in proc.stdout
    client = client_root(local_backend)
    task = client.Task(f"FailingFlow/{run_id}/guarded/{driver.task_id('guarded')}")
    # Metaflow 2.19: a caught task is finished but not successful (its _success is False)
    assert task.finished and not task.successful and task.data.before == "set before the error"
    failure = task.data.failure
    assert failure.type == "builtins.KeyError" and "always broken" in failure.message and "Traceback" in failure.traceback
    assert client.Task(f"FailingFlow/{run_id}/flaky/{driver.task_id('flaky')}").data.attempts_seen == 2


def _run_until_slow(driver, run_id):
    assert driver.run_step("start", run_id).returncode == 0
    for attempt in range(3):
        driver.run_step("flaky", run_id, retry=attempt)
    assert driver.run_step("guarded", run_id, retry=1).returncode == 0


def test_timeout_is_enforced_in_process(local_backend):
    driver = local_backend.driver("failing_flow.py", SLOW_STEP="1")
    run_id = new_run_id()
    _run_until_slow(driver, run_id)
    proc = driver.run_step("slow", run_id, timeout=30)
    assert proc.returncode == 1
    (record,) = _records(driver, local_backend, run_id, "slow")
    assert record["exception"]["type"].endswith("TimeoutException")
    assert "timed out after 1 seconds" in record["exception"]["message"]


def test_fallback_mode_records_the_caught_failure(local_backend, client_root):
    driver = local_backend.driver("failing_flow.py")
    run_id = new_run_id()
    _run_until_slow(driver, run_id)
    assert driver.run_step("slow", run_id).returncode == 0
    # the container of `died` was killed (OOM, ...): the state machine's Catch runs the fallback
    proc = driver.run_step("died", run_id, mode="fallback", caught="States.TaskFailed")
    assert proc.returncode == 0, proc.stderr
    assert driver.run_step("end", run_id).returncode == 0
    client = client_root(local_backend)
    report = client.Task(f"FailingFlow/{run_id}/end/{driver.task_id('end')}").data.report
    assert report[:3] == ("builtins.KeyError", "'always broken'", "set before the error")
    # no Python exception in the dead container: Metaflow's @catch type, the platform's error in the text
    assert report[3].type == "metaflow.plugins.catch_decorator.FailureHandledByCatch"
    assert "Your code did not raise an exception" in report[3].exception and "States.TaskFailed" in report[3].exception


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_sigkill_while_writing_a_large_artifact(kind, tmp_path, request):
    from .conftest import make_local_backend, make_s3_backend

    if kind == "s3":
        request.getfixturevalue("aws")
        backend = make_s3_backend(tmp_path)
    else:
        backend = make_local_backend(tmp_path)
    gate = tmp_path / "gate"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    driver = backend.driver("big_artifact_flow.py", GATE=str(gate), TMPDIR=str(scratch))
    run_id = new_run_id()
    env = driver.env(SFNCOMPILE_RUN_ID=run_id, SFNCOMPILE_INDEX_PATH="", SFNCOMPILE_RETRY_COUNT="0",
                     SFNCOMPILE_PARAMETERS="{}")
    proc = subprocess.Popen([sys.executable, "-c", BOOTSTRAP_SOURCE, "step", "start"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    where = Path(backend.datastore) / "BigArtifactFlow" / "data" if kind == "local" else scratch

    def partial_bytes():
        return sum(p.stat().st_size for p in where.rglob("*tmp*") if p.is_file()) if where.exists() else 0

    deadline = time.time() + 120
    while partial_bytes() < (40 << 20) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the task ended before it was killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = Datastore(backend.datastore, "BigArtifactFlow")
    assert store.attempts(run_id, "start", "1") == [0]  # started...
    assert store.attempt_record(run_id, "start", "1", 0) is None  # ...never committed
    assert store.latest_record(run_id, "start", "1", ok_only=False) is None
    assert driver.run_step("end", run_id).returncode == 2  # no parent output is visible
    gate.touch()
    assert driver.run_step("start", run_id).returncode == 0
    assert store.attempt_record(run_id, "start", "1", 1)["status"] == "ok"
    assert driver.run_step("end", run_id).returncode == 0
    assert store.latest_record(run_id, "end", driver.task_id("end"))["status"] == "ok"


def test_tampered_code_package_is_refused_before_anything_runs(local_backend, tmp_path):
    driver = local_backend.driver("logging_flow.py", GATE=str(tmp_path / "never"))
    marker = tmp_path / "imported"
    evil_dir = tmp_path / "evil"
    evil_dir.mkdir()
    (evil_dir / "logging_flow.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n" + (driver.flow_path.read_text()))
    from sfncompile.package import build_code_package

    evil = build_code_package(driver.graph, evil_dir / "logging_flow.py")
    Path(driver.code_url).write_bytes(evil.data)  # same URL, other bytes
    run_id = new_run_id()
    proc = driver.run_step("start", run_id)
    assert proc.returncode != 0
    assert "does not match SFNCOMPILE_CODE_SHA256" in proc.stderr
    assert not marker.exists()
    assert Datastore(local_backend.datastore, "LoggingFlow").attempts(run_id, "start", "1") == []
    assert not any(local_backend.cache_dir.glob("*/logging_flow.py"))


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_logs_are_streamed_while_the_task_runs(kind, tmp_path, request, client_root):
    from .conftest import make_local_backend, make_s3_backend

    if kind == "s3":
        request.getfixturevalue("aws")
        backend = make_s3_backend(tmp_path)
    else:
        backend = make_local_backend(tmp_path)
    gate = tmp_path / "gate"
    driver = backend.driver("logging_flow.py", GATE=str(gate))
    run_id = new_run_id()
    env = driver.env(SFNCOMPILE_RUN_ID=run_id, SFNCOMPILE_INDEX_PATH="", SFNCOMPILE_PARAMETERS="{}")
    proc = subprocess.Popen([sys.executable, "-c", BOOTSTRAP_SOURCE, "step", "start"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    store = Datastore(backend.datastore, "LoggingFlow")
    key = f"LoggingFlow/runs/{run_id}/start/1/0/stdout.log"  # start is task 1, attempt 0
    deadline = time.time() + 60
    seen = b""
    while time.time() < deadline and b"from a child process" not in seen:
        seen = store.storage.get_bytes(key) or b""
        time.sleep(0.05)
    assert proc.poll() is None, "the task must still be running"
    assert b"first line, before waiting" in seen and b"from a child process" in seen
    gate.touch()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "first line, before waiting" in out and "after the gate" in out  # still echoed
    client = client_root(backend)
    task = client.Task(f"LoggingFlow/{run_id}/start/1")
    assert "after the gate" in task.stdout and "to stderr" in task.stderr


def test_lazy_loading_reads_only_what_the_step_uses(local_backend):
    driver = local_backend.driver("lazy_flow.py")
    run_id = new_run_id()
    assert driver.run_step("start", run_id).returncode == 0
    store = Datastore(local_backend.datastore, "LazyFlow")
    refs = store.latest_record(run_id, "start", "1")["artifacts"]
    assert len(refs) == 100
    # delete every blob except a7's: the next step must never need them
    data = Path(local_backend.datastore) / "LazyFlow" / "data"
    for blob in data.rglob("*"):
        if blob.is_file() and blob.name != refs["a7"]["sha"]:
            blob.unlink()
    proc = driver.run_step("read_one", run_id)
    assert proc.returncode == 0, proc.stderr
    record = store.latest_record(run_id, "read_one", driver.task_id("read_one"))
    assert record["artifacts"]["a3"] == refs["a3"]  # passed down by reference
    assert store.load_artifact(record["artifacts"]["length"]) == 64 << 10


def test_resume_clones_committed_tasks(local_backend, client_root):
    from sfncompile_runtime.datastore import resume_plan, write_run_record

    driver = local_backend.driver("resume_flow.py", FAIL_B="1")
    origin = new_run_id()
    with pytest.raises(AssertionError, match="b is broken"):
        driver.run_flow(origin)
    plan = resume_plan(local_backend.datastore, driver.graph_dict, origin)
    assert plan == []  # b failed, so b and what reads it run again; the rest is cloned
    resumed = new_run_id()
    write_run_record(local_backend.datastore, "ResumeFlow", resumed, origin_run_id=origin, rerun_steps=plan)
    data = Path(local_backend.datastore) / "ResumeFlow" / "data"
    blobs_before = {p.name for p in data.rglob("*") if p.is_file()}
    driver.extra_env["FAIL_B"] = "0"
    driver.run_flow(resumed)
    client = client_root(local_backend)
    old, new = client.Run(f"ResumeFlow/{origin}"), client.Run(f"ResumeFlow/{resumed}")
    assert not old.successful and new.successful
    token, size, origin_seen = new.data.result
    assert token == old["start"].task.data.token  # not recomputed
    assert size == 1 << 20 and origin_seen == origin
    assert new["a"].task["big"].sha == old["a"].task["big"].sha
    assert new["a"].task.origin_pathspec == f"ResumeFlow/{origin}/a/{driver.task_id('a')}"
    assert new.origin_run_id == origin
    new_blobs = {p.name for p in data.rglob("*") if p.is_file()} - blobs_before
    big_sha = old["a"].task["big"].sha
    assert big_sha in blobs_before and big_sha not in new_blobs  # no copies


def test_start_step_writes_the_run_record_when_absent(local_backend):
    driver = local_backend.driver("linear_flow.py", SFNCOMPILE_PRODUCTION_TOKEN="tok-1")
    run_id = "5f0c1f6e-aaaa-bbbb-cccc-000000000000"  # an EventBridge-style execution name
    assert driver.run_step("start", run_id, params={"count": 2}).returncode == 0
    record = Datastore(local_backend.datastore, "LinearFlow").read_run(run_id)
    assert record["started_by"] == "start step" and record["parameters"] == {"count": 2}
    assert "production:tok-1" in record["system_tags"]
    info = Datastore(local_backend.datastore, "LinearFlow")
    ref = info.latest_record(run_id, "start", "1")["artifacts"]["info"]
    values = info.load_artifact(ref)
    # The token gives the namespace; it does not make the run "production": every deployment has a
    # token, and Metaflow's is_production is @project's --production only (no @project here).
    assert values["production"] is False and values["namespace"] == "production:tok-1"


def test_resume_clones_a_foreach_and_republishes_its_width(local_backend, client_root):
    from sfncompile_runtime.datastore import write_run_record

    driver = local_backend.driver("foreach_flow.py")
    origin = driver.run_flow(params={"n": 3})
    resumed = new_run_id()
    write_run_record(local_backend.datastore, "ForeachFlow", resumed, origin_run_id=origin,
                     rerun_steps=["join", "end"])
    driver.run_flow(resumed, params={"n": 3})
    assert driver.side(resumed, "start", "0")["width"] == 3  # the state machine of the new run needs it
    client = client_root(local_backend)
    run = client.Run(f"ForeachFlow/{resumed}")
    assert run.successful and run["join"].task.data.results == ["aa", "bb", "cc"]
    assert all(t.origin_pathspec == f"ForeachFlow/{origin}/body/{t.id}" for t in run["body"].tasks())
    assert run["join"].task.origin_pathspec is None  # re-run, not cloned
