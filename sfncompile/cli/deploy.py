"""``sfncompile synth`` and ``sfncompile deploy``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .configopts import config_options

from ..config import Config


def aws_options(func):
    """Settings shared by every command that talks to AWS (see sfncompile.config)."""
    for name, help_text in reversed([
        ("region", "AWS region"),
        ("endpoint-url", "AWS endpoint URL (e.g. a moto server)"),
        ("datastore", "datastore root s3://bucket[/prefix] (default: the platform stack's bucket)"),
        ("job-queue", "existing Batch job queue (name or ARN) instead of the platform's"),
        ("side-channel-table", "existing DynamoDB side-channel table instead of the platform's"),
        ("stack-prefix", "prefix of stack and resource names"),
        ("image", "container image for Batch jobs"),
    ]):
        func = click.option(f"--{name}", default=None, help=help_text)(func)
    return func


def with_option(func):
    """``--with DECORATOR[:name=value,...]`` (repeatable), as Metaflow's ``run --with``."""
    return click.option("--with", "with_decorators", multiple=True, metavar="DECORATOR[:k=v,...]",
                        help="attach a step decorator to every step that lacks it, e.g. --with retry, "
                             "--with resources:cpu=4 (repeatable)")(func)


def deploy_options(func):
    opts = [
        click.option("--branch", default=None, help="@project branch (default user.<you>)"),
        click.option("--production", is_flag=True, help="@project: deploy the production branch"),
        click.option("--compute", multiple=True,
                     help="compute environment kind(s): fargate (default), fargate_spot, ec2, spot, gpu; "
                          "the first one runs the flow"),
        click.option("--subnet", "subnets", multiple=True, help="existing subnet id (repeat); default: create a VPC"),
        click.option("--security-group", "security_groups", multiple=True, help="existing security group id"),
        click.option("--vpc-id", default=None, help="VPC of the given subnets (to create a security group in)"),
        click.option("--notification-topic", default=None, help="SNS topic ARN for failure notifications"),
        click.option("--job-role-arn", default=None, help="existing IAM role for the Batch jobs"),
        click.option("--execution-role-arn", default=None, help="existing ECS execution role for the Batch jobs"),
        click.option("--state-machine-role-arn", default=None, help="existing IAM role for the state machine"),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def load_config(**flags) -> Config:
    keys = ("region", "endpoint_url", "datastore", "job_queue", "side_channel_table", "stack_prefix", "image",
            "base_image")
    return Config.load(flags={k: flags.get(k) for k in keys})


def _options(kwargs):
    from ..decospecs import parse_with_options
    from ..deploy.deployment import DeployOptions

    return DeployOptions(branch=kwargs.get("branch"), production=kwargs.get("production", False),
                         compute=tuple(kwargs.get("compute") or ()), subnets=tuple(kwargs.get("subnets") or ()),
                         security_groups=tuple(kwargs.get("security_groups") or ()), vpc_id=kwargs.get("vpc_id"),
                         notification_topic_arn=kwargs.get("notification_topic"),
                         job_role_arn=kwargs.get("job_role_arn"), execution_role_arn=kwargs.get("execution_role_arn"),
                         state_machine_role_arn=kwargs.get("state_machine_role_arn"),
                         dry_run=kwargs.get("dry_run", False), authorize=kwargs.get("authorize"),
                         with_specs=parse_with_options(kwargs.get("with_decorators") or ()))


@click.command()
@click.argument("flow_file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "outdir", default="cdk.out", show_default=True, help="cloud assembly directory")
@click.option("--flow", "flow_name", default=None, help="flow class, when the file has several")
@click.option("--nag", is_flag=True, help="also run cdk-nag's AwsSolutions checks")
@click.option("--base-image", default=None, metavar="REPO@sha256:DIGEST",
              help="base of the job image built from runtime/Dockerfile (no --image given), by digest")
@aws_options
@deploy_options
@with_option
@config_options
def synth(flow_file, outdir, flow_name, nag, **kwargs):
    """CloudFormation templates for FLOW_FILE (platform + flow stacks), offline."""
    from ..extras import require_cdk

    require_cdk("synth")
    from ..backends.cdk.app import synth as run_synth
    from ..backends.cdk.settings import FlowSettings
    from ..deploy.deployment import prepare
    from ..package import build_code_package

    from ..backends.cdk.image import RUNTIME_IMAGE, check_base_image

    config = load_config(**kwargs)
    # No image configured: the job definitions run the image built from runtime/Dockerfile, a
    # container image asset of the assembly that `cdk deploy` builds and pushes (docs/deploy.md).
    build, platform, settings, name = prepare(flow_file, config, _options(kwargs), flow_name,
                                              default_image=RUNTIME_IMAGE)
    package = build_code_package(build.graph, flow_file)
    settings = FlowSettings(**{**settings.__dict__, "code_sha256": package.sha256,
                               "base_image": check_base_image(config.get("base_image"))})
    result = run_synth([(build, settings)], platform, outdir=outdir, nag=nag)
    for stack, template in sorted(result.templates.items()):
        click.echo(f"{stack}: {len(template.get('Resources', {}))} resources")
    from ..deploy.render import dockerfile

    pypi = build.graph.decorator("pypi_base") or build.graph.decorator("pypi")
    (Path(outdir) / "Dockerfile").write_text(dockerfile(
        build.graph.name, (pypi.args.get("python") if pypi else None) or "3.11",
        (pypi.args.get("packages") if pypi else None) or {}))
    click.echo(f"wrote {Path(outdir)} in {result.seconds:.1f}s")


@click.command()
@click.argument("flow_file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="show the change sets and stop")
@click.option("--authorize", default=None, metavar="TOKEN", help="production token of a deployment to take over")
@click.option("--flow", "flow_name", default=None, help="flow class, when the file has several")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@click.option("--report", type=click.Path(dir_okay=False), default=None, help="write a Markdown deployment report")
@aws_options
@deploy_options
@with_option
@config_options
def deploy(flow_file, dry_run, authorize, flow_name, as_json, report, **kwargs):
    """Package, synth and create/update the stacks of FLOW_FILE through change sets."""
    from ..extras import require_cdk

    require_cdk("deploy")
    from ..deploy.deployment import deploy as run_deploy

    config = load_config(**kwargs)
    options = _options({**kwargs, "dry_run": dry_run, "authorize": authorize})
    echo = (lambda line: click.echo(line, err=True)) if as_json else click.echo
    result = run_deploy(flow_file, config, options, echo=echo, flow=flow_name)
    if report:
        from ..deploy.render import deploy_report

        Path(report).write_text(deploy_report(Path(flow_file).stem, result))
    if as_json:
        click.echo(json.dumps({"deployment": result.deployment, "flow": result.flow,
                               "state_machine_arn": result.state_machine_arn,
                               "datastore_root": result.datastore_root, "code_url": result.code_url,
                               "production_token": result.production_token, "timings": result.timings}, indent=2))
    elif dry_run:
        click.echo("dry run: nothing was changed")
