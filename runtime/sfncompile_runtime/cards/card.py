"""Card types: ``MetaflowCard`` (Metaflow's base class) and the built-in ones.

A card type is a class with a ``type`` name and ``render(task) -> str`` (HTML).
``@card(type=T)`` finds the class by name among the built-in types, the test
types Metaflow's suite uses (``test_cards``), and any subclass of
``MetaflowCard`` the flow's own modules define.
"""

from __future__ import annotations

import datetime as _dt
import json

from .components import Artifact, Markdown, Section, Table, esc, render_component
from .dag import DAG_CSS, dag_svg


class MetaflowCard:
    """Base class of card types (Metaflow's interface)."""

    RELOAD_POLICY_NEVER = "never"
    RELOAD_POLICY_ALWAYS = "always"
    RELOAD_POLICY_ONCHANGE = "onchange"
    RELOAD_POLICY_TOKEN = "[METAFLOW_RELOAD_TOKEN]"

    type = None
    ALLOW_USER_COMPONENTS = False
    RUNTIME_UPDATABLE = False
    RELOAD_POLICY = RELOAD_POLICY_NEVER
    scope = "task"
    runtime_data = None

    def __init__(self, options=None, components=None, graph=None, flow=None, **kwargs):
        pass

    def render(self, task) -> str:
        return NotImplemented

    def render_runtime(self, task, data) -> str:
        raise NotImplementedError

    def refresh(self, task, data):
        raise NotImplementedError

    def reload_content_token(self, task, data) -> str:
        return "content-token"


PAGE_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1f2933;background:#fff}
.mf-card{max-width:1100px;margin:0 auto;padding:18px 22px}
.mf-card h1{font-size:20px;margin:0 0 4px}.mf-card .mf-sub{color:#52606d;font-size:13px;margin-bottom:14px}
.mf-section{margin:18px 0}.mf-section h2{font-size:16px;border-bottom:1px solid #e4e7eb;padding-bottom:4px}
.mf-table{border-collapse:collapse;font-size:13px;margin:6px 0}
.mf-table th,.mf-table td{border:1px solid #d9e2ec;padding:4px 8px;text-align:left;vertical-align:top}
.mf-table th{background:#f0f4f8}
pre{background:#f5f7fa;border:1px solid #e4e7eb;padding:8px;overflow:auto;font-size:12px;white-space:pre-wrap;word-break:break-word}
.mf-image img{max-width:100%;border:1px solid #e4e7eb}.mf-image figcaption{font-size:12px;color:#52606d}
.mf-error pre{background:#fff5f5;border-color:#ffc9c9;color:#c92a2a}
.mf-progress{display:flex;gap:8px;align-items:center;font-size:13px}
.mf-type{font-size:11px;color:#52606d}.mf-name{font-weight:600}.mf-note{font-size:12px;color:#52606d}
""" + DAG_CSS


def page(title: str, body: str, subtitle: str = "", data_token: str | None = None) -> str:
    """A complete, self-contained HTML document (no external resources)."""
    token = esc(data_token if data_token is not None else MetaflowCard.RELOAD_POLICY_TOKEN)
    sub = f"<div class='mf-sub'>{esc(subtitle)}</div>" if subtitle else ""
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">"
            f"<title>{esc(title)}</title><style>{PAGE_CSS}</style></head>"
            f"<body><main class='mf-card' data-reload-token='{token}'><h1>{esc(title)}</h1>{sub}{body}</main>"
            "</body></html>")


def _components_html(components) -> str:
    parts = []
    for component in components or []:
        if isinstance(component, str):  # already rendered (serialised) by the collector
            parts.append(component)
        elif isinstance(component, dict):
            parts.append(f"<pre class='mf-json'>{esc(json.dumps(component, indent=1, default=str))}</pre>")
        else:
            rendered = render_component(component)
            if rendered is not None:
                parts.append(rendered)
    return "".join(parts)


def _when(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, float)):
        value = _dt.datetime.fromtimestamp(value, tz=_dt.timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


class BlankCard(MetaflowCard):
    """Only what the step appends (``current.card.append``)."""

    type = "blank"
    ALLOW_USER_COMPONENTS = True
    RUNTIME_UPDATABLE = True
    RELOAD_POLICY = MetaflowCard.RELOAD_POLICY_ONCHANGE

    def __init__(self, options=None, components=None, graph=None, flow=None, **kwargs):
        self._components = list(components or [])
        self._title = (options or {}).get("title") if isinstance(options, dict) else None

    def render(self, task) -> str:
        return page(self._title or task.pathspec, _components_html(self._components))

    def render_runtime(self, task, data) -> str:
        return self.render(task)

    def refresh(self, task, data):
        return data.get("components")

    def reload_content_token(self, task, data) -> str:
        if task.finished:
            return "final"
        return f"runtime-{data.get('component_update_ts')}"


class DefaultCard(BlankCard):
    """The task at a glance: its artifacts, parameters, timings and the flow's DAG,
    then whatever the step appended."""

    type = "default"
    ARTIFACT_LIMIT = 200  # artifacts listed; each shows a truncated repr

    def __init__(self, options=None, components=None, graph=None, flow=None, **kwargs):
        super().__init__(options, components, graph, flow, **kwargs)
        self._graph = graph
        self._options = options if isinstance(options, dict) else {}

    def render(self, task) -> str:
        record = getattr(task, "_record", None) or {}
        params = set(record.get("parameters") or [])
        only = self._options.get("only_repr", True)
        rows_params, artifacts = [], []
        names = sorted(n for n in (record.get("artifacts") or {}) if not n.startswith("_"))
        for name in names[: self.ARTIFACT_LIMIT]:
            try:
                value = task[name].data
            except Exception as exc:  # an artifact that cannot load still gets a line
                value = f"<could not load: {type(exc).__name__}: {exc}>"
            if name in params:
                rows_params.append([name, Artifact(value, compressed=only)])
            else:
                artifacts.append(Artifact(value, name=name, compressed=only))
        started, finished = record.get("started_at"), record.get("finished_at")
        duration = f"{finished - started:.2f} s" if started and finished else "-"
        timing = Table([["started", _when(started)], ["finished", _when(finished)], ["duration", duration],
                        ["attempt", record.get("attempt", getattr(task, "current_attempt", 0))]])
        sections = [Section([timing], title="Task")]
        if rows_params:
            sections.append(Section([Table(rows_params, headers=["parameter", "value"])], title="Parameters"))
        if artifacts:
            more = len(names) - self.ARTIFACT_LIMIT
            note = [Markdown(f"*{more} more artifacts not shown*")] if more > 0 else []
            sections.append(Section(artifacts + note, title="Artifacts"))
        if self._graph:
            step = task.pathspec.split("/")[2]
            svg = dag_svg(self._graph, classes={step: "mf-step-ok mf-step-current"})
            sections.append(Section([svg], title="Flow"))
        user = _components_html(self._components)
        body = "".join(render_component(s) or "" for s in sections)
        if user:
            body += f"<section class='mf-section'>{user}</section>"
        return page(task.pathspec, body, subtitle="default card")


class ErrorCard(MetaflowCard):
    """What a card that failed to render is replaced with (``save_errors=True``)."""

    type = "error"

    def __init__(self, options=None, components=None, graph=None, flow=None, **kwargs):
        pass

    def render(self, task, stack_trace=None) -> str:
        return page("Error Card", f"<section class='mf-section mf-error'><h2>Card Render Failed With Error</h2>"
                                  f"<pre>{esc(stack_trace or 'None')}</pre></section>", subtitle=task.pathspec)


class TaskSpecCard(MetaflowCard):
    type = "taskspec_card"

    def render(self, task) -> str:
        return "%s" % task.pathspec


class DefaultCardJSON(MetaflowCard):
    """The default card's content as JSON (Metaflow's ``default_json``)."""

    type = "default_json"

    def render(self, task) -> str:
        record = getattr(task, "_record", None) or {}
        return json.dumps({"pathspec": task.pathspec, "artifacts": sorted(record.get("artifacts") or {}),
                           "started_at": record.get("started_at"), "finished_at": record.get("finished_at")})


BUILTIN = (DefaultCard, BlankCard, ErrorCard, TaskSpecCard, DefaultCardJSON)


def card_class(card_type: str):
    """The class for a card type name, or None."""
    for cls in BUILTIN:
        if cls.type == card_type:
            return cls
    from . import test_cards

    for cls in test_cards.CARDS:
        if cls.type == card_type:
            return cls
    found = None
    for cls in _all_subclasses(MetaflowCard):  # cards defined by the flow's own modules
        if getattr(cls, "type", None) == card_type:
            found = cls
    return found


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)
