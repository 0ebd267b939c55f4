"""A job definition spec (from ``sfncompile.backends.jobdefs``) as CloudFormation properties.

``jobdefs.job_definitions`` is the one source of truth for what a step's
Batch job looks like (the local executor builds its jobs from the same
function); this module only translates one spec to ``AWS::Batch::JobDefinition``
properties for the platform the queue runs on (Fargate or EC2), rounding the
resources up to what Fargate accepts.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

# Fargate's valid (vCPU -> memory MiB) combinations.
_FARGATE = {
    0.25: [512, 1024, 2048],
    0.5: [1024 * i for i in range(1, 5)],
    1: [1024 * i for i in range(2, 9)],
    2: [1024 * i for i in range(4, 17)],
    4: [1024 * i for i in range(8, 31)],
    8: [1024 * i for i in range(16, 61, 4)],
    16: [1024 * i for i in range(32, 121, 8)],
}


@dataclass
class JobSpec:
    """What we read from a jobdefs spec, named the way Batch names it."""

    key: str
    command: list[str]
    environment: dict[str, str] = field(default_factory=dict)
    vcpus: float = 1
    memory: int = 4096
    gpu: int = 0
    shared_memory: int | None = None
    image: str | None = None
    attempts: int = 1
    evaluate_on_exit: list[dict[str, str]] = field(default_factory=list)
    timeout_seconds: int | None = None
    parameters: dict[str, str] = field(default_factory=lambda: {"mode": "step"})
    ephemeral_storage: int | None = None
    job_role: str | None = None  # @batch(iam_role=...): runs as this role instead of the flow's job role


def _read(spec: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(spec, dict) and name in spec:
            return spec[name]
        if hasattr(spec, name):
            return getattr(spec, name)
    return default


def normalize(key: str, spec: Any) -> JobSpec:
    """Accept the jobdefs spec (a dataclass or a dict, snake or Batch case)."""
    if dataclasses.is_dataclass(spec) and not isinstance(spec, type):
        spec = dataclasses.asdict(spec)
    container = _read(spec, "container_properties", "containerProperties", default=None) or {}
    resources = _read(spec, "resources", default={}) or {}

    def pick(*names, default=None):
        for source in (spec, container, resources):
            value = _read(source, *names)
            if value is not None:
                return value
        return default

    env = pick("environment", "env", default={})
    if isinstance(env, list):  # Batch's [{"name":, "value":}]
        env = {e["name"]: e["value"] for e in env}
    for req in pick("resourceRequirements", "resource_requirements", default=[]) or []:
        resources = {**resources, req["type"].lower(): req["value"]}
    retry = pick("retry_strategy", "retryStrategy", default={}) or {}
    timeout = pick("timeout_seconds", "timeout", "attempt_duration_seconds", default=None)
    if isinstance(timeout, dict):
        timeout = timeout.get("attemptDurationSeconds") or timeout.get("attempt_duration_seconds")
    return JobSpec(
        key=key,
        command=list(pick("command", default=[])),
        environment={k: str(v) for k, v in dict(env).items()},
        vcpus=float(pick("vcpus", "cpu", "vcpu", default=1)),
        memory=int(float(pick("memory", default=4096))),
        gpu=int(float(pick("gpu", default=0) or 0)),
        shared_memory=pick("shared_memory", "sharedMemorySize"),
        image=pick("image"),
        attempts=int(_read(retry, "attempts", default=1) or 1),
        evaluate_on_exit=list(_read(retry, "evaluate_on_exit", "evaluateOnExit", default=[]) or []),
        timeout_seconds=int(timeout) if timeout else None,
        parameters=dict(pick("parameters", default={"mode": "step"}) or {"mode": "step"}),
        ephemeral_storage=pick("ephemeral_storage", "ephemeralStorage"),
        job_role=pick("job_role", "jobRoleArn"),
    )


def fargate_size(vcpus: float, memory: int) -> tuple[float, int]:
    """The smallest valid Fargate (vCPU, MiB) at least as large as asked."""
    for cpu in sorted(_FARGATE):
        if cpu + 1e-9 < vcpus:
            continue
        for mem in _FARGATE[cpu]:
            if mem >= memory:
                return cpu, mem
    raise ValueError(f"{vcpus} vCPU / {memory} MiB is larger than Fargate's largest task (16 vCPU, 120 GiB); "
                     "use an EC2 compute environment")


def _fmt_cpu(cpu: float) -> str:
    return str(int(cpu)) if float(cpu).is_integer() else str(cpu)


def job_definition_properties(spec: JobSpec, *, name: str, image: str, fargate: bool, job_role_arn: Any,
                              execution_role_arn: Any, assign_public_ip: bool,
                              environment: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation ``AWS::Batch::JobDefinition`` properties, as the template spells them."""
    env = {**spec.environment, **environment}
    if fargate:
        cpu, memory = fargate_size(spec.vcpus, spec.memory)
        requirements = [{"Type": "VCPU", "Value": _fmt_cpu(cpu)}, {"Type": "MEMORY", "Value": str(memory)}]
    else:
        requirements = [{"Type": "VCPU", "Value": str(max(1, math.ceil(spec.vcpus)))},
                        {"Type": "MEMORY", "Value": str(spec.memory)}]
        if spec.gpu:
            requirements.append({"Type": "GPU", "Value": str(spec.gpu)})
    container: dict[str, Any] = {
        "Image": spec.image or image,
        "Command": spec.command,
        "Environment": [{"Name": k, "Value": env[k]} for k in sorted(env)],
        "ResourceRequirements": requirements,
        "JobRoleArn": spec.job_role or job_role_arn,
        "ExecutionRoleArn": execution_role_arn,
        "ReadonlyRootFilesystem": False,
        "Privileged": False,
        "LogConfiguration": {"LogDriver": "awslogs"},
    }
    if fargate:
        container["NetworkConfiguration"] = {"AssignPublicIp": "ENABLED" if assign_public_ip else "DISABLED"}
        container["FargatePlatformConfiguration"] = {"PlatformVersion": "LATEST"}
        if spec.ephemeral_storage:
            container["EphemeralStorage"] = {"SizeInGiB": int(spec.ephemeral_storage)}
    elif spec.shared_memory:
        container["LinuxParameters"] = {"SharedMemorySize": int(spec.shared_memory)}
    retry: dict[str, Any] = {"Attempts": max(1, spec.attempts)}
    if spec.evaluate_on_exit:
        retry["EvaluateOnExit"] = [{_pascal(k): v for k, v in rule.items()} for rule in spec.evaluate_on_exit]
    props: dict[str, Any] = {
        "Type": "container",
        "JobDefinitionName": name,
        "PlatformCapabilities": ["FARGATE" if fargate else "EC2"],
        "ContainerProperties": container,
        "Parameters": spec.parameters,
        "RetryStrategy": retry,
        "PropagateTags": True,
    }
    if spec.timeout_seconds:
        props["Timeout"] = {"AttemptDurationSeconds": max(60, spec.timeout_seconds)}
    return props


def _pascal(key: str) -> str:
    if "_" not in key:
        return key[:1].upper() + key[1:]
    return "".join(p.title() for p in key.split("_"))
