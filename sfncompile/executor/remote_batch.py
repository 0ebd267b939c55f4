"""``batch:submitJob.sync`` sent to real AWS Batch, for the steps a hybrid run sends there.

A hybrid run (``sfncompile run --hybrid`` / ``--with batch``) interprets the
same state machine as any local run; only the Batch Task states of the chosen
steps are routed here instead of to ``LocalBatch``. The SubmitJob request the
state machine builds (job name, ``step``/``mode`` parameters, the
per-execution environment) is submitted as is to the run's job queue, against
job definitions registered for the run from the same ``JobDefinitionSpec``
the CDK stack deploys. ``.sync`` semantics are the integration's: poll until
the job stops; a failed job fails the task with ``States.TaskFailed`` and the
job description as the cause. The job's CloudWatch log stream is followed
while it runs (lines reach the progress view as ``log`` events), and a
cancelled run (Ctrl-C, ``--timeout``) terminates the jobs it started.
"""

from __future__ import annotations

import collections
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .batch import LOG_TAIL_LINES, JobRecord, LocalBatch
from .cancel import Cancelled
from .errors import TASK_FAILED, StatesError
from .interpreter import TaskCall

BATCH_LOG_GROUP = "/aws/batch/job"
POLL_SECONDS = 1.0
TERMINATE_REASON = "terminated by sfncompile: the run was {why}"
_JOB_NAME = re.compile(r"[^A-Za-z0-9_-]")


def _pascal(value: Any) -> Any:
    """boto3's camelCase job description → the PascalCase the Step Functions integration returns."""
    if isinstance(value, dict):
        return {(k[:1].upper() + k[1:]): _pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascal(v) for v in value]
    return value


@dataclass
class RemoteDefinitions:
    """Local job definition name (``<Flow>-<key>``) → the registered definition's ARN."""

    arns: dict[str, str]

    def arn(self, name: str) -> str:
        short = name.rsplit("/", 1)[-1].split(":", 1)[0]
        arn = self.arns.get(name) or self.arns.get(short)
        if arn is None:
            raise StatesError(TASK_FAILED, f"JobDefinition '{name}' was not registered for this hybrid run "
                                           f"(registered: {', '.join(sorted(self.arns))})")
        return arn


class RemoteBatch:
    """Runs Batch jobs on AWS Batch (boto3) and waits for them, as ``submitJob.sync`` does."""

    def __init__(self, batch_client, logs_client, queue: str, definitions: RemoteDefinitions, *,
                 on_event: Callable[[str, dict], None] | None = None, poll_seconds: float = POLL_SECONDS):
        self.batch = batch_client
        self.logs = logs_client
        self.queue = queue
        self.definitions = definitions
        self.on_event = on_event or (lambda kind, info: None)
        self.poll_seconds = poll_seconds
        self.jobs: list[JobRecord] = []

    def submit_job_sync(self, parameters: Mapping[str, Any], call: TaskCall) -> dict:
        request = dict(parameters)
        overrides = request.get("ContainerOverrides") or {}
        env = {item["Name"]: str(item.get("Value", "")) for item in overrides.get("Environment") or []}
        job_params = {k: str(v) for k, v in (request.get("Parameters") or {}).items()}
        submit: dict[str, Any] = {
            "jobName": _JOB_NAME.sub("-", str(request.get("JobName") or "job"))[:128],
            "jobQueue": self.queue,
            "jobDefinition": self.definitions.arn(str(request.get("JobDefinition", ""))),
            "parameters": job_params,
            "containerOverrides": {"environment": [{"name": k, "value": v} for k, v in env.items()]},
        }
        attempt_seconds = (request.get("Timeout") or {}).get("AttemptDurationSeconds")
        if attempt_seconds:
            submit["timeout"] = {"attemptDurationSeconds": max(60, int(attempt_seconds))}
        created = time.time()
        try:
            job_id = self.batch.submit_job(**submit)["jobId"]
        except Exception as exc:  # an AWS error is the task's failure, with what AWS said
            raise StatesError("Batch.AWSBatchException", f"SubmitJob to {self.queue}: {exc}") from None
        info = {"job_id": job_id, "job_name": submit["jobName"], "parameters": job_params,
                "environment": env, "remote": True}
        self.on_event("started", info)
        job, tail = self._follow(job_id, call, info)
        succeeded = job.get("status") == "SUCCEEDED"
        container = job.get("container") or {}
        record = JobRecord(job_id, submit["jobName"], job_params, env, job.get("status", "FAILED"),
                           container.get("exitCode"), job.get("statusReason") or container.get("reason") or "",
                           container.get("logStreamName"), tail, max(1, len(job.get("attempts") or [])),
                           created, time.time())
        self.jobs.append(record)
        self.on_event("succeeded" if succeeded else "failed", {**info, "record": record})
        description = _pascal(job)
        if not succeeded:
            raise StatesError(TASK_FAILED, json.dumps(description, separators=(",", ":"), default=str))
        return description

    def _follow(self, job_id: str, call: TaskCall, info: dict) -> tuple[dict, list[str]]:
        """Poll the job until it stops, following its log stream; terminate it if the run is cancelled."""
        tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
        log = _LogFollower(self.logs)
        while True:
            if call.cancel.wait(self.poll_seconds):
                why = call.cancel.why() or "cancelled"
                try:
                    self.batch.terminate_job(jobId=job_id, reason=TERMINATE_REASON.format(why=why))
                except Exception:  # the job may have ended meanwhile; the run stops either way
                    pass
                raise Cancelled(why)
            try:
                jobs = self.batch.describe_jobs(jobs=[job_id])["jobs"]
            except Exception as exc:
                raise StatesError("Batch.AWSBatchException", f"DescribeJobs {job_id}: {exc}") from None
            job = jobs[0] if jobs else {"status": "FAILED", "statusReason": "the job disappeared"}
            stream = (job.get("container") or {}).get("logStreamName")
            for line in log.new_lines(stream):
                tail.append(line)
                self.on_event("log", {**info, "line": line})
            if job.get("status") in ("SUCCEEDED", "FAILED"):
                # The last lines can land after the status changes.
                for line in log.new_lines(stream):
                    tail.append(line)
                    self.on_event("log", {**info, "line": line})
                return job, list(tail)


class _LogFollower:
    """New lines of one CloudWatch log stream, in order, each once."""

    def __init__(self, logs_client, group: str = BATCH_LOG_GROUP):
        self.logs = logs_client
        self.group = group
        self.token: str | None = None

    def new_lines(self, stream: str | None) -> list[str]:
        if not stream or self.logs is None:
            return []
        lines: list[str] = []
        while True:
            kwargs = {"logGroupName": self.group, "logStreamName": stream, "startFromHead": True}
            if self.token:
                kwargs["nextToken"] = self.token
            try:
                page = self.logs.get_log_events(**kwargs)
            except Exception:  # the stream appears only once the container started
                return lines
            events = page.get("events") or []
            lines.extend(e.get("message", "") for e in events)
            token = page.get("nextForwardToken")
            if not events or token == self.token:
                self.token = token or self.token
                return lines
            self.token = token


class RoutedBatch:
    """One ``submitJob.sync`` handler: the steps in ``remote_steps`` go to AWS Batch, the rest run here."""

    def __init__(self, local: LocalBatch, remote: RemoteBatch, remote_steps: set[str]):
        self.local = local
        self.remote = remote
        self.remote_steps = set(remote_steps)

    def submit_job_sync(self, parameters: Mapping[str, Any], call: TaskCall) -> dict:
        step = (parameters.get("Parameters") or {}).get("step")
        mode = (parameters.get("Parameters") or {}).get("mode", "step")
        target = self.remote if mode == "step" and step in self.remote_steps else self.local
        return target.submit_job_sync(parameters, call)

    @property
    def jobs(self) -> list[JobRecord]:
        return sorted(self.local.jobs + self.remote.jobs, key=lambda j: j.stopped_at)

    def close(self):
        self.local.close()
