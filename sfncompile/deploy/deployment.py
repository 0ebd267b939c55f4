"""``sfncompile deploy``: compile, package, synth, apply the stacks, report."""

from __future__ import annotations

import getpass
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..backends.cdk.settings import FlowSettings, PlatformSettings, datastore_prefix, deployment_name, project_branch
from ..config import DEFAULTS, Config
from ..diagnostics import UserError
from . import synth_cache
from .aws import Clients, aws_errors
from .production import BRANCH_TAG, DEPLOYER_TAG, PROJECT_TAG, TOKEN_TAG, namespace, remember, resolve_token
from .settings import flow_settings, platform_settings
from .stacks import StackResult, apply_template, describe_stack, stack_outputs, stack_tags


DEFAULT_IMAGE = DEFAULTS["image"]


@dataclass
class DeployOptions:
    dry_run: bool = False
    authorize: str | None = None
    branch: str | None = None
    production: bool = False
    compute: tuple[str, ...] = ()
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    vpc_id: str | None = None
    public_ip: bool | None = None
    notification_topic_arn: str | None = None
    deployer: str | None = None
    job_role_arn: str | None = None
    execution_role_arn: str | None = None
    state_machine_role_arn: str | None = None
    with_specs: tuple = ()  # decospecs.WithSpec from --with


@dataclass
class DeployResult:
    deployment: str
    state_machine_arn: str | None
    production_token: str
    datastore_root: str | None
    code_url: str | None
    stacks: list[StackResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    flow: str | None = None  # the flow's name


def current_deployer() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def project_tags(project, settings: FlowSettings) -> dict[str, str]:
    """The deployment's ``@project`` and branch as stack tags, so that ``trigger`` (which does not
    deploy) gives its runs the ``project:``/``project_branch:`` system tags local runs have."""
    if project is None:
        return {}
    args = dict(project.args)
    return {PROJECT_TAG: args["name"], BRANCH_TAG: project_branch(args, settings)}


def prepare(flow_path: str | Path, config: Config, options: DeployOptions, flow: str | None = None,
            default_image: str | None = None):
    """Compile the flow and work out the deployment's settings (no AWS calls). ``default_image``:
    the image when none is configured (``synth``: the runtime image asset), else the setting's default."""
    from ..backends.cdk.build import compile_flow
    from ..backends.jobdefs import JobDefinitionSettings

    platform = platform_settings(config, compute=options.compute, subnets=options.subnets,
                                 security_groups=options.security_groups, vpc_id=options.vpc_id,
                                 public_ip=options.public_ip)
    image = str(config.get("image")) if default_image is None or config.is_set("image") else default_image
    build = compile_flow(flow_path, flow, JobDefinitionSettings(image=image), options.with_specs)
    deployer = options.deployer or current_deployer()
    settings = flow_settings(config, platform, deployer=deployer, branch=options.branch,
                             production=options.production, notification_topic_arn=options.notification_topic_arn,
                             image=image)
    settings = FlowSettings(**{**settings.__dict__, "job_role_arn": options.job_role_arn,
                               "execution_role_arn": options.execution_role_arn,
                               "state_machine_role_arn": options.state_machine_role_arn})
    project = build.graph.decorator("project")
    name = deployment_name(build.graph.name, dict(project.args) if project else None, settings)
    return build, platform, settings, name


def deploy(flow_path: str | Path, config: Config, options: DeployOptions | None = None,
           echo: Callable[[str], None] = print, flow: str | None = None) -> DeployResult:
    from ..backends.cdk.app import synth
    from ..package import build_code_package

    options = options or DeployOptions()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    build, platform, settings, name = prepare(flow_path, config, options, flow)
    timings["compile"] = time.perf_counter() - t0
    from ..backends.cdk.image import RUNTIME_IMAGE, is_runtime_image

    if any(is_runtime_image(spec.image or settings.image) for spec in build.job_specs.values()):
        # deploy creates stacks through CloudFormation change sets; it publishes no container
        # image assets (no Docker here, no registry push): a job image it cannot push is a job
        # that can never start. Say so before anything is created.
        raise UserError(f"image '{RUNTIME_IMAGE}' (the image built from runtime/Dockerfile) is for "
                        "'sfncompile synth' + 'cdk deploy', which build and push it; 'sfncompile deploy' does not "
                        "build images. Build runtime/Dockerfile, push it and pass --image REPO@sha256:DIGEST, or "
                        "leave the image unset to use the default (python:3.11-slim + hash-pinned boto3)")
    clients = Clients.from_config(config)
    cfn = clients("cloudformation")
    with aws_errors(f"stack {name}"):
        existing = describe_stack(cfn, name)
    token, is_new = resolve_token(name, build.graph.name, stack_tags(existing), options.authorize)

    if settings.image == DEFAULT_IMAGE:
        echo(f"note: the default image {DEFAULT_IMAGE} has no boto3: each job pip-installs the pinned versions "
             "of runtime/sfncompile_runtime/requirements.txt at start (seconds, and it needs internet access); build runtime/Dockerfile "
             "(or the one 'sfncompile synth' writes), push it, and pass --image REPO@sha256:DIGEST to skip that")
    t0 = time.perf_counter()
    package = build_code_package(build.graph, flow_path)
    timings["package"] = time.perf_counter() - t0
    settings = FlowSettings(**{**settings.__dict__, "code_sha256": package.sha256, "production_token": token})

    t0 = time.perf_counter()
    key = synth_cache.cache_key(build, settings, platform)
    result = synth_cache.load(key)
    if result is None:
        result = synth([(build, settings)], platform)
        synth_cache.store(key, result)
    else:
        echo("templates unchanged since the last synth (cached)")
    timings["synth"] = time.perf_counter() - t0
    stacks: list[StackResult] = []

    bucket = platform.bucket_name
    if result.platform_stack:
        applied = apply_template(clients, result.platform_stack, result.templates[result.platform_stack],
                                 tags={"sfncompile:component": "platform"}, dry_run=options.dry_run, echo=echo)
        stacks.append(applied)
        bucket = bucket or applied.outputs.get("BucketName")
    project = build.graph.decorator("project")
    prefix = datastore_prefix(dict(project.args) if project else None, settings)
    root = f"s3://{bucket}/{prefix}" if prefix else (f"s3://{bucket}" if bucket else None)
    code_url = None
    if not options.dry_run:
        t0 = time.perf_counter()
        code_url = _upload_package(clients, package, root, build.graph.name, echo)
        timings["upload"] = time.perf_counter() - t0

    def stage(key: str, body: bytes) -> str:
        return _stage_template(clients, bucket, prefix, build.graph.name, key, body)

    flow_template = result.templates[result.flow_stacks[build.graph.name]]
    t0 = time.perf_counter()
    applied = apply_template(clients, name, flow_template, dry_run=options.dry_run, echo=echo,
                             upload=stage if bucket and not options.dry_run else None,
                             tags={TOKEN_TAG: token, DEPLOYER_TAG: settings.deployer,
                                   "sfncompile:flow": build.graph.name, **project_tags(project, settings)})
    timings["apply"] = time.perf_counter() - t0
    stacks.append(applied)
    arn = applied.outputs.get("StateMachineArn")
    if not options.dry_run and not arn:
        raise UserError(f"stack {name} deployed but has no StateMachineArn output, so nothing could run it; "
                        f"see 'aws cloudformation describe-stacks --stack-name {name}', then deploy again "
                        "(or 'sfncompile delete' it)")
    if not options.dry_run:
        remember(name, token)
        echo(f"state machine: {arn}")
        echo(f"production token: {token} (namespace {namespace(token)}); "
             f"others redeploy with --authorize {token}" if is_new else
             f"production token: {token} (namespace {namespace(token)})")
    return DeployResult(deployment=name, state_machine_arn=arn, production_token=token,
                        datastore_root=applied.outputs.get("DatastoreRoot", root), code_url=code_url,
                        stacks=stacks, timings=timings, flow=build.graph.name)


def _upload_package(clients, package, root: str | None, flow_name: str, echo) -> str:
    """Put the package at ``<root>/<Flow>/code/<sha256>.tar.gz`` unless an intact copy is already there."""
    from botocore.exceptions import ClientError

    if not root:
        raise UserError("no datastore bucket: set datastore to s3://bucket[/prefix] or let the platform stack "
                        "create one")
    bucket, _, prefix = root[len("s3://"):].partition("/")
    key = "/".join(p for p in (prefix.strip("/"), package.key(flow_name)) if p)
    s3 = clients("s3")
    with aws_errors("code package upload"):
        try:
            stored = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
            stored = None
        if stored is not None and hashlib.sha256(stored).hexdigest() == package.sha256:
            echo(f"code package {package.sha256[:12]} already uploaded")
        else:
            if stored is not None:  # tasks refuse a damaged package: replace it whole
                echo(f"the stored code package s3://{bucket}/{key} does not match its sha256; uploading it again")
            s3.put_object(Bucket=bucket, Key=key, Body=package.data)
            echo(f"uploaded code package {package.sha256[:12]} ({len(package.data)} bytes)")
    return f"s3://{bucket}/{key}"


def _stage_template(clients, bucket: str, prefix: str, flow_name: str, key: str, body: bytes) -> str:
    s3 = clients("s3")
    full = "/".join(p for p in (prefix, flow_name, key) if p)
    with aws_errors("template upload"):
        s3.put_object(Bucket=bucket, Key=full, Body=body)
    # CloudFormation reads it with the deployer's credentials; it wants the S3 URL, not a presigned one.
    return f"https://{bucket}.s3.{s3.meta.region_name}.amazonaws.com/{full}"


def deployment_outputs(clients, name: str) -> dict[str, str]:
    with aws_errors(f"stack {name}"):
        stack = describe_stack(clients("cloudformation"), name)
    if stack is None:
        raise UserError(f"{name} is not deployed (run 'sfncompile deploy' first)")
    return {**stack_outputs(stack), **{f"tag:{k}": v for k, v in stack_tags(stack).items()}}


def platform_for_delete(config: Config) -> PlatformSettings:
    return platform_settings(config)
