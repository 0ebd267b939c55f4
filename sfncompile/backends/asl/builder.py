"""Orchestration: walk the flow graph and decide which states exist.

The renderers in ``states.py`` turn each decision into JSON. A *scope* is a
state list with its own ``StartAt`` — the whole machine, one Parallel branch,
or one Map item processor — and it runs from an entry step until the step
that closes it (the split's or foreach's matching join), which belongs to
the enclosing scope.

Naming: a step's Task state is named after the step; the states it adds are
``<step>.<role>`` (``read``, ``choice``, ``map``, ``dmap``, ``split``,
``fallback``, ``exit``, ``unknown``). Step names are Python identifiers, so
these never clash with a step. A foreach compiled in ``auto`` mode holds its
body twice (inline and distributed); the distributed copy's state names end
in ``@d<depth>`` (the foreach's nesting depth) to stay unique at any depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sfncompile_runtime import envnames
from sfncompile_runtime.decorator_specs import with_defaults
from sfncompile_runtime.sidechannel import INLINE_ITEMS_MAX  # the widest foreach whose indices the runtime lists

from ...diagnostics import UserError
from ...ir import END, FOREACH, SPLIT, SWITCH, FlowGraph, StepNode
from ..jobdefs import batch_timeout, job_definition_keys, job_queue, step_environment, timeout_seconds
from . import cost, exit_hook
from .options import CompileOptions
from .states import (
    INFRA_RETRIER, Branch, batch_job_name, ChoiceState, FailState, MapState, ParallelState, SideChannelRead, SucceedState,
    TaskState, emit_choice_state, emit_fail_state, emit_map_state, emit_parallel_state,
    emit_side_channel_read, emit_succeed_state, emit_task_state, is_present, string_equals, user_retrier,
)

# History budget of one execution spent on inline Maps; the rest (5,000)
# covers the other states, retries and a switch loop or two.
INLINE_EVENT_BUDGET = 20_000
DISTRIBUTED_SUFFIX = "@d"
# What a Parallel branch or Map iteration hands back (the parent drops it, but
# it must stay small: the result array counts against the 256 KB limit). A
# Parallel passes its whole input to its branches (cfn-lint's ASL schema
# refuses Parameters on Parallel), so the key must exist in every input: inside
# a foreach the iteration's `path`; at top level the execution's `parameters`
# (always present; `run`/`trigger` bound their size times the widest split).
END_OUTPUT_IN_FOREACH = "$.path"
END_OUTPUT_TOP_LEVEL = "$.parameters"

# What a foreach's side-channel read keeps (ResultPath $.foreach), per mode:
# only what that mode's Map reads, so the default payload stays O(1); `auto`
# keeps the whole item because which fields exist decides the branch.
FOREACH_SELECTORS = {
    "distributed": {"manifest_bucket.$": "$.Item.manifest_bucket.S", "manifest_key.$": "$.Item.manifest_key.S"},
    "inline": {"items.$": "$.Item.items.L"},
    "auto": {"item.$": "$.Item"},
}
FOREACH_PATHS = {
    "distributed": {"bucket": "$.foreach.manifest_bucket", "key": "$.foreach.manifest_key"},
    "inline": {"items": "$.foreach.items"},
    "auto": {"items": "$.foreach.item.items.L", "bucket": "$.foreach.item.manifest_bucket.S",
             "key": "$.foreach.item.manifest_key.S"},
}


def shape(step: StepNode) -> str:
    """How control leaves the step: linear, split, foreach, switch or end."""
    t = step.transition
    if step.kind in (FOREACH, SWITCH) or (t is not None and (t.foreach or t.switch_cases)):
        return FOREACH if (t is not None and t.foreach) or step.kind == FOREACH else SWITCH
    if step.kind == SPLIT or len(step.out_funcs) > 1:
        return SPLIT
    if not step.out_funcs:
        return END
    return "linear"


@dataclass(frozen=True)
class Scope:
    stop: str | None  # the step that closes this scope (not emitted in it)
    suffix: str  # appended to every state name ("" or "@d"...)
    nested: bool  # inside a Parallel branch or a Map iteration
    parents: tuple[str, ...] = ()  # enclosing split/foreach steps: a member's split_parents


class Builder:
    def __init__(self, graph: FlowGraph, options: CompileOptions):
        self.graph = graph
        self.options = options
        self.job_keys = job_definition_keys(graph)
        self.inline_limits: dict[str, int] = {}
        self.foreach_groups = self._foreach_groups()
        self.joins = {s.matching_join: s.name for s in graph if s.matching_join}

    def scope_parents(self, step: str) -> tuple[str, ...]:
        """The splits/foreaches whose branch holds ``step``. A join closes its
        split and so sits outside it (the IR, like Metaflow, lists the split
        it closes in the join's ``split_parents``)."""
        parents = tuple(self.graph[step].split_parents)
        closes = self.joins.get(step)
        if parents and closes is not None and parents[-1] == closes:
            parents = parents[:-1]
        return parents

    # -- names and expressions -------------------------------------------
    def state_name(self, step: str, scope: Scope, role: str | None = None) -> str:
        return step + ("." + role if role else "") + scope.suffix

    def in_foreach(self, step: StepNode) -> bool:
        return bool(step.foreach_stack)

    def run_id_path(self, step: StepNode) -> str:
        # Outside any Map the execution is the run; inside one it may be a
        # Distributed Map child, whose own name is not the run id.
        return "$.run_id" if self.in_foreach(step) else "$$.Execution.Name"

    def key_expression(self, step: StepNode) -> str:
        flow = self.graph.name
        if self.in_foreach(step):
            return f"States.Format('{flow}/{{}}/{step.name}/{{}}', $.run_id, $.path)"
        return f"States.Format('{flow}/{{}}/{step.name}/0', $$.Execution.Name)"

    def environment(self, step: StepNode, extra: list[dict[str, str]]) -> list[dict[str, str]]:
        env = [{"Name": envnames.RUN_ID, "Value.$": self.run_id_path(step)}]
        if self.in_foreach(step):
            env.append({"Name": envnames.INDEX_PATH, "Value.$": "$.path"})
        else:
            env.append({"Name": envnames.INDEX_PATH, "Value": ""})
        env.append({"Name": envnames.RETRY_COUNT, "Value.$": "States.Format('{}', $$.State.RetryCount)"})
        if step.name == self.graph.start:
            env.append({"Name": envnames.PARAMETERS, "Value.$": "States.JsonToString($.parameters)"})
        env.extend(extra)
        env.extend({"Name": name, "Value": value} for name, value in step_environment(step).items())
        return env

    # -- scopes ----------------------------------------------------------
    def build(self) -> dict[str, Any]:
        if not self.graph.start or self.graph.start not in self.graph.steps:
            raise UserError(f"flow {self.graph.name} has no start step")
        top = self.scope(self.graph.start, Scope(stop=None, suffix="", nested=False))
        definition: dict[str, Any] = {"Comment": f"{self.graph.name}: compiled by sfncompile"}
        machine = top.render()
        if exit_hook.has_exit_hook(self.graph):
            machine = exit_hook.wrap(self.graph, machine)  # only flows with @exit_hook pay for the wrapper
        definition.update(machine)
        return definition

    def scope(self, entry: str, scope: Scope) -> Branch:
        states: dict[str, dict[str, Any]] = {}
        queue = [entry]
        queued = {entry}

        def goto(target: str) -> str | None:
            """The state a transition to ``target`` lands on; None = end of scope."""
            if target == scope.stop:
                return None
            if target not in self.graph.steps:
                raise UserError(f"step {target!r} is referenced but not defined")
            if self.scope_parents(target) != scope.parents:
                raise UserError(
                    f"a transition to {target!r} crosses the boundary of a split or foreach "
                    f"({' > '.join(scope.parents) or 'top level'}); a switch may only loop or branch within "
                    "the same branch of a split or foreach")
            if target not in queued:
                queued.add(target)
                queue.append(target)
            return self.state_name(target, scope)

        while queue:
            self.emit_step(self.graph[queue.pop(0)], scope, states, goto)
        start = self.state_name(entry, scope)
        self._check_targets(states, scope)
        return Branch(start_at=start, states=states)

    def _check_targets(self, states: dict[str, dict[str, Any]], scope: Scope) -> None:
        for name, state in states.items():
            targets = [state.get("Next"), state.get("Default")]
            targets += [r.get("Next") for r in state.get("Choices", [])]
            targets += [c.get("Next") for c in state.get("Catch", [])]
            for target in targets:
                if target is not None and target not in states:
                    raise UserError(
                        f"step {name.split('.')[0].split('@')[0]!r} goes to {target.split('@')[0]!r}, which is "
                        "outside its split or foreach; a switch may only loop or branch within the same "
                        "branch of a split or foreach")

    # -- one step ----------------------------------------------------------
    def emit_step(self, step: StepNode, scope: Scope, states: dict, goto) -> None:
        kind = shape(step)
        end_output = self.end_output(step, scope)
        name = self.state_name(step.name, scope)
        if kind == END:
            self.add_task(step, scope, states, next_state=None, end_output=end_output)
        elif kind == "linear":
            target = goto(step.out_funcs[0])
            self.add_task(step, scope, states, next_state=target, end_output=end_output)
        elif kind == SPLIT:
            self.emit_split(step, scope, states, goto, end_output)
        elif kind == FOREACH:
            self.emit_foreach(step, scope, states, goto, end_output)
        elif kind == SWITCH:
            self.emit_switch(step, scope, states, goto)
        else:  # pragma: no cover - shape() returns one of the above
            raise AssertionError(kind)
        assert name in states

    def add_task(self, step: StepNode, scope: Scope, states: dict, next_state: str | None,
                 end_output: str | None, extra_env: list[dict[str, str]] | None = None) -> None:
        name = self.state_name(step.name, scope)
        timeout = timeout_seconds(step)
        retriers = [INFRA_RETRIER]
        retry = step.decorator("retry")
        if retry is not None:
            args = with_defaults("retry", retry.args)
            times = int(args["times"])
            minutes = float(args["minutes_between_retries"])
            if times > 0:
                retriers.append(user_retrier(times, minutes))
        catch = step.decorator("catch")
        fallback = self.state_name(step.name, scope, "fallback") if catch is not None else None
        common = dict(
            step=step.name, job_name=batch_job_name(self.graph.name, step.name), job_queue=job_queue(step),
            job_definition="JobDefinition" + self.job_keys[step.name],
            timeout_seconds=batch_timeout(timeout) if timeout else None,
            task_timeout_seconds=(batch_timeout(timeout) + self.options.timeout_slack_seconds) if timeout else None,
            next_state=next_state, end_output=end_output)
        states[name] = emit_task_state(TaskState(
            environment=self.environment(step, list(extra_env or [])), retriers=retriers,
            catch_next=fallback, **common))
        if fallback:
            # Runs the runtime in fallback mode: it records the failure for
            # this task (so the next step sees self.<var>) even when the
            # container died without running the runtime's own handler.
            env = list(extra_env or []) + [{"Name": envnames.CAUGHT_ERROR, "Value.$": "$.caught.Error"}]
            states[fallback] = emit_task_state(TaskState(
                environment=self.environment(step, env), retriers=[INFRA_RETRIER], mode="fallback", **common))

    def end_output(self, step: StepNode, scope: Scope) -> str | None:
        if not scope.nested:
            return None
        return END_OUTPUT_IN_FOREACH if self.in_foreach(step) else END_OUTPUT_TOP_LEVEL

    def emit_split(self, step: StepNode, scope: Scope, states: dict, goto, end_output) -> None:
        join = step.matching_join
        if not join:
            raise UserError(f"split step {step.name!r} has no matching join")
        par_name = self.state_name(step.name, scope, "split")
        self.add_task(step, scope, states, next_state=par_name, end_output=None)
        inner = Scope(stop=join, suffix=scope.suffix, nested=True, parents=scope.parents + (step.name,))
        branches = [self.scope(target, inner) for target in step.out_funcs]
        states[par_name] = emit_parallel_state(ParallelState(
            branches=branches, next_state=goto(join),
            end_output=end_output))

    def emit_foreach(self, step: StepNode, scope: Scope, states: dict, goto, end_output) -> None:
        join = step.matching_join
        if not join:
            raise UserError(f"foreach step {step.name!r} has no matching join")
        body_step = step.out_funcs[0]
        parents = scope.parents + (step.name,)
        inline_body = self.scope(body_step, Scope(stop=join, suffix=scope.suffix, nested=True, parents=parents))
        limit = self.inline_limit(step, inline_body)
        mode = self.options.mode_for(step.name)
        if mode == "auto" and limit == 0:
            mode = "distributed"  # one item's events alone exceed the inline budget
        # Forced inline: the user accepted the history risk (limits.py warns);
        # the runtime still refuses more items than an inline Map can list.
        foreach_env = {"inline": f"inline:{INLINE_ITEMS_MAX}", "auto": f"auto:{limit}",
                       "distributed": "distributed"}[mode]
        read = self.state_name(step.name, scope, "read")
        choice = self.state_name(step.name, scope, "choice")
        inline_map = self.state_name(step.name, scope, "map")
        dist_map = self.state_name(step.name, scope, "dmap")
        after = {"inline": inline_map, "auto": choice, "distributed": dist_map}[mode]
        self.add_task(step, scope, states, next_state=read, end_output=None,
                      extra_env=[{"Name": envnames.FOREACH, "Value": foreach_env}])
        states[read] = emit_side_channel_read(SideChannelRead(
            key_expression=self.key_expression(step), result_key="foreach",
            selector=FOREACH_SELECTORS[mode], next_state=after))
        next_state = goto(join)
        if mode == "auto":
            states[choice] = emit_choice_state(ChoiceState(
                rules=[is_present("$.foreach.item.items", inline_map)], default=dist_map))
        common = dict(next_state=next_state, end_output=end_output, max_concurrency=self.options.max_workers)
        if mode in ("inline", "auto"):
            states[inline_map] = emit_map_state(MapState(
                body=inline_body, distributed=False, items_path=FOREACH_PATHS[mode]["items"],
                item_selector=self.item_selector(step, "$$.Map.Item.Value.N"), **common))
        if mode in ("distributed", "auto"):
            dist_suffix = scope.suffix + f"{DISTRIBUTED_SUFFIX}{len(step.foreach_stack)}" if mode == "auto" else scope.suffix
            body = (self.scope(body_step, Scope(stop=join, suffix=dist_suffix, nested=True, parents=parents))
                    if mode == "auto" else inline_body)
            states[dist_map] = emit_map_state(MapState(
                body=body, distributed=True, manifest_bucket_path=FOREACH_PATHS[mode]["bucket"],
                manifest_key_path=FOREACH_PATHS[mode]["key"],
                result_prefix=f"sfncompile-map-results/{self.graph.name}",
                item_selector=self.item_selector(step, "$$.Map.Item.Value"), **common))

    def item_selector(self, step: StepNode, index: str) -> dict[str, str]:
        if self.in_foreach(step):
            return {"run_id.$": "$.run_id", "path.$": f"States.Format('{{}}.{{}}', $.path, {index})"}
        return {"run_id.$": "$$.Execution.Name", "path.$": f"States.Format('{{}}', {index})"}

    def inline_limit(self, step: StepNode, body: Branch) -> int:
        """The widest inline Map that keeps this execution's history in budget.

        One iteration's events are counted with every nested auto/inline
        foreach at its own inline limit (its worst inline case); the budget
        is shared by the foreach steps of the same execution scope.
        """
        widths = dict(self.inline_limits)
        ctx = cost.CostContext(widths=widths, foreach_modes=cost.foreach_modes(body.render()), default_width=0)
        per_item = cost.branch_tally(body.render(), ctx).events + cost.EVENTS_MAP_ITERATION
        share = INLINE_EVENT_BUDGET // max(1, self.foreach_groups.get(tuple(step.foreach_stack), 1))
        limit = min(INLINE_ITEMS_MAX, share // per_item)
        self.inline_limits[step.name] = limit
        return limit

    def _foreach_groups(self) -> dict[tuple[str, ...], int]:
        groups: dict[tuple[str, ...], int] = {}
        for s in self.graph:
            if shape(s) == FOREACH:
                key = tuple(s.foreach_stack)
                groups[key] = groups.get(key, 0) + 1
        return groups

    def emit_switch(self, step: StepNode, scope: Scope, states: dict, goto) -> None:
        cases = (step.transition.switch_cases if step.transition else None) or {}
        if not cases:
            raise UserError(f"switch step {step.name!r} has no cases")
        read = self.state_name(step.name, scope, "read")
        choice = self.state_name(step.name, scope, "choice")
        unknown = self.state_name(step.name, scope, "unknown")
        self.add_task(step, scope, states, next_state=read, end_output=None)
        states[read] = emit_side_channel_read(SideChannelRead(
            key_expression=self.key_expression(step), result_key="branch",
            selector={"value.$": "$.Item.branch.S"}, next_state=choice))
        rules = []
        exit_state = None
        for value, target in cases.items():
            landing = goto(target)
            if landing is None:  # the case leaves the scope (goes to the join)
                exit_state = self.state_name(step.name, scope, "exit")
                landing = exit_state
            rules.append(string_equals("$.branch.value", str(value), landing))
        states[choice] = emit_choice_state(ChoiceState(rules=rules, default=unknown))
        states[unknown] = emit_fail_state(FailState(
            error="sfncompile.UnknownBranch",
            cause=f"switch step {step.name} published a value that is none of: "
                  + ", ".join(sorted(str(v) for v in cases))))
        if exit_state:
            states[exit_state] = emit_succeed_state(SucceedState(output_path=self.end_output(step, scope)))


