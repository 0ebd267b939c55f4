"""Rules about the shape of the graph: loops, orphans, split/join balance,
switches, foreach bodies and ``@parallel``."""

from __future__ import annotations

from ..graph_algorithms import strongly_connected_components
from .registry import diag, rule
from .splits import analyze
from .transitions import condition_not_literal
from .view import N_FOREACH, N_SPLIT, T_PARALLEL, T_SWITCH, FlowView


def _non_switch_edges(view: FlowView) -> dict[str, list[str]]:
    edges = {}
    for name in view.steps:
        if name == view.end or view.transition_shape(name) == T_SWITCH:
            edges[name] = []
        else:
            edges[name] = view.successors(name)
    return edges


def _cycle_path(edges, members: set[str], first: str) -> list[str]:
    """A shortest path first -> ... -> first inside one strongly connected component."""
    parents = {first: None}
    frontier = [first]
    while frontier:
        nxt = []
        for node in frontier:
            for child in edges[node]:
                if child == first:
                    path = [node]
                    while parents[path[-1]] is not None:
                        path.append(parents[path[-1]])
                    return list(reversed(path)) + [first]
                if child in members and child not in parents:
                    parents[child] = node
                    nxt.append(child)
        frontier = nxt
    return [first, first]


def _distances_from_start(view: FlowView) -> dict[str, int]:
    if view.start is None:
        return {}
    distance = {view.start: 0}
    frontier = [view.start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in view.successors(node):
                if child not in distance:
                    distance[child] = distance[node] + 1
                    nxt.append(child)
        frontier = nxt
    return distance


@rule("SFN115", "cycle-without-switch")
def cycle(view: FlowView):
    edges = _non_switch_edges(view)
    order = list(view.steps)
    distance = _distances_from_start(view)
    for component in strongly_connected_components(edges):
        members = set(component)
        if len(component) == 1 and component[0] not in edges[component[0]]:
            continue
        # Enter the loop where a run would: the member nearest the start step.
        first = min(component, key=lambda n: (distance.get(n, len(order)), order.index(n)))
        path = _cycle_path(edges, members, first)
        closer = path[-2]
        yield diag("SFN115", f"the flow loops: {' -> '.join(path)}; a loop is only allowed through a "
                             "switch that decides at run time whether to go round again "
                             "(self.next({'again': self.x, 'done': self.y}, condition='var')): "
                             "fix the self.next() that closes the loop", view.next_span(closer))


@rule("SFN116", "orphan-step")
def orphan(view: FlowView):
    if view.start is None or view.broken_edges:
        return
    reachable = view.reachable
    for name in view.steps:
        if name not in reachable:
            yield diag("SFN116", f"step '{name}' is unreachable from the start step '{view.start}': add "
                                 f"self.next(self.{name}) in a step before it, or remove it",
                       view.step_span(name))


def _foreach_tails(view: FlowView) -> dict[str, str]:
    """Open foreach -> the step that ends its body right before the end step.

    ``start (foreach) -> work -> collect -> end`` with ``collect`` lacking
    ``inputs``: the mistake is at ``collect``, which is where we report it.
    A body that goes from its first step straight to the end has no such
    step: then the end step is the place to add a join before.
    """
    result = analyze(view)
    tails = {}
    for split, _ in result.end_open.items():
        if view.node_type(split) != N_FOREACH:
            continue
        body_heads = set(view.successors(split))
        for pred in view.predecessors.get(view.end, []):
            inside = any(frame[0] == split for stack in result.stacks.get(pred, ()) for frame in stack)
            if inside and pred not in body_heads and not view.is_join(pred):
                tails[split] = pred
                break
    return tails


@rule("SFN117", "end-before-join")
def end_before_join(view: FlowView):
    result = analyze(view)
    tails = _foreach_tails(view)
    for split, stack in result.end_open.items():
        if split in tails:
            continue  # reported at the would-be join by SFN129
        if view.node_type(split) == N_FOREACH:
            what = f"the foreach started at step '{split}'"
        else:
            what = f"the split at step '{split}' (branches {', '.join(view.successors(split))})"
        yield diag("SFN117", f"the end step '{view.end}' is reached before {what} is joined: add a join "
                             f"step, def join(self, inputs), that every branch leads to before '{view.end}'",
                   view.step_span(view.end))


@rule("SFN118", "join-branch-mismatch")
def join_branch_mismatch(view: FlowView):
    result = analyze(view)
    for join, arrivals in result.arrivals.items():
        splits = {frame[0] for _, frame, _ in arrivals}
        if len(splits) != 1:
            continue  # SFN120
        (split,) = splits
        expected = view.successors(split)
        got = {frame[1] for _, frame, _ in arrivals}
        missing = [b for b in expected if b not in got]
        if missing:
            yield diag("SFN118", f"join step '{join}' expects the {len(expected)} branches of split "
                                 f"'{split}' ({', '.join(expected)}) but {', '.join(missing)} "
                                 f"{'does' if len(missing) == 1 else 'do'} not lead to it: make every "
                                 f"branch end with self.next(self.{join})", view.step_span(join))


@rule("SFN119", "join-without-split")
def join_without_split(view: FlowView):
    result = analyze(view)
    conflicted = {join for join, arrivals in result.arrivals.items()
                  if len({f[0] for _, f, _ in arrivals}) > 1 or len({o for _, _, o in arrivals}) > 1}
    for join, parent in result.joins_without_split.items():
        if parent in conflicted:
            continue  # a consequence of the cross join reported at the parent
        yield diag("SFN119", f"step '{join}' takes 'inputs' like a join, but no split or foreach comes "
                             f"before it: remove the 'inputs' argument, or split before it",
                   view.step_span(join))


@rule("SFN120", "join-unrelated-splits")
def join_unrelated_splits(view: FlowView):
    result = analyze(view)
    for join, arrivals in result.arrivals.items():
        splits = sorted({frame[0] for _, frame, _ in arrivals})
        outers = {outer for _, _, outer in arrivals}
        if len(splits) > 1 or len(outers) > 1:
            yield diag("SFN120", f"join step '{join}' joins branches of unrelated splits "
                                 f"({', '.join(splits)}); each join closes exactly one split: join the inner "
                                 "split first, then the outer one", view.step_span(join))


@rule("SFN129", "join-missing-inputs")
def join_missing_inputs(view: FlowView):
    result = analyze(view)
    for step, (split, branches) in result.undeclared_joins.items():
        yield diag("SFN129", f"branches {', '.join(sorted(branches))} of split '{split}' meet at step "
                             f"'{step}', which is therefore a join but takes no 'inputs': "
                             f"write def {step}(self, inputs):", view.step_span(step))
    for split, step in _foreach_tails(view).items():
        yield diag("SFN129", f"step '{step}' ends the body of the foreach at '{split}' and leads to the end "
                             f"step, but takes no 'inputs', so the foreach is never joined: make it the join, "
                             f"def {step}(self, inputs):, or add a join step after it", view.step_span(step))


@rule("SFN161", "split-nesting-crossed")
def split_nesting_crossed(view: FlowView):
    result = analyze(view)
    reported = set()
    for name in view.steps:
        if view.transition_shape(name) != T_SWITCH:
            continue
        for key, target in (view.steps[name].transition.switch_cases or {}).items():
            if target not in view.steps or view.is_join(target):
                continue
            delivered = result.edge_stacks.get((name, target), set())
            others = set()
            for pred in view.predecessors.get(target, []):
                if pred != name:
                    others |= result.edge_stacks.get((pred, target), set())
            if not delivered or not others or delivered <= others:
                continue
            # Blame the switch only when it carries a deeper nesting than every
            # other way in (escaping a branch, looping back before its split);
            # a shallower one means the other path left something unjoined,
            # which the balance rules report.
            if min(map(len, delivered)) <= max(map(len, others)):
                continue
            inside = [f[0] for stack in delivered for f in stack]
            where = f"inside '{inside[-1]}'" if inside else "outside any split"
            reported.add(target)
            yield diag("SFN161", f"switch case {key!r} of step '{name}' ({where}) goes to '{target}', which "
                                 "runs at a different split/foreach level; a switch, and a loop through it, "
                                 "must stay inside one branch: go to a step of the same branch, or join first",
                       view.next_span(name))
    others = (result.end_open or result.joins_without_split or result.undeclared_joins
              or result.arrivals and any(True for _ in join_branch_mismatch(view))
              or any(True for _ in join_unrelated_splits(view)))
    if reported or others:
        return
    for name in result.mixed_nesting:
        preds = view.predecessors.get(name, [])
        if any(p in result.mixed_nesting for p in preds):
            continue  # report where the mix starts, not at every step after it
        yield diag("SFN161", f"step '{name}' is reached both inside and outside a split or foreach "
                             f"(from {', '.join(preds)}); a step belongs to one branch: join the "
                             "branches before it, or give each path its own step", view.step_span(name))


@rule("SFN121", "switch-too-few-cases")
def switch_too_few_cases(view: FlowView):
    for name, step in view.steps.items():
        t = step.transition
        if t is not None and t.switch_cases is not None and len(t.switch_cases) == 1:
            yield diag("SFN121", f"switch in step '{name}' has a single case; a switch needs at least two: "
                                 "add another case, or use a plain self.next(self.<step>)", view.next_span(name))


@rule("SFN122", "switch-no-condition")
def switch_no_condition(view: FlowView):
    for name, step in view.steps.items():
        t = step.transition
        if t is None or t.switch_cases is None or t.condition is not None:
            continue
        if not condition_not_literal(t):
            yield diag("SFN122", f"switch in step '{name}' has no condition=: name the artifact holding the "
                                 "case key, e.g. self.next({...}, condition='route')", view.next_span(name))


@rule("SFN123", "switch-no-cases")
def switch_no_cases(view: FlowView):
    for name, step in view.steps.items():
        t = step.transition
        if t is not None and t.switch_cases is not None and not t.switch_cases:
            yield diag("SFN123", f"switch in step '{name}' defines no cases: give a dict of case key to step, "
                                 "e.g. {'small': self.small, 'large': self.large}", view.next_span(name))


@rule("SFN124", "empty-split-branch")
def empty_branch(view: FlowView):
    for name in view.steps:
        kind = view.node_type(name)
        if kind not in (N_SPLIT, N_FOREACH):
            continue
        for target in view.successors(name):
            if view.is_join(target):
                what = "foreach" if kind == N_FOREACH else "split"
                yield diag("SFN124", f"the {what} at step '{name}' goes straight to the join step '{target}'; "
                                     f"a {what} needs at least one step between it and its join: add one",
                           view.step_span(name))


@rule("SFN128", "switch-into-join")
def switch_into_join(view: FlowView):
    for name in view.steps:
        if not view.is_join(name):
            continue
        switches = [p for p in view.predecessors.get(name, []) if view.transition_shape(p) == T_SWITCH]
        if switches:
            yield diag("SFN128", f"a switch case of {', '.join(switches)} leads straight into the join step "
                                 f"'{name}'; a conditional path cannot end at a join: add an ordinary step on "
                                 "that path before the join", view.step_span(name))


# -- @parallel -------------------------------------------------------------

@rule("SFN125", "num-parallel-without-parallel-step")
def num_parallel_target(view: FlowView):
    for name in view.steps:
        if view.transition_shape(name) != T_PARALLEL:
            continue
        bare = [t for t in view.successors(name) if not view.decorated(t, "parallel")]
        if bare:
            yield diag("SFN125", f"step '{name}' calls self.next(..., num_parallel=...) but "
                                 f"{', '.join(bare)} has no @parallel decorator: decorate it with @parallel",
                       view.step_span(name))


@rule("SFN126", "parallel-step-not-followed-by-join")
def parallel_then_join(view: FlowView):
    for name in view.steps:
        if not view.decorated(name, "parallel"):
            continue
        succ = view.successors(name)
        if succ and not view.is_join(succ[0]):
            yield diag("SFN126", f"@parallel step '{name}' must be followed by a join step, but '{succ[0]}' "
                                 f"is not one: add an 'inputs' argument, def {succ[0]}(self, inputs):",
                       view.step_span(name))


@rule("SFN127", "parallel-step-not-called-with-num-parallel")
def parallel_called_with_num_parallel(view: FlowView):
    for name in view.steps:
        if not view.decorated(name, "parallel"):
            continue
        callers = [p for p in view.predecessors.get(name, []) if view.transition_shape(p) != T_PARALLEL]
        if callers:
            yield diag("SFN127", f"@parallel step '{name}' is reached from '{callers[0]}' without "
                                 f"num_parallel=: call it as self.next(self.{name}, num_parallel=N)",
                       view.step_span(name))
