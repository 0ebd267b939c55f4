"""Rules about ``self.next(...)``: present, last, well formed, to known steps."""

from __future__ import annotations

import difflib

from .registry import WARNING, diag, rule
from .view import T_FOREACH, T_PARALLEL, T_SWITCH, FlowView

SUPPORTED_FORMS = ("self.next(self.step), self.next(self.a, self.b), "
                   "self.next(self.step, foreach='items') or "
                   "self.next({'key': self.a, ...}, condition='var')")


@rule("SFN112", "missing-transition")
def missing_transition(view: FlowView):
    for name, step in view.steps.items():
        if view.needs_no_transition(name):
            continue
        if step.transition is None and not step.next_calls:
            yield diag("SFN112", f"step '{name}' has no self.next() transition; end the step with "
                                 "self.next(self.<next_step>) (only the end step has none)",
                       view.step_span(name))


@rule("SFN132", "next-not-last")
def next_not_last(view: FlowView):
    for name, step in view.steps.items():
        if not step.next_not_last or name == view.end:
            continue
        tail = step.transition.span if step.transition is not None else None
        misplaced = [c for c in step.next_calls if tail is None or (c.line, c.col) != (tail.line, tail.col)]
        if not misplaced and step.next_calls:
            misplaced = step.next_calls  # the only call is the transition, but not at the tail
        span = misplaced[0] if misplaced else view.step_span(name)
        if len(step.next_calls) > 1:
            problem = (f"step '{name}' calls self.next() {len(step.next_calls)} times; a step has exactly one "
                       "self.next(), as its last top-level statement. To choose the next step at run time, "
                       "use a switch: self.next({'a': self.a, 'b': self.b}, condition='var')")
        else:
            problem = (f"in step '{name}', self.next() is not the last statement (code follows it, or it is "
                       "inside an if/for/while/try/with block); make it the step's last top-level statement")
        yield diag("SFN132", problem, span)


@rule("SFN133", "next-missing-on-some-path", severity=WARNING)
def next_missing_on_some_path(view: FlowView):
    for name, step in view.steps.items():
        if name == view.end or step.transition is None or step.next_not_last:
            continue
        if step.next_missing_on_some_path:
            # A warning, as Metaflow accepts the flow: the path may never be taken (the
            # runtime fails the task if it is).
            yield diag("SFN133", f"some path through step '{name}' ends without reaching self.next() (an early "
                                 "return?); if a run takes it, the task fails: restructure the body so control "
                                 "always reaches self.next()",
                       step.next_missing_at or view.step_span(name))


# Problems the front end records in ``Transition.malformed`` that have their
# own, more specific lint rule (matched on the front end's wording).
MISSING_CONDITION = "a switch needs condition="
CONDITION_NOT_STRING = "condition= must be a string literal"


def malformed_parts(t) -> list[str]:
    return [p for p in (t.malformed or "").split("; ") if p]


def condition_not_literal(t) -> bool:
    """condition= was given but is not a string literal (the IR field, or the
    front end's wording from before the field existed)."""
    return (getattr(t, "condition_is_literal", True) is False
            or any(p.startswith(CONDITION_NOT_STRING) for p in malformed_parts(t)))


@rule("SFN113", "invalid-transition")
def invalid_transition(view: FlowView):
    for name, step in view.steps.items():
        t = step.transition
        if t is None or name == view.end:
            continue
        shape = view.transition_shape(name)
        problem = None
        own = [p for p in malformed_parts(t)
               if not (shape == T_SWITCH and (p.startswith(MISSING_CONDITION) or p.startswith(CONDITION_NOT_STRING)))]
        if own:
            problem = "; ".join(own)
        elif t.malformed:
            problem = None
        elif t.unknown_keywords:
            problem = (f"unknown keyword argument(s) {', '.join(t.unknown_keywords)} "
                       "(self.next accepts foreach=, condition= or num_parallel=)")
        elif shape == T_SWITCH and t.targets and len(t.targets) != len(t.switch_cases or {}):
            problem = "a switch takes one dict of cases and nothing else"
        elif shape == T_FOREACH and (t.num_parallel is not None or t.condition is not None):
            problem = "foreach= cannot be combined with num_parallel= or condition="
        elif shape in (T_FOREACH, T_PARALLEL) and len(t.targets) != 1:
            what = "foreach=" if shape == T_FOREACH else "num_parallel="
            problem = f"a {what} transition goes to exactly one step, got {len(t.targets)}"
        elif shape != T_SWITCH and t.condition is not None:
            problem = "condition= is only for a switch, whose first argument is a dict of cases"
        elif shape != T_SWITCH and not t.targets:
            problem = "self.next() names no step"
        elif len(set(view.targets(name))) != len(view.targets(name)) and shape != T_SWITCH:
            problem = "the same step is named twice"
        if problem:
            yield diag("SFN113", f"step '{name}' has an invalid self.next(): {problem}. Use one of: "
                                 f"{SUPPORTED_FORMS}", view.next_span(name))


@rule("SFN114", "unknown-transition-target")
def unknown_target(view: FlowView):
    for name in view.steps:
        for target in dict.fromkeys(view.targets(name)):
            if target in view.steps:
                continue
            close = difflib.get_close_matches(target, list(view.steps), n=1)
            if target in (view.graph.class_attrs or {}):
                hint = f"'{target}' is defined in the class but is not a step: decorate it with @step"
            elif close:
                hint = f"did you mean self.{close[0]}?"
            else:
                hint = "define it with @step or fix the name"
            yield diag("SFN114", f"step '{name}' goes to '{target}', which is not a step of this flow; {hint}",
                       view.next_span(name))


def _attribute_source(view: FlowView, attr: str) -> bool:
    return attr in view.assigned_anywhere


@rule("SFN130", "foreach-not-literal")
def foreach_not_literal(view: FlowView):
    for name, step in view.steps.items():
        t = step.transition
        if t is not None and not t.foreach_is_literal:
            yield diag("SFN130", f"in step '{name}', foreach= must be a string literal naming an artifact, "
                                 "e.g. foreach='items' after self.items = [...]", view.next_span(name))


@rule("SFN131", "foreach-unknown-artifact")
def foreach_unknown_artifact(view: FlowView):
    for name, step in view.steps.items():
        t = step.transition
        if t is None or t.foreach is None or not t.foreach_is_literal:
            continue
        attr = t.foreach
        if not isinstance(attr, str) or not attr.isidentifier():
            yield diag("SFN131", f"in step '{name}', foreach={attr!r} is not an attribute name; name the "
                                 "artifact holding the list, e.g. foreach='items'", view.next_span(name))
        elif not _attribute_source(view, attr):
            yield diag("SFN131", f"in step '{name}', foreach='{attr}' names an artifact no step assigns; "
                                 f"set self.{attr} = [...] in '{name}' or before it", view.next_span(name))


@rule("SFN135", "switch-condition-not-string")
def switch_condition_not_string(view: FlowView):
    for name, step in view.steps.items():
        t = step.transition
        if t is None or t.switch_cases is None:
            continue
        not_literal = condition_not_literal(t)
        if not_literal or (t.condition is not None and (not isinstance(t.condition, str)
                                                        or not t.condition.isidentifier())):
            yield diag("SFN135", f"in step '{name}', condition= must be a string literal naming the artifact "
                                 f"that holds the case, e.g. condition='route'",
                       view.next_span(name))


@rule("SFN136", "switch-condition-unknown-artifact")
def switch_condition_unknown(view: FlowView):
    for name, step in view.steps.items():
        t = step.transition
        if t is None or t.switch_cases is None or not isinstance(t.condition, str):
            continue
        if t.condition.isidentifier() and not _attribute_source(view, t.condition):
            yield diag("SFN136", f"in step '{name}', condition='{t.condition}' names an artifact no step "
                                 f"assigns; set self.{t.condition} = <case key> in '{name}' before self.next()",
                       view.next_span(name))
