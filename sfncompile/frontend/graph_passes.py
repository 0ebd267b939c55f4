"""Derive the graph's structure from the facts, in a few small passes.

The rules follow Metaflow's graph construction so that a flow means the same
thing under both tools:

1. ``find_start_end``: ``@step(start=True)`` / ``@step(end=True)`` when exactly
   one step is so annotated, else the steps named ``start`` / ``end``; a flow
   with one step has it as both. Several annotated → ``None`` (lint reports).
2. ``assign_kinds``: the kind comes from the transition: a dict of cases →
   ``switch``; ``foreach=`` or ``num_parallel=`` → ``foreach``; several
   targets → ``split``; one target → ``join`` if the step takes inputs, else
   ``linear``. The start step with a linear transition is ``start``; the end
   step is ``end`` whatever it says. A step without a transition is
   ``linear`` with no successors (lint reports it). ``is_join`` is set for
   every step that takes inputs, so a join whose own transition is a split
   keeps the split kind and still ``is_join``.
3. ``link``: ``out_funcs`` in written order (switch: case order), only the
   names as written (unknown targets stay, lint reports them);
   ``in_funcs``: sorted names of the *existing* steps that name this one.
4. ``nest``: one depth-first walk from the start step, each step visited
   once, carrying the stack of open splits: a split/foreach pushes itself;
   a step that takes inputs closes the innermost open split (that split's
   ``matching_join`` is this step). ``split_parents`` is the stack on
   arrival, outermost first; as in Metaflow, a join's ``split_parents``
   still ends with the split it closes. ``foreach_stack``: the foreach
   steps among ``split_parents`` whose body the step is in (a join is not in
   the body of the foreach it closes). Switch branches keep the stack of the
   switch. Steps not reachable from the start keep empty lists.
5. ``mark_loops``: ``in_loop`` for steps on a cycle that goes through a
   switch (a strongly connected component holding a switch step, or a
   switch that targets itself). Cycles are represented, never rejected here.

Every pass tolerates unknown targets, cycles and missing start/end steps.
"""

from __future__ import annotations

from ..graph_algorithms import strongly_connected_components
from ..ir import END, FOREACH, JOIN, LINEAR, SPLIT, START, SWITCH, FlowGraph


def build_structure(graph: FlowGraph) -> FlowGraph:
    find_start_end(graph)
    assign_kinds(graph)
    link(graph)
    nest(graph)
    mark_loops(graph)
    return graph


def find_start_end(graph: FlowGraph) -> None:
    def resolve(flag: str, fallback: str) -> str | None:
        annotated = [s.name for s in graph.steps.values() if s.step_annotation.get(flag)]
        if len(annotated) == 1:
            return annotated[0]
        if not annotated:
            return fallback if fallback in graph.steps else None
        return None

    graph.start = resolve("start", "start")
    graph.end = resolve("end", "end")
    if len(graph.steps) == 1:
        only = next(iter(graph.steps))
        graph.start = graph.end = only


def assign_kinds(graph: FlowGraph) -> None:
    for step in graph.steps.values():
        step.is_join = step.num_args > 1
        t = step.transition
        if t is None:
            kind = LINEAR
        elif t.switch_cases is not None:
            kind = SWITCH
        elif t.foreach is not None or not t.foreach_is_literal or t.num_parallel is not None:
            kind = FOREACH
        elif len(t.targets) > 1:
            kind = SPLIT
        elif step.is_join:
            kind = JOIN
        else:
            kind = LINEAR
        if step.name == graph.start and kind == LINEAR:
            kind = START
        if step.name == graph.end:
            kind = END
        step.kind = kind


def link(graph: FlowGraph) -> None:
    incoming: dict[str, set[str]] = {name: set() for name in graph.steps}
    for step in graph.steps.values():
        t = step.transition
        step.out_funcs = list(t.targets) if t is not None and step.kind != END else []
        for target in step.out_funcs:
            if target in incoming:
                incoming[target].add(step.name)
    for name, sources in incoming.items():
        graph.steps[name].in_funcs = sorted(sources)


def nest(graph: FlowGraph) -> None:
    for step in graph.steps.values():
        step.split_parents = []
        step.foreach_stack = []
        step.matching_join = None
    if graph.start is None or graph.start not in graph.steps:
        return
    visited = {graph.start}
    # Depth first, children in written order, so nested splits close innermost first.
    stack: list[tuple[str, list[str]]] = [(graph.start, [])]
    while stack:
        name, parents = stack.pop()
        step = graph.steps[name]
        step.split_parents = list(parents)
        onward = list(parents)
        if step.is_join and onward:
            closed = graph.steps[onward.pop()]
            if closed.matching_join is None:
                closed.matching_join = name
        if step.kind in (SPLIT, FOREACH):
            onward = onward + [name]
        for target in reversed(step.out_funcs):
            if target in graph.steps and target not in visited:
                visited.add(target)
                stack.append((target, onward))
    for step in graph.steps.values():
        step.foreach_stack = [
            p for p in step.split_parents
            if graph.steps[p].kind == FOREACH and graph.steps[p].matching_join != step.name
        ]


def mark_loops(graph: FlowGraph) -> None:
    for step in graph.steps.values():
        step.in_loop = False
    edges = {name: [t for t in step.out_funcs if t in graph.steps] for name, step in graph.steps.items()}
    for component in strongly_connected_components(edges):
        has_switch = any(graph.steps[n].kind == SWITCH for n in component)
        if len(component) > 1 and has_switch:
            for n in component:
                graph.steps[n].in_loop = True
        elif len(component) == 1:
            step = graph.steps[component[0]]
            if step.kind == SWITCH and step.name in step.out_funcs:
                step.in_loop = True


__all__ = ["build_structure", "find_start_end", "assign_kinds", "link", "nest", "mark_loops"]
