"""Structure of every emitted definition, and what each shape becomes."""

from __future__ import annotations

import json

import pytest

from sfncompile.backends.asl import CompileOptions, compile_definition, render, substitutions_needed
from sfncompile.backends.asl.states import BATCH_SUBMIT_SYNC, DYNAMODB_GET_ITEM
from sfncompile.ir import FlowGraph

from .conftest import case_names
from .shapes import SHAPES
from .walk import all_states, reachable, scopes, targets

ALLOWED_KEYS = {"parameters", "run_id", "path", "foreach", "branch", "caught"}


@pytest.mark.parametrize("name", case_names())
def test_structure(compiled, name):
    _, definition = compiled[name]
    names = [n for n, _ in all_states(definition)]
    assert len(names) == len(set(names)), "state names must be unique across the machine"
    for path, branch in scopes(definition):
        states = branch["States"]
        assert branch["StartAt"] in states
        for state_name, state in states.items():
            for target in targets(state):
                assert target in states, f"{path}/{state_name} -> {target} outside its scope"
            terminal = state.get("End") or state["Type"] in ("Succeed", "Fail")
            assert bool(terminal) != ("Next" in state or state["Type"] == "Choice"), state_name
        assert reachable(branch) == set(states), f"unreachable in {path}: {set(states) - reachable(branch)}"
        ends = [n for n, s in states.items() if s.get("End") or s["Type"] == "Succeed"]
        assert ends, f"{path} has no terminal state"


def _propagate(branch, initial):
    """Keys each state's input can hold (fixpoint over Next/Catch edges)."""
    seen = {branch["StartAt"]: set(initial)}
    todo = [branch["StartAt"]]
    while todo:
        name = todo.pop()
        state = branch["States"][name]
        keys = set(seen[name])
        out = set(keys)
        result_path = state.get("ResultPath", "$" if state["Type"] == "Task" else None)
        if state["Type"] in ("Task", "Map", "Parallel"):
            assert result_path is None or result_path in ("$.foreach", "$.branch"), (name, result_path)
            if result_path:
                out.add(result_path[2:])
        edges = [(t, out) for t in ([state.get("Next"), state.get("Default")]
                                    + [r["Next"] for r in state.get("Choices", [])]) if t]
        edges += [(c["Next"], keys | {"caught"}) for c in state.get("Catch", [])]
        for target, target_keys in edges:
            before = seen.get(target)
            merged = (before or set()) | target_keys
            if before != merged:
                seen[target] = merged
                todo.append(target)
    return seen


@pytest.mark.parametrize("name", case_names())
def test_payload_bound(compiled, name):
    """Every state's input holds only a fixed small set of keys; a branch hands back one
    small value its input always has: the index path inside a foreach, else the parameters."""
    _, definition = compiled[name]

    def check(branch, initial, nested, in_foreach):
        keys = _propagate(branch, initial)
        for state_name, state_keys in keys.items():
            assert state_keys <= ALLOWED_KEYS, (state_name, state_keys)
        for state_name, state in branch["States"].items():
            if nested and (state.get("End") or state["Type"] == "Succeed"):
                assert state.get("OutputPath") == ("$.path" if in_foreach else "$.parameters"), state_name
            if state["Type"] == "Parallel":
                assert "Parameters" not in state  # cfn-lint's schema refuses it; branches get the input as is
                assert state["ResultPath"] is None
                for sub in state["Branches"]:
                    check(sub, keys[state_name], True, in_foreach)
            if state["Type"] == "Map":
                assert set(state["ItemSelector"]) == {"run_id.$", "path.$"}
                assert state["ResultPath"] is None
                check(state["ItemProcessor"], {"run_id", "path"}, True, True)
            if state.get("Resource") == BATCH_SUBMIT_SYNC:
                assert state["ResultPath"] is None

    if definition["StartAt"] == "exit_hook.run":  # @exit_hook: the flow's machine is the wrapper's one branch
        wrapper = definition["States"]["exit_hook.run"]
        assert "Parameters" not in wrapper and wrapper["ResultPath"] is None
        (definition,) = wrapper["Branches"]
    check(definition, {"parameters"}, False, False)


@pytest.mark.parametrize("name", case_names())
def test_deterministic(compiled, name):
    graph, definition = compiled[name]
    again = FlowGraph.from_json(graph.to_json())
    from .conftest import VARIANTS

    options = VARIANTS[name][1] if name in VARIANTS else None
    assert render(compile_definition(again, options)) == render(definition)


def test_linear_tasks_and_parameters():
    definition = compile_definition(SHAPES["linear"]())
    states = definition["States"]
    assert definition["StartAt"] == "start"
    assert [states[s]["Next"] for s in ("start", "a", "b")] == ["a", "b", "end"]
    assert states["end"]["End"] is True
    task = states["start"]["Parameters"]
    assert task["JobQueue"] == "${JobQueue}" and task["JobDefinition"] == "${JobDefinitionDefault}"
    assert task["Parameters"] == {"step": "start"}
    env = {e["Name"]: e for e in task["ContainerOverrides"]["Environment"]}
    assert env["SFNCOMPILE_RUN_ID"]["Value.$"] == "$$.Execution.Name"
    assert env["SFNCOMPILE_INDEX_PATH"]["Value"] == ""
    assert env["SFNCOMPILE_RETRY_COUNT"]["Value.$"] == "States.Format('{}', $$.State.RetryCount)"
    assert env["SFNCOMPILE_PARAMETERS"]["Value.$"] == "States.JsonToString($.parameters)"
    assert "SFNCOMPILE_PARAMETERS" not in json.dumps(states["a"])
    assert substitutions_needed(definition) == {"JobQueue", "JobDefinitionDefault"}


def test_split_becomes_parallel():
    states = compile_definition(SHAPES["split"]())["States"]
    assert states["start"]["Next"] == "start.split"
    par = states["start.split"]
    assert par["Type"] == "Parallel" and par["Next"] == "join" and "Parameters" not in par
    assert [b["StartAt"] for b in par["Branches"]] == ["a", "b"]
    for branch in par["Branches"]:
        (only,) = branch["States"].values()
        assert only["End"] is True and only["OutputPath"] == "$.parameters"


def test_foreach_auto_has_both_maps():
    states = compile_definition(SHAPES["foreach"](), CompileOptions(foreach_mode="auto"))["States"]
    assert states["start"]["Next"] == "start.read"
    read = states["start.read"]
    assert read["Resource"] == DYNAMODB_GET_ITEM
    assert read["Parameters"]["Key"]["pk"]["S.$"] == "States.Format('ForeachFlow/{}/start/0', $$.Execution.Name)"
    assert read["Parameters"]["TableName"] == "${SideChannelTable}" and read["Parameters"]["ConsistentRead"] is True
    choice = states["start.choice"]
    assert choice["Choices"] == [{"Variable": "$.foreach.item.items", "IsPresent": True, "Next": "start.map"}]
    assert choice["Default"] == "start.dmap"
    inline, dist = states["start.map"], states["start.dmap"]
    assert inline["ItemsPath"] == "$.foreach.item.items.L"
    assert inline["ItemProcessor"]["ProcessorConfig"] == {"Mode": "INLINE"}
    assert inline["ItemSelector"]["path.$"] == "States.Format('{}', $$.Map.Item.Value.N)"
    assert dist["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert dist["ItemReader"]["Parameters"] == {"Bucket.$": "$.foreach.item.manifest_bucket.S",
                                                "Key.$": "$.foreach.item.manifest_key.S"}
    assert dist["ResultWriter"]["Parameters"]["Bucket"] == "${MapResultBucket}"
    assert dist["ItemProcessor"]["StartAt"] == "body@d0"
    env = {e["Name"]: e.get("Value") for e in states["start"]["Parameters"]["ContainerOverrides"]["Environment"]}
    assert env["SFNCOMPILE_FOREACH"] == "auto:1000"
    body_env = {e["Name"]: e.get("Value.$") for e in
                inline["ItemProcessor"]["States"]["body"]["Parameters"]["ContainerOverrides"]["Environment"]}
    assert body_env["SFNCOMPILE_RUN_ID"] == "$.run_id" and body_env["SFNCOMPILE_INDEX_PATH"] == "$.path"


@pytest.mark.parametrize("mode,maps,env", [("inline", ["start.map"], "inline:1000"),
                                            ("distributed", ["start.dmap"], "distributed")])
def test_foreach_forced_modes_skip_the_choice(mode, maps, env):
    states = compile_definition(SHAPES["foreach"](), CompileOptions(foreach_mode=mode, max_workers=7))["States"]
    assert "start.choice" not in states
    assert states["start.read"]["Next"] == maps[0]
    assert [n for n, s in states.items() if s["Type"] == "Map"] == maps
    assert states[maps[0]]["MaxConcurrency"] == 7
    values = [e.get("Value") for e in states["start"]["Parameters"]["ContainerOverrides"]["Environment"]]
    assert env in values


def test_nested_foreach_paths_and_limits():
    definition = compile_definition(SHAPES["nested_foreach"](), CompileOptions(foreach_mode="inline"))
    outer = definition["States"]["start.map"]["ItemProcessor"]["States"]
    inner_map = outer["outer.map"]
    assert inner_map["ItemSelector"] == {"run_id.$": "$.run_id",
                                         "path.$": "States.Format('{}.{}', $.path, $$.Map.Item.Value.N)"}
    assert outer["outer.read"]["Parameters"]["Key"]["pk"]["S.$"] == \
        "States.Format('NestedForeachFlow/{}/outer/{}', $.run_id, $.path)"
    # auto: the inner body's cost makes the outer inline limit small but non-zero
    auto = compile_definition(SHAPES["nested_foreach"](), CompileOptions(foreach_mode="auto"))
    env = {e["Name"]: e.get("Value") for e in auto["States"]["start"]["Parameters"]["ContainerOverrides"]["Environment"]}
    limit = int(env["SFNCOMPILE_FOREACH"].split(":")[1])
    assert 0 < limit < 1000
    names = [n for n, _ in __import__("tests.backends.asl.walk", fromlist=["x"]).all_states(auto)]
    assert {"inner", "inner@d1", "inner@d0", "inner@d0@d1"} <= set(names)


def test_switch_and_loop():
    states = compile_definition(SHAPES["switch"]())["States"]
    read = states["start.read"]
    assert read["ResultSelector"] == {"value.$": "$.Item.branch.S"} and read["ResultPath"] == "$.branch"
    assert states["start.choice"]["Choices"] == [
        {"Variable": "$.branch.value", "StringEquals": "a", "Next": "path_a"},
        {"Variable": "$.branch.value", "StringEquals": "b", "Next": "path_b"}]
    assert states["start.unknown"]["Type"] == "Fail"
    loop = compile_definition(SHAPES["switch_loop"]())["States"]
    rules = {r["StringEquals"]: r["Next"] for r in loop["check.choice"]["Choices"]}
    assert rules == {"again": "train", "done": "end"}


def test_default_is_distributed_without_a_choice():
    states = compile_definition(SHAPES["foreach"]())["States"]
    assert states["start.read"]["Next"] == "start.dmap" and "start.choice" not in states
    assert states["start.dmap"]["ItemProcessor"]["StartAt"] == "body"
    env = {e["Name"]: e.get("Value") for e in states["start"]["Parameters"]["ContainerOverrides"]["Environment"]}
    assert env["SFNCOMPILE_FOREACH"] == "distributed"


def test_switch_case_leaving_a_foreach_body():
    states = compile_definition(SHAPES["foreach_switch_exit"]())["States"]
    body = states["start.dmap"]["ItemProcessor"]["States"]
    rules = {r["StringEquals"]: r["Next"] for r in body["decide.choice"]["Choices"]}
    assert rules == {"skip": "decide.exit", "work": "work"}
    assert body["decide.exit"] == {"Type": "Succeed", "OutputPath": "$.path"}


def test_decorators():
    states = compile_definition(SHAPES["decorated"]())["States"]
    train = states["train"]
    assert train["Parameters"]["JobDefinition"] == "${JobDefinitionC4M16384G1T7200}"
    assert train["Parameters"]["JobQueue"] == "${JobQueueGpu}"  # a GPU step needs a GPU compute environment
    assert states["score"]["Parameters"]["JobQueue"] == "${JobQueue}"
    assert train["Parameters"]["Timeout"] == {"AttemptDurationSeconds": 7200}
    assert train["TimeoutSeconds"] == 7200 + 900
    infra, user = train["Retry"]
    assert "Batch.AWSBatchException" in infra["ErrorEquals"]
    assert user == {"ErrorEquals": ["States.TaskFailed", "States.Timeout"], "IntervalSeconds": 300,
                    "MaxAttempts": 2, "BackoffRate": 1.0}
    env = train["Parameters"]["ContainerOverrides"]["Environment"]
    assert env[-2:] == [{"Name": "LEVEL", "Value": "3"}, {"Name": "MODE", "Value": "fast"}]
    score = states["score"]
    assert score["Parameters"]["JobDefinition"] == "${JobDefinitionC1M8192}"
    assert score["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "score.fallback"}]
    fallback = states["score.fallback"]
    assert fallback["Parameters"]["Parameters"] == {"step": "score", "mode": "fallback"}
    assert fallback["Next"] == score["Next"] == "end"
    assert {"Name": "SFNCOMPILE_CAUGHT_ERROR", "Value.$": "$.caught.Error"} in \
        fallback["Parameters"]["ContainerOverrides"]["Environment"]
    assert len(fallback["Retry"]) == 1  # infrastructure only


def test_batch_queue_is_used_as_written():
    from .shapes import deco, make_flow

    graph = make_flow("QueueFlow", {"start": ("linear", ["end"]), "end": ("end",)},
                      decorators={"start": [deco("batch", queue="special-queue", gpu=1)]})
    states = compile_definition(graph)["States"]
    assert states["start"]["Parameters"]["JobQueue"] == "special-queue"
    assert states["end"]["Parameters"]["JobQueue"] == "${JobQueue}"


def test_zero_minute_retry_uses_the_smallest_interval():
    from .shapes import deco, make_flow

    graph = make_flow("RetryFlow", {"start": ("linear", ["end"]), "end": ("end",)},
                      decorators={"start": [deco("retry", times=4, minutes_between_retries=0)]})
    retry = compile_definition(graph)["States"]["start"]["Retry"][1]
    assert retry["IntervalSeconds"] == 1 and retry["MaxAttempts"] == 4


def test_loop_leaving_a_split_branch_is_refused():
    from sfncompile.diagnostics import UserError

    from .shapes import make_flow

    graph = make_flow("BadLoopFlow", {
        "start": ("linear", ["fork"]), "fork": ("split", ["a", "b"], "join"),
        "a": ("switch", {"again": "start", "on": "join"}), "b": ("linear", ["join"]),
        "join": ("linear", ["end"]), "end": ("end",)})
    with pytest.raises(UserError, match="crosses the boundary of a split or foreach"):
        compile_definition(graph)


def test_exit_hook_wraps_the_machine():
    graph = SHAPES["exit_hook"]()
    definition = compile_definition(graph)
    unhooked = SHAPES["exit_hook"]()
    unhooked.decorators = []
    assert definition["StartAt"] == "exit_hook.run"
    states = definition["States"]
    wrapper = states["exit_hook.run"]
    assert wrapper["Branches"] == [{k: v for k, v in compile_definition(unhooked).items() if k != "Comment"}]
    assert wrapper["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "exit_hook.error"}]
    assert wrapper["Next"] == "exit_hook.success"
    for kind in ("success", "error"):
        task = states[f"exit_hook.{kind}"]
        assert task["Parameters"]["Parameters"] == {"mode": "exit-hook", "step": kind}
        assert task["Parameters"]["JobDefinition"] == "${JobDefinitionDefault}"
        # a failing hook never changes the outcome, and never overwrites the flow's error
        assert task["Catch"][0]["ErrorEquals"] == ["States.ALL"]
        assert task["Catch"][0]["ResultPath"] == "$.hook_error"
    assert states["exit_hook.success"]["End"] is True and states["exit_hook.success"]["Catch"][0]["Next"] == "exit_hook.done"
    assert states["exit_hook.error"]["Next"] == states["exit_hook.error"]["Catch"][0]["Next"] == "exit_hook.failed"
    assert states["exit_hook.failed"] == {"Type": "Fail", "ErrorPath": "$.caught.Error", "CausePath": "$.caught.Cause"}
    env = {e["Name"]: e for e in states["exit_hook.error"]["Parameters"]["ContainerOverrides"]["Environment"]}
    assert env["SFNCOMPILE_CAUGHT_ERROR"]["Value.$"] == "$.caught.Error"
    # every step has @resources: the Default job definition exists for the hooks
    from sfncompile.backends.jobdefs import job_definitions

    assert job_definitions(graph)["Default"].steps == []
    assert "Default" not in job_definitions(unhooked)


def test_exit_hook_kind_without_hooks_has_no_task():
    only_error = SHAPES["exit_hook"]()
    only_error.decorators[0].args.pop("on_success")
    states = compile_definition(only_error)["States"]
    assert set(states) == {"exit_hook.run", "exit_hook.error", "exit_hook.failed"}
    assert states["exit_hook.run"]["End"] is True and "Next" not in states["exit_hook.run"]
    only_success = SHAPES["exit_hook"]()
    only_success.decorators[0].args.pop("on_error")
    states = compile_definition(only_success)["States"]
    assert set(states) == {"exit_hook.run", "exit_hook.success", "exit_hook.done", "exit_hook.failed"}
    assert states["exit_hook.run"]["Catch"][0]["Next"] == "exit_hook.failed"
