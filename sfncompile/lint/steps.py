"""Rules about steps themselves: names, arguments, the start and end steps."""

from __future__ import annotations

import re

from .registry import diag, rule
from .view import T_FOREACH, T_PARALLEL, T_SPLIT, T_SWITCH, FlowView

# Names a step cannot take: they are FlowSpec's own attributes and methods,
# which a step of that name would replace (Metaflow reserves the first five).
RESERVED_STEP_NAMES = frozenset({
    "name", "next", "input", "index", "cmd",
    "foreach_stack", "merge_artifacts", "script_name",
})

_STEP_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")

# Step Functions state names are at most 80 characters; a step becomes a state.
MAX_STEP_NAME = 80


@rule("SFN101", "reserved-step-name")
def reserved_step_name(view: FlowView):
    for name in view.steps:
        if name in RESERVED_STEP_NAMES:
            yield diag("SFN101", f"step name '{name}' is reserved (it is a FlowSpec attribute); "
                                 f"rename the step, e.g. '{name}_step'", view.step_span(name))


@rule("SFN102", "invalid-step-name")
def invalid_step_name(view: FlowView):
    for name in view.steps:
        if not _STEP_NAME.match(name):
            yield diag("SFN102", f"step name '{name}' is invalid: use only lowercase ASCII letters, digits "
                                 "and underscores, not starting with an underscore", view.step_span(name))
        elif len(name) > MAX_STEP_NAME:
            yield diag("SFN102", f"step name '{name[:20]}...' is {len(name)} characters; Step Functions "
                                 f"state names allow at most {MAX_STEP_NAME}: shorten it",
                       view.step_span(name))


def _start_end(view: FlowView, key: str, rule_id: str):
    annotated = view.annotated(key)
    if len(annotated) > 1:
        for extra in annotated[1:]:
            yield diag(rule_id, f"several steps are annotated @step({key}=True): "
                                f"{', '.join(annotated)}; exactly one {key} step is allowed, "
                                f"remove the annotation from all but one", view.step_span(extra))
        return
    if getattr(view, key) is None:
        attrs = view.graph.class_attrs or {}
        if key in view.undecorated_start_or_end:
            yield diag(rule_id, f"the flow has no {key} step: the method '{key}' is not decorated with "
                                "@step; add @step above it", attrs.get(key) or view.flow_span())
            return
        yield diag(rule_id, f"the flow has no {key} step: name a step '{key}' or mark one "
                            f"with @step({key}=True)", view.flow_span())


@rule("SFN103", "missing-start-step")
def missing_start(view: FlowView):
    yield from _start_end(view, "start", "SFN103")


@rule("SFN104", "missing-end-step")
def missing_end(view: FlowView):
    yield from _start_end(view, "end", "SFN104")


@rule("SFN105", "start-end-annotation-conflict")
def annotation_conflict(view: FlowView):
    for key in ("start", "end"):
        annotated = view.annotated(key)
        if len(annotated) == 1 and annotated[0] != key and key in view.steps:
            yield diag("SFN105", f"ambiguous {key} step: '{annotated[0]}' is marked @step({key}=True) "
                                 f"but a step named '{key}' also exists; rename '{key}' or drop the "
                                 "annotation", view.step_span(annotated[0]))


@rule("SFN106", "start-has-incoming")
def start_has_incoming(view: FlowView):
    start = view.start
    if start is None or start == view.end:
        return
    preds = view.predecessors.get(start, [])
    if preds:
        yield diag("SFN106", f"the start step '{start}' is the target of self.next() in "
                             f"{', '.join(preds)}; nothing may lead back to the start step: point "
                             "those transitions elsewhere (to loop, use a switch to a later step)",
                   view.step_span(start))


@rule("SFN107", "end-has-transition")
def end_has_transition(view: FlowView):
    end = view.end
    if end is None:
        return
    step = view.steps[end]
    if step.transition is not None or step.next_calls:
        yield diag("SFN107", f"the end step '{end}' calls self.next(); the end step ends the flow: "
                             "remove the self.next() call", view.next_span(end))


@rule("SFN108", "end-is-join")
def end_is_join(view: FlowView):
    end = view.end
    if end is None or end == view.start:
        return
    if view.steps[end].num_args > 1:
        yield diag("SFN108", f"the end step '{end}' takes an extra argument as a join step would; the "
                             "end step cannot be a join: add a join step before it and drop the argument",
                   view.step_span(end))


@rule("SFN109", "too-many-arguments")
def too_many_args(view: FlowView):
    for name, step in view.steps.items():
        if step.num_args > 2:
            yield diag("SFN109", f"step '{name}' takes {step.num_args} arguments; a step takes only "
                                 "'self', a join step 'self' and 'inputs'", view.step_span(name))


@rule("SFN110", "join-and-split")
def join_and_split(view: FlowView):
    for name, step in view.steps.items():
        if step.num_args == 2 and name != view.end and view.transition_shape(name) in (
                T_SPLIT, T_FOREACH, T_PARALLEL, T_SWITCH):
            yield diag("SFN110", f"step '{name}' is both a join (it takes 'inputs') and a split (its "
                                 "self.next() fans out); add a separate step after the join that does "
                                 "the split", view.step_span(name))


@rule("SFN111", "missing-self")
def missing_self(view: FlowView):
    for name, step in view.steps.items():
        if step.num_args == 0:
            yield diag("SFN111", f"step '{name}' takes no arguments; a step method needs 'self': "
                                 f"def {name}(self):", view.step_span(name))
