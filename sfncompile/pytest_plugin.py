"""pytest plugin for people who test their flows (installed with sfncompile, entry point ``pytest11``).

The ``run_flow`` fixture runs a flow file locally, through the same state
machine ``sfncompile run`` executes, in a datastore of its own under pytest's
temporary directory, and returns the client ``Run``::

    def test_sweep(run_flow):
        run = run_flow("flows/sweep.py", alphas="1,2,3")
        assert run.successful
        assert run.data.best == 0.5
        assert run["fit"].task.stdout == ...

Parameters are keyword arguments, converted and checked as ``--param NAME=VALUE``
is (a dict or list becomes JSON). For the rest of the test the client API
(``Flow("SweepFlow").latest_run``, ``Run(...)``) reads that datastore and sees
every namespace. A failed run is returned too (``run.successful`` is False)
and its failure summary is printed, so pytest shows it with the failing test.

Importing this module costs nothing beyond pytest: the executor is imported
when a test first calls the fixture.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable

import pytest


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    return str(value)


@pytest.fixture
def run_flow(tmp_path_factory, monkeypatch) -> Callable[..., Any]:
    """``run_flow(path, *, max_workers=None, tags=(), timeout=None, **parameters) -> Run``."""
    from sfncompile_runtime import envnames

    root = tmp_path_factory.mktemp("sfncompile-datastore")
    monkeypatch.setenv(envnames.DATASTORE, str(root))
    from sfncompile import Run, get_namespace, namespace

    saved_namespace = get_namespace()
    namespace(None)

    def run(flow_file: str | os.PathLike, *, max_workers: int | None = None, tags: tuple[str, ...] = (),
            timeout: float | None = None, **parameters: Any):
        from sfncompile.executor.local_run import execute, prepare
        from sfncompile.executor.parameters import parse_parameters

        prepared = prepare(flow_file, datastore=str(root))
        values = parse_parameters(prepared.graph, [f"{k}={_as_text(v)}" for k, v in parameters.items()])
        outcome = execute(prepared, values, max_workers=max_workers, tags=list(tags), timeout=timeout)
        if not outcome.succeeded:
            print("\n".join(outcome.failure_summary()))
        return Run(f"{outcome.flow}/{outcome.run_id}")

    yield run
    namespace(saved_namespace)
