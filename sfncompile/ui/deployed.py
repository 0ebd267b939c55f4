"""The deployment part of a flow's page: its schedule and triggers, and (with
``sfncompile ui --aws``) the state machine's recent executions with links to the
AWS console. Off by default: the UI makes no AWS call unless asked."""

from __future__ import annotations

from .pages import esc

CONFIG = None  # a sfncompile.config.Config when the UI was started with --aws
EXECUTIONS_LISTED = 10


def console_link(region: str, execution_arn: str) -> str:
    return (f"https://{region}.console.aws.amazon.com/states/home?region={region}"
            f"#/v2/executions/details/{execution_arn}")


def triggers_of(graph: dict | None) -> list[str]:
    """Human lines for the flow's @schedule / @trigger / @trigger_on_finish."""
    lines = []
    for deco in (graph or {}).get("decorators") or []:
        name, args = deco.get("name"), deco.get("args") or {}
        if name == "schedule":
            what = args.get("cron") or next((k for k in ("hourly", "daily", "weekly") if args.get(k)), "daily")
            tz = f" ({args['timezone']})" if args.get("timezone") else ""
            lines.append(f"schedule: {what}{tz}")
        elif name == "trigger":
            events = [args.get("event")] if args.get("event") else list(args.get("events") or [])
            lines.append("trigger on event: " + ", ".join(str(e.get("name") if isinstance(e, dict) else e)
                                                          for e in events))
        elif name == "trigger_on_finish":
            flows = [args.get("flow")] if args.get("flow") else list(args.get("flows") or [])
            lines.append("trigger on finish of: " + ", ".join(str(f) for f in flows))
    return lines


def deployment_section(flow: str, graph: dict | None = None) -> str:
    parts = [f"<li>{esc(line)}</li>" for line in triggers_of(graph)]
    executions = ""
    if CONFIG is not None:
        executions = _executions(flow)
    if not parts and not executions:
        return ""
    listed = f"<ul class='triggers'>{''.join(parts)}</ul>" if parts else ""
    return f"<section class='deployment'><h2>Deployment</h2>{listed}{executions}</section>"


def _executions(flow: str) -> str:
    try:
        from sfncompile.deploy.aws import Clients
        from sfncompile.deploy.operate import find_deployment

        clients = Clients.from_config(CONFIG)
        dep = find_deployment(clients, flow)
        page = clients("stepfunctions").list_executions(stateMachineArn=dep.state_machine_arn,
                                                        maxResults=EXECUTIONS_LISTED)
        region = dep.state_machine_arn.split(":")[3]
    except Exception as exc:  # not deployed, no credentials, unreachable endpoint: say so
        return f"<p class='muted'>No deployment information: {esc(getattr(exc, 'message', exc))}</p>"
    rows = "".join(
        f"<tr><td><a href='/{esc(flow)}/{esc(e['name'])}'>{esc(e['name'])}</a></td><td>{esc(e['status'])}</td>"
        f"<td>{esc(e.get('startDate', ''))}</td><td><a href='{esc(console_link(region, e['executionArn']))}' "
        "rel='noopener noreferrer' target='_blank'>AWS console</a></td></tr>"
        for e in page.get("executions", []))
    return (f"<p>state machine <code>{esc(dep.state_machine_arn)}</code></p><table class='grid' id='executions'>"
            f"<thead><tr><th>execution</th><th>status</th><th>started</th><th></th></tr></thead><tbody>{rows}"
            "</tbody></table>")
