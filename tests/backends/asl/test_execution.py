"""The emitted control flow runs on moto's Step Functions interpreter.

Batch jobs cannot run here, so every Batch Task is swapped for a Pass state
that records the ContainerOverrides it would have sent (same JSONPath and
intrinsic expressions, evaluated by moto); the getItem reads, Choices, Maps
(inline and distributed, with the manifest in S3) and Parallels are the
emitted ones. The side channel is filled as the runtime would fill it.
"""

from __future__ import annotations

import copy
import json
import time

import pytest

from sfncompile.backends.asl import CompileOptions, compile_definition, render, substitute

from .shapes import SHAPES

ROLE = "arn:aws:iam::123456789012:role/sfncompile-test"
TABLE = "sfncompile-side"
BUCKET = "sfncompile-manifests"


def recording(definition):
    """Batch Tasks → Pass states keeping Next/End/OutputPath and recording env."""
    definition = copy.deepcopy(definition)

    def walk(branch):
        for name, state in list(branch["States"].items()):
            if state.get("Resource", "").startswith("arn:aws:states:::batch:"):
                env = {}
                for e in state["Parameters"]["ContainerOverrides"]["Environment"]:
                    dynamic = "Value.$" in e and "$$.State.RetryCount" not in e["Value.$"]
                    # (a Pass state's context has no State.RetryCount: keep that
                    # expression as text; the interpreter parsed it already)
                    env[e["Name"] + (".$" if dynamic else "")] = e.get("Value.$", e.get("Value"))
                new = {"Type": "Pass", "Parameters": {"step": state["Parameters"]["Parameters"]["step"],
                                                      "env": env}, "ResultPath": "$.seen"}
                # (no OutputPath: the exit event must show what was recorded)
                for key in ("Next", "End"):
                    if key in state:
                        new[key] = state[key]
                branch["States"][name] = new
            for sub in state.get("Branches", []):
                walk(sub)
            if "ItemProcessor" in state:
                walk(state["ItemProcessor"])
    walk(definition)
    return definition


@pytest.fixture
def sfn_env(aws):
    import boto3

    aws.configure({"stepfunctions": {"execute_state_machine": True}})
    ddb = boto3.client("dynamodb", endpoint_url=aws.endpoint)
    ddb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    s3 = boto3.client("s3", endpoint_url=aws.endpoint)
    s3.create_bucket(Bucket=BUCKET)
    yield {"ddb": ddb, "s3": s3, "sfn": boto3.client("stepfunctions", endpoint_url=aws.endpoint)}
    aws.configure({"stepfunctions": {"execute_state_machine": False}})


def foreach_item(width):
    return {"width": {"N": str(width)}, "items": {"L": [{"N": str(i)} for i in range(width)]}}


def run(env, shape, run_id, items, options=None, manifests=None):
    graph = SHAPES[shape]()
    definition = compile_definition(graph, options)
    definition = substitute(definition, {"JobQueue": "q", "SideChannelTable": TABLE, "MapResultBucket": BUCKET},
                            require_all=False)
    sfn = env["sfn"]
    arn = sfn.create_state_machine(name=f"{shape}-{run_id}", definition=render(recording(definition)),
                                   roleArn=ROLE)["stateMachineArn"]
    for key, body in (manifests or {}).items():
        env["s3"].put_object(Bucket=BUCKET, Key=key, Body=json.dumps(body).encode())
    for suffix, item in items.items():
        env["ddb"].put_item(TableName=TABLE, Item={"pk": {"S": f"{graph.name}/{run_id}/{suffix}"}, **item})
    execution = sfn.start_execution(stateMachineArn=arn, name=run_id,
                                    input=json.dumps({"parameters": {"alpha": 1}}))["executionArn"]
    deadline = time.monotonic() + 60
    while True:
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    seen = []
    for event in events:
        details = event.get("stateExitedEventDetails")
        if event["type"] == "PassStateExited" and details.get("output"):
            output = json.loads(details["output"])
            if isinstance(output, dict) and "seen" in output:
                seen.append(output["seen"])
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    return described, entered, seen


def env_of(seen, step):
    return [s["env"] for s in seen if s["step"] == step]


def test_foreach_inline_paths(sfn_env):
    described, entered, seen = run(sfn_env, "foreach", "r-inline", {"start/0": foreach_item(3)},
                                   CompileOptions(foreach_mode="auto"))
    assert described["status"] == "SUCCEEDED", described
    assert entered.count("body") == 3 and "start.dmap" not in entered
    assert sorted(e["SFNCOMPILE_INDEX_PATH"] for e in env_of(seen, "body")) == ["0", "1", "2"]
    assert {e["SFNCOMPILE_RUN_ID"] for e in env_of(seen, "body")} == {"r-inline"}
    (start,) = env_of(seen, "start")
    assert start["SFNCOMPILE_RUN_ID"] == "r-inline" and start["SFNCOMPILE_INDEX_PATH"] == ""
    assert json.loads(start["SFNCOMPILE_PARAMETERS"]) == {"alpha": 1}
    assert start["SFNCOMPILE_FOREACH"] == "auto:1000"
    output = json.loads(described["output"])
    assert set(output) <= {"parameters", "foreach", "seen"}


def test_foreach_distributed_over_manifest(sfn_env):
    item = {"width": {"N": "4"}, "manifest_bucket": {"S": BUCKET}, "manifest_key": {"S": "m/start.json"}}
    described, entered, _ = run(sfn_env, "foreach", "r-dist", {"start/0": item},
                                CompileOptions(foreach_mode="auto"), manifests={"m/start.json": [0, 1, 2, 3]})
    assert described["status"] == "SUCCEEDED", described
    assert "start.dmap" in entered and "start.map" not in entered
    assert entered[-2:] == ["join", "end"]


def test_nested_foreach_index_paths(sfn_env):
    items = {"start/0": foreach_item(2), "outer/0": foreach_item(2), "outer/1": foreach_item(3)}
    described, entered, seen = run(sfn_env, "nested_foreach", "r-nested", items,
                                   CompileOptions(foreach_mode="inline"))
    assert described["status"] == "SUCCEEDED", described
    assert sorted(e["SFNCOMPILE_INDEX_PATH"] for e in env_of(seen, "inner")) == ["0.0", "0.1", "1.0", "1.1", "1.2"]
    assert sorted(e["SFNCOMPILE_INDEX_PATH"] for e in env_of(seen, "inner_join")) == ["0", "1"]


def test_switch_takes_the_published_case(sfn_env):
    described, entered, _ = run(sfn_env, "switch", "r-switch", {"start/0": {"branch": {"S": "b"}}})
    assert described["status"] == "SUCCEEDED"
    assert entered == ["start", "start.read", "start.choice", "path_b", "end"]


def test_switch_unknown_value_fails_clearly(sfn_env):
    described, entered, _ = run(sfn_env, "switch", "r-unknown", {"start/0": {"branch": {"S": "zzz"}}})
    assert described["status"] == "FAILED"
    assert entered[-1] == "start.unknown"
    assert described.get("error") == "sfncompile.UnknownBranch"


def test_switch_case_leaving_foreach_body(sfn_env):
    items = {"start/0": foreach_item(2), "decide/0": {"branch": {"S": "skip"}}, "decide/1": {"branch": {"S": "work"}}}
    described, entered, seen = run(sfn_env, "foreach_switch_exit", "r-exit", items,
                                   CompileOptions(foreach_mode="auto"))
    assert described["status"] == "SUCCEEDED", described
    assert [e["SFNCOMPILE_INDEX_PATH"] for e in env_of(seen, "work")] == ["1"]
    assert "decide.exit" in entered


def test_default_nested_distributed_maps(sfn_env):
    def item(key, width):
        return {"width": {"N": str(width)}, "manifest_bucket": {"S": BUCKET}, "manifest_key": {"S": key}}

    items = {"start/0": item("m/start.json", 2), "outer/0": item("m/o0.json", 2), "outer/1": item("m/o1.json", 3)}
    manifests = {"m/start.json": [0, 1], "m/o0.json": [0, 1], "m/o1.json": [0, 1, 2]}
    described, entered, _ = run(sfn_env, "nested_foreach", "r-default", items, manifests=manifests)
    assert described["status"] == "SUCCEEDED", described
    # the parent history holds the Map state only; iterations are child executions
    assert entered == ["start", "start.read", "start.dmap", "outer_join", "end"]


def test_split_runs_every_branch(sfn_env):
    described, entered, seen = run(sfn_env, "split", "r-split", {})
    assert described["status"] == "SUCCEEDED", described
    assert sorted(s["step"] for s in seen) == ["a", "b", "end", "join", "start"]
    assert all(e["SFNCOMPILE_INDEX_PATH"] == "" for s in seen for e in [s["env"]])


def test_switch_loop_exit(sfn_env):
    described, entered, _ = run(sfn_env, "switch_loop", "r-loop", {"check/0": {"branch": {"S": "done"}}})
    assert described["status"] == "SUCCEEDED"
    assert entered == ["start", "train", "check", "check.read", "check.choice", "end"]
