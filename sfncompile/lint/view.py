"""A read-only view of a FlowGraph that lint rules share.

Lint must work on graphs the front end could only partly make sense of
(no start step, transitions to unknown steps, cycles, joins without splits),
so this view recomputes what the rules need from the *facts* the front end
recorded (each step's transition as written) instead of trusting derived
structure that may be missing on a broken graph.
"""

from __future__ import annotations

from functools import cached_property

from ..ir import FlowGraph, Span, StepNode

# Transition shapes, as written in ``self.next(...)``.
T_NONE = "none"  # no usable tail transition
T_LINEAR = "linear"
T_SPLIT = "split"
T_FOREACH = "foreach"
T_PARALLEL = "parallel"  # num_parallel=
T_SWITCH = "switch"

# Node types used by the split/join analysis (Metaflow's vocabulary).
N_END = "end"
N_JOIN = "join"
N_LINEAR = "linear"
N_SPLIT = "split"
N_FOREACH = "foreach"
N_SWITCH = "switch"
N_NONE = "none"


class FlowView:
    def __init__(self, graph: FlowGraph):
        self.graph = graph
        self.steps: dict[str, StepNode] = dict(graph.steps or {})
        # Rules ask the same questions about every step many times over.
        self._shapes: dict[str, str] = {}
        self._successors: dict[str, list[str]] = {}

    # -- positions ---------------------------------------------------------
    def flow_span(self) -> Span | None:
        return self.graph.span

    def step_span(self, name: str) -> Span | None:
        step = self.steps.get(name)
        return step.span if step is not None and step.span is not None else self.graph.span

    def next_span(self, name: str) -> Span | None:
        """Where the step's tail ``self.next`` is, falling back to the def line."""
        step = self.steps.get(name)
        if step is None:
            return self.graph.span
        if step.transition is not None and step.transition.span is not None:
            return step.transition.span
        if step.next_calls:
            return step.next_calls[-1]
        return self.step_span(name)

    # -- transitions -------------------------------------------------------
    def transition_shape(self, name: str) -> str:
        shape = self._shapes.get(name)
        if shape is None:
            shape = self._shapes[name] = self._transition_shape(name)
        return shape

    def _transition_shape(self, name: str) -> str:
        step = self.steps[name]
        t = step.transition
        if t is None:
            return T_NONE
        if t.switch_cases is not None:
            return T_SWITCH
        if t.foreach is not None or not t.foreach_is_literal:
            return T_FOREACH
        if t.num_parallel is not None:
            return T_PARALLEL
        if len(t.targets) > 1:
            return T_SPLIT
        if len(t.targets) == 1:
            return T_LINEAR
        return T_NONE

    def targets(self, name: str) -> list[str]:
        """Every step named by the tail transition, known or not, in order."""
        step = self.steps.get(name)
        if step is None:
            return []
        t = step.transition
        if t is None:
            return list(step.out_funcs or [])
        if t.switch_cases is not None:
            return [str(v) for v in t.switch_cases.values()]
        return list(t.targets)

    def successors(self, name: str) -> list[str]:
        """Known successor steps, without duplicates, in order."""
        cached = self._successors.get(name)
        if cached is not None:
            return cached
        seen: list[str] = []
        for target in self.targets(name):
            if target in self.steps and target not in seen:
                seen.append(target)
        self._successors[name] = seen
        return seen

    @cached_property
    def predecessors(self) -> dict[str, list[str]]:
        preds: dict[str, list[str]] = {name: [] for name in self.steps}
        for name in self.steps:
            if name == self.end:
                continue  # the end step's stray transitions are reported, not followed
            for target in self.successors(name):
                if name not in preds[target]:
                    preds[target].append(name)
        return preds

    def fans_out(self, name: str) -> bool:
        """A static split, foreach or num_parallel transition (switches do not fan out)."""
        return self.transition_shape(name) in (T_SPLIT, T_FOREACH, T_PARALLEL)

    @cached_property
    def broken_edges(self) -> bool:
        """Some step's outgoing edges are unknown: missing, malformed, misplaced or to unknown steps.

        Then reachability is not what the user meant, and rules that depend
        on it (orphans) stay quiet rather than pile consequences on the cause.
        """
        for name, step in self.steps.items():
            if self.needs_no_transition(name):
                continue
            t = step.transition
            if t is None or t.malformed or step.next_not_last or self.transition_shape(name) == T_NONE:
                return True
            targets = self.targets(name)
            if not targets or any(target not in self.steps for target in targets):
                return True
        return False

    def needs_no_transition(self, name: str) -> bool:
        """The end step, and a would-be end step that lost to another (SFN104/SFN105 say so)."""
        step = self.steps[name]
        return name == self.end or name == "end" or bool((step.step_annotation or {}).get("end"))

    def is_join(self, name: str) -> bool:
        step = self.steps[name]
        return step.num_args >= 2 or step.is_join

    # -- start and end -----------------------------------------------------
    def annotated(self, key: str) -> list[str]:
        return [name for name, step in self.steps.items() if (step.step_annotation or {}).get(key)]

    def _resolve(self, key: str) -> str | None:
        annotated = self.annotated(key)
        if len(annotated) == 1:
            return annotated[0]
        if len(annotated) > 1:
            return None
        if key in self.steps:
            return key
        if len(self.steps) == 1 and not self.undecorated_start_or_end:
            # a one-step flow is its own start and end (as in Metaflow)
            (only,) = self.steps.values()
            if only.transition is None and not only.next_calls:
                return only.name
        return None

    @cached_property
    def undecorated_start_or_end(self) -> list[str]:
        """Methods named ``start``/``end`` that are not steps: a forgotten ``@step``."""
        attrs = self.graph.class_attrs or {}
        return [n for n in ("start", "end") if n in attrs and n not in self.steps]

    @cached_property
    def start(self) -> str | None:
        return self._resolve("start")

    @cached_property
    def end(self) -> str | None:
        return self._resolve("end")

    # -- node types for the split/join analysis -----------------------------
    def node_type(self, name: str) -> str:
        if name == self.end:
            return N_END
        shape = self.transition_shape(name)
        if shape == T_SWITCH:
            return N_SWITCH
        if shape in (T_FOREACH, T_PARALLEL):
            return N_FOREACH
        if shape == T_SPLIT:
            return N_SPLIT
        if shape == T_LINEAR:
            return N_JOIN if self.is_join(name) else N_LINEAR
        return N_NONE

    @cached_property
    def reachable(self) -> set[str]:
        if self.start is None:
            return set()
        seen = {self.start}
        stack = [self.start]
        while stack:
            node = stack.pop()
            if node == self.end:
                continue
            for child in self.successors(node):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return seen

    def decorated(self, name: str, deco: str) -> bool:
        step = self.steps.get(name)
        return step is not None and any(d.name == deco for d in step.decorators)

    @cached_property
    def assigned_anywhere(self) -> set[str]:
        """Every ``self.<x>`` assigned in some step, plus parameters and class attributes."""
        names: set[str] = set()
        for step in self.steps.values():
            names.update((step.assigned_attrs or {}).keys())
        names.update(p.attr for p in self.graph.parameters or [])
        names.update((self.graph.class_attrs or {}).keys())
        return names
