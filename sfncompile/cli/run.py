"""``sfncompile run`` and ``sfncompile resume``: run a flow here, through its state machine."""

from __future__ import annotations

import json
import signal
import sys
import threading

import click

from .configopts import config_options

from ..diagnostics import UserError

MAX_WORKERS_HELP = "tasks run at once (default: the number of CPUs)"


def _execution_options(tag_help: str):
    """The options ``run`` and ``resume`` share (Metaflow's run/resume options among them)."""
    options = [
        click.option("--max-workers", type=int, default=None, help=MAX_WORKERS_HELP),
        click.option("--tag", "tags", multiple=True, help=tag_help),
        click.option("--run-id-file", type=click.Path(dir_okay=False), default=None,
                     help="write the new run's id to this file as soon as the run starts"),
        click.option("--runner-attribute-file", type=click.Path(dir_okay=False), default=None, hidden=True,
                     help="the Runner API's: JSON with the run id, flow name and datastore, written at start"),
        click.option("--max-num-splits", type=click.IntRange(min=1), default=None,
                     help="largest foreach allowed (default 100, as Metaflow; a safety check)"),
        click.option("--retry-delays/--no-retry-delays", default=None,
                     help="wait @retry's minutes_between_retries as AWS will (default: retry at once, as "
                          "Metaflow's local runtime; or the retry_delays setting)"),
        click.option("--datastore", default=None, help="datastore root: a directory or s3://bucket/prefix"),
        click.option("--side-channel-table", default=None, help="DynamoDB table for an S3 datastore"),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="stop the run (running tasks too) after this many seconds"),
        click.option("--quiet", "-q", is_flag=True,
                     help="do not show what tasks print, nor a line per task (the run id and errors still)"),
        click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
                     show_default=True,
                     help="json: stdout is one JSON object (run id, status, timings, transitions) instead of "
                          "the run id; everything else goes to stderr"),
        click.option("--warm-start/--no-warm-start", default=None,
                     help="fork each task from a process that already ran the bootstrap (the default; "
                          "SFNCOMPILE_WARM_START=0 or --no-warm-start: a fresh process per task running the "
                          "job definition's command; @pypi/@conda steps always start fresh)"),
        click.option("--with", "with_decorators", multiple=True, metavar="DECORATOR[:k=v,...]",
                     help="attach a step decorator to every step that lacks it, e.g. --with retry, "
                          "--with resources:cpu=4; --with batch sends every step to AWS Batch (repeatable)"),
        click.option("--hybrid", is_flag=True,
                     help="send the steps that carry @batch to AWS Batch, run the others here (one run, "
                          "artifacts on the S3 datastore)"),
        click.option("--job-queue", default=None, help="AWS Batch job queue for --hybrid (default: the "
                                                         "deployed platform's)"),
        click.option("--job-role-arn", default=None, help="IAM role the Batch jobs of --hybrid assume"),
        click.option("--execution-role-arn", default=None, help="ECS execution role (Fargate queues)"),
    ]

    def apply(command):
        for option in reversed(options):  # click lists options in decorator order, top first
            command = option(command)
        return command

    return apply


def _execution_kwargs(max_workers, tags, max_num_splits, retry_delays, timeout, warm_start) -> dict:
    from sfncompile_runtime.client.tags import validate_tag_set
    from sfncompile_runtime.exceptions import MetaflowTaggingError

    from ..executor.local_run import DEFAULT_MAX_NUM_SPLITS

    # Metaflow's rules (UTF-8, not empty, at most 500 characters, at most 50 tags), checked before
    # the run record is written: a tag the record cannot hold would break every later reader.
    try:
        validate_tag_set(list(tags))
    except MetaflowTaggingError as exc:
        bad = next((t for t in tags if _tag_problem(t)), None)
        raise UserError(f"--tag {bad!r}: {exc}" if bad is not None else f"--tag: {exc}") from None

    return {"max_workers": _max_workers(max_workers), "tags": list(tags), "timeout": timeout,
            "warm_start": warm_start, "retry_delays": _retry_delays(retry_delays),
            "max_num_splits": max_num_splits or DEFAULT_MAX_NUM_SPLITS}


def _tag_problem(tag) -> bool:
    from sfncompile_runtime.client.tags import validate_tag
    from sfncompile_runtime.exceptions import MetaflowTaggingError

    try:
        validate_tag(tag)
        return False
    except MetaflowTaggingError:
        return True


def _retry_delays(value):
    if value is not None:
        return value
    from ..config import Config

    configured = Config.load().get("retry_delays")
    if configured in (None, ""):
        return False
    text = str(configured).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise UserError(f"retry_delays must be true or false, got {configured!r}")


def _write_attributes(path, content: dict) -> None:
    """Atomically (the Runner polls for the file): a temporary file renamed into place."""
    import json
    import os

    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as out:
        json.dump(content, out)
    os.replace(partial, path)


def _write_run_id_file(path):
    """A writer of the run id to ``path``, after checking that it can be written before the run
    (and its record) exists: a run the file cannot name is a run nobody can find."""
    if not path:
        return None
    import os

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(f"cannot write the run id to {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UserError(f"cannot write the run id to {path}: permission denied")

    def write(run_id):
        try:
            with open(path, "w", encoding="utf-8") as out:
                out.write(run_id)
        except OSError as exc:
            raise UserError(f"cannot write the run id to {path}: {exc.strerror}") from None

    return write


def _sigterm_as_interrupt():
    """While a run executes, SIGTERM (``kill PID``, a CI job's timeout) stops it as Ctrl-C does:
    its tasks are stopped and the run is recorded as aborted, resumable — by default the CLI
    would die at once, leaving a run that shows as running forever. Returns the handler it
    replaced (None off the main thread, where handlers cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


def _run_in_background(prepared, parameters, progress_factory, run_id_file=None, runner_attribute_file=None,
                       **kwargs):
    """Run the execution on a thread so that Ctrl-C reaches us; returns the outcome.

    Ctrl-C cancels the execution: running tasks are terminated (SIGTERM, then
    SIGKILL), nothing more starts, the run is recorded as aborted and can be
    resumed.
    """
    from ..executor.cancel import CancelToken
    from ..executor.local_run import execute

    token = CancelToken()
    holder: dict = {}
    started = threading.Event()

    write_run_id = _write_run_id_file(run_id_file)

    def on_started(run_id):
        holder["run_id"] = run_id
        if write_run_id:
            write_run_id(run_id)
        if runner_attribute_file:
            _write_attributes(runner_attribute_file, {"run_id": run_id, "flow_name": prepared.flow,
                                                      "datastore": prepared.root, "metadata": "local"})
        holder["progress"] = progress_factory(run_id)
        holder["progress"].start()
        started.set()

    def on_job_event(kind, info):
        progress = holder.get("progress")
        if progress is not None:
            progress.on_job_event(kind, info)

    def target():
        try:
            holder["outcome"] = execute(prepared, parameters, cancel=token, on_job_event=on_job_event,
                                        on_started=on_started, **kwargs)
        except BaseException as exc:  # re-raised on the main thread
            holder["error"] = exc
        finally:
            started.set()
            done.set()

    # Wait on an Event, not Thread.join: an interrupted join can leave is_alive() wrong.
    done = threading.Event()
    worker = threading.Thread(target=target, name="sfncompile-run", daemon=True)
    worker.start()
    interrupted = False
    previous_sigterm = _sigterm_as_interrupt()
    try:
        while not done.is_set():
            try:
                done.wait(0.2)
            except KeyboardInterrupt:
                if not interrupted:
                    interrupted = True
                    click.echo("\ninterrupted: stopping running tasks (Ctrl-C again to force)...", err=True)
                    token.cancel("interrupted by the user")
                else:
                    from ..executor.batch import kill_running_tasks

                    kill_running_tasks()  # no grace the second time: nothing of this run may outlive it
                    raise
    finally:
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
    if "progress" in holder:
        holder["progress"].stop()
    if "error" in holder:
        raise holder["error"]
    return holder["outcome"], interrupted


def run_summary(outcome, prepared) -> dict:
    """What ``--format json`` prints: one object a script can read (documented in docs/local-runs.md)."""
    result = outcome.result
    job = outcome.failed_job()
    timings = {name: round(seconds, 3) for name, seconds in prepared.timings.items()}
    timings["run"] = round(outcome.seconds, 3)
    return {
        "flow": outcome.flow,
        "run_id": outcome.run_id,
        "pathspec": f"{outcome.flow}/{outcome.run_id}",
        "status": outcome.status,
        "succeeded": outcome.succeeded,
        "datastore": prepared.root,
        "origin_run_id": outcome.origin_run_id,
        "rerun_steps": outcome.rerun_steps,
        "timings": timings,
        "transitions": outcome.transitions(),
        "history_events": outcome.history_events(),
        "child_executions": len(result.history.executions()) - 1,
        "tasks": len(outcome.jobs),
        "failed_task": outcome.pathspec(job) if job is not None else None,
        "error": result.error,
    }


def _report(outcome, prepared, flow_path: str, interrupted: bool, output_format: str = "text"):
    """The end of a run: a summary on stderr, and on stdout the run id as the last line (or, with
    ``--format json``, one JSON object). Exit 1 if the run failed, 130 if interrupted."""
    from .main import leave_without_teardown

    leave_without_teardown()
    result = outcome.result
    children = result.history.executions()[1:]
    line = f"state transitions: {outcome.transitions()} (billable), history events: {outcome.history_events()}"
    if children:
        line += (f" (+ {len(children)} child executions, the largest with "
                 f"{max(c.event_count() for c in children)} events)")
    click.echo(line, err=True)
    if outcome.succeeded:
        click.echo(f"run {outcome.flow}/{outcome.run_id} succeeded in {outcome.seconds:.1f}s", err=True)
    else:
        for line in outcome.failure_summary():
            click.echo(line, err=True)
        click.echo(f"resume with: sfncompile resume {flow_path} {outcome.run_id}", err=True)
    if output_format == "json":
        click.echo(json.dumps(run_summary(outcome, prepared)))
    else:
        click.echo(outcome.run_id)
    if not outcome.succeeded:
        sys.exit(130 if interrupted else 1)


def _zygote_pool(kwargs):
    """The run's warm processes, made before the run is prepared so that the first task's can start
    while it is (None when every task starts fresh)."""
    from ..executor.local_run import warm_start_enabled

    if not warm_start_enabled(kwargs["warm_start"]):
        return None
    from ..executor.warm import ZygotePool

    return ZygotePool()


def _prepare(flow, datastore, side_channel_table, with_decorators, hybrid, job_queue, job_role_arn,
             execution_role_arn, warm_pool=None, max_num_splits=None):
    """The prepared run and, for a hybrid run, where its remote steps go (every requirement checked).
    ``warm_pool``: the first task's warm process starts in it as soon as its job definition exists."""
    from ..decospecs import parse_with_options
    from ..executor.local_run import prepare

    specs = parse_with_options(with_decorators)
    on_first_task = None
    if warm_pool is not None and not (hybrid or any(spec.name == "batch" for spec in specs)):
        from ..executor.batch import prestart_zygote
        from ..executor.local_run import task_base_environment

        base = task_base_environment(max_num_splits)

        def on_first_task(definition, environment):
            prestart_zygote(warm_pool, definition, environment, base)

    prepared = prepare(flow, datastore=datastore, side_channel_table=side_channel_table, with_specs=specs,
                       on_first_task=on_first_task)
    # Metaflow's `run --with batch` sends every step to Batch; --hybrid only those with @batch in the source.
    if not (hybrid or any(spec.name == "batch" for spec in specs)):
        for option, value in (("--job-queue", job_queue), ("--job-role-arn", job_role_arn),
                              ("--execution-role-arn", execution_role_arn)):
            if value:
                raise UserError(f"{option} applies to steps sent to AWS Batch: add --hybrid or --with batch")
        return prepared, None
    from ..config import Config
    from ..executor.hybrid import prepare_hybrid

    target = prepare_hybrid(prepared, Config.load(), job_queue=job_queue, job_role_arn=job_role_arn,
                            execution_role_arn=execution_role_arn)
    return prepared, target


def _progress_factory(prepared, quiet: bool = False):
    from ..executor.progress import Progress

    from ..executor.local_run import graph_step_numbers

    steps = list(prepared.graph.steps)
    numbers = graph_step_numbers(prepared.graph)
    return lambda run_id: Progress(prepared.flow, run_id, steps, show_output=not quiet, step_numbers=numbers)


def _max_workers(value):
    if value is not None and value < 1:
        raise UserError("--max-workers must be at least 1")
    if value is None:
        from ..config import Config

        configured = Config.load().get("max_workers")
        if configured:
            try:
                value = int(configured)
            except ValueError:
                raise UserError(f"max_workers must be an integer, got {configured!r}") from None
    return value


_EXTRA = {"ignore_unknown_options": True, "allow_extra_args": True}


@click.command("run", context_settings=_EXTRA)
@click.argument("flow", type=click.Path(dir_okay=False))
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="a flow parameter (repeatable)")
@_execution_options(tag_help="a tag for the run (repeatable)")
@click.pass_context
@config_options
def run(ctx, flow, params, max_workers, tags, run_id_file, runner_attribute_file, max_num_splits, retry_delays,
        datastore, side_channel_table, timeout, quiet, output_format, warm_start, with_decorators, hybrid, job_queue,
        job_role_arn, execution_role_arn):
    """Run FLOW locally by executing its compiled state machine.

    What tasks print shows as it comes, each line prefixed with the task's pathspec (--quiet hides it).
    The last line on stdout is the run id (--format json: one JSON object instead).
    Flow parameters: --param NAME=VALUE, or Metaflow's --NAME VALUE."""
    kwargs = _execution_kwargs(max_workers, tags, max_num_splits, retry_delays, timeout, warm_start)
    kwargs["warm_pool"] = _zygote_pool(kwargs)
    try:
        prepared, target = _prepare(flow, datastore, side_channel_table, with_decorators, hybrid, job_queue,
                                    job_role_arn, execution_role_arn, kwargs["warm_pool"], kwargs["max_num_splits"])
        from ..executor.parameters import parameter_options, parse_parameters

        assignments = list(params) + parameter_options(prepared.graph, ctx.args)
        parameters = parse_parameters(prepared.graph, assignments, flow_path=prepared.flow_path, root=prepared.root)
        outcome, interrupted = _run_in_background(prepared, parameters, _progress_factory(prepared, quiet),
                                                  run_id_file=run_id_file,
                                                  runner_attribute_file=runner_attribute_file, hybrid=target,
                                                  **kwargs)
        _report(outcome, prepared, flow, interrupted, output_format)
    finally:
        if kwargs["warm_pool"] is not None:  # (the run closed it; not so a run that never began)
            kwargs["warm_pool"].close()


@click.command("resume")
@click.argument("flow", type=click.Path(dir_okay=False))
@click.argument("step_to_rerun", metavar="[STEP]", required=False)
@click.option("--origin-run-id", default=None, help="the run to resume (default: the latest run of the flow)")
@click.option("--step", default=None, help="re-run this step and every step after it (same as STEP)")
@_execution_options(tag_help="a tag for the new run (repeatable)")
@config_options(refuse="resume")
def resume(flow, step_to_rerun, origin_run_id, step, max_workers, tags, run_id_file, runner_attribute_file,
           max_num_splits, retry_delays, datastore, side_channel_table, timeout, quiet, output_format, warm_start,
           with_decorators, hybrid, job_queue, job_role_arn, execution_role_arn):
    """Re-run a failed run of FLOW (default: the latest), cloning the tasks that succeeded.

    STEP (Metaflow's form) re-runs that step and everything after it; a run id in its
    place is taken as --origin-run-id."""
    from ..executor.local_run import origin_configs, plan_resume

    kwargs = _execution_kwargs(max_workers, tags, max_num_splits, retry_delays, timeout, warm_start)
    prepared, target = _prepare(flow, datastore, side_channel_table, with_decorators, hybrid, job_queue,
                                job_role_arn, execution_role_arn)
    if step_to_rerun is not None:
        if step_to_rerun in prepared.graph.steps:
            if step is not None and step != step_to_rerun:
                raise UserError(f"resume got two steps: {step_to_rerun} and --step {step}")
            step = step_to_rerun
        elif origin_run_id is None:
            origin_run_id = step_to_rerun  # sfncompile's older form: resume FLOW RUN_ID
        else:
            raise UserError(f"flow {prepared.flow} has no step '{step_to_rerun}' "
                            f"(steps: {', '.join(prepared.graph.steps)})")
    kept = origin_configs(prepared, origin_run_id)
    if kept is not None and any(kept.get(c.name, c.value) != c.value for c in prepared.graph.configs):
        # The flow compiles as the origin ran it: the same configs in its decorators and steps.
        from .configopts import origin_configs as with_origin_configs

        with with_origin_configs(kept):
            prepared, target = _prepare(flow, datastore, side_channel_table, with_decorators, hybrid, job_queue,
                                        job_role_arn, execution_role_arn)
    origin, parameters, rerun, start = plan_resume(prepared, origin_run_id, step)
    click.echo(f"resuming {prepared.flow}/{origin}: " + (f"re-running from step '{start}'" if start else
               "every step succeeded; cloning the run"), err=True)
    outcome, interrupted = _run_in_background(prepared, parameters, _progress_factory(prepared, quiet),
                                              run_id_file=run_id_file, runner_attribute_file=runner_attribute_file,
                                              origin_run_id=origin, rerun_steps=rerun, hybrid=target, **kwargs)
    _report(outcome, prepared, flow, interrupted, output_format)
