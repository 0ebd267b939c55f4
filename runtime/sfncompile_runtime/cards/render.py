"""Rendering a task's cards, in the task's own process (locally and in the Batch job).

``bind`` gives the step ``current.card`` before its code runs; ``render_final``
runs after the attempt's record is committed, only when the step succeeded
(Metaflow's rule), each card in a thread bounded by its ``timeout``. A card
that fails becomes an error card holding the traceback (``save_errors=True``,
the default) or is left out; either way the task's outcome is unchanged.
"""

from __future__ import annotations

import sys
import threading
import traceback

from .. import graphinfo
from .collector import CardComponentCollector, CardSpec, _warn
from .store import NAME_PATTERN, cards_prefix, save_card, save_data


class _Binding:
    """What the collector needs to write cards: the storage and the attempt's card folder."""

    def __init__(self, runner):
        self.storage = runner.store.storage
        self.prefix = cards_prefix(runner.flow_name, runner.run_id, runner.step, runner.task_id, runner.attempt)
        self.pathspec = f"{runner.flow_name}/{runner.run_id}/{runner.step}/{runner.task_id}"
        self.attempt = runner.attempt
        self.graph = runner.graph


def card_specs(node: dict) -> list[CardSpec]:
    return [CardSpec.from_args(d.get("args") or {}) for d in node.get("decorators", []) if d.get("name") == "card"]


def bind(runner, flow) -> CardComponentCollector | None:
    """Set ``current.card`` for this task (or remove it when the step has no @card)."""
    from ..current import current

    specs = card_specs(runner.node)
    if not specs:
        current.__dict__.pop("card", None)
        return None
    collector = CardComponentCollector(specs)
    collector.binding = _Binding(runner)
    collector.graph = runner.graph
    collector.flow = flow
    current.card = collector
    return collector


def _client_task(binding):
    from ..client import Task

    return Task(binding.pathspec, attempt=binding.attempt, _namespace_check=False)


def _reload_token(card, task, data) -> str:
    if card.RELOAD_POLICY == card.RELOAD_POLICY_NEVER:
        return "never"
    try:
        return str(card.reload_content_token(task, data))
    except Exception:
        return "content-token"


def _instantiate(spec: CardSpec, cls, components, graph, flow):
    try:
        return cls(options=dict(spec.options), components=components, graph=graph, flow=flow)
    except TypeError:
        try:
            return cls(options=dict(spec.options))
        except TypeError:
            return cls()


def _run_bounded(seconds: float, fn):
    """fn() in a daemon thread; (finished, value, error_text). A thread that overruns
    is abandoned: it cannot be killed, and the process exits without waiting for it."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException:
            box["error"] = traceback.format_exc()

    thread = threading.Thread(target=target, name="card-render", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        return False, None, None
    return True, box.get("value"), box.get("error")


def _save_type(spec: CardSpec) -> str:
    return spec.type if NAME_PATTERN.match(spec.type or "") else "error"


def render_final(collector: CardComponentCollector | None) -> None:
    if collector is None:
        return
    binding = collector.binding
    try:
        task = _client_task(binding)
    except Exception as exc:
        _warn(f"cards not rendered: the task could not be read back ({type(exc).__name__}: {exc})")
        return
    for spec in collector.specs:
        try:
            _render_one(collector, spec, task, binding)
        except Exception as exc:  # never the task's failure
            _warn(f"card '{spec.type}' not saved: {type(exc).__name__}: {exc}")


def _render_one(collector, spec: CardSpec, task, binding) -> None:
    from .card import ErrorCard
    from .exception import CardClassFoundException

    manager = collector.manager(spec)
    cls = spec.card_class
    error = None
    html = None
    data = manager.latest_data(final=True)
    card = None
    if cls is None:
        error = str(CardClassFoundException(spec.type))
    else:
        card = _instantiate(spec, cls, manager.serialised(), collector.graph, collector.flow)
        card.runtime_data = data

        finished, value, failure = _run_bounded(spec.timeout, lambda: card.render(task))
        if not finished:
            error = f"the card of type '{spec.type}' took longer than its timeout of {spec.timeout:g} seconds to render"
        elif failure:
            error = failure
        elif not isinstance(value, str):
            error = f"the card of type '{spec.type}' rendered {type(value).__name__}, not an HTML string"
        else:
            html = value.replace(cls.RELOAD_POLICY_TOKEN, _reload_token(card, task, data))
    if error is not None:
        print(f"@card: card of type '{spec.type}' failed: {error.strip().splitlines()[-1]}", file=sys.stderr)
        if not spec.save_errors:
            return
        html = ErrorCard().render(task, stack_trace=error)
    card_id = spec.id if spec.id and NAME_PATTERN.match(spec.id) else None
    save_card(binding.storage, binding.prefix, _save_type(spec), spec.hash, html, card_id=card_id)
    if card is not None and error is None and getattr(cls, "RUNTIME_UPDATABLE", False):
        _save_refresh_data(card, task, data, spec, binding, card_id)


def _save_refresh_data(card, task, data, spec, binding, card_id):
    try:
        payload = card.refresh(task, data)
    except NotImplementedError:
        return
    save_data(binding.storage, binding.prefix, _save_type(spec), spec.hash,
              {"reload_token": _reload_token(card, task, data), "data": payload}, card_id=card_id)


def write_runtime(collector: CardComponentCollector, spec: CardSpec) -> None:
    """``current.card.refresh()``: the card's data now, and its HTML if the type renders at run time."""
    cls = spec.card_class
    if cls is None or not getattr(cls, "RUNTIME_UPDATABLE", False):
        return
    binding = collector.binding
    manager = collector.manager(spec)
    task = _client_task(binding)
    data = manager.latest_data(final=False)
    card = _instantiate(spec, cls, manager.serialised(), collector.graph, collector.flow)
    card.runtime_data = data
    card_id = spec.id if spec.id and NAME_PATTERN.match(spec.id) else None
    token = _reload_token(card, task, data)
    try:
        html = card.render_runtime(task, data)
    except NotImplementedError:
        html = None
    if isinstance(html, str):
        save_card(binding.storage, binding.prefix, _save_type(spec), spec.hash,
                  html.replace(cls.RELOAD_POLICY_TOKEN, token), card_id=card_id)
    _save_refresh_data(card, task, data, spec, binding, card_id)


def has_cards(node: dict) -> bool:
    return graphinfo.decorator_args(node, "card") is not None
