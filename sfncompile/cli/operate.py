"""Operating deployed flows: ``trigger``, ``runs``, ``status``, ``logs``, ``terminate``, ``delete``.

``trigger --resume RUN_ID`` starts a production resume: a new run that
reuses the successful tasks of RUN_ID (the same run-record mechanism as
``sfncompile resume`` locally).
"""

from __future__ import annotations

import json

import click

from .configopts import config_options

from .deploy import aws_options, load_config

deployment_option = click.option("--deployment", default=None,
                                 help="stack name, when the flow has several deployments (@project branches)")
deployed_option = click.option("--deployed", is_flag=True,
                               help="a deployed flow's runs (Step Functions, CloudWatch), not the datastore's "
                                    "(default: local runs, in --datastore or ./.sfncompile)")


def _local_root(deployed: bool, deployment: str | None, kwargs) -> str | None:
    """The datastore to read local runs from, or None when the deployed flow is asked for."""
    if deployed or deployment:
        return None
    from ..executor.local_run import resolve_root

    return resolve_root(kwargs.get("datastore"))


@click.command()
@click.argument("flow_file", type=click.Path(dir_okay=False))
@click.option("--params", default=None, metavar="JSON", help='parameter values, e.g. \'{"alpha": 0.5}\'')
@click.option("--resume", "origin", default=None, metavar="RUN_ID",
              help="resume this production run: rerun from its first failed step (or --step)")
@click.option("--step", default=None, help="with --resume: rerun from this step")
@deployment_option
@aws_options
@config_options
def trigger(flow_file, params, origin, step, deployment, **kwargs):
    """Start a production run of FLOW_FILE; prints the run id."""
    from ..deploy import operate

    config = load_config(**kwargs)
    if origin:
        if params:
            raise click.UsageError("--resume reuses the origin run's parameters; drop --params")
        run_id = operate.resume(config, flow_file, origin, step, deployment)
    else:
        if step:
            raise click.UsageError("--step needs --resume")
        run_id = operate.trigger(config, flow_file, params, deployment)
    click.echo(run_id)


@click.command()
@click.argument("flow")
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@deployed_option
@deployment_option
@aws_options
def runs(flow, limit, as_json, deployed, deployment, **kwargs):
    """Recent runs of FLOW (a flow file or name): local runs, or with --deployed the deployment's."""
    from ..deploy import operate

    root = _local_root(deployed, deployment, kwargs)
    if root is not None:
        from .. import runinfo

        rows = runinfo.runs(root, operate.flow_name_of(flow)[0], limit)
    else:
        rows = operate.runs(load_config(**kwargs), flow, deployment, limit)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['run_id']:<40} {row['status']:<10} {row['started']:<20} {row['stopped']}")


@click.command()
@click.argument("run")
@click.option("--json", "as_json", is_flag=True, help="same as --format json")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json adds a deployed run's failure details (the job description without its command and "
                   "environment)")
@deployed_option
@deployment_option
@aws_options
def status(run, as_json, fmt, deployed, deployment, **kwargs):
    """Per-step state of RUN (Flow/RUN_ID): a local run, or with --deployed a deployed one."""
    from ..deploy import operate

    root = _local_root(deployed, deployment, kwargs)
    if root is not None:
        from .. import runinfo

        info = runinfo.status(root, *runinfo.split_run(run))
    else:
        info = operate.status(load_config(**kwargs), run, deployment)
    if as_json or fmt == "json":
        info = {**info, "steps": [{**s.__dict__, "state": s.state} for s in info["steps"]]}
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"{run}: {info['status']} (started {info['started']}"
               + (f", stopped {info['stopped']})" if info["stopped"] else ")"))
    for s in info["steps"]:
        done = "" if s.tasks_done is None else f", {s.tasks_done} task(s) committed"
        click.echo(f"  {s.name:<30} {s.state:<10} entered {s.entered}, succeeded {s.succeeded}, "
                   f"failed {s.failed}{done}")
    if info.get("error"):
        failure = info.get("failure") or {}
        click.echo(f"  error: {info['error']}" + (f": {failure['reason']}" if failure.get("reason") else ""))
        if failure.get("job_name"):
            click.echo(f"  failed job: {failure['job_name']} ({failure.get('job_id')}), exit code "
                       f"{failure.get('exit_code')}, log stream {failure.get('log_stream') or '(none)'}")
        if failure.get("log_stream") or failure.get("job_name"):
            click.echo("  details: --format json; output: sfncompile logs FLOW/RUN_ID/STEP")


@click.command()
@click.argument("pathspec")
@click.option("--stderr", is_flag=True, help="show stderr instead of stdout")
@deployed_option
@deployment_option
@aws_options
def logs(pathspec, stderr, deployed, deployment, **kwargs):
    """Output of Flow/RUN_ID/step[/task_id]: a local run's, or with --deployed a deployed run's
    (its datastore, else CloudWatch)."""
    stream = "stderr" if stderr else "stdout"
    root = _local_root(deployed, deployment, kwargs)
    if root is not None:
        from .. import runinfo

        click.echo(runinfo.logs(root, pathspec, stream), nl=False)
        return
    from ..deploy import operate

    click.echo(operate.logs(load_config(**kwargs), pathspec, deployment, stream), nl=False)


@click.command()
@click.argument("run")
@deployment_option
@aws_options
def terminate(run, deployment, **kwargs):
    """Stop RUN (Flow/RUN_ID)."""
    from ..deploy import operate

    operate.terminate(load_config(**kwargs), run, deployment)
    click.echo(f"terminated {run}")


@click.command()
@click.argument("flow", required=False)
@click.option("--platform", is_flag=True, help="also delete the platform stack (the bucket is kept); refused while "
              "any flow stack uses it. Without FLOW: only the platform")
@click.option("--authorize", default=None, metavar="TOKEN", help="the deployment's production token, when your "
              "token file does not have it (as for deploy)")
@click.option("--yes", "-y", is_flag=True, help="do not ask for confirmation")
@deployment_option
@aws_options
def delete(flow, platform, authorize, yes, deployment, **kwargs):
    """Delete FLOW's deployment (its stack); data in the bucket is kept."""
    import sys

    from ..deploy import operate

    confirm = (lambda question: click.confirm(question, default=False, err=True)) if sys.stdin.isatty() else None
    deleted = operate.delete(load_config(**kwargs), flow, deployment, echo=click.echo, platform=platform,
                             authorize=authorize, yes=yes, confirm=confirm)
    if not deleted:
        click.echo("nothing to delete")
