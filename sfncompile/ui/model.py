"""What the UI shows, read from the datastore (docs/datastore.md): flows, runs, steps,
tasks and their attempts, logs, artifacts and cards. Read-only.

A committed attempt's ``record.json`` never changes, so records (and the graphs
of code packages) are cached for the server's life; everything else (listings,
``started.json``, logs) is read again on each request, which keeps pages live.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sfncompile_runtime.datastore import (attempt_prefix, parse_record, run_prefix, split_task_id, task_prefix,
                                          warn_unreadable)
from sfncompile_runtime.storage import UnreadableEntry, open_regular, open_storage

LOG_TAIL_BYTES = 64 * 1024           # a task page shows this much of each log
ARTIFACT_PREVIEW_MAX = 1024 * 1024   # artifacts larger than this (pickled) are not loaded
REPR_LIMIT = 4000


@dataclass
class TaskState:
    step: str
    task_id: str
    attempt: int | None
    state: str                     # ok | failed | running | caught
    record: dict | None
    started: dict | None
    attempts: list[int] = field(default_factory=list)

    @property
    def started_at(self):
        return (self.record or {}).get("started_at") or (self.started or {}).get("started_at")

    @property
    def finished_at(self):
        return (self.record or {}).get("finished_at")


@dataclass
class RunSummary:
    flow: str
    run_id: str
    record: dict
    status: str                    # succeeded | failed | running | unknown
    started_at: float | None
    finished_at: float | None
    steps: dict[str, list[TaskState]] = field(default_factory=dict)
    graph: dict | None = None

    @property
    def tags(self) -> list[str]:
        return list(self.record.get("tags") or [])

    @property
    def system_tags(self) -> list[str]:
        return list(self.record.get("system_tags") or [])


class Model:
    def __init__(self, root: str):
        self.root = root
        self.storage = open_storage(root)
        self._records: dict[str, dict] = {}
        self._graphs: dict[str, dict | None] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=8) if not self.storage.is_local else None

    # -- cached immutable reads --------------------------------------------------------
    def _json(self, key: str) -> dict | None:
        """The record at ``key``, None when absent or unusable (the same rule as the client's:
        damaged, the wrong shape, not a regular file — warned about once on the server's stderr)."""
        try:
            data = self.storage.get_bytes(key)
        except UnreadableEntry as exc:
            warn_unreadable(self.storage.url(key), str(exc))
            return None
        if data is None:
            return None
        record, problem = parse_record(key, data)
        if problem is not None:
            warn_unreadable(self.storage.url(key), problem)
        return record

    def _bytes(self, key: str) -> bytes:
        """A log's or card's bytes; b'' when absent or not a readable regular file (a symlink in
        the datastore is not followed: the UI must not serve what it points at)."""
        try:
            return self.storage.get_bytes(key) or b""
        except UnreadableEntry as exc:
            warn_unreadable(self.storage.url(key), str(exc))
            return b""

    def record(self, key: str) -> dict | None:
        with self._lock:
            if key in self._records:
                return self._records[key]
        value = self._json(key)
        if value is not None:
            with self._lock:
                self._records[key] = value
        return value

    def graph_for(self, flow: str, code_sha: str | None) -> dict | None:
        if not code_sha:
            return None
        with self._lock:
            if code_sha in self._graphs:
                return self._graphs[code_sha]
        graph = None
        data = self._bytes(f"{flow}/code/{code_sha}.tar.gz")
        if data and hashlib.sha256(data).hexdigest() == code_sha:  # a damaged package draws no graph
            try:
                with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                    member = next((m for m in tar.getmembers() if m.name.rsplit("/", 1)[-1] == "graph.json"), None)
                    if member is not None:
                        graph = json.load(tar.extractfile(member))
            except (tarfile.TarError, ValueError, OSError, EOFError, zlib.error):
                graph = None
            if not isinstance(graph, dict) or not isinstance(graph.get("steps"), dict):
                graph = None
        with self._lock:
            self._graphs[code_sha] = graph
        return graph

    # -- listings ------------------------------------------------------------------------
    def flows(self) -> list[str]:
        return [n for n in self.storage.list_children("") if not n.startswith(".")
                and "runs" in self.storage.list_children(n)]

    def run_ids(self, flow: str) -> list[str]:
        ids = self.storage.list_children(f"{flow}/runs")
        records = {}
        for run_id in ids:
            records[run_id] = self._json(f"{run_prefix(flow, run_id)}/run.json") or {}
        return sorted(ids, key=lambda r: (float(records[r].get("created_at") or 0), r), reverse=True)

    def run_record(self, flow: str, run_id: str) -> dict | None:
        return self._json(f"{run_prefix(flow, run_id)}/run.json")

    def task_state(self, flow: str, run_id: str, step: str, task_id: str) -> TaskState:
        attempts = sorted(int(n) for n in self.storage.list_children(task_prefix(flow, run_id, step, task_id))
                          if n.isdigit())
        if not attempts:
            return TaskState(step, task_id, None, "running", None, None, [])
        last = attempts[-1]
        record = self.record(f"{attempt_prefix(flow, run_id, step, task_id, last)}/record.json")
        if record is None:
            started = self._json(f"{attempt_prefix(flow, run_id, step, task_id, last)}/started.json")
            return TaskState(step, task_id, last, "running", None, started, attempts)
        state = record.get("status") or "failed"
        if state == "ok" and record.get("caught"):
            state = "caught"
        return TaskState(step, task_id, last, state, record, None, attempts)

    def run_summary(self, flow: str, run_id: str) -> RunSummary | None:
        record = self.run_record(flow, run_id)
        step_names = [s for s in self.storage.list_children(run_prefix(flow, run_id))
                      if "." not in s and s != "run.json"]
        if record is None and not step_names:
            return None
        record = record or {"run_id": run_id, "flow": flow}
        pairs = [(s, t) for s in step_names for t in self.storage.list_children(f"{run_prefix(flow, run_id)}/{s}")]
        fetch = lambda pair: self.task_state(flow, run_id, *pair)  # noqa: E731
        states = list(self._pool.map(fetch, pairs)) if self._pool else [fetch(p) for p in pairs]
        steps: dict[str, list[TaskState]] = {}
        for state in states:
            steps.setdefault(state.step, []).append(state)
        for tasks in steps.values():
            tasks.sort(key=lambda t: _task_order(t.task_id))
        graph = None
        for tasks in steps.values():  # any task tells the code package (a running one from started.json)
            for task in tasks:
                sha = (task.record or task.started or {}).get("code_sha256")
                if sha:
                    graph = self.graph_for(flow, sha)
                    break
            if graph:
                break
        end = (graph or {}).get("end") or record.get("end_step") or "end"
        all_tasks = [t for tasks in steps.values() for t in tasks]
        if any(t.state in ("ok", "caught") for t in steps.get(end, [])):
            status = "succeeded"
        elif str(record.get("status") or "").upper() in ("FAILED", "ABORTED", "TIMED_OUT"):
            # The executor wrote how the run ended: a task it cancelled (a foreach item still
            # going when another failed) has no record, yet nothing runs any more.
            status = "failed"
        elif any(t.state == "running" for t in all_tasks):
            status = "running"
        elif any(t.state == "failed" for t in all_tasks):
            status = "failed"
        else:
            status = "running" if all_tasks or record else "unknown"
        started = record.get("created_at") or min((t.started_at for t in all_tasks if t.started_at), default=None)
        finished = None
        if status in ("succeeded", "failed"):
            finished = max((t.finished_at for t in all_tasks if t.finished_at), default=None)
        return RunSummary(flow, run_id, record, status, started, finished, steps, graph)

    def run_overview(self, flow: str, run_id: str) -> RunSummary | None:
        """A run's status and times for the runs list: a finished run is known from its end
        task alone; only unfinished ones are scanned task by task (``run_summary``)."""
        record = self.run_record(flow, run_id)
        if record is not None:
            end = record.get("end_step") or "end"
            tasks = self.storage.list_children(f"{run_prefix(flow, run_id)}/{end}")
            states = [self.task_state(flow, run_id, end, t) for t in tasks]
            done = [t for t in states if t.state in ("ok", "caught")]
            if done:
                graph = self.graph_for(flow, (done[0].record or {}).get("code_sha256"))
                return RunSummary(flow, run_id, record, "succeeded", record.get("created_at"),
                                  max(t.finished_at or 0 for t in done) or None, graph=graph)
        return self.run_summary(flow, run_id)

    def foreach_widths(self, summary: RunSummary) -> dict[str, int]:
        """foreach step -> total number of children it fanned out to."""
        widths: dict[str, int] = {}
        for step, tasks in summary.steps.items():
            for task in tasks:
                info = (task.record or {}).get("foreach")
                if info:
                    widths[step] = widths.get(step, 0) + int(info.get("width") or 0)
        return widths

    # -- one task ------------------------------------------------------------------------
    def attempt_files(self, flow, run_id, step, task_id, attempt) -> tuple[dict | None, dict | None]:
        prefix = attempt_prefix(flow, run_id, step, task_id, attempt)
        return self._json(f"{prefix}/started.json"), self.record(f"{prefix}/record.json")

    def log_prefix(self, flow, run_id, step, task_id, attempt, record) -> str:
        cloned = (record or {}).get("cloned_from")
        if cloned:  # a resumed run's clone: the log is the origin's
            return attempt_prefix(flow, cloned["run_id"], step, _origin_task(cloned, task_id),
                                  int(cloned.get("attempt") or 0))
        return attempt_prefix(flow, run_id, step, task_id, attempt)

    def log_tail(self, prefix: str, name: str, limit: int = LOG_TAIL_BYTES) -> tuple[str, int]:
        """(the last ``limit`` bytes of the log as text, the log's full size)."""
        key = f"{prefix}/{name}.log"
        size = self.storage.size(key) or 0
        if size == 0:
            return "", 0
        if size <= limit:
            data = self._bytes(key)
        elif self.storage.is_local:
            try:
                with open_regular(self.storage.path(key)) as src:
                    src.seek(size - limit)
                    data = src.read(limit)
            except OSError as exc:  # removed meanwhile, or a link/folder in its place
                warn_unreadable(self.storage.url(key), str(exc))
                data = b""
        else:
            body = self.storage.client.get_object(Bucket=self.storage.bucket, Key=self.storage.key(key),
                                                  Range=f"bytes={size - limit}-")["Body"]
            data = body.read()
        return data.decode("utf-8", "replace"), size

    def log_full(self, prefix: str, name: str) -> bytes:
        return self._bytes(f"{prefix}/{name}.log")

    def artifact_preview(self, flow, run_id, step, task_id, name) -> tuple[str, str | None]:
        """(repr text or '', reason it is not shown or None). Loads only artifacts up to ARTIFACT_PREVIEW_MAX."""
        from sfncompile_runtime.client import Task

        try:
            task = Task(f"{flow}/{run_id}/{step}/{task_id}", _namespace_check=False)
            ref = task._refs().get(name)
            if ref is None:
                return "", "no such artifact"
            if int(ref.get("size") or 0) > ARTIFACT_PREVIEW_MAX:
                return "", f"{ref.get('size')} bytes: too large to preview here (read it with the client API)"
            value = task.data._get(name)
        except Exception as exc:  # the flow's classes may not import here
            return "", f"could not load: {type(exc).__name__}: {exc}"
        try:
            text = repr(value)
        except Exception as exc:
            return "", f"repr() failed: {type(exc).__name__}: {exc}"
        if len(text) > REPR_LIMIT:
            text = text[:REPR_LIMIT] + f"\n... ({len(text) - REPR_LIMIT} more characters)"
        return text, None

    def cards(self, flow, run_id, step, task_id, attempt, record):
        from sfncompile_runtime.cards.store import cards_prefix, list_cards

        cloned = (record or {}).get("cloned_from")
        if cloned:
            prefix = cards_prefix(flow, cloned["run_id"], step, _origin_task(cloned, task_id),
                                  int(cloned.get("attempt") or 0))
        else:
            prefix = cards_prefix(flow, run_id, step, task_id, attempt)
        return list_cards(self.storage, prefix)

    def card_html(self, key: str) -> bytes | None:
        return self._bytes(key) or None


def now() -> float:
    return time.time()


def _origin_task(cloned: dict, task_id: str) -> str:
    """The origin run's id of a clone's task (a clone made before run-unique ids has the same id)."""
    return str(cloned.get("task_id") or task_id)


def _task_order(task_id: str) -> tuple:
    """Tasks in the order of their ids' numbers (``2.10`` after ``2.9``), each visit of a loop
    step after the one before; a folder that is no task id last."""
    parsed = split_task_id(task_id)
    if parsed is None:
        return (1, [], 0, task_id)
    return (0, [int(p) for p in parsed[0].split(".")], parsed[1], task_id)
