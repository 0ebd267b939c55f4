"""--warm-start: tasks forked from a process that ran the bootstrap give the same results."""

from __future__ import annotations

import pytest

from sfncompile.executor.warm import supported
from tests.conftest import EXAMPLES
from tests.executor.conftest import FLOWS

pytestmark = pytest.mark.skipif(not supported(), reason="warm start needs Linux (pidfd_open, send_fds)")


def test_foreach_with_split_same_artifacts(local_runs):
    run_id, _ = local_runs.run(FLOWS / "shapes_flow.py", extra=["--warm-start"])
    assert local_runs.artifacts("ForeachSplitFlow", run_id)["pairs"] == [("a-left", "a-right"), ("b-left", "b-right")]
    # the task's output reached the datastore's log through the forked child
    assert local_runs.client_run("ForeachSplitFlow", run_id).successful


def test_retry_and_parameters(local_runs):
    run_id, _ = local_runs.run(FLOWS / "retry_flow.py", extra=["--warm-start"])
    assert local_runs.store("RetryOnceFlow").attempts(run_id, "flaky", "0") == [0, 1]
    run_id, _ = local_runs.run(EXAMPLES / "train_evaluate.py", "n_samples=80", extra=["--warm-start"])
    assert local_runs.artifacts("TrainEvaluateFlow", run_id)["n_samples"] == 80


def test_timeout_kills_the_forked_task(local_runs):
    run_id, _ = local_runs.run(FLOWS / "catch_timeout_flow.py", extra=["--warm-start"])
    assert local_runs.artifacts("CatchTimeoutFlow", run_id)["caught"] is True


def test_failure_log_and_resume(local_runs, tmp_path):
    marker = tmp_path / "marker"
    origin, result = local_runs.run(FLOWS / "resumable_flow.py", f"marker={marker}", expect_exit=1,
                                    extra=["--warm-start"])
    assert "RuntimeError: marker" in result.stderr
    marker.write_text("")
    result = local_runs.cli("resume", str(FLOWS / "resumable_flow.py"), origin, "--warm-start")
    resumed = result.stdout.strip().splitlines()[-1]
    assert local_runs.record("ResumableFlow", resumed, "gather")["cloned_from"]["run_id"] == origin
    assert local_runs.artifacts("ResumableFlow", resumed)["final"] == 141
