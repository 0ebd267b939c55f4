"""``runs``, ``status`` and ``logs`` of runs read from a datastore (local runs, by default).

Everything here reads through the client API (``sfncompile.Run``...), so it
answers for any datastore the runtime wrote: the local directory
(``./.sfncompile`` unless configured otherwise) or an ``s3://`` root. The rows
and the status have the shape ``sfncompile.deploy.operate`` gives for a
deployed flow (which also asks Step Functions), so the CLI prints both alike.

A local run's outcome is recorded in its run record when the run ends
(``executor.local_run.execute``). A run without one is ``UNFINISHED``: still
running, or the process running it was killed before it could record it.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime, timezone
from typing import Any, Iterator

from .diagnostics import UserError

UNFINISHED = "UNFINISHED"


@contextlib.contextmanager
def client_at(root: str) -> Iterator[None]:
    """The client API reading ``root``, in every namespace, for the duration."""
    from sfncompile import get_namespace, namespace
    from sfncompile_runtime import envnames

    saved_root, saved_namespace = os.environ.get(envnames.DATASTORE), get_namespace()
    os.environ[envnames.DATASTORE] = root
    namespace(None)
    try:
        yield
    finally:
        namespace(saved_namespace)
        if saved_root is None:
            os.environ.pop(envnames.DATASTORE, None)
        else:
            os.environ[envnames.DATASTORE] = saved_root


def _when(value) -> str:
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return ""


def _flow(name: str, root: str):
    from sfncompile import Flow
    from sfncompile_runtime.client import MetaflowNotFound

    try:
        return Flow(name)
    except MetaflowNotFound:
        raise UserError(f"no runs of {name} in the datastore {root} (pass --datastore, or --deployed for a "
                        "deployed flow)") from None


def _run(flow: str, run_id: str, root: str):
    from sfncompile import Run
    from sfncompile_runtime.client import MetaflowNotFound

    _flow(flow, root)
    try:
        return Run(f"{flow}/{run_id}")
    except MetaflowNotFound:
        raise UserError(f"no run {flow}/{run_id} in the datastore {root}") from None


def split_run(run: str) -> tuple[str, str]:
    parts = run.strip("/").split("/")
    if len(parts) != 2 or not all(parts):
        raise UserError(f"{run!r}: give the run as FlowName/RUN_ID")
    check_names(run, zip(("flow name", "run id"), parts))
    return parts[0], parts[1]


def check_names(given: str, named) -> None:
    """Every part of a pathspec must be one safe datastore key component (no '/', no '..')."""
    from sfncompile_runtime.datastore import InvalidName, check_name

    try:
        for kind, value in named:
            check_name(kind, value)
    except InvalidName as exc:
        raise UserError(f"{given!r}: {exc}") from None


def _record(run) -> dict:
    from sfncompile_runtime.client import datastore_root
    from sfncompile_runtime.datastore import Datastore

    return Datastore(datastore_root(), run.flow_name).read_run(run.id) or {}


def run_status(run) -> str:
    """SUCCEEDED / FAILED / ABORTED / TIMED_OUT as recorded when the run ended; else SUCCEEDED if its
    end step succeeded (a deployed run's record has no outcome), else UNFINISHED."""
    recorded = _record(run).get("status")
    if recorded:
        return recorded
    return "SUCCEEDED" if run.successful else UNFINISHED


def _stopped(run):
    finished = _record(run).get("finished_at")
    if finished:
        return datetime.fromtimestamp(float(finished), tz=timezone.utc)
    return run.finished_at


def runs(root: str, flow: str, limit: int = 20) -> list[dict[str, Any]]:
    with client_at(root):
        rows = [{"run_id": run.id, "status": run_status(run), "started": _when(run.created_at),
                 "stopped": _when(_stopped(run))} for run in _flow(flow, root).runs()[:limit]]
    return rows


def status(root: str, flow: str, run_id: str) -> dict[str, Any]:
    from .deploy.operate import StepStatus

    with client_at(root):
        run = _run(flow, run_id, root)
        steps, error, cause = [], None, None
        for step in reversed(run.steps()):  # the client lists the latest step first
            tasks = step.tasks()
            done = sum(1 for t in tasks if t.finished)  # @catch-caught tasks too
            failed = [t for t in tasks if t.finished_at is not None and not t.finished]
            steps.append(StepStatus(step.id, entered=len(tasks), succeeded=done, failed=len(failed),
                                    tasks_done=done))
            if failed and error is None:
                exception = failed[0].exception  # an ExceptionWrapper: type name, message
                error = getattr(exception, "type", None) or "TaskFailed"
                message = getattr(exception, "message", None)
                cause = f"{failed[0].pathspec}: {message}" if message else failed[0].pathspec
        return {"run_id": run_id, "status": run_status(run), "started": _when(run.created_at),
                "stopped": _when(_stopped(run)), "steps": steps, "error": error, "cause": cause}


def _index_order(task) -> tuple:
    """A task id's place by its numbers (step number, then foreach index path), then visit
    (``"3.1.2"``, ``"2-3"``; ids of runs before run-unique ids: ``"1.2"``, ``"0-3"``)."""
    path, _, visit = task.id.partition("-")
    return tuple(int(p) for p in path.split(".") if p.isdigit()), int(visit or 0)


def logs(root: str, pathspec: str, stream: str = "stdout") -> str:
    """A task's output; for a step (no task id), every task's, each under a header when there are several."""
    parts = pathspec.strip("/").split("/")
    if len(parts) not in (3, 4):
        raise UserError(f"{pathspec!r}: give Flow/RUN_ID/step[/task_id]")
    check_names(pathspec, zip(("flow name", "run id", "step", "task id"), parts))
    flow, run_id, step = parts[:3]
    with client_at(root):
        run = _run(flow, run_id, root)
        if step not in run:
            names = ", ".join(sorted(s.id for s in run.steps())) or "none yet"
            raise UserError(f"run {flow}/{run_id} has no step '{step}' (steps: {names})")
        tasks = sorted(run[step].tasks(), key=_index_order)  # the client lists them newest first
        if len(parts) == 4:
            tasks = [t for t in tasks if t.id == parts[3]]
            if not tasks:
                raise UserError(f"step {flow}/{run_id}/{step} has no task '{parts[3]}'")
        if len(tasks) == 1:
            return getattr(tasks[0], stream)
        return "".join(f"== {task.pathspec}\n{getattr(task, stream)}" for task in tasks)
