"""What a synth needs besides the flow: names, existing resources, compute.

Pure data and pure functions (no CDK import), so the deploy and operate
commands can compute the same names without paying the CDK's import cost.

Names are deterministic: the platform's bucket is
``<prefix>-<account>-<region>``, its table ``<prefix>-side-channel`` and its
queue ``<prefix>-<kind>``. A flow stack therefore refers to the platform by
name (``Fn::Sub`` on the pseudo parameters) instead of a cross-stack export,
so the two stacks can be owned, deployed and deleted independently and a
flow stack works the same against resources that were not created by us.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ...diagnostics import UserError

COMPUTE_KINDS = ("fargate", "fargate_spot", "ec2", "spot", "gpu")


@dataclass(frozen=True)
class Networking:
    """Subnets and security groups for the compute environments.

    Empty means: the platform stack creates a small VPC (two public subnets,
    no NAT gateway, a security group without ingress).
    """

    vpc_id: str | None = None
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    # Imported private subnets behind a NAT gateway want False; the created VPC has
    # public subnets only, so its tasks need a public IP to reach AWS APIs.
    public_ip: bool | None = None

    def __post_init__(self):
        for value, pattern, what in [(v, r"subnet-([0-9a-f]{8}|[0-9a-f]{17})", "subnet id") for v in self.subnet_ids] + \
                [(v, r"sg-([0-9a-f]{8}|[0-9a-f]{17})", "security group id") for v in self.security_group_ids] + \
                ([(self.vpc_id, r"vpc-([0-9a-f]{8}|[0-9a-f]{17})", "VPC id")] if self.vpc_id else []):
            if not re.fullmatch(pattern, value):
                raise UserError(f"{value!r} is not a {what} (like {pattern.split('-')[0]}-0123456789abcdef0)")
        if (self.security_group_ids or self.vpc_id) and not self.subnet_ids:
            raise UserError("existing networking needs the subnets: pass --subnet (security groups alone are not enough)")

    @property
    def imported(self) -> bool:
        return bool(self.subnet_ids)

    @property
    def assign_public_ip(self) -> bool:
        return (not self.imported) if self.public_ip is None else self.public_ip


@dataclass(frozen=True)
class PlatformSettings:
    prefix: str = "sfncompile"
    # Existing resources to use instead of creating them (names or ARNs).
    bucket_name: str | None = None
    table_name: str | None = None
    job_queue_arn: str | None = None
    networking: Networking = field(default_factory=Networking)
    compute: tuple[str, ...] = ("fargate",)  # one compute environment + queue per kind
    max_vcpus: int = 256
    temp_prefix: str = "tmp/"  # lifecycle: objects under it expire
    temp_expiry_days: int = 7
    noncurrent_expiry_days: int = 30

    def __post_init__(self):
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", self.prefix):
            raise UserError(f"stack_prefix {self.prefix!r} must be 1-31 lowercase letters, digits or '-', "
                            "starting with a letter (it is part of the bucket name)")
        bad = [c for c in self.compute if c not in COMPUTE_KINDS]
        if bad or not self.compute:
            raise UserError(f"unknown compute kind(s) {bad or self.compute}; choose from {', '.join(COMPUTE_KINDS)}")

    @property
    def creates_platform(self) -> bool:
        """Whether a platform stack is needed at all."""
        return not (self.bucket_name and self.table_name and self.job_queue_arn)

    @property
    def default_compute(self) -> str:
        return self.compute[0]

    def queue_name(self, kind: str | None = None) -> str:
        return f"{self.prefix}-{(kind or self.default_compute).replace('_', '-')}"

    @property
    def platform_stack_name(self) -> str:
        return f"{self.prefix}-platform"

    @property
    def created_table_name(self) -> str:
        return f"{self.prefix}-side-channel"


@dataclass(frozen=True)
class FlowSettings:
    """One deployment of one flow."""

    platform: PlatformSettings = field(default_factory=PlatformSettings)
    image: str = "public.ecr.aws/docker/library/python:3.11-slim"
    base_image: str | None = None  # image = the runtime image asset: its Dockerfile's BASE, by digest
    datastore_prefix: str = ""  # key prefix inside the bucket ("" = bucket root)
    code_sha256: str = "0" * 64  # the code package the job definitions point at
    production_token: str = ""
    deployer: str = ""
    branch: str | None = None  # @project branch; None = user.<deployer>
    production: bool = False  # @project: deploy the production branch
    log_retention_days: int = 30
    # Where exit hook / failure notifications go (an SNS topic ARN); none = event rule only.
    notification_topic_arn: str | None = None
    event_source: str = "sfncompile"  # the EventBridge source @trigger events are published with
    event_bus_name: str = "default"
    # Existing roles to use instead of creating them (their owners grant what docs/deploy.md lists).
    job_role_arn: str | None = None
    execution_role_arn: str | None = None
    state_machine_role_arn: str | None = None

    def with_code(self, sha256: str) -> "FlowSettings":
        return replace(self, code_sha256=sha256)


def kebab(name: str) -> str:
    """``HelloFlow`` -> ``hello-flow``; used in stack and resource names."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name)
    return re.sub(r"[^a-zA-Z0-9-]+", "-", text).strip("-").lower()


def project_branch(project: dict | None, settings: FlowSettings) -> str | None:
    """Metaflow's branch naming: ``user.<name>``, ``test.<branch>``, ``prod``, ``prod.<branch>``."""
    if not project:
        return None
    if settings.production or project.get("production"):
        return f"prod.{settings.branch}" if settings.branch else "prod"
    if settings.branch:
        return f"test.{settings.branch}"
    return f"user.{settings.deployer or 'unknown'}"


def deployment_name(flow_name: str, project: dict | None, settings: FlowSettings) -> str:
    """The flow stack's and state machine's name (letters, digits, '-', at most 80)."""
    parts = [settings.platform.prefix]
    branch = project_branch(project, settings)
    if project:
        parts += [project["name"].replace("_", "-"), branch.replace(".", "-").replace("_", "-")]
    parts.append(kebab(flow_name))
    name = re.sub(r"[^a-zA-Z0-9-]+", "-", "-".join(parts))
    name = re.sub(r"-+", "-", name).strip("-")
    if len(name) > 80:
        import hashlib
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = name[:71].rstrip("-") + "-" + digest
    return name


def datastore_prefix(project: dict | None, settings: FlowSettings) -> str:
    """The key prefix of a deployment's datastore inside the bucket.

    ``@project`` deployments get their own prefix per branch
    (``projects/<name>/<branch>``), so a ``user.*`` branch's job role cannot
    read or overwrite the production branch's artifacts.
    """
    parts = [settings.datastore_prefix.strip("/")]
    if project:
        parts += ["projects", project["name"], project_branch(project, settings)]
    return "/".join(p for p in parts if p)
