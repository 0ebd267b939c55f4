"""The run_flow fixture, as a user's test suite sees it: a separate pytest run on a user's project."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib import metadata

import pytest

from tests.conftest import ROOT

FLOW = '''
from sfncompile import FlowSpec, Parameter, step

class SquareFlow(FlowSpec):
    n = Parameter("n", default=2)
    fail = Parameter("fail", default=False)

    @step
    def start(self):
        print("squaring", self.n)
        self.square = self.n * self.n
        self.next(self.end)

    @step
    def end(self):
        if self.fail:
            raise ValueError("asked to fail")
'''

USER_TESTS = '''
from sfncompile import Flow

def test_parameters_and_artifacts(run_flow):
    run = run_flow("square_flow.py", n=7)
    assert run.successful
    assert run.data.square == 49
    assert run["start"].task.stdout == "squaring 7\\n"
    assert Flow("SquareFlow").latest_run == run

def test_failed_run_is_returned(run_flow):
    run = run_flow("square_flow.py", fail=True)
    assert not run.successful
    assert "asked to fail" in str(run["end"].task.exception)

def test_each_test_has_its_own_datastore(run_flow):
    run = run_flow("square_flow.py")
    assert [r.id for r in Flow("SquareFlow").runs()] == [run.id]
'''


def test_the_fixture_runs_flows_in_a_users_test_suite(tmp_path):
    (tmp_path / "square_flow.py").write_text(FLOW)
    (tmp_path / "test_square.py").write_text(USER_TESTS)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "runtime")])}
    env.pop("SFNCOMPILE_DATASTORE", None)
    # Installed, the entry point loads the plugin; on a bare PYTHONPATH (other Pythons' runs) ask for it.
    load = [] if _entry_points() else ["-p", "sfncompile.pytest_plugin"]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *load, "test_square.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout
    assert not (tmp_path / ".sfncompile").exists()  # runs went to temporary datastores


def _entry_points() -> dict[str, str]:
    return {ep.name: ep.value for ep in metadata.entry_points(group="pytest11")
            if ep.dist is not None and ep.dist.name == "sfncompile"}


def test_the_plugin_is_an_entry_point_of_the_distribution():
    try:
        metadata.distribution("sfncompile")
    except metadata.PackageNotFoundError:
        pytest.skip("sfncompile is not installed here (a PYTHONPATH run): no entry points to read")
    assert _entry_points() == {"sfncompile": "sfncompile.pytest_plugin"}
