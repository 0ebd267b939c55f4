"""Ctrl-C during `sfncompile run`: running tasks are terminated, the run is left resumable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.executor.conftest import FLOWS

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "runtime")])
    env["SFNCOMPILE_CODE_CACHE"] = str(tmp_path / "code-cache")
    return env


def _pids_with_env(entry: str) -> list[int]:
    """Processes whose environment holds ``entry`` (tasks of this test carry its code-cache path)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if entry.encode() in environ:
            found.append(int(proc.name))
    return found


@pytest.mark.parametrize("mode", [[], ["--warm-start"]], ids=["exact", "warm-start"])
def test_ctrl_c_terminates_tasks_and_the_run_resumes(tmp_path, local_runs, mode):
    marker = tmp_path / "marker"
    datastore = tmp_path / "datastore"
    cmd = [sys.executable, "-m", "sfncompile.cli.main", "run", str(FLOWS / "sleepy_flow.py"),
           "--param", f"marker={marker}", "--datastore", str(datastore)] + mode
    proc = subprocess.Popen(cmd, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    runs = datastore / "SleepyFlow" / "runs"
    # wait until the nap task has started its attempt (the runtime's started.json)
    while time.monotonic() < deadline:
        found = list(runs.glob("*/nap/*/0/started.json")) if runs.exists() else []
        if found:
            break
        time.sleep(0.1)
    time.sleep(0.5)  # into the user's code
    assert found, "the nap task never started"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    run_id = out.strip().splitlines()[-1]
    leftover = _pids_with_env(f"SFNCOMPILE_CODE_CACHE={tmp_path / 'code-cache'}")
    assert not leftover, "a task process survived the interrupt"

    marker.write_text("")
    local_runs.root = datastore
    result = local_runs.cli("resume", str(FLOWS / "sleepy_flow.py"), run_id)
    resumed = result.stdout.strip().splitlines()[-1]
    assert local_runs.record("SleepyFlow", resumed, "start")["cloned_from"]["run_id"] == run_id
    assert local_runs.artifacts("SleepyFlow", resumed, "nap")["rested"] is True
