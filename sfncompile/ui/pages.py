"""HTML of the UI's pages. Every string from the datastore (names, tags, parameters,
logs, reprs, exception text) passes through ``esc``; the only markup inserted
unescaped is what this module and ``sfncompile_runtime.cards.dag`` build."""

from __future__ import annotations

import datetime as _dt
import json
from urllib.parse import quote, urlencode

from sfncompile_runtime.cards.dag import dag_svg

from .model import RunSummary, TaskState, now


def esc(value) -> str:
    import html

    return html.escape(str(value), quote=True)


def href(*parts: str, **query) -> str:
    path = "/" + "/".join(quote(str(p), safe="") for p in parts)
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return path + ("?" + urlencode(query) if query else "")


def when(ts) -> str:
    if not ts:
        return "-"
    return _dt.datetime.fromtimestamp(float(ts), tz=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def duration(start, end) -> str:
    if not start:
        return "-"
    seconds = float(end or now()) - float(start)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


def badge(state: str) -> str:
    return f"<span class='badge st-{esc(state)}'>{esc(state)}</span>"


def layout(title: str, crumbs: list[tuple[str, str | None]], main: str) -> str:
    nav = " / ".join(f"<a href='{esc(u)}'>{esc(t)}</a>" if u else f"<span>{esc(t)}</span>" for t, u in crumbs)
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{esc(title)} · sfncompile</title><link rel='stylesheet' href='/_static/ui.css'>"
            "<script src='/_static/ui.js' defer></script></head><body>"
            f"<header><a class='brand' href='/'>sfncompile</a><nav>{nav}</nav></header>{main}</body></html>")


def main_block(content: str, live: bool) -> str:
    return f"<main id='main' data-live='{'1' if live else '0'}'>{content}</main>"


def not_found(message: str) -> str:
    return layout("Not found", [("flows", "/")], main_block(f"<h1>Not found</h1><p class='muted'>{esc(message)}</p>",
                                                               False))


# -- flows ----------------------------------------------------------------------------------

def flows_page(rows: list[dict], root: str) -> str:
    if not rows:
        body = f"<p class='muted'>No flows in {esc(root)} yet: run one with <code>sfncompile run FLOW.py</code>.</p>"
    else:
        items = "".join(
            f"<tr><td><a class='flow-link' href='{esc(href(r['flow']))}'>{esc(r['flow'])}</a></td>"
            f"<td>{r['runs']}</td><td>{badge(r['status']) if r['status'] else '-'}</td>"
            f"<td>{esc(when(r['started']))}</td></tr>" for r in rows)
        body = ("<table class='grid' id='flows'><thead><tr><th>flow</th><th>runs</th><th>latest run</th>"
                f"<th>started (UTC)</th></tr></thead><tbody>{items}</tbody></table>")
    return layout("Flows", [("flows", None)], main_block(f"<h1>Flows</h1><p class='muted'>datastore "
                                                          f"{esc(root)}</p>{body}", False))


# -- runs -----------------------------------------------------------------------------------

STATUSES = ("", "running", "succeeded", "failed")


def runs_page(flow: str, runs: list[RunSummary], tag: str, status: str, deployment_html: str = "") -> str:
    options = "".join(f"<option value='{esc(s)}'{' selected' if s == status else ''}>{esc(s or 'any status')}"
                      "</option>" for s in STATUSES)
    form = (f"<form class='filters' method='get' action='{esc(href(flow))}'>"
            f"<label>tag <input name='tag' value='{esc(tag)}'></label>"
            f"<label>status <select name='status'>{options}</select></label><button>filter</button></form>")
    rows = []
    for run in runs:
        params = run.record.get("parameters") or {}
        shown = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in params.items())
        tags = " ".join(f"<a class='tag' href='{esc(href(flow, tag=t))}'>{esc(t)}</a>" for t in run.tags)
        rows.append(f"<tr class='run-row' data-status='{esc(run.status)}'>"
                    f"<td><a href='{esc(href(flow, run.run_id))}'>{esc(run.run_id)}</a></td>"
                    f"<td>{badge(run.status)}</td><td>{esc(when(run.started_at))}</td>"
                    f"<td>{esc(duration(run.started_at, run.finished_at))}</td>"
                    f"<td>{esc(run.record.get('user') or '-')}</td><td>{tags}</td>"
                    f"<td class='params'>{esc(shown[:300])}</td></tr>")
    table = ("<table class='grid' id='runs'><thead><tr><th>run</th><th>status</th><th>started (UTC)</th>"
             "<th>duration</th><th>user</th><th>tags</th><th>parameters</th></tr></thead>"
             f"<tbody>{''.join(rows)}</tbody></table>") if rows else "<p class='muted'>No runs match.</p>"
    live = any(r.status == "running" for r in runs)
    return layout(flow, [("flows", "/"), (flow, None)],
                  main_block(f"<h1>{esc(flow)}</h1>{deployment_html}{form}{table}", live))


# -- a run ----------------------------------------------------------------------------------

def _step_state(tasks: list[TaskState]) -> str:
    states = {t.state for t in tasks}
    if "failed" in states:
        return "failed"
    if "running" in states:
        return "running"
    if states and states <= {"ok", "caught"}:
        return "ok"
    return "pending"


def run_page(run: RunSummary, widths: dict[str, int]) -> str:
    flow, run_id = run.flow, run.run_id
    graph = run.graph or {"steps": {s: {"out_funcs": []} for s in run.steps}, "start": next(iter(run.steps), None)}
    classes, captions, links = {}, {}, {}
    for name in graph.get("steps", {}):
        tasks = run.steps.get(name, [])
        state = _step_state(tasks)
        classes[name] = f"mf-step-{state}"
        counts = {}
        for t in tasks:
            counts[t.state] = counts.get(t.state, 0) + 1
        caption = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "not started"
        if name in widths:
            caption += f" · foreach ×{widths[name]}"
        captions[name] = caption
        links[name] = href(flow, run_id, name)
    svg = dag_svg(graph, classes, captions, links)
    rows = []
    for name in graph.get("steps", {}):
        tasks = run.steps.get(name, [])
        if not tasks:
            rows.append(f"<tr data-step='{esc(name)}'><td>{esc(name)}</td><td>{badge('pending')}</td><td>0</td>"
                        "<td></td><td></td></tr>")
            continue
        first = min((t.started_at for t in tasks if t.started_at), default=None)
        last = max((t.finished_at for t in tasks if t.finished_at), default=None)
        failed = [t for t in tasks if t.state == "failed"]
        failed_links = " ".join(f"<a class='failed-task' href='{esc(href(flow, run_id, name, t.task_id))}'>"
                                f"{esc(t.task_id)}</a>" for t in failed[:20])
        rows.append(f"<tr data-step='{esc(name)}'><td><a href='{esc(href(flow, run_id, name))}'>{esc(name)}</a></td>"
                    f"<td>{badge(_step_state(tasks))}</td><td>{len(tasks)}</td>"
                    f"<td>{esc(duration(first, last if _step_state(tasks) != 'running' else None))}</td>"
                    f"<td>{failed_links}</td></tr>")
    params = run.record.get("parameters") or {}
    param_rows = "".join(f"<tr><td>{esc(k)}</td><td><code>{esc(json.dumps(v, default=str))}</code></td></tr>"
                         for k, v in params.items())
    tags = " ".join(f"<span class='tag'>{esc(t)}</span>" for t in run.tags + run.system_tags)
    info = (f"<dl class='facts'><dt>status</dt><dd id='run-status'>{badge(run.status)}</dd>"
            f"<dt>started</dt><dd>{esc(when(run.started_at))} UTC</dd>"
            f"<dt>duration</dt><dd>{esc(duration(run.started_at, run.finished_at))}</dd>"
            f"<dt>user</dt><dd>{esc(run.record.get('user') or '-')}</dd><dt>tags</dt><dd>{tags or '-'}</dd></dl>")
    if run.record.get("origin_run_id"):
        info += (f"<p>resumed from <a href='{esc(href(flow, run.record['origin_run_id']))}'>"
                 f"{esc(run.record['origin_run_id'])}</a></p>")
    content = (f"<h1>{esc(flow)}/{esc(run_id)}</h1>{info}"
               f"<section><h2>Graph</h2><div class='dag'>{svg}</div></section>"
               "<section><h2>Steps</h2><table class='grid' id='steps'><thead><tr><th>step</th><th>state</th>"
               f"<th>tasks</th><th>duration</th><th>failed tasks</th></tr></thead><tbody>{''.join(rows)}</tbody>"
               "</table></section>")
    if param_rows:
        content += f"<section><h2>Parameters</h2><table class='grid'>{param_rows}</table></section>"
    return layout(f"{flow}/{run_id}", [("flows", "/"), (flow, href(flow)), (run_id, None)],
                  main_block(content, run.status == "running"))


def step_page(run: RunSummary, step: str, limit: int = 2000) -> str:
    flow, run_id = run.flow, run.run_id
    tasks = run.steps.get(step, [])
    rows = "".join(
        f"<tr data-task='{esc(t.task_id)}'><td><a href='{esc(href(flow, run_id, step, t.task_id))}'>{esc(t.task_id)}"
        f"</a></td><td>{badge(t.state)}</td><td>{len(t.attempts)}</td><td>{esc(when(t.started_at))}</td>"
        f"<td>{esc(duration(t.started_at, t.finished_at))}</td></tr>" for t in tasks[:limit])
    more = f"<p class='muted'>{len(tasks) - limit} more tasks not listed.</p>" if len(tasks) > limit else ""
    content = (f"<h1>{esc(flow)}/{esc(run_id)}/{esc(step)}</h1>"
               "<table class='grid' id='tasks'><thead><tr><th>task</th><th>state</th><th>attempts</th>"
               f"<th>started (UTC)</th><th>duration</th></tr></thead><tbody>{rows}</tbody></table>{more}")
    return layout(f"{flow}/{run_id}/{step}", [("flows", "/"), (flow, href(flow)), (run_id, href(flow, run_id)),
                                              (step, None)],
                  main_block(content, any(t.state == "running" for t in tasks)))


# -- a task ---------------------------------------------------------------------------------

def task_page(ctx: dict) -> str:
    flow, run_id, step, task_id = ctx["flow"], ctx["run_id"], ctx["step"], ctx["task_id"]
    attempt, record, started = ctx["attempt"], ctx["record"], ctx["started"]
    state = ctx["state"]
    attempt_links = " ".join(
        (f"<strong>{a}</strong>" if a == attempt else
         f"<a href='{esc(href(flow, run_id, step, task_id, attempt=a))}'>{a}</a>") for a in ctx["attempts"])
    begin = (record or {}).get("started_at") or (started or {}).get("started_at")
    facts = (f"<dl class='facts'><dt>state</dt><dd id='task-state'>{badge(state)}</dd>"
             f"<dt>attempt</dt><dd>{attempt_links or '-'}</dd>"
             f"<dt>started</dt><dd>{esc(when(begin))} UTC</dd>"
             f"<dt>duration</dt><dd>{esc(duration(begin, (record or {}).get('finished_at')))}</dd>"
             f"<dt>retry count</dt><dd>{esc((record or started or {}).get('retry_count', 0))}</dd>"
             f"<dt>host</dt><dd>{esc((started or {}).get('host') or '-')}</dd></dl>")
    parts = [f"<h1>{esc(flow)}/{esc(run_id)}/{esc(step)}/{esc(task_id)}</h1>", facts]
    failure = (record or {}).get("exception") or (record or {}).get("caught")
    if failure:
        title = "Exception" if (record or {}).get("exception") else "Caught by @catch"
        parts.append(f"<section class='exception'><h2>{title}</h2><p class='exc-head'><code>{esc(failure.get('type'))}"
                     f"</code>: {esc(failure.get('message'))}</p><pre class='traceback'>"
                     f"{esc(failure.get('traceback') or '')}</pre></section>")
    for name in ("stdout", "stderr"):
        text, size = ctx["logs"][name]
        full = href(flow, run_id, step, task_id, "_log", name, attempt=attempt)
        note = (f"last {len(text.encode())} of {size} bytes · " if size > len(text.encode()) else "") + \
            f"<a href='{esc(full)}'>full log</a>"
        parts.append(f"<section><h2>{name}</h2><p class='muted'>{note}</p>"
                     f"<pre class='log' id='log-{name}'>{esc(text) or '<span class=muted>(empty)</span>'}</pre>"
                     "</section>")
    artifacts = ctx["artifacts"]
    if artifacts:
        rows = []
        for name, ref, preview, reason in artifacts:
            shown = f"<pre class='preview'>{esc(preview)}</pre>" if reason is None else \
                f"<span class='muted'>{esc(reason)}</span>"
            rows.append(f"<tr data-artifact='{esc(name)}'><td>{esc(name)}</td><td>{esc(ref.get('type', '?'))}</td>"
                        f"<td>{esc(ref.get('size', '?'))}</td><td>{shown}</td></tr>")
        parts.append("<section><h2>Artifacts</h2><table class='grid' id='artifacts'><thead><tr><th>name</th>"
                     f"<th>type</th><th>bytes</th><th>preview</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
                     "</section>")
    cards = ctx["cards"]
    if cards:
        frames = "".join(
            f"<figure class='card'><figcaption>{esc(c.type)}{(' · id ' + esc(c.id)) if c.id else ''}"
            f" · <a href='{esc(href(flow, run_id, step, task_id, '_card', c.hash, attempt=attempt))}' "
            f"target='_blank' rel='noopener'>open</a></figcaption>"
            f"<iframe sandbox='' title='card {esc(c.type)}' "
            f"src='{esc(href(flow, run_id, step, task_id, '_card', c.hash, attempt=attempt))}'></iframe></figure>"
            for c in cards)
        parts.append(f"<section><h2>Cards</h2>{frames}</section>")
    return layout(f"{flow}/{run_id}/{step}/{task_id}",
                  [("flows", "/"), (flow, href(flow)), (run_id, href(flow, run_id)), (step, href(flow, run_id, step)),
                   (task_id, None)], main_block("".join(parts), state == "running"))
