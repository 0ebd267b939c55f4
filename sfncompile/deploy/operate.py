"""Operating deployed flows: trigger, runs, status, logs, terminate, resume, delete.

A deployment is found through its CloudFormation stack: the stack tags say
which flow it runs and its outputs give the state machine ARN and the
datastore root, so these commands work with only a flow name and a run id.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from ..config import Config
from ..diagnostics import UserError
from .aws import Clients, aws_errors, error_code
from .params import validate_parameters
from .runids import new_run_id
from .stacks import describe_stack, stack_outputs, stack_tags

FLOW_TAG = "sfncompile:flow"


@dataclass
class Deployment:
    name: str  # stack and state machine name
    flow: str
    state_machine_arn: str
    datastore_root: str
    production_token: str
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def project(self) -> dict | None:
        """The ``@project`` names of the deployment's runs (``current.project_fields``' keys), from the
        stack tags ``deploy`` sets; None without ``@project``."""
        from .production import BRANCH_TAG, PROJECT_TAG

        if not self.tags.get(PROJECT_TAG) or not self.tags.get(BRANCH_TAG):
            return None
        return {"project_name": self.tags[PROJECT_TAG], "branch_name": self.tags[BRANCH_TAG]}

    def execution_arn(self, run_id: str) -> str:
        return self.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + run_id


def _from_stack(stack: dict[str, Any], require_outputs: bool = True) -> Deployment:
    outputs, tags = stack_outputs(stack), stack_tags(stack)
    if require_outputs and not outputs.get("StateMachineArn"):
        raise UserError(f"stack {stack['StackName']} ({stack.get('StackStatus', '?')}) has no StateMachineArn output, "
                        "so it is not a working deployment; run 'sfncompile deploy' again, or delete it with "
                        f"'aws cloudformation delete-stack --stack-name {stack['StackName']}'")
    return Deployment(name=stack["StackName"], flow=outputs.get("FlowName") or tags.get(FLOW_TAG, ""),
                      state_machine_arn=outputs.get("StateMachineArn", ""),
                      datastore_root=outputs.get("DatastoreRoot", ""),
                      production_token=outputs.get("ProductionToken") or tags.get("sfncompile:production_token", ""),
                      tags=tags)


def find_deployment(clients: Clients, flow: str, deployment: str | None = None,
                    require_outputs: bool = True) -> Deployment:
    """The deployment of ``flow`` (a flow name, or a flow file when a path is given); one without a
    state machine (a broken stack) is an error unless ``require_outputs`` is off (delete)."""
    cfn = clients("cloudformation")
    with aws_errors("finding the deployment"):
        if deployment:
            stack = describe_stack(cfn, deployment)
            if stack is None:
                raise UserError(f"no deployment named {deployment}")
            return _from_stack(stack, require_outputs)
        found = []
        for page in cfn.get_paginator("describe_stacks").paginate():
            for stack in page["Stacks"]:
                if stack_tags(stack).get(FLOW_TAG) == flow and "DELETE" not in stack["StackStatus"]:
                    found.append(stack)
    if not found:
        raise UserError(f"{flow} is not deployed (run 'sfncompile deploy' first)")
    if len(found) > 1:
        names = ", ".join(sorted(s["StackName"] for s in found))
        raise UserError(f"{flow} has several deployments ({names}); choose one with --deployment")
    return _from_stack(found[0], require_outputs)


def flow_name_of(flow: str) -> tuple[str, Any]:
    """A flow argument is a file (compiled for its name and parameters) or a plain flow name."""
    if flow.endswith(".py") or os.path.sep in flow:
        if not Path(flow).is_file():
            raise UserError(f"{flow}: no such file")
        from ..pipeline import load_graph

        graph = load_graph(flow)
        return graph.name, graph
    return flow, None


def _split_run(run: str) -> tuple[str, str]:
    parts = run.strip("/").split("/")
    if len(parts) != 2 or not all(parts):
        raise UserError(f"{run!r}: give the run as FlowName/RUN_ID")
    _check_names(run, zip(("flow name", "run id"), parts))
    return parts[0], parts[1]


def _check_names(given: str, named) -> None:
    from sfncompile_runtime.datastore import InvalidName, check_name

    try:
        for kind, value in named:
            check_name(kind, value)
    except InvalidName as exc:
        raise UserError(f"{given!r}: {exc}") from None


def _write_run_record(root: str, flow: str, run_id: str, **fields) -> None:
    """The same run record local runs and resumes write (runtime's datastore)."""
    if not root:
        return
    from sfncompile_runtime.datastore import write_run_record

    with aws_errors("writing the run record"):
        write_run_record(root, flow, run_id, started_by="sfncompile", **fields)


def start(clients: Clients, dep: Deployment, parameters: dict[str, Any], run_id: str | None = None) -> str:
    run_id = run_id or new_run_id()
    with aws_errors(f"starting {dep.name}"):
        clients("stepfunctions").start_execution(stateMachineArn=dep.state_machine_arn, name=run_id,
                                                 input=json.dumps({"parameters": parameters}))
    return run_id


def trigger(config: Config, flow_file: str, params: str | None, deployment: str | None = None) -> str:
    name, graph = flow_name_of(flow_file)
    if graph is None:
        raise UserError("trigger needs the flow file (to check parameters against their declared types)")
    values = validate_parameters(graph, params)
    clients = Clients.from_config(config)
    dep = find_deployment(clients, name, deployment)
    # As Metaflow's launcher: function defaults evaluated here, IncludeFiles read here and stored
    # in the deployment's datastore (the execution input carries a reference).
    from ..executor.parameters import function_defaults, include_files

    values.update(function_defaults(graph, flow_file, values, dep.datastore_root))
    with aws_errors("storing the included files"):
        include_files(graph, values, dep.datastore_root)
    run_id = new_run_id()
    _write_run_record(dep.datastore_root, name, run_id, parameters=values, production_token=dep.production_token,
                      project=dep.project)
    return start(clients, dep, values, run_id)


def runs(config: Config, flow: str, deployment: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    name, _ = flow_name_of(flow)
    clients = Clients.from_config(config)
    dep = find_deployment(clients, name, deployment)
    with aws_errors(f"listing runs of {dep.name}"):
        page = clients("stepfunctions").list_executions(stateMachineArn=dep.state_machine_arn, maxResults=limit)
    rows = [{"run_id": e["name"], "status": e["status"], "started": _when(e.get("startDate")),
             "stopped": _when(e.get("stopDate"))} for e in page.get("executions", [])]
    return sorted(rows, key=lambda r: r["started"] or "", reverse=True)


def _when(value) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value or "")


@dataclass
class StepStatus:
    name: str
    entered: int = 0
    succeeded: int = 0
    failed: int = 0
    tasks_done: int | None = None  # committed tasks in the datastore

    @property
    def state(self) -> str:
        if self.failed and not self.succeeded:
            return "failed"
        if self.entered > self.succeeded + self.failed:
            return "running"
        if self.succeeded:
            return "succeeded"
        return "pending"


def status(config: Config, run: str, deployment: str | None = None) -> dict[str, Any]:
    flow, run_id = _split_run(run)
    clients = Clients.from_config(config)
    dep = find_deployment(clients, flow, deployment)
    sfn = clients("stepfunctions")
    arn = dep.execution_arn(run_id)
    with aws_errors(f"run {run}"):
        try:
            execution = sfn.describe_execution(executionArn=arn)
        except Exception as exc:
            if error_code(exc) == "ExecutionDoesNotExist":
                raise UserError(f"{run}: no such run of {dep.name}") from None
            raise
        events = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
            events.extend(page["events"])
    steps = _steps_from_history(events)
    _add_datastore_counts(steps, dep, flow, run_id)
    failure, cause = failure_summary(execution.get("cause"), dep.production_token)
    return {"run_id": run_id, "status": execution["status"], "started": _when(execution.get("startDate")),
            "stopped": _when(execution.get("stopDate")), "steps": list(steps.values()),
            "error": execution.get("error"), "failure": failure, "cause": cause}


def failure_summary(cause: str | None, token: str | None = None) -> tuple[dict[str, Any] | None, Any]:
    """(what failed, in a few fields; the cause with secrets and bulk left out).

    A failed Batch task's cause is the whole job description: the bootstrap source, the
    environment (the production token among it), several KB. The summary keeps the job,
    its status reason, exit code and log stream; the cause keeps the rest minus the
    container's command and environment, and the token never appears in either.
    """
    if not cause:
        return None, cause
    try:
        job = json.loads(cause)
    except ValueError:
        return {"reason": _scrub(cause, token)}, _scrub(cause, token)
    if not isinstance(job, dict) or not ("JobId" in job or "JobName" in job or "Container" in job):
        return {"reason": _scrub(cause, token)}, _scrub(json.dumps(job), token)
    container = job.get("Container") or {}
    attempts = job.get("Attempts") or []
    last = (attempts[-1] if attempts else {}).get("Container") or {}
    summary = {"job_name": job.get("JobName"), "job_id": job.get("JobId"), "status": job.get("Status"),
               "reason": job.get("StatusReason") or last.get("Reason") or container.get("Reason"),
               "exit_code": last.get("ExitCode", container.get("ExitCode")),
               "log_stream": last.get("LogStreamName") or container.get("LogStreamName"),
               "attempts": len(attempts) or None}
    details = {k: v for k, v in job.items() if k not in ("Container", "Parameters")}
    details["Container"] = {k: v for k, v in container.items() if k not in ("Command", "Environment", "Secrets")}
    return json.loads(_scrub(json.dumps(summary), token)), json.loads(_scrub(json.dumps(details), token))


def _scrub(text: str, token: str | None) -> str:
    return text.replace(token, "<production token>") if token else text


def _steps_from_history(events: list[dict[str, Any]]) -> dict[str, StepStatus]:
    """Per Task state: how often it was entered, and how it ended (job submissions only)."""
    by_id = {e["id"]: e for e in events}
    steps: dict[str, StepStatus] = {}
    entered_state: dict[int, str] = {}
    for event in events:
        kind = event["type"]
        if kind == "TaskStateEntered":
            name = event["stateEnteredEventDetails"]["name"]
            entered_state[event["id"]] = name
            steps.setdefault(name, StepStatus(name)).entered += 1
        elif kind in ("TaskSucceeded", "TaskFailed", "TaskTimedOut", "TaskSubmitFailed", "TaskStartFailed"):
            details = (event.get("taskSucceededEventDetails") or event.get("taskFailedEventDetails")
                       or event.get("taskTimedOutEventDetails") or event.get("taskSubmitFailedEventDetails")
                       or event.get("taskStartFailedEventDetails") or {})
            if details.get("resourceType") not in (None, "batch"):
                continue
            state = _owning_state(event, by_id, entered_state)
            if state is None:
                continue
            record = steps.setdefault(state, StepStatus(state))
            if kind == "TaskSucceeded":
                record.succeeded += 1
            else:
                record.failed += 1
    # Only states that submit Batch jobs are steps; side-channel reads are bookkeeping.
    submitted = {_owning_state(e, by_id, entered_state) for e in events if e["type"] == "TaskScheduled"
                 and e.get("taskScheduledEventDetails", {}).get("resourceType") == "batch"}
    return {k: v for k, v in steps.items() if k in submitted or not submitted}


def _owning_state(event, by_id, entered_state) -> str | None:
    seen = 0
    current = event
    while current is not None and seen < 50:
        if current["id"] in entered_state:
            return entered_state[current["id"]]
        current = by_id.get(current.get("previousEventId"))
        seen += 1
    return None


def _add_datastore_counts(steps: dict[str, StepStatus], dep: Deployment, flow: str, run_id: str) -> None:
    """Committed tasks per step, from the datastore the deployment writes.

    Steps inside a Distributed Map run in child executions whose events are not
    in the parent's history; the datastore still has every task, so such steps
    are added from it. Best effort: the history alone still answers.
    """
    if not dep.datastore_root:
        return
    try:
        with _client_datastore(dep.datastore_root):
            from sfncompile_runtime.client import Run

            for step in Run(f"{flow}/{run_id}").steps():
                tasks = step.tasks()
                done = sum(1 for t in tasks if t.finished)  # @catch-caught tasks too
                failed = sum(1 for t in tasks if t.finished_at is not None and not t.finished)
                record = steps.get(step.id)
                if record is None:
                    record = steps[step.id] = StepStatus(step.id, entered=len(tasks), succeeded=done, failed=failed)
                record.tasks_done = done
    except Exception:  # the datastore may be unreachable from here
        return


@contextlib.contextmanager
def _client_datastore(root: str):
    """Point the client API (which reads SFNCOMPILE_DATASTORE) at ``root``, all namespaces, for a moment."""
    from sfncompile_runtime import envnames
    from sfncompile_runtime.client import namespace

    saved = os.environ.get(envnames.DATASTORE)
    os.environ[envnames.DATASTORE] = root
    namespace(None)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(envnames.DATASTORE, None)
        else:
            os.environ[envnames.DATASTORE] = saved


def logs(config: Config, pathspec: str, deployment: str | None = None, stream: str = "stdout") -> str:
    parts = pathspec.strip("/").split("/")
    if len(parts) not in (3, 4):
        raise UserError(f"{pathspec!r}: give Flow/RUN_ID/step[/task_id]")
    flow, run_id, step = parts[:3]
    task_id = parts[3] if len(parts) == 4 else None
    _check_names(pathspec, zip(("flow name", "run id", "step", "task id"), parts))
    clients = Clients.from_config(config)
    dep = find_deployment(clients, flow, deployment)
    text = _datastore_logs(dep, flow, run_id, step, task_id, stream)
    if text is not None:
        return text
    return _cloudwatch_logs(clients, dep, run_id, step)


def _datastore_logs(dep, flow, run_id, step, task_id, stream) -> str | None:
    """The task's captured output from the datastore the deployment writes."""
    try:
        with _client_datastore(dep.datastore_root):
            from sfncompile_runtime.client import Step, Task

            if task_id is None:
                task = Step(f"{flow}/{run_id}/{step}").task
            else:
                task = Task(f"{flow}/{run_id}/{step}/{task_id}")
            return None if task is None else getattr(task, stream)
    except Exception:  # not committed yet, or unreadable: fall back to CloudWatch
        return None


def _cloudwatch_logs(clients, dep: Deployment, run_id: str, step: str) -> str:
    """The Batch job's CloudWatch log stream, found through the execution history."""
    sfn = clients("stepfunctions")
    with aws_errors("reading the execution history"):
        events = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=dep.execution_arn(run_id)):
            events.extend(page["events"])
    streams = []
    for event in events:
        details = event.get("taskSucceededEventDetails") or event.get("taskFailedEventDetails") or {}
        output = details.get("output") or details.get("cause")
        try:
            job = json.loads(output) if output else {}
        except ValueError:
            continue
        if job.get("Parameters", {}).get("step") == step or job.get("JobName", "").startswith(step):
            stream = (job.get("Container") or {}).get("LogStreamName")
            if stream:
                streams.append(stream)
    if not streams:
        raise UserError(f"no logs for step '{step}' of run {run_id} in the datastore or CloudWatch")
    lines = []
    with aws_errors("reading CloudWatch logs"):
        for stream in streams:
            for event in clients("logs").get_log_events(logGroupName="/aws/batch/job", logStreamName=stream,
                                                        startFromHead=True)["events"]:
                lines.append(event["message"])
    return "\n".join(lines) + ("\n" if lines else "")


def terminate(config: Config, run: str, deployment: str | None = None) -> str:
    flow, run_id = _split_run(run)
    clients = Clients.from_config(config)
    dep = find_deployment(clients, flow, deployment)
    with aws_errors(f"terminating {run}"):
        clients("stepfunctions").stop_execution(executionArn=dep.execution_arn(run_id), error="Terminated",
                                                cause="sfncompile terminate")
    return run_id


def resume(config: Config, flow_file: str, origin_run_id: str, step: str | None = None,
           deployment: str | None = None) -> str:
    """Start a new production run that reuses the origin run's successful tasks."""
    name, graph = flow_name_of(flow_file)
    if graph is None:
        raise UserError("resume needs the flow file")
    clients = Clients.from_config(config)
    dep = find_deployment(clients, name, deployment)
    from sfncompile_runtime.datastore import Datastore, resume_plan, where_run_stopped

    graph_dict = graph.to_dict()
    _check_names(origin_run_id, [("run id", origin_run_id)])
    with aws_errors("reading the origin run"):
        store = Datastore(dep.datastore_root, name)
        origin = store.read_run(origin_run_id)
        if origin is None and not store.storage.list_children(f"{name}/runs/{origin_run_id}"):
            raise UserError(f"--resume {origin_run_id}: {name} has no run {origin_run_id} in {dep.datastore_root} "
                            f"(see 'sfncompile runs {name}'); nothing was started")
        try:
            plan = resume_plan(dep.datastore_root, graph_dict, origin_run_id, step)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        stopped = step or where_run_stopped(dep.datastore_root, graph_dict, origin_run_id)
    if stopped is None:
        raise UserError(f"{name}/{origin_run_id} has nothing to resume: every step succeeded")
    parameters = (origin or {}).get("parameters", {})
    run_id = new_run_id()
    _write_run_record(dep.datastore_root, name, run_id, origin_run_id=origin_run_id, rerun_steps=plan,
                      parameters=parameters, production_token=dep.production_token, project=dep.project)
    return start(clients, dep, parameters, run_id)


def delete(config: Config, flow: str | None, deployment: str | None = None, echo: Callable[[str], None] = print,
           platform: bool = False, authorize: str | None = None, yes: bool = False,
           confirm: Callable[[str], bool] | None = None) -> list[str]:
    """Delete a flow's stack (its owner only: the production token, as for deploy) and, with
    ``platform``, the platform stack — refused while any flow stack still uses it.

    Nothing is deleted without ``yes`` or a ``confirm(question)`` that returns True.
    """
    from .settings import platform_settings
    from .stacks import delete_stack

    clients = Clients.from_config(config)
    plat = platform_settings(config) if platform else None
    dep = None
    if flow:
        name, _ = flow_name_of(flow)
        try:
            dep = find_deployment(clients, name, deployment, require_outputs=False)
        except UserError:
            if not platform:
                raise
            echo(f"{name} is not deployed; deleting only the platform")
        if dep is not None:
            _check_owner(dep, authorize)
    elif not platform:
        raise UserError("name the flow to delete (or pass --platform to delete only the platform stack)")
    if plat is not None:
        users = [s for s in _flow_stacks(clients, plat.prefix) if dep is None or s != dep.name]
        if users:
            raise UserError(f"the platform stack {plat.platform_stack_name} is still used by "
                            f"{', '.join(sorted(users))}; delete those flows first (sfncompile delete FLOW), "
                            "then the platform")
    doomed = ([dep.name] if dep else []) + ([plat.platform_stack_name] if plat else [])
    if not doomed:
        return []
    if not yes:
        question = f"delete {' and '.join(doomed)}? (the datastore bucket and its data are kept)"
        if confirm is None:
            raise UserError(f"deleting {' and '.join(doomed)} needs confirmation: pass --yes")
        if not confirm(question):
            raise UserError("nothing was deleted")
    deleted = []
    if dep is not None and delete_stack(clients, dep.name, echo=echo):
        deleted.append(dep.name)
        echo(f"deleted {dep.name} (the datastore bucket and its data are kept)")
    if plat is not None and delete_stack(clients, plat.platform_stack_name, echo=echo):
        deleted.append(plat.platform_stack_name)
        echo(f"deleted {plat.platform_stack_name} (the datastore bucket and its data are kept)")
    return deleted


def _check_owner(dep: Deployment, authorize: str | None) -> None:
    """The deployment's production token, from --authorize or the deployer's token file (as deploy asks)."""
    from .production import DEPLOYER_TAG, _known

    token = dep.production_token
    if not token or token == "none":
        return
    if authorize is not None:
        if authorize != token:
            raise UserError(f"--authorize: the token does not match {dep.name}'s production token")
        return
    if _known().get(dep.name) == token:
        return
    owner = dep.tags.get(DEPLOYER_TAG, "someone else")
    raise UserError(f"{dep.name} was deployed by {owner} with a production token you do not have; "
                    "pass --authorize TOKEN to delete it")


def _flow_stacks(clients: Clients, prefix: str) -> list[str]:
    """Live flow stacks deployed on the platform with this stack prefix."""
    found = []
    with aws_errors("listing the flow stacks"):
        for page in clients("cloudformation").get_paginator("describe_stacks").paginate():
            for stack in page["Stacks"]:
                if (FLOW_TAG in stack_tags(stack) and stack["StackName"].startswith(f"{prefix}-")
                        and stack["StackStatus"] != "DELETE_COMPLETE"):
                    found.append(stack["StackName"])
    return found
