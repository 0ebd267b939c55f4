"""Flow, Run, Step, Task, DataArtifact: Metaflow's client objects over the datastore.

Every object below a run carries the run's tags (Metaflow's rule: tags
belong to the run; steps, tasks and artifacts inherit them) and is checked
against the namespace that was current when it was created. Objects pickle
as their pathspec (plus attempt and namespace), so a step may store
``Task(current.pathspec)`` as an artifact and a later reader gets it back.
"""

from __future__ import annotations

import datetime as _dt
import os

from ..datastore import InvalidName, check_name
from ..exceptions import MetaflowInvalidPathspec, MetaflowNamespaceMismatch, MetaflowNotFound
from . import artifacts as arts
from . import code as code_mod
from . import lineage
from . import metadata as md
from . import namespaces, records, tags as tagging

_SHAPES = {"flow": "Flow('FlowName')", "run": "Run('FlowName/RunID')", "step": "Step('FlowName/RunID/StepName')",
           "task": "Task('FlowName/RunID/StepName/TaskID')",
           "artifact": "DataArtifact('FlowName/RunID/StepName/TaskID/ArtifactName')"}
_PARTS = {"flow": 1, "run": 2, "step": 3, "task": 4, "artifact": 5}


def _time(seconds):
    """Metaflow's timestamps: naive datetimes in local time."""
    if not seconds:
        return None
    return _dt.datetime.fromtimestamp(float(seconds))


class _RunState:
    """What every object of one run shares: its record and tags (read once per navigation)."""

    def __init__(self, ds, run_id: str, record: dict | None = None):
        self.ds = ds
        self.run_id = run_id
        self.record = record if record is not None else (records.run_record(ds, run_id) or {})
        self.system_tags = frozenset(t for t in self.record.get("system_tags") or [] if isinstance(t, str))
        self.user_tags = frozenset(records.user_tags(ds, run_id, self.record)) - self.system_tags

    @property
    def tags(self) -> frozenset:
        return self.user_tags | self.system_tags


class MetaflowObject:
    _NAME = "base"

    def __init__(self, pathspec: str | None = None, attempt: int | None = None, _namespace_check: bool = True,
                 _current_namespace: str | None = None, _run: _RunState | None = None, **_ignored):
        if pathspec is None:
            raise MetaflowInvalidPathspec(f"Expects {_SHAPES[self._NAME]}")
        parts = str(pathspec).split("/")
        if len(parts) != _PARTS[self._NAME] or not all(parts):
            raise MetaflowInvalidPathspec(f"Expects {_SHAPES[self._NAME]}")
        for kind, part in zip(("flow name", "run id", "step", "task id"), parts):
            try:
                check_name(kind, part)  # never a key outside the datastore (``../other``)
            except InvalidName as exc:
                raise MetaflowNotFound(f"{type(self).__name__}('{pathspec}') does not exist: {exc}") from None
        self._parts = parts
        self.id = parts[-1]
        self._pathspec = "/".join(parts)
        self._attempt = None
        if attempt is not None:
            if self._NAME not in ("task", "artifact"):
                raise MetaflowNotFound("Attempts can only be specified for Task or DataArtifact")
            try:
                self._attempt = int(attempt)
            except (TypeError, ValueError):
                raise MetaflowNotFound("Attempt can only be an integer")
            if self._attempt < 0:
                raise MetaflowNotFound("Attempt can only be non-negative")
        self._current_namespace = _current_namespace or namespaces.get_namespace()
        self._namespace_check = bool(_namespace_check) and self._current_namespace is not None
        self._ds = records.store(parts[0])
        self._run = _run
        self._load()
        if self._namespace_check and not self._in(self._current_namespace):
            raise MetaflowNamespaceMismatch(self._current_namespace)

    def _load(self) -> None:
        """Find the object (MetaflowNotFound when it does not exist)."""

    @property
    def _store(self):
        """The object's Datastore (read by the cards module and the UI)."""
        return self._ds

    def _in(self, ns: str | None) -> bool:
        return namespaces.in_namespace(self.tags, ns)

    def _child_options(self) -> dict:
        return {"_namespace_check": self._namespace_check,
                "_current_namespace": self._current_namespace if self._namespace_check else None}

    # -- identity -----------------------------------------------------------------
    @property
    def pathspec(self) -> str:
        return self._pathspec

    @property
    def path_components(self) -> list[str]:
        return list(self._parts)

    def __str__(self) -> str:
        if self._attempt is not None:
            return f"{type(self).__name__}('{self.pathspec}', attempt={self._attempt})"
        return f"{type(self).__name__}('{self.pathspec}')"

    __repr__ = __str__

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and (self.pathspec, self._attempt) == (other.pathspec, other._attempt)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.pathspec, self._attempt))

    # -- tags ---------------------------------------------------------------------
    @property
    def tags(self) -> frozenset:
        return self._run.tags if self._run is not None else frozenset()

    @property
    def user_tags(self) -> frozenset:
        return self._run.user_tags if self._run is not None else frozenset()

    @property
    def system_tags(self) -> frozenset:
        return self._run.system_tags if self._run is not None else frozenset()

    def is_in_namespace(self) -> bool:
        return self._in(namespaces.get_namespace())

    def _filtered(self, children, tags):
        return [child for child in children if all(t in child.tags for t in tags)]

    # -- lineage in the hierarchy -------------------------------------------------
    _PARENT = None

    @property
    def parent(self):
        if self._PARENT is None:
            return None
        cls = {"flow": Flow, "run": Run, "step": Step, "task": Task}[self._PARENT]
        attempt = self._attempt if self._NAME == "artifact" else None
        run = self._run if self._PARENT != "flow" else None  # a flow has no tags
        return cls("/".join(self._parts[:-1]), attempt=attempt, _namespace_check=False, _run=run)

    # -- pickling: by pathspec ----------------------------------------------------
    def __getstate__(self):
        return {"version": "sfncompile-1", "data": [self.pathspec, self._attempt, self._current_namespace,
                                                   self._namespace_check]}

    def __setstate__(self, state):
        pathspec, attempt, ns, check = state["data"]
        self.__init__(pathspec, attempt=attempt, _namespace_check=check, _current_namespace=ns)


class Flow(MetaflowObject):
    """All runs of one flow (in the current namespace, newest first)."""

    _NAME = "flow"

    def _load(self) -> None:
        if not records.has_runs(self._ds):
            raise MetaflowNotFound(f"Flow('{self.id}') does not exist in the datastore {records.datastore_root()}")

    def _in(self, ns) -> bool:
        return ns is None or any(True for _ in self._runs(ns))

    @property
    def name(self) -> str:
        return self.id

    def _runs(self, ns):
        for run_id in records.run_ids(self._ds):
            record = records.run_record(self._ds, run_id)
            if record is None:
                continue  # no readable run record (being written, or damaged): not listed
            state = _RunState(self._ds, run_id, record)
            if namespaces.in_namespace(state.tags, ns):
                yield state

    def runs(self, *tags: str) -> list["Run"]:
        ns = self._current_namespace if self._namespace_check else None
        found = [Run(f"{self.id}/{state.run_id}", _run=state, **self._child_options()) for state in self._runs(ns)]
        found.sort(key=lambda r: (float(r._run.record.get("created_at") or 0), r.id), reverse=True)
        return self._filtered(found, tags)

    def __iter__(self):
        return iter(self.runs())

    def __getitem__(self, run_id: str) -> "Run":
        if not records.run_exists(self._ds, str(run_id)):
            raise KeyError(run_id)
        return Run(f"{self.id}/{run_id}", **self._child_options())

    def __contains__(self, run_id: str) -> bool:
        return records.run_exists(self._ds, str(run_id))

    @property
    def latest_run(self) -> "Run | None":
        runs = self.runs()
        return runs[0] if runs else None

    @property
    def latest_successful_run(self) -> "Run | None":
        return next((run for run in self.runs() if run.successful), None)

    @property
    def created_at(self):
        stamps = [float(s.record.get("created_at") or 0) for s in self._runs(None)]
        return _time(min(stamps)) if stamps else None


class Run(MetaflowObject):
    """One run: its steps (latest first), tags, ``data`` of the end task."""

    _NAME = "run"
    _PARENT = "flow"

    def _load(self) -> None:
        if self._run is None:
            if not records.run_exists(self._ds, self.id):
                raise MetaflowNotFound(f"Run('{self.pathspec}') does not exist in {records.datastore_root()}")
            self._run = _RunState(self._ds, self.id)

    @property
    def flow_name(self) -> str:
        return self._parts[0]

    # -- tags -----------------------------------------------------------------------
    def add_tag(self, tag):
        self.replace_tag([], [tag] if tagging.is_stringish(tag) else tag)

    def add_tags(self, tags):
        self.replace_tags([], tags)

    def remove_tag(self, tag):
        self.replace_tag([tag] if tagging.is_stringish(tag) else tag, [])

    def remove_tags(self, tags):
        self.replace_tags(tags, [])

    def replace_tag(self, tag_to_remove, tag_to_add):
        remove = [tag_to_remove] if tagging.is_stringish(tag_to_remove) else tag_to_remove
        add = [tag_to_add] if tagging.is_stringish(tag_to_add) else tag_to_add
        self.replace_tags(remove, add)

    def replace_tags(self, tags_to_remove, tags_to_add):
        """Remove, then add, atomically for this run (Metaflow's rules: system tags stay)."""
        fresh = _RunState(self._ds, self.id)
        final = tagging.mutate(fresh.user_tags, fresh.system_tags, tags_to_remove, tags_to_add)
        if final is not None:
            records.write_user_tags(self._ds, self.id, final)
            fresh.user_tags = frozenset(final)
        self._run.user_tags = fresh.user_tags
        self._run.system_tags = fresh.system_tags

    # -- contents -------------------------------------------------------------------
    def _step(self, name: str) -> "Step":
        return Step(f"{self.pathspec}/{name}", _run=self._run, **self._child_options())

    def steps(self, *tags: str) -> list["Step"]:
        found = [self._step(n) for n in records.step_names(self._ds, self.id)]
        found = [s for s in found if s._task_ids()]
        found.sort(key=lambda s: s._started_ts(), reverse=True)  # Metaflow: latest first
        return self._filtered(found, tags)

    def __iter__(self):
        return iter(self.steps())

    def __contains__(self, step: str) -> bool:
        return "." not in str(step) and bool(records.task_ids(self._ds, self.id, str(step)))

    def __getitem__(self, step: str) -> "Step":
        if step not in self:
            raise KeyError(step)
        return self._step(step)

    def _end_step(self) -> str | None:
        end = self._run.record.get("end_step")
        if end:
            return end
        for task in (s.task for s in self.steps()):
            if task is not None and (task._graph() or {}).get("end"):
                return task._graph()["end"]
            if task is not None and (task._record or {}).get("kind") == "end":
                return task.step_name
        return "end"

    @property
    def end_task(self) -> "Task | None":
        end = self._end_step()
        if end is None or end not in self:
            return None
        return self[end].task

    @property
    def data(self):
        task = self.end_task
        return task.data if task is not None else None

    @property
    def successful(self) -> bool:
        task = self.end_task
        return bool(task is not None and task.successful)

    @property
    def finished(self) -> bool:
        task = self.end_task
        return bool(task is not None and task.finished)

    @property
    def finished_at(self):
        task = self.end_task
        return task.finished_at if task is not None else None

    @property
    def created_at(self):
        return _time(self._run.record.get("created_at"))

    @property
    def code(self):
        for step in self.steps():
            task = step._any_task()
            if task is not None and task.code is not None:
                return task.code
        return None

    @property
    def origin_pathspec(self) -> str:
        # Metaflow: "<Flow>/<origin-run-id>", the id being "None" for a run that is not a resume
        return f"{self.flow_name}/{self._run.record.get('origin_run_id')}"

    @property
    def trigger(self):
        return None

    # sfncompile's additions
    @property
    def user(self) -> str | None:
        return self._run.record.get("user")

    @property
    def origin_run_id(self) -> str | None:
        return self._run.record.get("origin_run_id")

    @property
    def parameters(self) -> dict:
        return dict(self._run.record.get("parameters") or {})


class Step(MetaflowObject):
    """One step of a run: its tasks (in foreach index order)."""

    _NAME = "step"
    _PARENT = "run"

    def _load(self) -> None:
        if self._run is None:
            if not records.run_exists(self._ds, self._parts[1]):
                raise MetaflowNotFound(f"Step('{self.pathspec}') does not exist")
            self._run = _RunState(self._ds, self._parts[1])
        if "." in self.id or not self._task_ids():
            raise MetaflowNotFound(f"Step('{self.pathspec}') does not exist")

    @property
    def run_id(self) -> str:
        return self._parts[1]

    @property
    def step_name(self) -> str:
        return self.id

    def _task_ids(self) -> list[str]:
        return records.task_ids(self._ds, self.run_id, self.id)

    def _task(self, task_id: str) -> "Task":
        return Task(f"{self.pathspec}/{task_id}", _run=self._run, **self._child_options())

    def _started_ts(self) -> float:
        ids = self._task_ids()
        return self._task(ids[0])._started_ts() if ids else 0.0

    def tasks(self, *tags: str) -> list["Task"]:
        """This step's tasks, newest first (Metaflow lists children by creation time, latest
        first); tasks started at the same moment stay in index order."""
        found = [self._task(t) for t in self._task_ids()]
        found.sort(key=lambda t: t._started_ts(), reverse=True)  # stable: ties keep index order
        return self._filtered(found, tags)

    def _any_task(self) -> "Task | None":
        """One task of the step, without reading them all (for what every task shares)."""
        ids = self._task_ids()
        return self._task(ids[0]) if ids else None

    def __iter__(self):
        return iter(self.tasks())

    def __contains__(self, task_id: str) -> bool:
        return str(task_id) in self._task_ids()

    def __getitem__(self, task_id: str) -> "Task":
        if str(task_id) not in self._task_ids():
            raise KeyError(task_id)
        return self._task(str(task_id))

    @property
    def task(self) -> "Task | None":
        """A task of this step: the newest, as Metaflow's (the only one outside a foreach)."""
        tasks = self.tasks() if len(self._task_ids()) > 1 else [self._any_task()]
        return tasks[0] if tasks else None

    @property
    def control_task(self):
        return None

    def control_tasks(self, *tags):
        return iter(())

    @property
    def created_at(self):
        return _time(self._started_ts())

    @property
    def finished_at(self):
        times = [t.finished_at for t in self.tasks()]
        return max(times) if times and all(times) else None

    @property
    def origin_pathspec(self) -> str | None:
        return f"{self.parent.origin_pathspec}/{self.id}"

    @property
    def environment_info(self):
        return None

    def _graph(self) -> dict | None:
        task = self._any_task()
        return task._graph() if task is not None else None

    @property
    def parent_steps(self):
        graph = self._graph()
        if graph is None:
            return iter(())
        flow, run, _ = self._parts
        return iter([Step(f"{flow}/{run}/{p}", _namespace_check=False, _run=self._run)
                     for p in lineage.parent_steps(graph, self.id) if p in self.parent])

    @property
    def child_steps(self):
        graph = self._graph()
        if graph is None:
            return iter(())
        flow, run, _ = self._parts
        return iter([Step(f"{flow}/{run}/{c}", _namespace_check=False, _run=self._run)
                     for c in lineage.child_steps(graph, self.id) if c in self.parent])


class Task(MetaflowObject):
    """One task: its latest committed attempt (the successful one if any), or ``attempt=N``."""

    _NAME = "task"
    _PARENT = "step"

    def _load(self) -> None:
        flow, run_id, step, task_id = self._parts
        self.flow_name, self.run_id, self.step_name = flow, run_id, step
        self._attempts = records.attempts(self._ds, run_id, step, task_id) if "." not in step else []
        if not self._attempts:
            raise MetaflowNotFound(f"Task('{self.pathspec}') does not exist")
        if self._run is None:
            self._run = _RunState(self._ds, run_id)
        if self._attempt is not None:
            if self._attempt not in self._attempts:
                raise MetaflowNotFound(f"Task('{self.pathspec}') has no attempt {self._attempt}")
            self._current = self._attempt
            self._record = records.attempt_record(self._ds, run_id, step, task_id, self._attempt)
        else:
            self._record = (records.latest_record(self._ds, run_id, step, task_id, ok_only=True)
                            or records.latest_record(self._ds, run_id, step, task_id, ok_only=False))
            self._current = int(self._record["attempt"]) if self._record and "attempt" in self._record \
                else self._attempts[-1]
        self._derived = None

    # -- records --------------------------------------------------------------------
    def _started(self, attempt: int | None = None) -> dict:
        attempt = self._current if attempt is None else attempt
        return records.attempt_started(self._ds, self.run_id, self.step_name, self.id, attempt)

    def _started_ts(self) -> float:
        if self._record and self._record.get("started_at"):
            return float(self._record["started_at"])
        return float(self._started().get("started_at") or 0)

    def _code_sha(self) -> str | None:
        return (self._record or {}).get("code_sha256")

    def _graph(self) -> dict | None:
        graph = code_mod.graph(self._ds, self._code_sha())
        return graph if graph is not None and self.step_name in graph.get("steps", {}) else None

    def _split_info(self, foreach_step: str, index_path: str):
        """(var, width, items) of foreach step ``foreach_step``'s task at ``index_path``."""
        graph = self._graph() or {}
        level = lineage.depth(graph, foreach_step) if foreach_step in graph.get("steps", {}) else 0
        task_id = lineage.first_visits(records.task_ids(self._ds, self.run_id, foreach_step), level).get(index_path)
        record = (records.latest_record(self._ds, self.run_id, foreach_step, task_id, ok_only=True) or {}) \
            if task_id else {}
        foreach = record.get("foreach") or {}
        var = foreach.get("var")
        items = None
        ref = (record.get("artifacts") or {}).get(var)
        if ref is not None:
            try:
                items = self._ds.load_artifact(ref)
            except Exception:  # the frame keeps its index and width without the value
                items = None
        return var, foreach.get("width"), items

    # -- artifacts --------------------------------------------------------------------
    def _stored_refs(self) -> dict:
        return dict((self._record or {}).get("artifacts") or {})

    def _refs(self) -> dict:
        """name -> stored artifact reference (sha, size, ...), the derived artifacts left out."""
        return self._stored_refs()

    def _system(self) -> dict:
        if self._derived is None:
            self._derived = arts.system_artifacts(self)
        return self._derived

    def _artifact_names(self) -> list[str]:
        stored = self._stored_refs()
        return sorted(set(stored) | set(self._system()))

    def _value(self, name: str):
        stored = self._stored_refs()
        if name in stored:
            return arts.load_stored(self, stored[name], name)
        return self._system()[name]()

    def __iter__(self):
        return iter([DataArtifact(f"{self.pathspec}/{n}", attempt=self._attempt, _task=self, _run=self._run,
                                  **self._child_options())
                     for n in self._artifact_names() if not arts.is_private(n)])

    def __contains__(self, name: str) -> bool:
        return name in self._artifact_names()

    def __getitem__(self, name: str) -> "DataArtifact":
        if name not in self._artifact_names():
            raise KeyError(name)
        return DataArtifact(f"{self.pathspec}/{name}", attempt=self._attempt, _task=self, _run=self._run,
                            **self._child_options())

    @property
    def data(self) -> arts.MetaflowData:
        return arts.MetaflowData(self)

    @property
    def artifacts(self):
        return arts.artifacts_tuple(self)

    # -- status -------------------------------------------------------------------
    @property
    def successful(self) -> bool:
        # Metaflow's ``_success``: False for a task whose exception @catch caught (the run goes
        # on, the task did not succeed)
        return self.finished and not self._record.get("caught")

    @property
    def finished(self) -> bool:
        # Metaflow's ``_task_ok``: the task completed (an exception caught by @catch included)
        return bool(self._record and self._record.get("status") == "ok")

    @property
    def finished_at(self):
        return _time((self._record or {}).get("finished_at"))

    @property
    def created_at(self):
        return _time(self._started_ts())

    @property
    def exception(self):
        """The failure of the shown attempt; None when it succeeded (a caught failure is in @catch's var)."""
        from ..exceptions import ExceptionWrapper

        record = self._record or {}
        exc = record.get("exception") if record.get("status") == "failed" else None
        if not exc:
            return None
        return ExceptionWrapper(exc.get("type", "Exception"), exc.get("message", ""), exc.get("traceback", ""))

    @property
    def current_attempt(self) -> int:
        return self._current

    @property
    def retry_count(self) -> int:
        return int((self._record or self._started()).get("retry_count") or 0)

    def _index_path(self) -> str:
        """This task's foreach index path, as its record states it."""
        return str((self._record or self._started()).get("index_path") or "")

    @property
    def index(self):
        """The innermost foreach index of this task, None outside a foreach."""
        path = self._index_path()
        return int(path.rsplit(".", 1)[-1]) if path else None

    @property
    def runtime_name(self) -> str | None:
        return next((t.split(":", 1)[1] for t in self.tags if t.startswith("runtime:")), None)

    @property
    def code(self):
        sha = self._code_sha()
        return code_mod.MetaflowCode(self.flow_name, self._ds, sha) if sha else None

    @property
    def environment_info(self):
        return None

    # -- metadata -------------------------------------------------------------------
    def _cloned_from(self) -> dict | None:
        cloned = (self._record or {}).get("cloned_from")
        return cloned if isinstance(cloned, dict) and cloned.get("run_id") else None

    @property
    def metadata(self) -> list:
        cloned = self._cloned_from()
        if cloned:
            origin = Task(self._origin_pathspec(cloned), attempt=cloned.get("attempt"), _namespace_check=False)
            events = [md.Metadata(m.name, m.value, m.created_at, m.type, self) for m in origin.metadata
                      if m.name not in ("origin-run-id", "origin-task-id")]
            stamp = max((m.created_at for m in events), default=0)
            events.append(md.Metadata("origin-run-id", str(cloned["run_id"]), stamp, "origin-run-id", self))
            events.append(md.Metadata("origin-task-id", self._origin_task_id(cloned), stamp, "origin-task-id", self))
            return events
        graph = self._graph()
        foreach_path = lineage.foreach_execution_path(graph, self.step_name, self._index_path()) if graph else None
        storage = self._ds.storage
        common = {"user": self._run.record.get("user"), "script": os.path.basename((graph or {}).get("file") or "") or None,
                  "origin_run_id": self._run.record.get("origin_run_id"),
                  "ds_type": "local" if storage.is_local else "s3", "ds_root": records.datastore_root(),
                  "foreach_path": foreach_path, "task": self,
                  "code_url": lambda sha: storage.url(f"{self.flow_name}/code/{sha}.tar.gz")}
        events = []
        for attempt in ([self._attempt] if self._attempt is not None else self._attempts):
            record = records.attempt_record(self._ds, self.run_id, self.step_name, self.id, attempt)
            started = self._started(attempt)
            if not started and record is None:
                continue
            events.extend(md.attempt_events(attempt=attempt, started=started, record=record, **common))
        return events

    @property
    def metadata_dict(self) -> dict:
        return md.as_dict(self.metadata)

    @property
    def origin_pathspec(self) -> str | None:
        cloned = self._cloned_from()
        if not cloned:
            return None
        return self._origin_pathspec(cloned)

    def _origin_task_id(self, cloned: dict) -> str:
        """The id of the task a clone was made from: its own in the origin run (records written
        before run-unique ids stored none, as the clone had the origin's id then)."""
        return str(cloned.get("task_id") or self.id)

    def _origin_pathspec(self, cloned: dict) -> str:
        return f"{self.flow_name}/{cloned['run_id']}/{self.step_name}/{self._origin_task_id(cloned)}"

    # -- logs -----------------------------------------------------------------------
    def _log_source(self) -> tuple[str, str, int]:
        cloned = self._cloned_from()
        if cloned:  # a resumed run's clone: the log is the origin's
            return cloned["run_id"], self._origin_task_id(cloned), int(cloned.get("attempt") or 0)
        return self.run_id, self.id, self._current

    def _log(self, stream: str) -> str:
        run_id, task_id, attempt = self._log_source()
        return records.log_text(self._ds, run_id, self.step_name, task_id, attempt, stream)

    @property
    def stdout(self) -> str:
        return self._log("stdout")

    @property
    def stderr(self) -> str:
        return self._log("stderr")

    @property
    def stdout_size(self) -> int:
        return len(self._log("stdout").encode())

    @property
    def stderr_size(self) -> int:
        return len(self._log("stderr").encode())

    def loglines(self, stream: str, as_unicode: bool = True, meta_dict=None):
        """(timestamp, line) pairs. sfncompile records no per-line time: every line
        carries the attempt's start time (a UTC naive datetime, as Metaflow's)."""
        if stream not in ("stdout", "stderr"):
            raise ValueError(f"stream must be 'stdout' or 'stderr', got {stream!r}")
        text = self._log(stream)
        if not text:
            yield None, ""
            return
        stamp = _dt.datetime.fromtimestamp(self._started_ts(), _dt.timezone.utc).replace(tzinfo=None)
        for line in text.splitlines():
            yield stamp, (line if as_unicode else line.encode())

    # -- lineage --------------------------------------------------------------------
    def _related(self, steps) -> list[str]:
        graph = self._graph()
        if graph is None:
            return []
        flow, run_id = self.flow_name, self.run_id
        found = []
        for other in steps(graph, self.step_name):
            existing = records.task_ids(self._ds, run_id, other)
            found.extend(f"{flow}/{run_id}/{other}/{t}"
                         for t in lineage.related(graph, self.step_name, self._index_path(), other, existing))
        return found

    @property
    def parent_task_pathspecs(self):
        return iter(self._related(lineage.parent_steps))

    @property
    def child_task_pathspecs(self):
        return iter(self._related(lineage.child_steps))

    @property
    def parent_tasks(self):
        return iter([Task(p, _namespace_check=False) for p in self._related(lineage.parent_steps)])

    @property
    def child_tasks(self):
        return iter([Task(p, _namespace_check=False) for p in self._related(lineage.child_steps)])


class DataArtifact(MetaflowObject):
    """One artifact of a task: ``.data`` loads it."""

    _NAME = "artifact"
    _PARENT = "task"

    def __init__(self, pathspec: str | None = None, attempt: int | None = None, _task: Task | None = None, **kwargs):
        self._task_obj = _task
        super().__init__(pathspec, attempt=attempt, **kwargs)

    def _load(self) -> None:
        if self._task_obj is None:
            self._task_obj = Task("/".join(self._parts[:4]), attempt=self._attempt, _namespace_check=False,
                                  _run=self._run)
        self._run = self._task_obj._run
        if self.id not in self._task_obj._artifact_names():
            raise MetaflowNotFound(f"DataArtifact('{self.pathspec}') does not exist")
        self._ref = self._task_obj._stored_refs().get(self.id)

    @property
    def name(self) -> str:
        return self.id

    @property
    def data(self):
        return self._task_obj._value(self.id)

    @property
    def sha(self) -> str:
        if self._ref is not None:
            return self._ref["sha"]
        return arts.derived_sha(self.data)

    @property
    def size(self) -> int:
        return int((self._ref or {}).get("size") or 0)

    @property
    def type(self) -> str:
        return (self._ref or {}).get("type", type(self.data).__name__)

    @property
    def created_at(self):
        return self._task_obj.finished_at

    @property
    def finished_at(self):
        return self.created_at


class Metaflow:
    """Every flow in the datastore (``Metaflow().flows``), in the current namespace."""

    def __init__(self, _current_metadata: str | None = None):
        self._namespace = namespaces.get_namespace()

    @property
    def flows(self) -> list[Flow]:
        found = []
        for name in records.flow_names():
            try:
                found.append(Flow(name, _current_namespace=self._namespace))
            except (MetaflowNotFound, MetaflowNamespaceMismatch):
                continue
        return found

    def __iter__(self):
        return iter(self.flows)

    def __getitem__(self, name: str) -> Flow:
        return Flow(name, _current_namespace=self._namespace)

    def __str__(self) -> str:
        return "Metaflow()"
