"""The client API: read runs, steps, tasks and artifacts back (Metaflow's shape).

``Flow("Name").latest_run``, ``Run("Name/<run_id>")["step"].task.data.x``,
``run.data.x`` (the end step's), ``run.successful``, ``task.stdout``,
``task.exception``, ``namespace("user:alice")`` / ``namespace(None)``. It reads
the datastore the runtime writes (docs/datastore.md): the root comes from
``SFNCOMPILE_DATASTORE`` (a directory or ``s3://bucket/prefix``), default
``./.sfncompile``. Artifacts are loaded only when read.
"""

from __future__ import annotations

import datetime as _dt
import os

from . import envnames
from .datastore import Datastore, default_user
from .storage import open_storage

DEFAULT_ROOT = envnames.DEFAULT_DATASTORE
_UNSET = object()
_namespace = _UNSET


class MetaflowNotFound(Exception):
    pass


class MetaflowNamespaceMismatch(Exception):
    def __init__(self, namespace):
        super().__init__(f"object not in the current namespace {namespace!r}; use namespace(None) to see everything")


def datastore_root() -> str:
    root = os.environ.get(envnames.DATASTORE) or DEFAULT_ROOT
    return root if root.startswith("s3://") else os.path.abspath(root)


def namespace(ns):
    """Set the namespace (``"user:alice"``, ``"production:<token>"``, or None for all) and return it."""
    global _namespace
    _namespace = ns
    return ns


def default_namespace():
    """Back to the default namespace: the running task's, else ``user:<you>``."""
    global _namespace
    from .current import current

    _namespace = current.namespace if current.is_running_flow and current.namespace else f"user:{default_user()}"
    return _namespace


def get_namespace():
    if _namespace is _UNSET:
        return default_namespace()
    return _namespace


def _time(value):
    if value is None:
        return None
    return _dt.datetime.fromtimestamp(float(value), tz=_dt.timezone.utc)


_stores: dict = {}


def _store(flow: str) -> Datastore:
    root = datastore_root()
    key = (root, flow)
    if key not in _stores:
        _stores[key] = Datastore(open_storage(root), flow)
    return _stores[key]


def _split(pathspec: str, parts: int, kind: str) -> list[str]:
    pieces = [p for p in str(pathspec).split("/") if p]
    if len(pieces) != parts:
        raise MetaflowNotFound(f"{kind} pathspec must look like {'/'.join(['Flow', 'run_id', 'step', 'task_id'][:parts])}, "
                               f"got {pathspec!r}")
    return pieces


class MetaflowObject:
    _NAME = "object"

    def __init__(self, pathspec: str):
        self.pathspec = pathspec

    @property
    def id(self) -> str:
        return self.pathspec.rsplit("/", 1)[-1]

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{self.pathspec}')"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.pathspec == other.pathspec

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.pathspec))


class Flow(MetaflowObject):
    """A flow: its runs in the current namespace, newest first."""

    def __init__(self, pathspec: str):
        name = _split(pathspec, 1, "Flow")[0]
        super().__init__(name)
        self.name = name
        self._store = _store(name)
        if not self._store.storage.list_children(f"{name}/runs"):
            raise MetaflowNotFound(f"flow {name} has no runs in the datastore {datastore_root()}")

    def _run_ids(self) -> list[str]:
        from .datastore import InvalidName, check_name

        ids = []
        for name in self._store.storage.list_children(f"{self.name}/runs"):
            try:
                ids.append(check_name("run id", name))
            except InvalidName:
                continue  # not a run's folder (a stray file, a hidden directory)
        return ids

    def runs(self, *tags: str) -> list["Run"]:
        runs = []
        for run_id in self._run_ids():
            run = Run(f"{self.name}/{run_id}", _namespace_check=False)
            if not run._record and self._store.storage.exists(f"{self.name}/runs/{run_id}/run.json"):
                continue  # its run.json is unreadable (the datastore warned, naming it): skipped
            if run._in_namespace() and all(t in run.tags or t in run.system_tags for t in tags):
                runs.append(run)
        runs.sort(key=lambda r: (r._created_ts(), r.id), reverse=True)
        return runs

    def __iter__(self):
        return iter(self.runs())

    def __getitem__(self, run_id: str) -> "Run":
        return Run(f"{self.name}/{run_id}")

    @property
    def latest_run(self) -> "Run | None":
        runs = self.runs()
        return runs[0] if runs else None

    @property
    def latest_successful_run(self) -> "Run | None":
        for run in self.runs():
            if run.successful:
                return run
        return None


class Run(MetaflowObject):
    """One run: ``run["step"]``, ``run.data``, ``run.successful``, tags."""

    def __init__(self, pathspec: str, _namespace_check: bool = True):
        flow, run_id = _split(pathspec, 2, "Run")
        super().__init__(f"{flow}/{run_id}")
        self.flow_name = flow
        self._store = _store(flow)
        self._record = self._store.read_run(run_id)
        if self._record is None and not self._store.storage.list_children(f"{flow}/runs/{run_id}"):
            raise MetaflowNotFound(f"run {self.pathspec} does not exist in {datastore_root()}")
        self._record = self._record or {}
        if _namespace_check and not self._in_namespace():
            raise MetaflowNamespaceMismatch(get_namespace())

    def _in_namespace(self) -> bool:
        ns = get_namespace()
        return ns is None or ns in self.tags or ns in self.system_tags

    def _created_ts(self) -> float:
        return float(self._record.get("created_at") or 0)

    @property
    def tags(self) -> frozenset:
        return frozenset(self._record.get("tags", [])) | frozenset(self._record.get("system_tags", []))

    @property
    def user_tags(self) -> frozenset:
        return frozenset(self._record.get("tags", []))

    @property
    def system_tags(self) -> frozenset:
        return frozenset(self._record.get("system_tags", []))

    def _set_tags(self, tags) -> None:
        self._record = dict(self._record, tags=sorted(set(tags)))
        self._store.write_run(self.id, self._record)

    def add_tag(self, tag: str) -> None:
        self._set_tags(set(self._record.get("tags", [])) | {tag})

    def add_tags(self, tags) -> None:
        self._set_tags(set(self._record.get("tags", [])) | set(tags))

    def remove_tag(self, tag: str) -> None:
        self._set_tags(set(self._record.get("tags", [])) - {tag})

    def replace_tag(self, old: str, new: str) -> None:
        self._set_tags((set(self._record.get("tags", [])) - {old}) | {new})

    @property
    def user(self) -> str | None:
        return self._record.get("user")

    @property
    def origin_run_id(self) -> str | None:
        return self._record.get("origin_run_id")

    @property
    def parameters(self) -> dict:
        return dict(self._record.get("parameters") or {})

    @property
    def created_at(self):
        return _time(self._record.get("created_at"))

    def steps(self) -> list["Step"]:
        names = [n for n in self._store.storage.list_children(f"{self.flow_name}/runs/{self.id}") if n != "run.json"
                 and "." not in n]
        steps = [Step(f"{self.pathspec}/{n}", _namespace_check=False) for n in names]
        steps.sort(key=lambda s: s._started_ts(), reverse=True)  # Metaflow: latest first
        return steps

    def __iter__(self):
        return iter(self.steps())

    def __contains__(self, step: str) -> bool:
        return bool(self._store.tasks(self.id, step))

    def __getitem__(self, step: str) -> "Step":
        if step not in self:
            raise KeyError(f"run {self.pathspec} has no step '{step}' (yet)")
        return Step(f"{self.pathspec}/{step}", _namespace_check=False)

    def _end_step(self) -> str | None:
        end = self._record.get("end_step")
        if end:
            return end
        if "end" in self:
            return "end"
        for step in self.steps():  # @step(end=True) on another name: records carry the step kind
            task = step.task
            if task is not None and (task._record or {}).get("kind") == "end":
                return step.id
        return None

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
        return self.successful

    @property
    def finished_at(self):
        task = self.end_task
        return task.finished_at if task is not None and task.successful else None


class Step(MetaflowObject):
    def __init__(self, pathspec: str, _namespace_check: bool = True):
        flow, run_id, step = _split(pathspec, 3, "Step")
        super().__init__(f"{flow}/{run_id}/{step}")
        self.flow_name, self.run_id, self.step_name = flow, run_id, step
        self._store = _store(flow)
        if _namespace_check:
            Run(f"{flow}/{run_id}")

    def _task_ids(self) -> list[str]:
        ids = [t for t in self._store.tasks(self.run_id, self.step_name) if "." not in t or t.replace(".", "").isdigit()]
        return sorted(ids, key=lambda t: [int(p) if p.isdigit() else p for p in t.split(".")])

    def _started_ts(self) -> float:
        ids = self._task_ids()
        if not ids:
            return 0.0
        task = Task(f"{self.pathspec}/{ids[0]}", _namespace_check=False)
        return task._started_ts()

    def tasks(self) -> list["Task"]:
        return [Task(f"{self.pathspec}/{t}", _namespace_check=False) for t in self._task_ids()]

    def __iter__(self):
        return iter(self.tasks())

    def __getitem__(self, task_id: str) -> "Task":
        return Task(f"{self.pathspec}/{task_id}", _namespace_check=False)

    @property
    def task(self) -> "Task | None":
        tasks = self.tasks()
        return tasks[0] if tasks else None

    @property
    def created_at(self):
        return _time(self._started_ts() or None)

    @property
    def finished_at(self):
        times = [t.finished_at for t in self.tasks()]
        return max(times) if times and all(times) else None


class Task(MetaflowObject):
    """One task: its latest committed attempt (the successful one if any)."""

    def __init__(self, pathspec: str, attempt: int | None = None, _namespace_check: bool = True):
        flow, run_id, step, task_id = _split(pathspec, 4, "Task")
        super().__init__(f"{flow}/{run_id}/{step}/{task_id}")
        self.flow_name, self.run_id, self.step_name = flow, run_id, step
        self._store = _store(flow)
        attempts = self._store.attempts(run_id, step, task_id)
        if not attempts:
            raise MetaflowNotFound(f"task {self.pathspec} does not exist")
        if _namespace_check:
            Run(f"{flow}/{run_id}")
        self._attempts = attempts
        self._record = None
        if attempt is not None:
            if attempt not in attempts:
                raise MetaflowNotFound(f"task {self.pathspec} has no attempt {attempt}")
            self._attempt = attempt
            self._record = self._store.attempt_record(run_id, step, task_id, attempt)
        else:
            self._record = self._store.latest_record(run_id, step, task_id, ok_only=True)
            if self._record is None:
                self._record = self._store.latest_record(run_id, step, task_id, ok_only=False)
            self._attempt = self._record["attempt"] if self._record else attempts[-1]
        self._data = None

    def _prefix(self) -> str:
        return f"{self.flow_name}/runs/{self.run_id}/{self.step_name}/{self.id}/{self._attempt}"

    def _started(self) -> dict:
        return self._store.read_json(f"{self._prefix()}/started.json") or {}

    def _started_ts(self) -> float:
        if self._record and self._record.get("started_at"):
            return float(self._record["started_at"])
        return float(self._started().get("started_at") or 0)

    @property
    def current_attempt(self) -> int:
        return self._attempt

    @property
    def retry_count(self) -> int:
        return int((self._record or self._started()).get("retry_count") or 0)

    @property
    def index(self):
        """The innermost foreach index of this task, None outside a foreach."""
        record = self._record or self._started()
        path = record.get("index_path", "")
        return int(path.rsplit(".", 1)[-1]) if path else None

    @property
    def finished(self) -> bool:
        return self._record is not None

    @property
    def successful(self) -> bool:
        return bool(self._record and self._record.get("status") == "ok")

    @property
    def created_at(self):
        return _time(self._started_ts() or None)

    @property
    def finished_at(self):
        return _time((self._record or {}).get("finished_at"))

    @property
    def origin_pathspec(self) -> str | None:
        cloned = (self._record or {}).get("cloned_from")
        if not cloned:
            return None
        return f"{self.flow_name}/{cloned['run_id']}/{self.step_name}/{self.id}"

    @property
    def exception(self):
        from .exceptions import ExceptionWrapper

        record = self._record or {}
        exc = record.get("exception") or record.get("caught")
        if not exc:
            return None
        return ExceptionWrapper(exc.get("type", "Exception"), exc.get("message", ""), exc.get("traceback", ""))

    def _log(self, name: str) -> str:
        prefix = self._prefix()
        cloned = (self._record or {}).get("cloned_from")
        if cloned:  # a resumed run's clone: the log is the origin's
            prefix = f"{self.flow_name}/runs/{cloned['run_id']}/{self.step_name}/{self.id}/{cloned.get('attempt', 0)}"
        data = self._store.storage.get_bytes(f"{prefix}/{name}.log")
        return data.decode("utf-8", "replace") if data else ""

    @property
    def stdout(self) -> str:
        return self._log("stdout")

    @property
    def stderr(self) -> str:
        return self._log("stderr")

    def _refs(self) -> dict:
        return dict((self._record or {}).get("artifacts") or {})

    @property
    def data(self) -> "_Data":
        if self._data is None:
            self._data = _Data(self)
        return self._data

    @property
    def artifacts(self) -> "_Artifacts":
        return _Artifacts(self)

    def __iter__(self):
        return iter([DataArtifact(self, name) for name in sorted(self._refs())])

    def __contains__(self, name: str) -> bool:
        return name in self._refs()

    def __getitem__(self, name: str) -> "DataArtifact":
        if name not in self._refs():
            raise KeyError(f"task {self.pathspec} has no artifact '{name}'")
        return DataArtifact(self, name)

    @property
    def parent(self) -> Step:
        return Step(f"{self.flow_name}/{self.run_id}/{self.step_name}", _namespace_check=False)


class DataArtifact(MetaflowObject):
    def __init__(self, task: Task, name: str):
        super().__init__(f"{task.pathspec}/{name}")
        self._task = task
        self._ref = task._refs()[name]
        self.name = name

    @property
    def data(self):
        return self._task.data._get(self.name)

    @property
    def sha(self) -> str:
        return self._ref["sha"]

    @property
    def size(self) -> int:
        return int(self._ref.get("size") or 0)

    @property
    def type(self) -> str:
        return self._ref.get("type", "")

    @property
    def finished_at(self):
        return self._task.finished_at


class _Data:
    """``task.data.<name>``: artifact values, each loaded on first access."""

    def __init__(self, task: Task):
        self.__dict__["_task"] = task
        self.__dict__["_cache"] = {}

    def _get(self, name: str):
        cache = self.__dict__["_cache"]
        if name not in cache:
            task = self.__dict__["_task"]
            refs = task._refs()
            if name not in refs:
                raise AttributeError(f"task {task.pathspec} has no artifact '{name}'")
            try:
                cache[name] = task._store.load_artifact(refs[name])
            except ModuleNotFoundError as exc:
                # A class defined in the flow file: import the flow from the run's code package, retry once.
                if not _import_flow_module(task, exc.name):
                    raise
                cache[name] = task._store.load_artifact(refs[name])
        return cache[name]

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.__dict__["_task"]._refs()

    def __dir__(self):
        return sorted(self.__dict__["_task"]._refs())

    def __repr__(self) -> str:
        return f"<data of {self.__dict__['_task'].pathspec}: {', '.join(sorted(self.__dict__['_task']._refs()))}>"


def _import_flow_module(task: "Task", missing: str | None) -> bool:
    """Make the flow module importable from the task's code package (for unpickling)."""
    import io
    import sys
    import tarfile
    import tempfile

    record = task._record or {}
    sha, module = record.get("code_sha256"), record.get("flow_module")
    if not sha or not module or missing != module or module in sys.modules:
        return False
    data = task._store.storage.get_bytes(f"{task.flow_name}/code/{sha}.tar.gz")
    if data is None:
        return False
    target = os.path.join(tempfile.gettempdir(), "sfncompile-client-code", sha)
    if not os.path.isdir(target):
        tmp = f"{target}.tmp{os.getpid()}"
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(tmp, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        try:
            os.rename(tmp, target)
        except OSError:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    import importlib.util
    import json

    with open(os.path.join(target, "sfncompile_package.json")) as src:
        manifest = json.load(src)
    if "metaflow" not in sys.modules:  # a flow written for Metaflow imports its names
        try:
            import metaflow  # noqa: F401 - a real Metaflow install is fine too
        except ImportError:
            from . import api

            sys.modules["metaflow"] = api
    spec = importlib.util.spec_from_file_location(module, os.path.join(target, manifest["flow_file"]))
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[module] = loaded
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        del sys.modules[module]
        raise
    return True


class _Artifacts:
    """``task.artifacts.<name>`` → DataArtifact."""

    def __init__(self, task: Task):
        self._task = task

    def __getattr__(self, name: str) -> DataArtifact:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._task[name]
        except KeyError as exc:
            raise AttributeError(str(exc))

    def __iter__(self):
        return iter(self._task)
