"""Helpers for end-to-end local runs: the CLI in-process, records and artifacts read back."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

FLOWS = Path(__file__).resolve().parent / "flows"


class LocalRuns:
    def __init__(self, root: Path):
        self.root = root

    def cli(self, *args: str, expect_exit: int | None = 0):
        from sfncompile.cli.main import cli

        result = CliRunner().invoke(cli, list(args) + ["--datastore", str(self.root)], catch_exceptions=False)
        if expect_exit is not None:
            assert result.exit_code == expect_exit, result.output + (result.stderr or "")
        return result

    def run(self, flow_path, *params: str, expect_exit: int | None = 0, extra=()):
        args = ["run", str(flow_path)] + [a for p in params for a in ("--param", p)] + list(extra)
        result = self.cli(*args, expect_exit=expect_exit)
        return result.stdout.strip().splitlines()[-1], result

    def store(self, flow: str):
        from sfncompile_runtime.datastore import Datastore

        return Datastore(str(self.root), flow)

    def task_id(self, flow: str, run_id: str, step: str, path: str = "", visit: int = 0) -> str | None:
        """The id of the run's task of ``step`` at foreach index ``path``, as its records say."""
        return self.store(flow).find_task(run_id, step, path, visit)

    def record(self, flow: str, run_id: str, step: str, path: str = "") -> dict | None:
        """The latest successful record of ``step``'s task at foreach index ``path``."""
        task = self.task_id(flow, run_id, step, path)
        return self.store(flow).latest_record(run_id, step, task) if task else None

    def client_run(self, flow: str, run_id: str):
        """The client API's Run (``sfncompile.Run``) over this datastore."""
        import os

        from sfncompile import Run, namespace

        os.environ["SFNCOMPILE_DATASTORE"] = str(self.root)
        namespace(None)
        return Run(f"{flow}/{run_id}")

    def artifacts(self, flow: str, run_id: str, step: str = "end", path: str = "") -> "Artifacts":
        """The artifacts of ``step``'s task at foreach index ``path``, read through the client API."""
        run = self.client_run(flow, run_id)
        task = self.task_id(flow, run_id, step, path)
        assert task is not None, f"{flow}/{run_id}/{step} has no task at index path {path!r}"
        found = run[step][task]
        # finished: a task whose exception @catch caught has artifacts too (Metaflow: finished, not successful)
        assert found.finished, f"{flow}/{run_id}/{step}/{task} has no finished attempt"
        return Artifacts(found)


class Artifacts:
    """``task.data`` read as a mapping (``a["x"]``, ``"x" in a``)."""

    def __init__(self, task):
        self.task = task

    def __getitem__(self, name):
        return getattr(self.task.data, name)

    def __contains__(self, name):
        return name in self.task

    def items(self):
        return [(a.id, a.data) for a in self.task]


@pytest.fixture
def local_runs(tmp_path, monkeypatch):
    # Keep runs off the developer's ./.sfncompile and its code cache private to the test.
    monkeypatch.setenv("SFNCOMPILE_CODE_CACHE", str(tmp_path / "code-cache"))
    monkeypatch.setenv("SFNCOMPILE_DATASTORE", str(tmp_path / "datastore"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # graph / package caches
    return LocalRuns(tmp_path / "datastore")
