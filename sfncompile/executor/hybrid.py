"""Hybrid runs: some steps on this machine, the others on AWS Batch, in one run.

``sfncompile run --hybrid`` sends the steps that carry ``@batch`` to AWS Batch;
``--with batch`` puts ``@batch`` on every step, so every step goes there. The
run is otherwise an ordinary local run (one run id, one progress view,
``resume`` across both kinds of task): what makes it work is that artifacts
live in an S3 datastore both sides read and write, and that the Batch jobs run
the very command and environment the deployed job definitions carry.

Everything a remote step needs is checked before the run starts, each missing
piece in one message naming the setting: an S3 datastore, AWS credentials, a
job queue (``--job-queue`` or the deployed platform's), an IAM role for the
jobs, the code package in the datastore. Job definitions are registered for
the run from the same ``JobDefinitionSpec`` the CDK stack deploys (an
identical definition registered before is reused, by a digest tag).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Callable

from ..diagnostics import UserError
from .remote_batch import RemoteBatch, RemoteDefinitions

SPEC_TAG = "sfncompile:spec-sha256"
FARGATE_TYPES = ("FARGATE", "FARGATE_SPOT")


@dataclass
class HybridTarget:
    """Where a hybrid run's remote steps go; ``batch()`` makes the resource handler."""

    steps: set[str]
    queue: str
    definitions: RemoteDefinitions
    clients: Any

    def batch(self, on_event: Callable[[str, dict], None] | None = None) -> RemoteBatch:
        return RemoteBatch(self.clients("batch"), self.clients("logs"), self.queue, self.definitions,
                           on_event=on_event)


def remote_steps(graph) -> set[str]:
    """The steps a hybrid run sends to Batch: those carrying ``@batch`` (from the source or ``--with``)."""
    return {step.name for step in graph if step.decorator("batch") is not None}


def prepare_hybrid(prepared, config, *, job_queue: str | None = None, job_role_arn: str | None = None,
                   execution_role_arn: str | None = None) -> HybridTarget:
    """Check every requirement, then register the job definitions; raises UserError naming what is missing."""
    from ..deploy.aws import Clients, aws_errors

    steps = remote_steps(prepared.graph)
    if not steps:
        raise UserError(f"--hybrid: no step of {prepared.flow} carries @batch, so nothing would run on AWS "
                        "Batch; add @batch to the steps to send there, or pass --with batch to send every step")
    if not prepared.root.startswith("s3://"):
        raise UserError("a hybrid run keeps its artifacts where both this machine and AWS Batch read them: "
                        "pass --datastore s3://bucket/prefix, set SFNCOMPILE_DATASTORE or add "
                        "'datastore = \"s3://...\"' under [tool.sfncompile] in pyproject.toml")
    clients = Clients.from_config(config)
    with aws_errors("hybrid run"):
        import boto3

        if boto3.session.Session().get_credentials() is None:
            raise UserError("a hybrid run submits Batch jobs: no AWS credentials found (set AWS_PROFILE or "
                            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)")
        queue = job_queue or config.get("job_queue") or _platform_queue(clients, config)
        described = clients("batch").describe_job_queues(jobQueues=[queue]).get("jobQueues") or []
        if not described:
            raise UserError(f"job queue '{queue}' does not exist in this account/region (setting 'job_queue': "
                            "--job-queue, SFNCOMPILE_JOB_QUEUE or [tool.sfncompile])")
        _check_code_package(clients, prepared.code_url)
        fargate = _queue_is_fargate(clients, described[0])
        specs = _remote_specs(prepared, config, steps)
        roles = {key: _job_role(spec, job_role_arn or config.get("job_role_arn")) for key, spec in specs.items()}
        execution_role = execution_role_arn or config.get("execution_role_arn")
        if fargate and not execution_role:
            raise UserError(f"job queue '{queue}' runs on Fargate, whose jobs need an execution role (to pull "
                            "the image and write logs): pass --execution-role-arn, set "
                            "SFNCOMPILE_EXECUTION_ROLE_ARN or add 'execution_role_arn = ...' under "
                            "[tool.sfncompile]")
        arns = {}
        for key, spec in specs.items():
            name = f"{prepared.flow}-{key}"
            request = _registration(spec, f"sfncompile-{name}"[:128], roles[key], execution_role if fargate else None)
            arns[name] = _register(clients("batch"), request)
    return HybridTarget(steps=steps, queue=queue, definitions=RemoteDefinitions(arns), clients=clients)


def _platform_queue(clients, config) -> str:
    from ..deploy.settings import platform_settings

    stack = platform_settings(config).platform_stack_name
    try:
        stacks = clients("cloudformation").describe_stacks(StackName=stack).get("Stacks") or []
    except Exception as exc:
        if "does not exist" not in str(exc):
            raise
        stacks = []
    outputs = {o["OutputKey"]: o["OutputValue"] for s in stacks for o in s.get("Outputs") or []}
    if not outputs.get("JobQueueArn"):
        raise UserError(f"a hybrid run needs an AWS Batch job queue: the platform stack {stack} is not deployed "
                        "(run 'sfncompile deploy' once) — or name a queue with --job-queue, "
                        "SFNCOMPILE_JOB_QUEUE or 'job_queue = ...' under [tool.sfncompile]")
    return outputs["JobQueueArn"]


def _check_code_package(clients, code_url: str) -> None:
    bucket, _, key = code_url[len("s3://"):].partition("/")
    try:
        clients("s3").head_object(Bucket=bucket, Key=key)
    except Exception:
        raise UserError(f"the code package {code_url} is not in the datastore, so Batch jobs could not fetch "
                        "it; check that the datastore bucket exists and is writable") from None


def _queue_is_fargate(clients, queue: dict) -> bool:
    envs = [c["computeEnvironment"] for c in queue.get("computeEnvironmentOrder") or []]
    if not envs:
        return False
    described = clients("batch").describe_compute_environments(computeEnvironments=envs)
    kinds = {(c.get("computeResources") or {}).get("type", "") for c in described.get("computeEnvironments") or []}
    return bool(kinds) and kinds <= set(FARGATE_TYPES)


def _remote_specs(prepared, config, steps: set[str]) -> dict:
    from ..backends.jobdefs import JobDefinitionSettings, job_definitions

    settings = JobDefinitionSettings(image=str(config.get("image")), code_url=prepared.code_url,
                                     code_sha256=prepared.code_sha256, datastore=prepared.root,
                                     side_channel=prepared.side_channel)
    return {key: spec for key, spec in job_definitions(prepared.graph, settings).items()
            if set(spec.steps) & steps}


def _job_role(spec, configured: str | None) -> str:
    role = spec.job_role or configured
    if not role:
        raise UserError(f"steps {', '.join(spec.steps)} run on AWS Batch and need an IAM role to read and write "
                        "the datastore: pass --job-role-arn, set SFNCOMPILE_JOB_ROLE_ARN, add "
                        "'job_role_arn = ...' under [tool.sfncompile], or give @batch(iam_role=...)")
    return role


def _registration(spec, name: str, job_role: str, execution_role: str | None) -> dict:
    request = spec.to_batch(name)
    container = request["containerProperties"]
    container["jobRoleArn"] = job_role
    if execution_role:
        request["platformCapabilities"] = ["FARGATE"]
        container["executionRoleArn"] = execution_role
        container["networkConfiguration"] = {"assignPublicIp": "ENABLED"}
    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
    request["tags"] = {SPEC_TAG: digest}
    return request


def _register(batch, request: dict) -> str:
    """The ARN of an active definition registered from exactly this request, registering it if needed."""
    digest = request["tags"][SPEC_TAG]
    pages = batch.describe_job_definitions(jobDefinitionName=request["jobDefinitionName"], status="ACTIVE")
    for existing in pages.get("jobDefinitions") or []:
        if (existing.get("tags") or {}).get(SPEC_TAG) == digest:
            return existing["jobDefinitionArn"]
    return batch.register_job_definition(**request)["jobDefinitionArn"]
