"""Rules about parameters and artifacts: unique, and not shadowing what the
flow already defines."""

from __future__ import annotations

import json
import re

from sfncompile_runtime.decorator_specs import RESERVED_ATTRIBUTES

from .registry import diag, rule
from .view import FlowView

# Names the command line keeps for itself (Metaflow's list; '-' and '_' forms).
_CLI_RESERVED = ("params", "with", "tag", "namespace", "obj", "tags", "decospecs", "run-id-file",
                 "max-num-splits", "max-workers", "max-log-size", "user-namespace", "run-id",
                 "task-id", "runner-attribute-file")
RESERVED_PARAMETER_NAMES = frozenset(_CLI_RESERVED) | frozenset(n.replace("-", "_") for n in _CLI_RESERVED)


def _param_span(view, param):
    return param.span or view.flow_span()


@rule("SFN150", "duplicate-parameter")
def duplicate_parameter(view: FlowView):
    seen: dict[str, str] = {}
    for param in view.graph.parameters or []:
        key = str(param.name).lower()
        if key in seen:
            yield diag("SFN150", f"parameter name '{param.name}' is used twice (by {seen[key]} and {param.attr}; "
                                 "names are case-insensitive): give each parameter its own name",
                       _param_span(view, param))
        else:
            seen[key] = param.attr


@rule("SFN151", "parameter-shadows-step-or-attribute")
def parameter_shadows(view: FlowView):
    params = view.graph.parameters or []
    class_attrs = set(view.graph.class_attrs or {})
    for param in params:
        # another parameter of the same name is SFN150's business
        attrs = {p.attr for p in params if str(p.name).lower() != str(param.name).lower()}
        for label in dict.fromkeys([param.attr, param.name]):
            if label in view.steps:
                yield diag("SFN151", f"parameter '{label}' has the same name as a step; rename the parameter "
                                     "or the step", _param_span(view, param))
                break
            if label == param.name and label != param.attr and (label in attrs or label in class_attrs):
                yield diag("SFN151", f"parameter name '{label}' is also the name of another flow attribute; "
                                     f"rename one of them", _param_span(view, param))
                break


@rule("SFN152", "parameter-reserved-name")
def parameter_reserved(view: FlowView):
    for param in view.graph.parameters or []:
        for label in dict.fromkeys([param.attr, param.name]):
            if label in RESERVED_ATTRIBUTES:
                yield diag("SFN152", f"parameter '{label}' would shadow the flow's own '{label}' attribute; "
                                     f"choose another name, e.g. '{label}_value'", _param_span(view, param))
                break
            if label in RESERVED_PARAMETER_NAMES:
                yield diag("SFN152", f"parameter name '{label}' is reserved by the command line; choose "
                                     f"another name, e.g. 'flow_{label}'", _param_span(view, param))
                break


def _parses(text, convert) -> bool:
    try:
        convert(text)
    except (TypeError, ValueError):
        return False
    return True


_BOOL_WORDS = {"true", "false", "1", "0", "yes", "no", "y", "n", "t", "f", "on", "off"}


def _default_problem(param) -> str | None:
    """What the default should be, when the command line could not convert it to the type."""
    value, kind = param.default, param.type
    if kind == "int":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and _parses(value.strip(), int))
        return None if ok else "an integer"
    if kind == "float":
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) or (
            isinstance(value, str) and _parses(value.strip(), float))
        return None if ok else "a number"
    if kind == "bool":
        ok = isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in _BOOL_WORDS)
        return None if ok else "True or False"
    if kind == "str":
        return None if isinstance(value, (str, int, float, bool)) else "a string"
    if kind == "json" and isinstance(value, str) and not _parses(value, json.loads):
        return "valid JSON text"
    return None


@rule("SFN153", "parameter-default-type")
def parameter_default_type(view: FlowView):
    for param in view.graph.parameters or []:
        if not param.has_default or param.default_is_function or param.default is None:
            continue
        expected = _default_problem(param)
        if expected:
            yield diag("SFN153", f"parameter '{param.name}' has type {param.type} but its default "
                                 f"{param.default!r} is not {expected}: fix the default or the type=",
                       _param_span(view, param))


_PARAMETER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@rule("SFN158", "parameter-invalid-name")
def parameter_invalid_name(view: FlowView):
    for param in view.graph.parameters or []:
        name = param.name
        if not isinstance(name, str) or not _PARAMETER_NAME.match(name):
            yield diag("SFN158", f"parameter name {name!r} is not usable on the command line or in an execution's "
                                 "input: use letters, digits, '_' and '-', starting with a letter",
                       _param_span(view, param))
        elif param.separator is not None and param.type != "str":
            yield diag("SFN158", f"parameter '{name}' has separator= but type {param.type}: a separator splits a "
                                 "string parameter into a list; drop separator= or make the parameter a string",
                       _param_span(view, param))


@rule("SFN156", "required-parameter-on-schedule")
def required_parameter_on_schedule(view: FlowView):
    if view.graph.decorator("schedule") is None:
        return
    for param in view.graph.parameters or []:
        if param.required and not param.has_default:
            yield diag("SFN156", f"parameter '{param.name}' is required but the flow runs on a schedule, "
                                 "which starts runs with no parameters: give it a default",
                       _param_span(view, param))


@rule("SFN154", "artifact-reserved-name")
def artifact_reserved(view: FlowView):
    for name, step in view.steps.items():
        for attr, span in (step.assigned_attrs or {}).items():
            if attr in RESERVED_ATTRIBUTES:
                yield diag("SFN154", f"step '{name}' assigns self.{attr}, but '{attr}' is reserved by the flow; "
                                     f"store the value under another name, e.g. self.{attr}_value",
                           span or view.step_span(name))


@rule("SFN155", "artifact-overwrites-parameter")
def artifact_overwrites_parameter(view: FlowView):
    params = {p.attr: p for p in view.graph.parameters or []}
    for name, step in view.steps.items():
        guarded = set(getattr(step, "guarded_attrs", None) or [])
        for attr, span in (step.assigned_attrs or {}).items():
            # Inside ``try: ... except AttributeError`` the step expects the error the
            # runtime raises (as Metaflow's does): valid code, not refused here.
            if attr in params and attr not in guarded:
                yield diag("SFN155", f"step '{name}' assigns self.{attr}, but '{attr}' is a parameter and "
                                     f"parameters are read-only: store the value under another name",
                           span or view.step_span(name))


@rule("SFN157", "artifact-shadows-step")
def artifact_shadows_step(view: FlowView):
    """``self.train = ...`` then ``self.next(self.train)`` in the same step: the transition
    reads the value, not the step (Metaflow fails there too). Assigning a step's name
    elsewhere is valid (a step ``plot`` setting ``self.plot``): the value is stored as an
    artifact, and other steps reading ``self.plot`` get the step method, as in Metaflow."""
    for name, step in view.steps.items():
        targets = set(step.transition.targets) if step.transition is not None else set()
        for attr, span in (step.assigned_attrs or {}).items():
            if attr in view.steps and attr in targets:
                yield diag("SFN157", f"step '{name}' assigns self.{attr} and then goes to self.{attr}: the "
                                     f"transition would read the value, not the step '{attr}'; store the value "
                                     "under another name", span or view.step_span(name))
