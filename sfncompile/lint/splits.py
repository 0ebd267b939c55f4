"""The split/join analysis shared by the balance rules.

Walks the graph from the start step carrying the stack of open splits, one
frame ``(split_step, branch)`` per enclosing split or foreach, the way a run
would nest. A join pops the innermost frame. Every (step, stack) state is
visited once, so loops through a switch terminate, and a loop that would
re-enter a split from inside its own branch is recorded instead of followed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .view import N_END, N_FOREACH, N_SPLIT, FlowView

Frame = tuple  # (split step, branch step)
Stack = tuple  # of Frame

MAX_STATES = 200_000  # a guard against pathological graphs, far above real flows


@dataclass
class SplitAnalysis:
    stacks: dict[str, set] = field(default_factory=dict)  # step -> stacks it runs under
    # join -> list of (predecessor, frame popped, outer stack)
    arrivals: dict[str, list] = field(default_factory=dict)
    joins_without_split: dict[str, str] = field(default_factory=dict)  # join -> a predecessor
    end_open: dict[str, Stack] = field(default_factory=dict)  # split left open at end -> stack
    undeclared_joins: dict[str, tuple] = field(default_factory=dict)  # step -> (split, branches)
    reentered: dict[str, str] = field(default_factory=dict)  # split -> step looping back into it
    # steps reached under two different nestings (not the undeclared-join case)
    mixed_nesting: dict[str, tuple] = field(default_factory=dict)
    # (parent, child) -> stacks the edge delivers to the child
    edge_stacks: dict[tuple, set] = field(default_factory=dict)


def analyze(view: FlowView) -> SplitAnalysis:
    cached = getattr(view, "_split_analysis", None)
    if cached is not None:
        return cached
    result = SplitAnalysis()
    view._split_analysis = result
    start = view.start
    if start is None:
        return result
    end_stacks: list = []
    if view.is_join(start) and start != view.end:
        result.joins_without_split[start] = ""  # the start step can have nothing to join
    queue = deque([(start, ())])
    seen = {(start, ())}

    def push(step, stack):
        if (step, stack) not in seen and len(seen) < MAX_STATES:
            seen.add((step, stack))
            queue.append((step, stack))

    while queue:
        name, stack = queue.popleft()
        kind = view.node_type(name)
        if not view.is_join(name):
            earlier = result.stacks.setdefault(name, set())
            if stack not in earlier and earlier and kind != N_END:
                other = next(iter(earlier))
                merged = _undeclared_join(stack, other)
                if merged is not None:
                    split = stack[-1][0]
                    branches = result.undeclared_joins.setdefault(name, (split, set()))[1]
                    branches.update({stack[-1][1], other[-1][1]})
                    # Treat the step as the join it should be, so one mistake
                    # is reported once, not again at every step after it.
                    earlier.add(stack)
                    stack = merged
                else:
                    result.mixed_nesting.setdefault(name, (other, stack))
                    earlier.add(stack)
            else:
                earlier.add(stack)
        if kind == N_END:
            if stack and not view.is_join(name):
                end_stacks.append(stack)
            continue
        for child in view.successors(name):
            if kind in (N_SPLIT, N_FOREACH) or view.fans_out(name):
                if any(frame[0] == name for frame in stack):
                    result.reentered.setdefault(name, child)
                    continue
                _follow(view, result, name, child, stack + ((name, child),), push)
            else:
                _follow(view, result, name, child, stack, push)
    for stack in end_stacks:
        if not _closed_by_undeclared(result, stack):
            result.end_open.setdefault(stack[-1][0], stack)
    return result


def _closed_by_undeclared(result: SplitAnalysis, stack: Stack) -> bool:
    return any(split == stack[-1][0] for split, _ in result.undeclared_joins.values())


def _undeclared_join(a: Stack, b: Stack):
    """Two stacks that differ only in the branch of the same innermost split."""
    if len(a) != len(b) or not a:
        return None
    if a[:-1] != b[:-1] or a[-1][0] != b[-1][0] or a[-1][1] == b[-1][1]:
        return None
    return a[:-1]


def _follow(view, result, parent, child, stack, push):
    result.edge_stacks.setdefault((parent, child), set()).add(stack)
    if view.is_join(child):
        if not stack:
            result.joins_without_split.setdefault(child, parent)
            push(child, ())
            return
        result.arrivals.setdefault(child, []).append((parent, stack[-1], stack[:-1]))
        result.stacks.setdefault(child, set()).add(stack[:-1])
        push(child, stack[:-1])
    else:
        push(child, stack)


__all__ = ["SplitAnalysis", "analyze"]
