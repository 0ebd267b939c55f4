"""No process of a run outlives it: what a step leaves running ends with its task; a second Ctrl-C
ends tasks that ignore SIGTERM; SIGKILL of the CLI in --warm-start mode takes the zygote along."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.executor.conftest import FLOWS
from tests.executor.test_interrupt import _env, _pids_with_env

FLOW = FLOWS / "stubborn_flow.py"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as src:
            return src.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(entry: str, seconds: float = 20) -> list[int]:
    deadline = time.monotonic() + seconds
    while True:
        left = [p for p in _pids_with_env(entry) if _alive(p)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


@pytest.mark.parametrize("left", ["fork", "orphan", "setsid"])
@pytest.mark.parametrize("mode", [[], ["--warm-start"]], ids=["exact", "warm-start"])
def test_a_child_the_step_left_running_ends_with_the_task(local_runs, mode, left):
    """Its own child, or an orphan (whose parent ended first: found below the task's process,
    its subreaper, not by reading every process on the machine)."""
    run_id, result = local_runs.run(FLOW, f"mode={left}", extra=mode)
    child = local_runs.artifacts("StubbornFlow", run_id, "work")["child"]
    assert not _alive(child)
    stderr = local_runs.client_run("StubbornFlow", run_id)["work"].task.stderr
    assert "ended 1 process(es) step 'work' left running" in stderr
    assert "I/O operation on closed file" not in result.output


def _start_cli(tmp_path, extra=()):
    datastore = tmp_path / "datastore"
    cmd = [sys.executable, "-m", "sfncompile.cli.main", "run", str(FLOW), "--param", "mode=stubborn",
           "--datastore", str(datastore), *extra]
    proc = subprocess.Popen(cmd, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = datastore / "StubbornFlow" / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        logs = list(runs.glob("*/work/*/0/stdout.log")) if runs.exists() else []
        if logs and "stubborn" in logs[0].read_text():
            return proc
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("the work task never started")


def test_a_second_ctrl_c_ends_tasks_that_ignore_sigterm(tmp_path):
    proc = _start_cli(tmp_path)
    entry = f"SFNCOMPILE_CODE_CACHE={tmp_path / 'code-cache'}"
    assert _pids_with_env(entry)
    proc.send_signal(signal.SIGINT)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert _wait_gone(entry) == [], "a task process survived the second Ctrl-C"


def test_a_timeout_ends_the_task_and_the_daemon_it_started(tmp_path):
    """--timeout signals the task's process group; a setsid() daemon of the step is not in it, and
    the task's process (its subreaper) ends it before dying of the SIGTERM."""
    entry = f"SFNCOMPILE_CODE_CACHE={tmp_path / 'code-cache'}"
    cmd = [sys.executable, "-m", "sfncompile.cli.main", "run", str(FLOW), "--param", "mode=stubborn",
           "--datastore", str(tmp_path / "datastore"), "--timeout", "8"]
    result = subprocess.run(cmd, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert _wait_gone(entry) == [], "a process of the timed-out task outlived the run"


@pytest.mark.parametrize("mode", [["--warm-start"], ["--no-warm-start"]], ids=["warm-start", "cold-start"])
def test_sigkill_of_the_cli_takes_every_task_process_along(tmp_path, mode):
    """Warm start: the zygote watches the CLI and kills its tasks; cold start: each task watches
    the CLI's pipe and ends its process group (the stubborn step ignores SIGTERM and has a child)."""
    proc = _start_cli(tmp_path, mode)
    entry = f"SFNCOMPILE_CODE_CACHE={tmp_path / 'code-cache'}"
    assert _pids_with_env(entry)
    proc.kill()
    proc.communicate(timeout=30)
    assert _wait_gone(entry) == [], "the zygote or a task outlived the CLI"


def test_sigterm_to_the_cli_stops_the_run_as_ctrl_c_does(tmp_path):
    """`kill PID` (or a CI timeout) is an interrupt: tasks stopped, the run recorded ABORTED, not
    a run left 'running' forever with its processes behind."""
    import json

    proc = _start_cli(tmp_path)
    entry = f"SFNCOMPILE_CODE_CACHE={tmp_path / 'code-cache'}"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    (run_dir,) = (tmp_path / "datastore" / "StubbornFlow" / "runs").iterdir()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "ABORTED"
    assert _wait_gone(entry) == [], "a task process survived SIGTERM of the CLI"
