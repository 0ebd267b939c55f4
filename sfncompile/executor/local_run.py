"""A local run: compile the flow, store its code package, run the state machine here.

The same definition ``sfncompile compile`` emits is interpreted, with its
placeholders filled by local values: Batch jobs become local processes
(``LocalBatch``), DynamoDB reads and writes go to the side channel (SQLite
next to a local datastore, the DynamoDB table with an S3 one) and the
Distributed Map's manifest is read from the datastore.

``start_run`` is ``sfncompile run``; ``resume_run`` is ``sfncompile resume``:
a new run whose record names the origin run and the steps to re-run, so each
task of a step not re-run clones the origin's committed attempt (the
runtime's mechanism; nothing here knows which tasks ran).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sfncompile_runtime import envnames

from ..diagnostics import UserError
from .batch import JobRecord, LocalBatch, LocalJobDefinition
from .cancel import CancelToken
from .errors import DefinitionError
from .interpreter import ExecutionResult, Interpreter
from .progress import job_label, job_task_id
from .services import LOCAL_BUCKET, BATCH_SUBMIT_SYNC, S3_GET_OBJECT, SideChannelService, s3_get_object

LOCAL_JOB_QUEUE = "sfncompile-local"
LOCAL_SIDE_CHANNEL_TABLE = "sfncompile-local-side-channel"
LOG_LINES_ON_FAILURE = 20
DEFAULT_MAX_NUM_SPLITS = 100  # Metaflow's default for --max-num-splits


@dataclass
class PreparedRun:
    """Everything a run needs, built before anything executes."""

    flow_path: Path
    graph: Any
    flow: str
    root: str  # datastore root (absolute directory or s3://...)
    definition: dict  # placeholders filled
    job_definitions: dict[str, LocalJobDefinition]
    side_channel: str
    code_url: str
    code_sha256: str
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class RunOutcome:
    flow: str
    run_id: str
    result: ExecutionResult
    jobs: list[JobRecord]
    seconds: float
    origin_run_id: str | None = None
    rerun_steps: list[str] | None = None
    step_numbers: dict[str, int] = field(default_factory=dict)  # the graph's, for task ids
    root: str = ""  # the datastore root, to find which visit of a loop step a job ran

    @property
    def succeeded(self) -> bool:
        return self.result.succeeded

    @property
    def status(self) -> str:
        return self.result.status

    def failed_job(self) -> JobRecord | None:
        # An @exit_hook job never decides the run's outcome: the failed task is a step's.
        failed = [j for j in self.jobs if j.status != "SUCCEEDED" and j.parameters.get("mode") != "exit-hook"]
        return failed[-1] if failed else None

    def pathspec(self, job: JobRecord) -> str:
        step = job_label(job.parameters)
        task_id = job_task_id(self.step_numbers, step, job.environment.get(envnames.INDEX_PATH, ""))
        if self.root and step in self.step_numbers:
            from sfncompile_runtime.datastore import Datastore

            # A step in a switch loop runs each visit as a task of its own (``<id>-<k>``): the
            # job that failed ran the newest one.
            visits = Datastore(self.root, self.flow).visits(self.run_id, step, task_id)
            task_id = visits[-1] if visits else task_id
        return f"{self.flow}/{self.run_id}/{step}/{task_id}"

    def transitions(self) -> int:
        return self.result.state_transitions()

    def history_events(self) -> int:
        return self.result.history_events()

    def failure_summary(self) -> list[str]:
        """Lines to print for a failed run: the failing task, its error and its last log lines."""
        result = self.result
        lines = [f"run {self.flow}/{self.run_id} {result.status.lower()}"]
        job = self.failed_job()
        if job is not None:
            lines.append(f"failed task: {self.pathspec(job)} ({job.reason}, exit code {job.exit_code}, "
                         f"{job.attempts} attempt{'s' if job.attempts != 1 else ''})")
        if result.error:
            cause = result.cause or ""
            if job is not None and cause.startswith("{"):
                cause = f"job {job.job_name} {job.status.lower()}: {job.reason}"
            lines.append(f"error: {result.error}" + (f": {cause}" if cause else ""))
        if job is not None and job.log_tail:
            lines.append(f"last lines of its log ({job.log_path}):")
            lines.extend("    " + line for line in job.log_tail[-LOG_LINES_ON_FAILURE:])
        return lines


def resolve_root(datastore: str | None) -> str:
    from ..config import Config

    root = datastore or Config.load().get("datastore")
    if not str(root).startswith("s3://"):
        root = os.path.abspath(root)
    return str(root)


def _side_channel_spec(root: str, table: str | None) -> str:
    if root.startswith("s3://"):
        from ..config import Config

        table = table or Config.load().get("side_channel_table")
        if not table:
            raise UserError("a run on an S3 datastore needs a DynamoDB side-channel table: "
                            "pass --side-channel-table, set SFNCOMPILE_SIDE_CHANNEL_TABLE or add "
                            "'side_channel_table = ...' under [tool.sfncompile] in pyproject.toml")
        return table
    return "sqlite://" + os.path.join(root, "sidechannel.db")


def prepare(flow_path: str | os.PathLike, *, datastore: str | None = None, side_channel_table: str | None = None,
            compile_options: Any = None, with_specs=(),
            on_first_task: Callable[[LocalJobDefinition, dict[str, str]], None] | None = None) -> PreparedRun:
    """Load, lint, compile and package the flow; store the package. Raises UserError.

    ``on_first_task(job definition, environment)`` is called, as soon as they are known, with the
    job definition of the start step's task and that task's own environment variables (per-task
    variables excluded): a caller starts its warm process then (``batch.prestart_zygote``), while
    the state machine is compiled and the run set up."""
    from sfncompile_runtime.storage import open_storage

    from ..backends.jobdefs import JobDefinitionSettings, job_definitions, step_environment
    from .graph_cache import load_graph_cached, stored_code_package

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    path = Path(flow_path)
    if not path.is_file():
        raise UserError(f"no such flow file: {flow_path}")
    graph = load_graph_cached(path, None, with_specs)
    timings["load_graph"] = time.perf_counter() - t0
    root = resolve_root(datastore)
    side_channel = _side_channel_spec(root, side_channel_table)
    t0 = time.perf_counter()
    try:
        code_url, code_sha256 = stored_code_package(graph, path, root)
    except Exception as exc:  # an unreachable endpoint or bucket is the user's to fix
        raise UserError(f"cannot store the code package under {root}: {exc}") from None
    timings["package"] = time.perf_counter() - t0
    settings = JobDefinitionSettings(code_url=code_url, code_sha256=code_sha256, datastore=root,
                                     side_channel=side_channel)
    specs = job_definitions(graph, settings)
    local_defs = {}
    placeholders = {}
    for key, spec in specs.items():
        name = f"{graph.name}-{key}"
        local_defs[name] = LocalJobDefinition.from_spec(name, spec)
        local_defs[name].fresh_process = builds_own_interpreter(graph, spec.steps)
        placeholders[spec.placeholder] = name
        if on_first_task is not None and graph.start in spec.steps:
            on_first_task(local_defs[name], step_environment(graph.steps[graph.start]))
    # The back end is imported only now: its import and the compile overlap the first task's
    # warm process starting (the package before the compile: a flow the compile refuses has
    # stored a package it never runs, harmlessly: content-addressed).
    from ..backends.asl import compile_definition, substitute, substitutions_needed

    t0 = time.perf_counter()
    definition = compile_definition(graph, compile_options)
    timings["compile"] = time.perf_counter() - t0
    storage = open_storage(root)
    values = {"JobQueue": LOCAL_JOB_QUEUE,
              "SideChannelTable": LOCAL_SIDE_CHANNEL_TABLE if storage.is_local else side_channel,
              # A Distributed Map's ResultWriter bucket; locally nothing is exported there.
              "MapResultBucket": LOCAL_BUCKET if storage.is_local else storage.bucket}
    values.update(placeholders)
    needed = substitutions_needed(definition)
    for name in needed:
        if name.startswith("JobQueue"):  # ${JobQueue}, ${JobQueueGpu}, ...: one local runner
            values.setdefault(name, LOCAL_JOB_QUEUE)
    missing = needed - set(values)
    if missing:
        raise UserError(f"the state machine needs values the local executor does not provide: {', '.join(sorted(missing))}")
    definition = substitute(definition, values)
    return PreparedRun(path.resolve(), graph, graph.name, root, definition, local_defs, side_channel,
                       code_url, code_sha256, timings)


def builds_own_interpreter(graph, steps) -> bool:
    """Some of these steps run in a @pypi/@conda environment (their own interpreter): they
    start as fresh processes even under warm start."""
    flow_level = {d.name for d in graph.decorators}
    if flow_level & {"pypi_base", "conda_base"}:
        return True
    return any(d.name in ("pypi", "conda") for name in steps if name in graph.steps
               for d in graph.steps[name].decorators)


def warm_start_enabled(warm_start: bool | None) -> bool:
    """Warm start is the default where it works; SFNCOMPILE_WARM_START=0 (or --no-warm-start)
    starts every task as a fresh process."""
    if warm_start is not None:
        return warm_start
    from .warm import supported

    return supported() and os.environ.get("SFNCOMPILE_WARM_START", "1") not in ("0", "false", "no")


def task_base_environment(max_num_splits: int | None) -> dict[str, str]:
    """The environment every task of a run starts from (before its job definition's): this
    process's, with the run's foreach cap."""
    environment = dict(os.environ)
    environment.pop(envnames.MAX_NUM_SPLITS, None)
    if max_num_splits is not None:
        environment[envnames.MAX_NUM_SPLITS] = str(max_num_splits)
    return environment


def _log_dir(root: str, flow: str, run_id: str) -> str:
    if root.startswith("s3://"):
        return os.path.join(tempfile.gettempdir(), "sfncompile-logs", flow, run_id)
    return os.path.join(root, "_local_logs", flow, run_id)


def execute(prepared: PreparedRun, parameters: dict[str, Any], *, run_id: str | None = None,
            max_workers: int | None = None, tags: list[str] | None = None,
            origin_run_id: str | None = None, rerun_steps: list[str] | None = None,
            cancel: CancelToken | None = None, timeout: float | None = None,
            on_job_event: Callable[[str, dict], None] | None = None, warm_start: bool | None = None,
            on_started: Callable[[str], None] | None = None, hybrid=None, retry_delays: bool = False,
            max_num_splits: int | None = DEFAULT_MAX_NUM_SPLITS, warm_pool=None) -> RunOutcome:
    """Write the run record and run the state machine here; returns when the run ends.

    ``hybrid`` (``hybrid.HybridTarget``) sends its steps' Batch jobs to AWS Batch.
    ``retry_delays`` False (the default) retries a failed task at once, as Metaflow's local
    runtime does; True waits the state machine's ``IntervalSeconds`` as AWS will.
    ``max_num_splits`` caps a foreach's width (Metaflow's ``--max-num-splits``; None: no cap).
    ``warm_pool``: the ``warm.ZygotePool`` to fork tasks from (one the caller started a zygote in
    ahead, see ``prepare``'s ``on_first_task``); the run closes it."""
    from sfncompile_runtime.datastore import write_run_record
    from sfncompile_runtime.sidechannel import open_side_channel

    from ..deploy.runids import new_run_id

    run_id = run_id or new_run_id()
    warm_start = warm_start_enabled(warm_start)
    try:
        batch = LocalBatch(prepared.job_definitions, log_dir=_log_dir(prepared.root, prepared.flow, run_id),
                           on_event=on_job_event, warm_start=warm_start,
                           base_environment=task_base_environment(max_num_splits), warm_pool=warm_pool)
    except RuntimeError as exc:
        if warm_pool is not None:
            warm_pool.close()
        raise UserError(str(exc)) from None
    if hybrid is not None:
        from .remote_batch import RoutedBatch

        batch = RoutedBatch(batch, hybrid.batch(on_job_event), hybrid.steps)
    else:
        # The first task's warm process starts while the rest of this setup runs (the other
        # job definitions' start when first needed: a step may never run).
        request = _submit_request(prepared.definition, prepared.graph.start)
        if request is not None:
            batch.prestart(request)
    try:
        channel = open_side_channel(prepared.side_channel)
    except BaseException as exc:
        batch.close()
        from sfncompile_runtime.sidechannel import SideChannelUnusable

        if isinstance(exc, SideChannelUnusable):
            raise UserError(str(exc)) from None
        raise
    try:
        resources = {BATCH_SUBMIT_SYNC: batch.submit_job_sync, S3_GET_OBJECT: s3_get_object}
        resources.update(SideChannelService(channel).handlers())
        workers = max_workers or os.cpu_count() or 1
        try:
            # Validates the definition (resources included) before the run exists.
            interpreter = Interpreter(prepared.definition, resources, max_workers=workers,
                                      state_machine_name=prepared.flow, retry_delays=retry_delays)
        except DefinitionError as exc:
            raise UserError(f"cannot run {prepared.flow} locally: {exc}") from None
        write_run_record(prepared.root, prepared.flow, run_id, parameters=parameters, tags=tags,
                         origin_run_id=origin_run_id, rerun_steps=rerun_steps, project=_project(prepared.graph),
                         configs={c.name: c.value for c in prepared.graph.configs},
                         started_by="sfncompile resume" if origin_run_id else "sfncompile run")
        if on_started:
            try:
                on_started(run_id)
            except BaseException:  # e.g. the --run-id-file cannot be written: the run ends before it
                _record_outcome(prepared.root, prepared.flow, run_id, "FAILED")  # began, not "running" forever
                raise
    except BaseException:  # no run: nothing started for it may outlive this call
        batch.close()
        close = getattr(channel, "close", None)
        if close:
            close()
        raise
    started = time.monotonic()
    try:
        result = interpreter.run({"parameters": parameters}, name=run_id, cancel=cancel, timeout=timeout)
    finally:
        batch.close()
        close = getattr(channel, "close", None)
        if close:
            close()
    _record_outcome(prepared.root, prepared.flow, run_id, result.status)
    return RunOutcome(prepared.flow, run_id, result, list(batch.jobs), time.monotonic() - started,
                      origin_run_id, rerun_steps, graph_step_numbers(prepared.graph), prepared.root)


def graph_step_numbers(graph) -> dict[str, int]:
    """``datastore.step_numbers`` of the compiler's graph: the numbers the run's task ids carry."""
    from sfncompile_runtime.datastore import step_numbers

    return step_numbers({"start": graph.start,
                         "steps": {name: {"out_funcs": list(node.out_funcs)} for name, node in graph.steps.items()}})


def _submit_request(definition: dict, step: str) -> dict | None:
    """The SubmitJob parameters of the top-level Task state that runs ``step`` (None if none does)."""
    for state in (definition.get("States") or {}).values():
        request = state.get("Parameters") or {}
        if (state.get("Type") == "Task" and state.get("Resource") == BATCH_SUBMIT_SYNC
                and (request.get("Parameters") or {}).get("step") == step):
            return request
    return None


def _project(graph) -> dict:
    """The run's ``@project`` names, as its tasks will see them (``current``)."""
    from sfncompile_runtime.current import project_fields
    from sfncompile_runtime.datastore import default_user

    project = graph.decorator("project")
    production = (os.environ.get("METAFLOW_PRODUCTION") or "").strip().lower() in ("1", "true", "yes", "y", "on", "t")
    return project_fields(project.args.get("name") if project else None, graph.name, default_user(),
                          branch=os.environ.get("METAFLOW_BRANCH") or None, production=production)


def _record_outcome(root: str, flow: str, run_id: str, status: str) -> None:
    """The run's outcome in its run record, for ``sfncompile runs``/``status`` (sfncompile.runinfo)."""
    from sfncompile_runtime.datastore import Datastore

    store = Datastore(root, flow)
    record = store.read_run(run_id) or {}
    store.write_run(run_id, {**record, "status": status, "finished_at": time.time()})


# ---------------------------------------------------------------- resume


def list_runs(root: str, flow: str) -> list[str]:
    from sfncompile_runtime.storage import open_storage

    storage = open_storage(root)
    return sorted(storage.list_children(f"{flow}/runs"))


def latest_run_id(root: str, flow: str) -> str:
    from sfncompile_runtime.datastore import Datastore

    from sfncompile_runtime.datastore import InvalidName, check_name, run_prefix

    store = Datastore(root, flow)
    runs = list_runs(root, flow)
    if not runs:
        raise UserError(f"no runs of {flow} under {root}: nothing to resume")
    # Newest by the run record's creation time (run ids of EventBridge runs do not sort). A run
    # whose record cannot be read is skipped with a warning naming it (read_run warns); when no
    # run is readable, the error names them rather than saying there is no run.
    readable, damaged = [], []
    for run_id in runs:
        try:
            key = f"{run_prefix(flow, check_name('run id', run_id))}/run.json"
        except InvalidName:
            continue  # a stray file or folder under runs/
        record, problem = store.read_json_checked(key)
        if record is not None:
            readable.append(((record.get("created_at") or 0, run_id), run_id))
        elif problem is not None:
            store.read_json(key)  # the one warning naming it
            damaged.append(f"{store.storage.url(key)} ({problem})")
    if not readable:
        if damaged:
            raise UserError(f"no readable run of {flow} to resume: the run record of every run is damaged: "
                            f"{'; '.join(damaged)}. Repair one from a copy, or name a run to resume after "
                            "fixing its run.json")
        raise UserError(f"no runs of {flow} under {root}: nothing to resume")
    return max(readable)[1]


def origin_configs(prepared: PreparedRun, origin_run_id: str | None) -> dict | None:
    """The config values (name → value) the run ``origin_run_id`` (default: the latest) ran with,
    which its resume keeps, as Metaflow's does; None when the flow has no configs or the run is
    unknown (``plan_resume`` says so). From the run record; for a run recorded before it kept
    them there, from its start task's artifacts (the start step stores each config)."""
    from sfncompile_runtime.datastore import Datastore, InvalidName, check_name

    if not prepared.graph.configs:
        return None
    try:
        origin = origin_run_id or latest_run_id(prepared.root, prepared.flow)
        check_name("run id", origin)
    except (UserError, InvalidName):
        return None
    store = Datastore(prepared.root, prepared.flow)
    record = store.read_run(origin)
    if record is None:
        return None
    if "configs" in record:
        return record["configs"]
    # The origin's own start task id (its numbering need not be this code's: find_task).
    task = store.find_task(origin, "start", "")
    start = store.latest_record(origin, "start", task) if task else None
    artifacts = (start or {}).get("artifacts") or {}
    values = {}
    for spec in prepared.graph.configs:
        if spec.attr in artifacts:
            values[spec.name] = store.load_artifact(artifacts[spec.attr], spec.attr, "start")
    return values


def plan_resume(prepared: PreparedRun, origin_run_id: str | None, step: str | None):
    """(origin run id, its parameters, the steps to re-run whatever the origin did, the step
    the resume starts from: ``step`` or where the origin stopped, None when it succeeded)."""
    from sfncompile_runtime.datastore import Datastore, resume_plan, where_run_stopped

    from sfncompile_runtime.datastore import InvalidName, check_name, run_prefix

    origin = origin_run_id or latest_run_id(prepared.root, prepared.flow)
    try:
        check_name("run id", origin)
    except InvalidName as exc:
        raise UserError(str(exc)) from None
    store = Datastore(prepared.root, prepared.flow)
    key = f"{run_prefix(prepared.flow, origin)}/run.json"
    record, problem = store.read_json_checked(key)
    if problem is not None:
        raise UserError(f"run {prepared.flow}/{origin} cannot be resumed: its run record {store.storage.url(key)} "
                        f"is unreadable ({problem}); repair it from a copy, or resume another run")
    if record is None and store.storage.list_children(run_prefix(prepared.flow, origin)):
        raise UserError(f"run {prepared.flow}/{origin} cannot be resumed: its run record {store.storage.url(key)} "
                        "is missing (deleted, or the run was killed before it started); resume another run")
    if record is None:
        raise UserError(f"no run {prepared.flow}/{origin} under {prepared.root}")
    if step is not None and step not in prepared.graph.steps:
        raise UserError(f"flow {prepared.flow} has no step '{step}' (steps: {', '.join(prepared.graph.steps)})")
    graph_dict = json.loads(prepared.graph.to_json())
    rerun = resume_plan(prepared.root, graph_dict, origin, step)
    start = step or where_run_stopped(prepared.root, graph_dict, origin)
    return origin, record.get("parameters") or {}, rerun, start
