"""How the ``sfncompile`` process ends after ``run``: without the interpreter's teardown (os._exit),
once threads are joined, atexit handlers run and the streams flushed; normally under ``python flow.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLOW = '''
from sfncompile import FlowSpec, step


class ExitFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ExitFlow()
'''
# A finalizer that only the interpreter's teardown runs, and an atexit handler that must run anyway.
WATCH = '''
import atexit, os, sys
_marker = os.environ["EXIT_MARKER"]
class _Finalized:
    def __del__(self, _open=open, _marker=_marker):
        _open(_marker + ".teardown", "w").close()
_kept = _Finalized()
atexit.register(lambda: open(_marker + ".atexit", "w").close())
'''


def _env(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "runtime")]),
               XDG_CACHE_HOME=str(tmp_path / "cache"), EXIT_MARKER=str(tmp_path / "marker"))
    env.pop("SFNCOMPILE_NO_GRAPH_CACHE", None)
    return env


def test_a_run_leaves_without_the_teardown(tmp_path):
    flow = tmp_path / "exit_flow.py"
    flow.write_text(FLOW)
    marker = tmp_path / "marker"
    script = WATCH + "from sfncompile.cli.main import main\nmain(['run', sys.argv[1], '--datastore', sys.argv[2]])\n"
    proc = subprocess.run([sys.executable, "-c", script, str(flow), str(tmp_path / "ds")],
                          env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("20")  # the run id, flushed
    assert Path(f"{marker}.atexit").exists()
    assert not Path(f"{marker}.teardown").exists()


def test_a_failed_run_leaves_with_its_exit_code(tmp_path):
    flow = tmp_path / "exit_flow.py"
    flow.write_text(FLOW.replace("        pass\n", "        raise RuntimeError('on purpose')\n"))
    proc = subprocess.run([sys.executable, "-m", "sfncompile.cli.main", "run", str(flow), "--datastore",
                           str(tmp_path / "ds")], env=_env(tmp_path), cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    assert "resume with: sfncompile resume" in proc.stderr


def test_python_flow_py_ends_as_python_ends_it(tmp_path):
    """The flow file is the user's ``__main__``: its objects get their teardown."""
    flow = tmp_path / "exit_flow.py"
    flow.write_text(WATCH + FLOW)
    marker = tmp_path / "marker"
    proc = subprocess.run([sys.executable, str(flow), "--datastore-root", str(tmp_path / "ds"), "run"],
                          env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert Path(f"{marker}.atexit").exists()
    assert Path(f"{marker}.teardown").exists()
