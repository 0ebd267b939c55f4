"""AWS Batch job definitions: one per distinct resource spec of the flow's steps.

Pure functions of the IR plus deployment settings. Two consumers build the
same dictionaries from here: the CDK stack (which creates the job
definitions) and the local executor (which runs ``command`` as a process with
``environment``). The state machine only names a definition through the
placeholder ``${JobDefinition<Key>}``; the key depends on the step's
decorators alone, never on settings, so the ASL does not change when the
image or the datastore does.

See docs/state-machine.md §1 for the contract.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, asdict
from typing import Any, Mapping

from sfncompile_runtime import envnames, graphinfo
from sfncompile_runtime.bootstrap import BOOTSTRAP_SOURCE

from ..ir import FlowGraph, StepNode

DEFAULT_CPU = 1
DEFAULT_MEMORY = 4096  # MiB, Metaflow's default

# Infrastructure failures Batch itself retries (the job never ran the user's
# code to completion through no fault of it); anything else exits so that the
# state machine's own Retry (from @retry) decides. Batch allows 5 entries.
INFRA_RETRY_ATTEMPTS = 3
INFRA_EVALUATE_ON_EXIT = (
    {"onStatusReason": "Host EC2*", "action": "RETRY"},  # instance terminated, Spot reclaim
    {"onReason": "CannotPullContainerError*", "action": "RETRY"},
    {"onReason": "ResourceInitializationError*", "action": "RETRY"},
    {"onReason": "CannotStartContainerError*", "action": "RETRY"},
    {"onReason": "*", "action": "EXIT"},
)

# Static environment names (values come from settings; see the contract §1).
STATIC_ENV = {
    "code_url": envnames.CODE_URL,
    "code_sha256": envnames.CODE_SHA256,
    "datastore": envnames.DATASTORE,
    "side_channel": envnames.SIDE_CHANNEL,
    "production_token": envnames.PRODUCTION_TOKEN,
}


@dataclass(frozen=True)
class ResourceSpec:
    """What makes two steps share a job definition."""

    cpu: float = DEFAULT_CPU
    memory: int = DEFAULT_MEMORY
    gpu: int = 0
    image: str | None = None  # None: the deployment's default image
    shared_memory: int | None = None
    timeout_seconds: int | None = None
    job_role: str | None = None  # @batch(iam_role=...): the role the container runs as

    def key(self) -> str:
        """A short, stable, placeholder-safe name (letters and digits only)."""
        if self == ResourceSpec():
            return "Default"
        cpu = _number_text(self.cpu)
        key = f"C{cpu}M{self.memory}"
        if self.gpu:
            key += f"G{self.gpu}"
        if self.timeout_seconds:
            key += f"T{self.timeout_seconds}"
        extra = {k: v for k, v in (("image", self.image), ("shared_memory", self.shared_memory),
                                   ("job_role", self.job_role)) if v}
        if extra:
            digest = hashlib.sha256(json.dumps(extra, sort_keys=True).encode()).hexdigest()[:8]
            key += f"X{digest}"
        return key


@dataclass(frozen=True)
class JobDefinitionSettings:
    """Deployment values; every field optional (absent → left out)."""

    image: str = "public.ecr.aws/docker/library/python:3.11-slim"
    code_url: str | None = None
    code_sha256: str | None = None
    datastore: str | None = None
    side_channel: str | None = None
    production_token: str | None = None


@dataclass
class JobDefinitionSpec:
    key: str
    cpu: float
    memory: int
    gpu: int
    image: str
    command: list[str]
    environment: dict[str, str]
    retry_strategy: dict[str, Any]
    timeout_seconds: int | None = None
    shared_memory: int | None = None
    job_role: str | None = None  # None: the deployment's task role
    parameters: dict[str, str] = field(default_factory=lambda: {"mode": "step"})
    steps: list[str] = field(default_factory=list)  # the steps using it, in source order

    @property
    def placeholder(self) -> str:
        return "JobDefinition" + self.key

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_batch(self, name: str) -> dict[str, Any]:
        """The RegisterJobDefinition request (boto3 ``batch.register_job_definition``)."""
        requirements = [{"type": "VCPU", "value": _number_text(self.cpu, dot=True)},
                        {"type": "MEMORY", "value": str(self.memory)}]
        if self.gpu:
            requirements.append({"type": "GPU", "value": str(self.gpu)})
        container: dict[str, Any] = {
            "image": self.image,
            "command": list(self.command),
            "resourceRequirements": requirements,
            "environment": [{"name": k, "value": v} for k, v in sorted(self.environment.items())],
        }
        if self.shared_memory:
            container["linuxParameters"] = {"sharedMemorySize": self.shared_memory}
        if self.job_role:
            container["jobRoleArn"] = self.job_role
        request: dict[str, Any] = {
            "jobDefinitionName": name,
            "type": "container",
            "parameters": dict(self.parameters),
            "containerProperties": container,
            "retryStrategy": self.retry_strategy,
        }
        if self.timeout_seconds:
            request["timeout"] = {"attemptDurationSeconds": batch_timeout(self.timeout_seconds)}
        return request


def _number_text(value: float, dot: bool = False) -> str:
    text = f"{float(value):g}"
    return text if dot else text.replace(".", "p")


def batch_timeout(seconds: int) -> int:
    """Batch refuses attempt durations under 60 seconds."""
    return max(60, int(seconds))


def _number(value: Any, default: float) -> float:
    if value is None or isinstance(value, bool):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def timeout_seconds(step: StepNode) -> int | None:
    deco = step.decorator("timeout")
    if deco is None:
        return None
    return int(graphinfo.timeout_seconds(deco.args)) or None


def resource_spec(step: StepNode) -> ResourceSpec:
    """@batch and @resources combined the way Metaflow does: the larger value wins."""
    batch = step.decorator("batch")
    res = step.decorator("resources")
    values = {"cpu": [], "memory": [], "gpu": []}
    for deco in (batch, res):
        if deco is None:
            continue
        for name in values:
            if deco.args.get(name) is not None:
                values[name].append(_number(deco.args[name], 0))
    cpu = max(values["cpu"]) if values["cpu"] else DEFAULT_CPU
    memory = int(max(values["memory"])) if values["memory"] else DEFAULT_MEMORY
    gpu = int(max(values["gpu"])) if values["gpu"] else 0
    image = batch.args.get("image") if batch else None
    shm = None
    for deco in (batch, res):
        if deco is not None and deco.args.get("shared_memory") is not None:
            shm = int(_number(deco.args["shared_memory"], 0)) or None
    if float(cpu).is_integer():
        cpu = int(cpu)
    role = batch.args.get("iam_role") if batch else None
    return ResourceSpec(cpu=cpu, memory=memory, gpu=gpu, image=image, shared_memory=shm,
                        timeout_seconds=timeout_seconds(step), job_role=role or None)


def job_queue(step: StepNode) -> str:
    """The SubmitJob ``JobQueue`` for a step: ``@batch(queue=...)`` as written,
    ``${JobQueueGpu}`` for a step that asks for GPUs (a GPU compute
    environment), ``${JobQueue}`` otherwise."""
    batch = step.decorator("batch")
    if batch is not None and batch.args.get("queue"):
        return str(batch.args["queue"])
    if resource_spec(step).gpu:
        return "${JobQueueGpu}"
    return "${JobQueue}"


def step_environment(step: StepNode) -> dict[str, str]:
    """The step's ``@environment`` variables as its tasks get them (its Task state's
    ``ContainerOverrides``, beside the contract's per-task variables), by name."""
    deco = step.decorator("environment")
    if deco is None:
        return {}
    return {str(name): _env_text(value) for name, value in sorted((deco.args.get("vars") or {}).items())}


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def job_definition_keys(graph: FlowGraph) -> dict[str, str]:
    """step name → job definition key (``${JobDefinition<key>}`` in the ASL)."""
    return {step.name: resource_spec(step).key() for step in graph}


def container_command() -> list[str]:
    return ["python3", "-c", BOOTSTRAP_SOURCE, "Ref::mode", "Ref::step"]


def infra_retry_strategy() -> dict[str, Any]:
    return {"attempts": INFRA_RETRY_ATTEMPTS, "evaluateOnExit": [dict(e) for e in INFRA_EVALUATE_ON_EXIT]}


def _settings(settings: JobDefinitionSettings | Mapping[str, Any] | None) -> JobDefinitionSettings:
    if settings is None:
        return JobDefinitionSettings()
    if isinstance(settings, JobDefinitionSettings):
        return settings
    known = JobDefinitionSettings.__dataclass_fields__
    return JobDefinitionSettings(**{k: v for k, v in dict(settings).items() if k in known and v is not None})


def static_environment(settings: JobDefinitionSettings) -> dict[str, str]:
    env = {}
    for attr, name in STATIC_ENV.items():
        value = getattr(settings, attr)
        if value:
            env[name] = str(value)
    return env


def job_definitions(graph: FlowGraph, settings: JobDefinitionSettings | Mapping[str, Any] | None = None
                    ) -> dict[str, JobDefinitionSpec]:
    """{key: JobDefinitionSpec}, keys sorted, one per distinct resource spec."""
    settings = _settings(settings)
    env = static_environment(settings)
    command = container_command()
    specs: dict[str, JobDefinitionSpec] = {}
    for step in graph:
        res = resource_spec(step)
        key = res.key()
        if key not in specs:
            specs[key] = JobDefinitionSpec(
                key=key, cpu=res.cpu, memory=res.memory, gpu=res.gpu,
                image=res.image or settings.image, command=list(command), environment=dict(env),
                retry_strategy=infra_retry_strategy(), timeout_seconds=res.timeout_seconds,
                shared_memory=res.shared_memory, job_role=res.job_role)
        specs[key].steps.append(step.name)
    if graph.decorator("exit_hook") is not None and "Default" not in specs:
        # The exit-hook Tasks run on the default spec (docs/state-machine.md §7).
        res = ResourceSpec()
        specs["Default"] = JobDefinitionSpec(
            key="Default", cpu=res.cpu, memory=res.memory, gpu=res.gpu, image=settings.image,
            command=list(command), environment=dict(env), retry_strategy=infra_retry_strategy())
    return {key: specs[key] for key in sorted(specs)}


