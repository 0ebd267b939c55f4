"""One renderer per state kind: small value objects that know their own JSON.

Nothing here walks the flow graph; ``builder.py`` decides which states exist
and how they connect, and hands each one a fully resolved description. Every
renderer returns a plain dict in JSONPath ASL (moto's interpreter and the
local executor speak JSONPath only).

Payload rule (docs/state-machine.md §6): a state's output is its input with
at most one small key added (``foreach``, ``branch``, ``caught``); task
results are dropped with ``ResultPath: null``; Map and Parallel results are
dropped too, and each branch/iteration ends with ``OutputPath: $.path`` so the
array the platform assembles before dropping it stays tiny.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BATCH_SUBMIT_SYNC = "arn:aws:states:::batch:submitJob.sync"
DYNAMODB_GET_ITEM = "arn:aws:states:::dynamodb:getItem"
S3_GET_OBJECT = "arn:aws:states:::s3:getObject"
S3_PUT_OBJECT = "arn:aws:states:::s3:putObject"

# Errors of the Batch integration itself (throttled or failed SubmitJob /
# DescribeJobs); the job never ran, so they are retried apart from @retry.
BATCH_INFRA_ERRORS = ["Batch.AWSBatchException", "Batch.ServerException", "Batch.TooManyRequestsException"]
# A job that ran and failed, or outlived the task's TimeoutSeconds.
USER_ERRORS = ["States.TaskFailed", "States.Timeout"]


@dataclass(frozen=True)
class Retrier:
    errors: tuple[str, ...]
    interval_seconds: int
    max_attempts: int
    backoff_rate: float = 1.0

    def render(self) -> dict[str, Any]:
        return {"ErrorEquals": list(self.errors), "IntervalSeconds": self.interval_seconds,
                "MaxAttempts": self.max_attempts, "BackoffRate": self.backoff_rate}


INFRA_RETRIER = Retrier(tuple(BATCH_INFRA_ERRORS), interval_seconds=5, max_attempts=6, backoff_rate=2.0)
SIDE_CHANNEL_RETRIER = Retrier(("States.TaskFailed",), interval_seconds=1, max_attempts=3, backoff_rate=2.0)


def user_retrier(times: int, minutes_between_retries: float) -> Retrier:
    # IntervalSeconds must be a positive integer: @retry(minutes_between_retries=0)
    # becomes the smallest interval the platform allows.
    return Retrier(tuple(USER_ERRORS), interval_seconds=max(1, int(round(minutes_between_retries * 60))),
                   max_attempts=times)


def _end_or_next(state: dict[str, Any], next_state: str | None, end_output: str | None) -> dict[str, Any]:
    if next_state is None:
        state["End"] = True
        if end_output:
            state["OutputPath"] = end_output
    else:
        state["Next"] = next_state
    return state


def batch_job_name(flow: str, step: str) -> str:
    """``<Flow>-<step>``: what the Batch console lists (queues are shared by flows).
    Batch wants 1-128 letters, digits, ``-`` and ``_``, starting with a letter or digit."""
    return f"{flow}-{step}".lstrip("_-")[:128] or "sfncompile"


@dataclass
class TaskState:
    """One step execution: a Batch job through ``submitJob.sync``."""

    step: str
    job_name: str
    job_queue: str  # "${JobQueue}", "${JobQueueGpu}" or the @batch(queue=...) literal
    job_definition: str  # placeholder name, e.g. "JobDefinitionDefault"
    environment: list[dict[str, str]]  # [{"Name":..., "Value" or "Value.$":...}]
    mode: str | None = None  # "fallback" on a @catch path; None = job definition default ("step")
    timeout_seconds: int | None = None  # @timeout: Batch attempt duration
    task_timeout_seconds: int | None = None  # the state's backstop
    retriers: list[Retrier] = field(default_factory=list)
    catch_next: str | None = None  # @catch: the fallback state
    next_state: str | None = None
    end_output: str | None = None


def emit_task_state(task: TaskState) -> dict[str, Any]:
    parameters: dict[str, Any] = {"step": task.step}
    if task.mode:
        parameters["mode"] = task.mode
    request: dict[str, Any] = {
        "JobName": task.job_name,
        "JobQueue": task.job_queue,
        "JobDefinition": "${" + task.job_definition + "}",
        "Parameters": parameters,
        "ContainerOverrides": {"Environment": task.environment},
    }
    if task.timeout_seconds:
        request["Timeout"] = {"AttemptDurationSeconds": task.timeout_seconds}
    state: dict[str, Any] = {"Type": "Task", "Resource": BATCH_SUBMIT_SYNC, "Parameters": request,
                             "ResultPath": None}
    if task.task_timeout_seconds:
        state["TimeoutSeconds"] = task.task_timeout_seconds
    if task.retriers:
        state["Retry"] = [r.render() for r in task.retriers]
    if task.catch_next:
        state["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": task.catch_next}]
    return _end_or_next(state, task.next_state, task.end_output)


@dataclass
class SideChannelRead:
    """``dynamodb:getItem`` of the item a foreach or switch step published."""

    key_expression: str  # a States.Format(...) intrinsic giving the pk
    result_key: str  # "foreach" or "branch"
    selector: dict[str, str]  # ResultSelector
    next_state: str


def emit_side_channel_read(read: SideChannelRead) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": DYNAMODB_GET_ITEM,
        # Strongly consistent: the item was written moments before the job
        # ended, and an eventually consistent read could still miss it.
        "Parameters": {"TableName": "${SideChannelTable}", "Key": {"pk": {"S.$": read.key_expression}},
                       "ConsistentRead": True},
        "ResultSelector": read.selector,
        "ResultPath": "$." + read.result_key,
        "Retry": [SIDE_CHANNEL_RETRIER.render()],
        "Next": read.next_state,
    }


@dataclass
class ChoiceState:
    rules: list[dict[str, Any]]  # already-rendered Choice rules, each with Next
    default: str


def emit_choice_state(choice: ChoiceState) -> dict[str, Any]:
    return {"Type": "Choice", "Choices": choice.rules, "Default": choice.default}


def string_equals(variable: str, value: str, next_state: str) -> dict[str, Any]:
    return {"Variable": variable, "StringEquals": value, "Next": next_state}


def is_present(variable: str, next_state: str) -> dict[str, Any]:
    return {"Variable": variable, "IsPresent": True, "Next": next_state}


@dataclass
class Branch:
    """A sub-workflow: Parallel branch or Map item processor."""

    start_at: str
    states: dict[str, dict[str, Any]]

    def render(self) -> dict[str, Any]:
        return {"StartAt": self.start_at, "States": self.states}


@dataclass
class ParallelState:
    branches: list[Branch]
    next_state: str | None
    end_output: str | None = None


def emit_parallel_state(par: ParallelState) -> dict[str, Any]:
    state = {"Type": "Parallel",
             "Branches": [b.render() for b in par.branches], "ResultPath": None}
    return _end_or_next(state, par.next_state, par.end_output)


@dataclass
class MapState:
    body: Branch
    item_selector: dict[str, str]
    distributed: bool
    next_state: str | None
    items_path: str | None = None  # inline: the typed list from the side channel
    manifest_bucket_path: str | None = None  # distributed: where ItemReader reads
    manifest_key_path: str | None = None
    result_prefix: str | None = None  # distributed: ResultWriter prefix
    max_concurrency: int | None = None
    end_output: str | None = None


def emit_map_state(m: MapState) -> dict[str, Any]:
    processor: dict[str, Any] = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
                                 if m.distributed else {"Mode": "INLINE"}}
    processor.update(m.body.render())
    state: dict[str, Any] = {"Type": "Map"}
    if m.distributed:
        state["ItemReader"] = {
            "Resource": S3_GET_OBJECT,
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket.$": m.manifest_bucket_path, "Key.$": m.manifest_key_path},
        }
        # Without a writer the child outputs come back as one array, which
        # breaks the 256 KB payload limit long before 100,000 items.
        # (A path here would be read from the Map's result array, not its
        # input, so the bucket is a placeholder: the datastore's bucket.)
        state["ResultWriter"] = {"Resource": S3_PUT_OBJECT,
                                 "Parameters": {"Bucket": "${MapResultBucket}", "Prefix": m.result_prefix}}
    else:
        state["ItemsPath"] = m.items_path
    state["ItemSelector"] = m.item_selector
    state["ItemProcessor"] = processor
    if m.max_concurrency:
        state["MaxConcurrency"] = m.max_concurrency
    state["ResultPath"] = None
    return _end_or_next(state, m.next_state, m.end_output)


@dataclass
class FailState:
    error: str
    cause: str


def emit_fail_state(fail: FailState) -> dict[str, Any]:
    return {"Type": "Fail", "Error": fail.error, "Cause": fail.cause}


@dataclass
class SucceedState:
    output_path: str | None = None


def emit_succeed_state(s: SucceedState) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Succeed"}
    if s.output_path:
        state["OutputPath"] = s.output_path
    return state
