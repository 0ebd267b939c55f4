"""The counting model: billable state transitions and history events.

It walks an emitted definition (not the flow graph), so what it counts is
exactly what would run. The model, per state kind (successful run, no
retries; docs/state-machine.md §8 is the authoritative table):

==========================  ============================================  ====
state                       history events in the execution that runs it  tr.
==========================  ============================================  ====
Task ``batch:submitJob.sync``  Entered, Scheduled, Started, Submitted,     1
                            Succeeded, Exited = 6
Task ``dynamodb:getItem``   Entered, Scheduled, Started, Succeeded,        1
                            Exited = 5
Choice / Succeed / Pass     Entered, Exited = 2                            1
Parallel                    Entered, Started, Succeeded, Exited = 4        1
                            + the branches' events
Map, inline                 Entered, Started, Succeeded, Exited = 4        1
                            + per item: IterationStarted,
                            IterationSucceeded = 2 + the body's events
Map, distributed (parent)   Entered, Started, MapRunStarted,               1
                            MapRunSucceeded, Succeeded, Exited = 6
child execution             ExecutionStarted + body + ExecutionSucceeded   body
execution                   ExecutionStarted + states + ExecutionSucceeded
==========================  ============================================  ====

A ``Choice`` on a switch takes the most expensive case (an upper bound),
unless a case is named; a loop through a switch runs once unless ``rounds``
says how many times the switch step runs (each extra round adds the states
from the loop's target back to the switch's Choice).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from sfncompile_runtime import envnames

from .states import BATCH_SUBMIT_SYNC

PRICE_PER_TRANSITION = 0.025 / 1000  # USD, standard workflows
HISTORY_LIMIT = 25_000
DEFINITION_LIMIT = 1_048_576
DEFAULT_WIDTH = 10

EVENTS_BATCH_TASK = 6
EVENTS_REQUEST_TASK = 5
EVENTS_SIMPLE = 2
EVENTS_PARALLEL = 4
EVENTS_MAP_INLINE = 4
EVENTS_MAP_ITERATION = 2
EVENTS_MAP_DISTRIBUTED = 6
EVENTS_EXECUTION = 2


@dataclass
class Tally:
    transitions: int = 0  # billable, this execution and all its children
    events: int = 0  # history events of this execution only
    child_executions: int = 0  # distributed-map children, at any depth
    child_events_max: int = 0  # the largest child history
    child_transitions: int = 0  # transitions that happen inside children

    def add(self, other: "Tally", times: int = 1) -> None:
        self.transitions += other.transitions * times
        self.events += other.events * times
        self.child_executions += other.child_executions * times
        self.child_transitions += other.child_transitions * times
        if times:
            self.child_events_max = max(self.child_events_max, other.child_events_max)

    def copy(self) -> "Tally":
        return Tally(**vars(self))


@dataclass
class CostContext:
    widths: Mapping[str, int] = field(default_factory=dict)
    branches: Mapping[str, str] = field(default_factory=dict)  # switch step -> case taken
    foreach_modes: Mapping[str, str] = field(default_factory=dict)  # step -> "auto:n" etc. (from the tasks)
    rounds: Mapping[str, int] = field(default_factory=dict)  # switch step -> times it runs (loops)
    default_width: int = DEFAULT_WIDTH
    assumed: dict[str, int] = field(default_factory=dict)  # widths that were defaulted

    def width(self, step: str) -> int:
        if step in self.widths:
            return int(self.widths[step])
        self.assumed[step] = self.default_width
        return self.default_width


def step_of(state_name: str) -> str:
    """Our state names are ``<step>`` or ``<step>.<role>`` (+ ``@d`` copies)."""
    return re.split(r"[.@]", state_name, maxsplit=1)[0]


def foreach_modes(definition: Mapping[str, Any]) -> dict[str, str]:
    """step -> the SFNCOMPILE_FOREACH value its task sends (auto:n / inline:n / distributed)."""
    found: dict[str, str] = {}
    for _, state in iter_states(definition):
        if state.get("Resource") == BATCH_SUBMIT_SYNC:
            for entry in state["Parameters"]["ContainerOverrides"]["Environment"]:
                if entry["Name"] == envnames.FOREACH:
                    found[state["Parameters"]["Parameters"]["step"]] = entry["Value"]
    return found


def iter_states(branch: Mapping[str, Any]):
    for name, state in branch["States"].items():
        yield name, state
        for sub in state.get("Branches", []):
            yield from iter_states(sub)
        if processor_of(state):
            yield from iter_states(processor_of(state))


def processor_of(state: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A Map's sub-workflow (``Iterator`` is the older name, still accepted by AWS)."""
    return state.get("ItemProcessor") or state.get("Iterator")


def inline_limit(mode: str | None) -> int:
    if not mode or mode == "distributed":
        return 0
    return int(mode.split(":", 1)[1])


def state_tally(name: str, state: Mapping[str, Any], ctx: CostContext) -> Tally:
    kind = state["Type"]
    if kind == "Task":
        events = EVENTS_BATCH_TASK if state["Resource"] == BATCH_SUBMIT_SYNC else EVENTS_REQUEST_TASK
        return Tally(transitions=1, events=events)
    if kind in ("Choice", "Succeed", "Pass", "Fail", "Wait"):
        return Tally(transitions=1, events=EVENTS_SIMPLE)
    if kind == "Parallel":
        total = Tally(transitions=1, events=EVENTS_PARALLEL)
        for sub in state["Branches"]:
            total.add(branch_tally(sub, ctx))
        return total
    if kind == "Map":
        width = ctx.width(step_of(name))
        processor = processor_of(state)
        body = branch_tally(processor, ctx)
        if processor.get("ProcessorConfig", {}).get("Mode", "INLINE") == "DISTRIBUTED":
            total = Tally(transitions=1, events=EVENTS_MAP_DISTRIBUTED)
            if width:
                child_events = EVENTS_EXECUTION + body.events
                total.transitions += body.transitions * width
                total.child_transitions += body.transitions * width
                total.child_executions += width * (1 + body.child_executions)
                total.child_events_max = max(child_events, body.child_events_max)
            return total
        total = Tally(transitions=1, events=EVENTS_MAP_INLINE)
        iteration = body.copy()
        iteration.events += EVENTS_MAP_ITERATION
        total.add(iteration, width)
        return total
    raise ValueError(f"no cost model for state type {kind}")


def choose(name: str, state: Mapping[str, Any], ctx: CostContext) -> list[str]:
    """The Choice targets to consider: one for a foreach choice or a named case, all otherwise."""
    step = step_of(name)
    rules = state["Choices"]
    if rules and "IsPresent" in rules[0]:  # foreach: inline when the width fits
        width = ctx.width(step)
        inline = width <= inline_limit(ctx.foreach_modes.get(step))
        return [rules[0]["Next"] if inline else state["Default"]]
    if step in ctx.branches:
        for rule in rules:
            if rule.get("StringEquals") == ctx.branches[step]:
                return [rule["Next"]]
        return [state["Default"]]
    return [rule["Next"] for rule in rules]


def walk(states: Mapping[str, Any], name: str, ctx: CostContext, seen: frozenset[str],
         until: str | None = None) -> Tally:
    total = Tally()
    while name is not None and name not in seen:
        seen = seen | {name}
        state = states[name]
        total.add(state_tally(name, state, ctx))
        if name == until:
            return total
        if state["Type"] == "Choice":
            total.add(loop_rounds(states, name, state, ctx, seen))
            options = [walk(states, target, ctx, seen, until) for target in choose(name, state, ctx)
                       if target not in seen]
            if options:
                total.add(max(options, key=lambda t: (t.transitions, t.events)))
            return total
        name = None if state.get("End") or state["Type"] in ("Succeed", "Fail") else state["Next"]
    return total


def loop_rounds(states, name: str, state: Mapping[str, Any], ctx: CostContext, seen: frozenset[str]) -> Tally:
    """Extra rounds of a switch loop: with ``rounds[step] = N`` the states from the
    loop's target back to this Choice run N - 1 more times."""
    times = int(ctx.rounds.get(step_of(name), 1)) - 1
    extra = Tally()
    if times <= 0:
        return extra
    for rule in state["Choices"]:
        if rule["Next"] in seen:  # a back edge
            extra.add(walk(states, rule["Next"], ctx, frozenset(), until=name), times)
            break
    return extra


def branch_tally(branch: Mapping[str, Any], ctx: CostContext) -> Tally:
    return walk(branch["States"], branch["StartAt"], ctx, frozenset())


@dataclass
class CostReport:
    states: int
    definition_bytes: int
    transitions: int
    parent_events: int
    child_executions: int
    child_events_max: int
    child_transitions: int
    dollars: float
    widths: dict[str, int]
    assumed_widths: dict[str, int]
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def estimate(definition: Mapping[str, Any], widths: Mapping[str, int] | None = None,
             branches: Mapping[str, str] | None = None, default_width: int = DEFAULT_WIDTH,
             definition_bytes: int | None = None, rounds: Mapping[str, int] | None = None) -> CostReport:
    """``rounds``: switch step -> how many times it runs (a loop through it)."""
    from .render import render

    ctx = CostContext(widths=dict(widths or {}), branches=dict(branches or {}),
                      foreach_modes=foreach_modes(definition), default_width=default_width,
                      rounds=dict(rounds or {}))
    tally = branch_tally(definition, ctx)
    parent_events = tally.events + EVENTS_EXECUTION
    size = definition_bytes if definition_bytes is not None else len(render(definition, pretty=False).encode())
    warnings = []
    if size > DEFINITION_LIMIT:
        warnings.append(f"definition is {size:,} bytes, over the 1 MB ({DEFINITION_LIMIT:,}) limit")
    if parent_events > HISTORY_LIMIT:
        warnings.append(f"the execution would record {parent_events:,} history events, over the "
                        f"{HISTORY_LIMIT:,} limit: use --foreach-mode distributed for the widest foreach")
    if tally.child_events_max > HISTORY_LIMIT:
        warnings.append(f"a child execution would record {tally.child_events_max:,} history events, over the "
                        f"{HISTORY_LIMIT:,} limit")
    return CostReport(
        states=sum(1 for _ in iter_states(definition)), definition_bytes=size,
        transitions=tally.transitions, parent_events=parent_events,
        child_executions=tally.child_executions, child_events_max=tally.child_events_max,
        child_transitions=tally.child_transitions,
        dollars=tally.transitions * PRICE_PER_TRANSITION,
        widths={k: ctx.width(k) for k in sorted(set(ctx.widths) | set(ctx.assumed))},
        assumed_widths=dict(sorted(ctx.assumed.items())), warnings=warnings)
