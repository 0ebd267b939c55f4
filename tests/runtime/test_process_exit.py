"""How a task's process ends (``sfncompile_runtime.main.exit_process``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"

SCRIPT = r'''
import atexit, sys, threading, time
import sfncompile_runtime.main as task_main

class Loud:
    def __del__(self):
        sys.stdout.write("module teardown\n")
        sys.stdout.flush()

keep = Loud()
atexit.register(lambda: sys.stdout.write("atexit ran\n"))

def late():
    time.sleep(0.2)
    sys.stdout.write("thread joined\n")

threading.Thread(target=late).start()
sys.stdout.write("no newline yet")
if sys.argv[1] == "runtime-only":
    task_main._ran_no_user_code()  # what a supervised step or a clone leaves behind
task_main.exit_process(3)
'''


def _run(mode: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(RUNTIME))
    return subprocess.run([sys.executable, "-c", SCRIPT, mode], env=env, capture_output=True, text=True,
                          timeout=60)


def test_a_process_that_ran_no_user_code_skips_only_the_teardown():
    """Everything an exit does that can be seen still happens (threads joined, atexit handlers,
    buffered output flushed, the exit code); the interpreter's module teardown does not."""
    proc = _run("runtime-only")
    assert proc.returncode == 3, proc.stderr
    assert "no newline yet" in proc.stdout
    assert "thread joined" in proc.stdout and "atexit ran" in proc.stdout
    assert "module teardown" not in proc.stdout


def test_a_process_that_ran_user_code_exits_normally():
    proc = _run("user-code")
    assert proc.returncode == 3, proc.stderr
    assert "no newline yet" in proc.stdout
    assert "thread joined" in proc.stdout and "atexit ran" in proc.stdout
    assert "module teardown" in proc.stdout
