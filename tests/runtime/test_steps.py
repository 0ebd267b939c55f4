"""Each step kind, run by the runner directly (one subprocess per task, the
contract's command line and environment), on the local datastore and on S3 +
DynamoDB (moto server)."""

from __future__ import annotations

import json

import pytest

from .harness import new_run_id


def _data(client_root, backend, flow, run_id, step):
    client = client_root(backend)
    return client.Run(f"{flow}/{run_id}")[step].task.data


def test_linear_flow_parameters_and_current(backend, client_root):
    driver = backend.driver("linear_flow.py")
    run_id = driver.run_flow(params={"alpha": "2", "count": 4, "flag": "true", "config": '{"k": [1, 2]}'})
    client = client_root(backend)
    run = client.Run(f"LinearFlow/{run_id}")
    assert run.successful and run.finished
    assert run.data.final == (12.0, 4)
    start = run["start"].task
    assert start.data.seen == {"alpha": 2.0, "count": 4, "flag": True, "label": "x", "config": {"k": [1, 2]}}
    info = start.data.info
    assert info["pathspec"] == f"LinearFlow/{run_id}/start/1"  # start is step 1, as in Metaflow
    assert (info["flow"], info["run"], info["step"], info["task"], info["retry"]) == (
        "LinearFlow", run_id, "start", "1", 0)
    assert [run[s].task.id for s in ("start", "middle", "end")] == ["1", "2", "3"]
    assert info["namespace"] == f"user:{info['user']}" and info["production"] is False
    assert "start says hi" in start.stdout
    # parameters travel to every later step without being set again
    assert run["middle"].task.data.alpha == 2.0
    assert isinstance(run.created_at.year, int) and run.finished_at >= run.created_at


def test_unchanged_artifact_is_not_rewritten(local_backend, client_root):
    driver = local_backend.driver("linear_flow.py")
    run_id = driver.run_flow()
    client = client_root(local_backend)
    run = client.Run(f"LinearFlow/{run_id}")
    start, middle = run["start"].task, run["middle"].task
    # `numbers` is passed from start through middle (read there) to end: one blob, same ref
    assert start["numbers"].sha == middle["numbers"].sha == run["end"].task["numbers"].sha


def test_bad_parameter_value_fails_start_clearly(local_backend):
    driver = local_backend.driver("linear_flow.py")
    proc = driver.run_step("start", new_run_id(), params={"count": "many"})
    assert proc.returncode == 1
    assert "parameter 'count': cannot convert 'many' to int" in proc.stderr


def test_static_join_merge_artifacts(backend, client_root):
    driver = backend.driver("branch_flow.py")
    run_id = driver.run_flow()
    summary = _data(client_root, backend, "BranchFlow", run_id, "end").summary
    assert summary == (["left", "right"], ("left", "right"), "joined", 42, 1, "from start")


def test_merge_conflict_fails_with_metaflows_message(local_backend):
    driver = local_backend.driver("conflict_flow.py")
    run_id = new_run_id()
    for step in ("start", "a", "b"):
        assert driver.run_step(step, run_id).returncode == 0
    proc = driver.run_step("join", run_id)
    assert proc.returncode == 1
    assert "cannot merge the following artifacts due to them having conflicting values" in proc.stderr
    assert "[x, y]" in proc.stderr


def test_foreach_body_and_join(backend, client_root):
    driver = backend.driver("foreach_flow.py")
    run_id = driver.run_flow(params={"n": 4})
    assert driver.side(run_id, "start", "0")["width"] == 4
    client = client_root(backend)
    run = client.Run(f"ForeachFlow/{run_id}")
    join = run["join"].task.data
    assert join.results == ["aa", "bb", "cc", "dd"]
    assert join.indices == [0, 1, 2, 3]
    body = run["body"]
    # body is step 2 (start 1, body 2, join 3, end 4); its tasks carry their index
    assert sorted(t.id for t in body.tasks()) == ["2.0", "2.1", "2.2", "2.3"]  # listed newest first
    assert body["2.2"].data.where == (2, (2, 4))
    assert sorted(t.index for t in body.tasks()) == [0, 1, 2, 3]


def test_nested_foreach(backend, client_root):
    driver = backend.driver("nested_flow.py")
    run_id = driver.run_flow()
    assert driver.side(run_id, "row", "1")["width"] == 3
    client = client_root(backend)
    run = client.Run(f"NestedFlow/{run_id}")
    assert run["join"].task.data.grid == [["r0:10", "r0:20", "r0:30"], ["r1:10", "r1:20", "r1:30"]]
    assert sorted(t.id for t in run["cell"].tasks()) == ["3.0.0", "3.0.1", "3.0.2", "3.1.0", "3.1.1", "3.1.2"]
    assert run["cell"]["3.1.2"].data.stack == [(1, 2, "r1"), (2, 3, 30)]
    assert run["cell"]["3.1.2"].index == 2 and run["row"]["2.1"].index == 1


@pytest.mark.parametrize("value", ["small", "large"])
def test_switch_publishes_branch(backend, client_root, value):
    driver = backend.driver("switch_flow.py", SWITCH_VALUE=value)
    run_id = driver.run_flow()
    item = driver.side(run_id, "start", "0")
    assert item["branch"] == value
    assert item["pk"] == f"SwitchFlow/{run_id}/start/0" and item["expires_at"] > 0
    assert _data(client_root, backend, "SwitchFlow", run_id, "end").route == value


def test_switch_value_matching_no_case_fails_clearly(local_backend):
    driver = local_backend.driver("switch_flow.py", SWITCH_VALUE="medium")
    run_id = new_run_id()
    proc = driver.run_step("start", run_id)
    assert proc.returncode == 1
    assert "self.size = 'medium' matches no case" in proc.stderr
    assert driver.side(run_id, "start", "0") is None


def test_foreach_modes(local_backend):
    driver = local_backend.driver("foreach_flow.py")
    run_id = new_run_id()
    proc = driver.run_step("start", run_id, params={"n": 3}, extra={"SFNCOMPILE_FOREACH": "distributed"})
    assert proc.returncode == 0, proc.stderr
    item = driver.side(run_id, "start", "0")
    assert item["width"] == 3 and "items" not in item and item["manifest_bucket"] == "local"
    with open(item["manifest_key"]) as src:
        assert json.load(src) == [0, 1, 2]
    run_id = new_run_id()
    assert driver.run_step("start", run_id, params={"n": 3}, extra={"SFNCOMPILE_FOREACH": "auto:2"}).returncode == 0
    item = driver.side(run_id, "start", "0")
    assert "items" not in item and "manifest_key" in item
    run_id = new_run_id()
    assert driver.run_step("start", run_id, params={"n": 2}, extra={"SFNCOMPILE_FOREACH": "auto:2"}).returncode == 0
    assert driver.side(run_id, "start", "0")["items"] == [0, 1]
    proc = driver.run_step("start", new_run_id(), params={"n": 5}, extra={"SFNCOMPILE_FOREACH": "inline:4"})
    assert proc.returncode == 1
    assert "has 5 items, more than the 4 an inline Map of this step can take" in proc.stderr


def test_custom_start_end_names_and_flow_module_name(local_backend, client_root):
    driver = local_backend.driver("custom/random.py")
    run_id = driver.run_flow()
    client = client_root(local_backend)
    run = client.Run(f"CustomEndsFlow/{run_id}")
    assert run.successful and run.data.total == 10
    assert run["begin"].task.data.module == "sfncompile_flow_random"  # never shadows the stdlib's random
    assert run["begin"].task.data.point.x == 3  # the client imports the flow module from the code package
