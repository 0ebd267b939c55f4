"""The client API over both datastores (runs made by the real runner)."""

from __future__ import annotations


import pytest

from sfncompile_runtime.datastore import write_run_record
from tests.runtime.harness import new_run_id


def test_flow_runs_latest_and_data(backend, client_root):
    driver = backend.driver("linear_flow.py")
    first = driver.run_flow(params={"count": 1})
    second = driver.run_flow(params={"count": 2})
    failed = new_run_id()
    write_run_record(backend.datastore, "LinearFlow", failed)
    assert driver.run_step("start", failed, params={"count": "not a number"}).returncode == 1
    client = client_root(backend)
    flow = client.Flow("LinearFlow")
    runs = flow.runs()
    assert [r.id for r in runs][:1] == [failed] and {first, second} <= {r.id for r in runs}
    assert flow.latest_run.id == failed and not flow.latest_run.successful
    latest_ok = flow.latest_successful_run
    assert latest_ok.id == second and latest_ok.data.final == (0.5, 2)
    run = client.Run(f"LinearFlow/{second}")
    assert run.successful and run.finished and run.finished_at is not None
    assert run["middle"].task.data.total == 0.5
    assert [s.id for s in run] == ["end", "middle", "start"]
    task = run["start"].task
    assert task.pathspec == f"LinearFlow/{second}/start/1"
    assert task["numbers"].data == [0, 1] and task["numbers"].type == "list"
    assert "numbers" in task and "nope" not in task
    assert task.successful and task.finished and task.exception is None
    assert "start says hi" in task.stdout
    assert task.created_at <= task.finished_at
    bad = client.Run(f"LinearFlow/{failed}")["start"].task
    assert not bad.successful and bad.exception.type == "sfncompile_runtime.failures.StepFailure"
    assert "cannot convert 'not a number' to int" in bad.exception.message
    assert "cannot convert" in bad.stderr
    with pytest.raises(client.MetaflowNotFound):
        client.Run("LinearFlow/does-not-exist")
    with pytest.raises(client.MetaflowNotFound):
        client.Flow("NoSuchFlow")


def test_foreach_tasks_and_index(local_backend, client_root):
    driver = local_backend.driver("foreach_flow.py")
    run_id = driver.run_flow(params={"n": 3})
    client = client_root(local_backend)
    body = client.Run(f"ForeachFlow/{run_id}")["body"]
    tasks = sorted(body, key=lambda t: t.index)  # listed newest first, as Metaflow (test_metaflow_semantics)
    assert [t.id for t in tasks] == ["2.0", "2.1", "2.2"]  # body is step 2, then the index
    assert [t.index for t in tasks] == [0, 1, 2]
    assert [t.data.doubled for t in tasks] == ["aa", "bb", "cc"]
    assert body["2.1"].parent == body


def test_namespaces_and_tags(local_backend, client_root):
    driver = local_backend.driver("linear_flow.py")
    alice_run = new_run_id()
    write_run_record(local_backend.datastore, "LinearFlow", alice_run, user="alice", tags=["exp:1"])
    driver.run_flow(alice_run)
    prod_run = new_run_id()
    write_run_record(local_backend.datastore, "LinearFlow", prod_run, user="deployer", production_token="tok")
    driver.run_flow(prod_run)
    client = client_root(local_backend)
    client.namespace("user:alice")
    assert client.get_namespace() == "user:alice"
    assert [r.id for r in client.Flow("LinearFlow").runs()] == [alice_run]
    assert [r.id for r in client.Flow("LinearFlow").runs("exp:1")] == [alice_run]
    with pytest.raises(client.MetaflowNamespaceMismatch):
        client.Run(f"LinearFlow/{prod_run}")
    client.namespace("production:tok")
    assert [r.id for r in client.Flow("LinearFlow").runs()] == [prod_run]
    client.namespace(None)
    assert {r.id for r in client.Flow("LinearFlow").runs()} == {alice_run, prod_run}
    run = client.Run(f"LinearFlow/{alice_run}")
    run.add_tag("reviewed")
    assert "reviewed" in client.Run(f"LinearFlow/{alice_run}").tags
    run.remove_tag("reviewed")
    assert "reviewed" not in client.Run(f"LinearFlow/{alice_run}").user_tags
    assert "user:alice" in run.system_tags
    import os

    os.environ["SFNCOMPILE_USER"] = "alice"
    try:
        assert client.default_namespace() == "user:alice"
    finally:
        del os.environ["SFNCOMPILE_USER"]


def test_top_level_import_names():
    import sfncompile

    for name in ("FlowSpec", "step", "Parameter", "current", "batch", "resources", "retry", "catch", "timeout",
                 "environment", "schedule", "project", "trigger", "trigger_on_finish", "pypi", "conda",
                 "exit_hook", "JSONType", "IncludeFile", "Flow", "Run", "Step", "Task", "namespace",
                 "get_namespace", "default_namespace"):
        assert getattr(sfncompile, name) is not None, name
    from sfncompile_runtime import client

    assert sfncompile.Flow is client.Flow


def test_client_does_not_import_the_authoring_api():
    """api -> client only: reading runs must not pull in the authoring API (no import circle)."""
    import subprocess
    import sys

    code = ("import sys, sfncompile_runtime.client; "
            "print(sorted(m for m in ('sfncompile_runtime.api', 'sfncompile_runtime.context', "
            "'sfncompile_runtime.flowspec') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_metaflow_object_lists_flows(backend, client_root):
    backend.driver("linear_flow.py").run_flow()
    client = client_root(backend)
    assert [f.id for f in client.Metaflow().flows] == ["LinearFlow"]
    assert client.Metaflow()["LinearFlow"].latest_run.successful
    client.namespace("user:nobody")
    assert list(client.Metaflow()) == []


def test_a_pathspec_outside_the_datastore_is_not_found(local_backend, client_root):
    local_backend.driver("linear_flow.py").run_flow()
    client = client_root(local_backend)
    for bad in ("LinearFlow/..", "LinearFlow/../x"):
        with pytest.raises((client.MetaflowNotFound, client.MetaflowInvalidPathspec)):
            client.Run(bad)
    with pytest.raises(client.MetaflowNotFound):
        client.Task("LinearFlow/x/../0")
