"""Rules about decorators: known, at the right level, with valid arguments.

The argument checks themselves live in ``sfncompile_runtime.decorator_specs``,
shared with the authoring API, so a value lint accepts is one the container
accepts too.
"""

from __future__ import annotations

import ast
import functools
import os

from sfncompile_runtime import decorator_specs as specs

from .registry import diag, rule
from .view import T_PARALLEL, FlowView

# Decorators Metaflow users may carry over that have no meaning on Step
# Functions + Batch: refused with the reason rather than silently ignored.
UNSUPPORTED = {
    "parallel": "@parallel (multi-node gang scheduling) is not supported on Step Functions; "
                "use a foreach (self.next(self.step, foreach='items')) instead",
    "kubernetes": "@kubernetes is not supported: steps run on AWS Batch; use @batch or @resources",
    "slurm": "@slurm is not supported: steps run on AWS Batch; use @batch or @resources",
    "airflow_s3_key_sensor": "Airflow sensors are not supported on Step Functions; use @trigger",
    "airflow_external_task_sensor": "Airflow sensors are not supported on Step Functions; use @trigger_on_finish",
    "unbounded_foreach": "@unbounded_foreach is not supported on Step Functions; use a foreach",
    "checkpoint": "@checkpoint is not supported: store progress as artifacts and use resume",
    "model": "@model is not supported: store models as artifacts",
    "argo_events": "Argo Events are not supported: use @trigger (EventBridge)",
    "pytorch_parallel": "@pytorch_parallel (multi-node) is not supported on Step Functions; use a foreach",
}


def _all_decorators(view: FlowView):
    """(level, owner name, Decorator) for the flow's and every step's decorators."""
    for deco in view.graph.decorators or []:
        yield specs.FLOW, view.graph.name, deco
    for name, step in view.steps.items():
        for deco in step.decorators:
            if deco.name != "step":
                yield specs.STEP, name, deco


def _where(view: FlowView, level, owner, deco):
    if deco.span is not None:
        return deco.span
    return view.flow_span() if level == specs.FLOW else view.step_span(owner)


def _owner(level, owner):
    return f"flow {owner}" if level == specs.FLOW else f"step '{owner}'"


@rule("SFN141", "unknown-decorator")
def unknown_decorator(view: FlowView):
    for level, owner, deco in _all_decorators(view):
        if deco.name in specs.SPECS or deco.name in UNSUPPORTED:
            continue
        # The user's own decorators never get here (the front end keeps them in
        # ``user_decorators``): this one is a name from metaflow/sfncompile we do not
        # have, or a name bound nowhere in the file.
        known = specs.STEP_DECORATORS if level == specs.STEP else specs.FLOW_DECORATORS
        yield diag("SFN141", f"unknown decorator @{deco.name} on {_owner(level, owner)}: sfncompile has no such "
                             "decorator (your own decorators are accepted when defined in this file or imported "
                             "from your own module); supported here: " + ", ".join("@" + k for k in known),
                   _where(view, level, owner, deco))


@rule("SFN142", "decorator-wrong-level")
def decorator_wrong_level(view: FlowView):
    for level, owner, deco in _all_decorators(view):
        spec = specs.SPECS.get(deco.name)
        if spec is None or level in spec.levels:
            continue
        place = "on the flow class" if specs.FLOW in spec.levels else "on a step method"
        yield diag("SFN142", f"@{deco.name} is not allowed on {_owner(level, owner)}: put it {place}",
                   _where(view, level, owner, deco))


@rule("SFN143", "decorator-positional-arguments")
def decorator_positional(view: FlowView):
    for level, owner, deco in _all_decorators(view):
        if deco.positional:
            yield diag("SFN143", f"@{deco.name} on {_owner(level, owner)} got positional arguments; pass them "
                                 f"by keyword, e.g. @retry(times=2)", _where(view, level, owner, deco))


# Decorators a step may carry several times (Metaflow allows several @card per step).
REPEATABLE = {"card"}


@rule("SFN144", "duplicate-decorator")
def duplicate_decorator(view: FlowView):
    seen: set = set()
    for level, owner, deco in _all_decorators(view):
        if deco.name in REPEATABLE:
            continue
        key = (level, owner, deco.name)
        if key in seen:
            yield diag("SFN144", f"@{deco.name} appears twice on {_owner(level, owner)}; keep one and merge "
                                 "their arguments", _where(view, level, owner, deco))
        seen.add(key)


# Decorators that cannot be combined on one step (or one flow): they set up
# the same thing in incompatible ways.
CONFLICTS = [({"pypi", "conda"}, "a step's environment comes from either @pypi or @conda, not both"),
             ({"pypi_base", "conda_base"}, "the flow's environment comes from either @pypi_base or @conda_base, "
                                           "not both")]


@rule("SFN146", "conflicting-decorators")
def conflicting_decorators(view: FlowView):
    owners: dict = {}
    for level, owner, deco in _all_decorators(view):
        owners.setdefault((level, owner), []).append(deco)
    for (level, owner), decos in owners.items():
        names = {d.name for d in decos}
        for pair, why in CONFLICTS:
            if pair <= names:
                last = [d for d in decos if d.name in pair][-1]
                yield diag("SFN146", f"{_owner(level, owner)} has both " + " and ".join(f"@{n}" for n in sorted(pair))
                           + f": {why}; keep one", _where(view, level, owner, last))


@rule("SFN145", "decorator-unknown-argument")
def decorator_unknown_argument(view: FlowView):
    for level, owner, deco in _all_decorators(view):
        spec = specs.SPECS.get(deco.name)
        if spec is None or level not in spec.levels:
            continue
        for key in deco.args:
            if key not in spec.defaults:
                allowed = ", ".join(sorted(spec.defaults)) or "none"
                yield diag("SFN145", f"@{deco.name} has no argument '{key}' (allowed: {allowed}); "
                                     "remove it or fix its spelling", _where(view, level, owner, deco))


@rule("SFN140", "decorator-invalid-argument")
def decorator_invalid_argument(view: FlowView):
    for level, owner, deco in _all_decorators(view):
        spec = specs.SPECS.get(deco.name)
        if spec is None or level not in spec.levels:
            continue
        known = {k: v for k, v in deco.args.items() if k in spec.defaults}
        for _key, message in specs.validate(deco.name, known, level):
            yield diag("SFN140", f"on {_owner(level, owner)}: {message}", _where(view, level, owner, deco))


@rule("SFN160", "unsupported-on-step-functions")
def unsupported(view: FlowView):
    for level, owner, deco in _all_decorators(view):
        if deco.name in UNSUPPORTED:
            yield diag("SFN160", f"{UNSUPPORTED[deco.name]} ({_owner(level, owner)})",
                       _where(view, level, owner, deco))
    for name in view.steps:
        if view.transition_shape(name) == T_PARALLEL:
            yield diag("SFN160", f"step '{name}' uses self.next(..., num_parallel=...): multi-node @parallel "
                                 "steps are not supported on Step Functions; use foreach= instead",
                       view.next_span(name))


@rule("SFN147", "exit-hook-functions")
def exit_hook_functions(view: FlowView):
    """``@exit_hook`` needs hooks, and each must be a module-level function of the flow
    file: the hook job imports the flow module and calls them by name."""
    deco = view.graph.decorator("exit_hook")
    if deco is None:
        return
    where = _where(view, specs.FLOW, view.graph.name, deco)
    kinds = [k for k in ("on_success", "on_error") if deco.args.get(k)]
    if not kinds:
        yield diag("SFN147", f"@exit_hook on flow {view.graph.name} names no hook: give on_success=[...] "
                             "and/or on_error=[...] (functions defined at module level in this file)", where)
        return
    functions = set(getattr(view.graph, "module_functions", None) or [])
    for kind in kinds:
        names = deco.args[kind]
        if not isinstance(names, list):
            continue  # SFN140 reports the type
        for name in names:
            if isinstance(name, str) and name not in functions:
                yield diag("SFN147", f"@exit_hook({kind}=...) names '{name}', which is not a function defined at "
                                     "module level in the flow file; define it there: def "
                                     f"{name}(run=None): ...", where)


@rule("SFN148", "unknown-card-type")
def unknown_card_type(view: FlowView):
    """A ``@card(type=...)`` that names no card we can render. Metaflow finds custom card types
    in ``metaflow_extensions`` packages, which we do not load: a card that silently never
    renders is a wrong result, so say so. Types defined by a ``MetaflowCard`` subclass in the
    flow's own directory (its code package) are accepted."""
    for _level, owner, deco in _all_decorators(view):
        card_type = deco.args.get("type") if deco.name == "card" else None
        if not isinstance(card_type, str) or card_type in _builtin_card_types():
            continue
        where = _where(view, specs.STEP, owner, deco)
        flow_file = where.file if where is not None else None
        if flow_file and card_type in _card_types_defined_under(os.path.dirname(os.path.abspath(flow_file))):
            continue
        yield diag("SFN148", f"@card(type='{card_type}') on {_owner(specs.STEP, owner)}: no such card type. Card "
                             "types from Metaflow extension packages (metaflow_extensions) are not supported; "
                             "use a built-in type (" + ", ".join(sorted(_builtin_card_types())) + ") or define "
                             "a MetaflowCard subclass with this type in a module next to the flow", where)


@functools.lru_cache(maxsize=1)
def _builtin_card_types() -> frozenset:
    from sfncompile_runtime.cards import test_cards
    from sfncompile_runtime.cards.card import BUILTIN

    return frozenset(cls.type for cls in BUILTIN + tuple(test_cards.CARDS))


def _card_types_defined_under(directory: str) -> set:
    """``type = "..."`` literals in the class bodies of the directory's Python files (read,
    never imported). Only called for a type that is not built in, which is rare."""
    found = set()
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("node_modules", "__pycache__")]
        for name in files:
            if not name.endswith(".py"):
                continue
            try:
                with open(os.path.join(root, name), encoding="utf-8") as src:
                    tree = ast.parse(src.read())
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    for item in node.body:
                        if (isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "type"
                                                                 for t in item.targets)
                                and isinstance(item.value, ast.Constant) and isinstance(item.value.value, str)):
                            found.add(item.value.value)
    return found
