"""The client against Metaflow 2.19's semantics (observed with /work/mfvenv on this
machine): lineage, metadata, derived artifacts, tags, namespaces, pickling, logs.

One run of ``flows/lineage_flow.py`` (static split, nested foreach, a retried
task) made by the real runner is shared by the read-only tests.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from sfncompile_runtime import client
from sfncompile_runtime.datastore import write_run_record
from tests.runtime.conftest import make_local_backend
from tests.runtime.harness import FlowDriver, new_run_id

FLOWS = Path(__file__).resolve().parent / "flows"


@pytest.fixture(scope="module")
def lineage_run(tmp_path_factory):
    backend = make_local_backend(tmp_path_factory.mktemp("lineage"))
    driver = FlowDriver(FLOWS / "lineage_flow.py", backend.datastore, backend.side_channel, backend.cache_dir,
                        {"SFNCOMPILE_USER": "tester"})
    run_id = new_run_id()
    write_run_record(backend.datastore, "LineageFlow", run_id, user="tester", tags=["刺身 means sashimi", "exp"])
    driver.run_flow(run_id, retries=1)
    return backend, driver, run_id


@pytest.fixture
def run(lineage_run, monkeypatch):
    backend, _, run_id = lineage_run
    monkeypatch.setenv("SFNCOMPILE_DATASTORE", backend.datastore)
    monkeypatch.setenv("SFNCOMPILE_USER", "tester")
    client.reset()
    yield client.Run(f"LineageFlow/{run_id}")
    client.reset()


def test_parent_and_child_tasks_match_what_each_task_recorded(run):
    # Task ids: the step's number in the graph's topological order (start 1, a 2, b 3, row 4,
    # cell 5, row_join 6, a_join 7, join 8, end 9), then the foreach index path.
    tasks = {t.pathspec: t for step in run for t in step}
    assert sorted(t.rsplit("/", 2)[1] + "/" + t.rsplit("/", 1)[1] for t in tasks) == sorted(
        ["start/1", "a/2", "b/3", "row/4.0", "row/4.1", "cell/5.0.0", "cell/5.0.1", "cell/5.1.0", "cell/5.1.1",
         "row_join/6.0", "row_join/6.1", "a_join/7", "join/8", "end/9"])
    assert len(tasks) == 1 + 1 + 2 + 4 + 2 + 1 + 1 + 1 + 1
    for task in tasks.values():
        expected = task.data.parents
        assert {p.pathspec for p in task.parent_tasks} == expected, task.pathspec
        assert set(task.parent_task_pathspecs) == expected
        children = {c.pathspec for c in task.child_tasks}
        assert children == {c for c, t in tasks.items() if task.pathspec in t.data.parents}, task.pathspec
        assert task.data.me == task.pathspec
    cell = run["cell"]["5.1.0"]
    assert [p.pathspec for p in cell.parent_tasks] == [f"{run.pathspec}/row/4.1"]
    assert sorted(s.id for s in run["join"].parent_steps) == ["a_join", "b"]
    assert [s.id for s in run["start"].child_steps] in (["a", "b"], ["b", "a"])


def test_metadata_events_per_attempt(run):
    cell = run["cell"]["5.0.1"]  # failed once, then succeeded
    attempts = sorted(m.value for m in cell.metadata if m.type == "attempt")
    assert attempts == ["0", "1"]
    meta = cell.metadata_dict
    assert meta["attempt"] == "1" and meta["attempt_ok"] == "True" and meta["attempt-done"] == "1"
    assert meta["foreach-execution-path"] == "row:0,cell:1"
    assert meta["origin-run-id"] == "None" and meta["user"] == "tester" and meta["ds-type"] == "local"
    assert meta["script-name"] == "lineage_flow.py" and meta["python_version"].count(".") == 2
    ok = [m.value for m in cell.metadata if m.name == "attempt_ok"]
    assert sorted(ok) == ["False", "True"]
    assert all(m.task is cell for m in cell.metadata)
    first = client.Task(cell.pathspec, attempt=0)
    assert first.metadata_dict["attempt_ok"] == "False" and not first.successful
    assert first.exception is not None and "first attempt fails" in first.exception.message
    assert cell.current_attempt == 1 and first.current_attempt == 0
    assert "foreach-execution-path" not in run["start"].task.metadata_dict
    # the code package the task ran from, as Metaflow records it for a packaged task
    package = json.loads(meta["code-package"])
    assert package["sha"] == cell.code.sha and package["ds_type"] == "local"
    assert package["location"] == cell.code.path


def test_tasks_are_listed_newest_first(run):
    """Metaflow lists a step's tasks by creation time, latest first (``step.task`` is the newest)."""
    for step in run:
        tasks = list(step)
        started = [t._started_ts() for t in tasks]
        assert started == sorted(started, reverse=True), step.id
        assert [t.id for t in step.tasks()] == [t.id for t in tasks]
        assert step.task.id == tasks[0].id


def test_exception_is_metaflows_wrapper(run):
    """``task.exception``: an Exception whose str()/repr() is the stack trace; ``type`` and
    ``exception`` as Metaflow's MetaflowExceptionWrapper; it survives pickling."""
    from sfncompile_runtime.exceptions import MetaflowExceptionWrapper

    failed = client.Task(run["cell"]["5.0.1"].pathspec, attempt=0)
    exc = failed.exception
    assert isinstance(exc, MetaflowExceptionWrapper) and isinstance(exc, Exception)
    assert exc.type.startswith("builtins.") and "first attempt fails" in exc.exception
    assert str(exc) == repr(exc) == exc.stacktrace and exc.stacktrace.startswith("Traceback")
    again = pickle.loads(pickle.dumps(exc))
    assert (again.type, again.exception, again.stacktrace) == (exc.type, exc.exception, exc.stacktrace)
    try:
        raise KeyError("boom")
    except KeyError as err:
        wrapped = MetaflowExceptionWrapper(err)
    assert wrapped.type == "builtins.KeyError" and wrapped.exception == "'boom'"
    assert "KeyError: 'boom'" in str(wrapped)


def test_derived_artifacts_name_foreach_stack_current_step(run):
    end = run["end"].task
    assert end["name"].data == "LineageFlow" and end.data.name == "LineageFlow"
    assert "name" in [a.id for a in end]
    assert "_foreach_stack" in end and "_foreach_stack" not in end.data
    assert not [a.id for a in end if a.id.startswith("_")]
    assert end["_current_step"].data == "end"
    assert end["_task_ok"].data is True and end["_success"].data is True
    assert end["_graph_info"].data["steps"]["a"]["type"] == "split-foreach"
    cell = run["cell"]["5.1.0"]
    frames = cell["_foreach_stack"].data
    assert [(f.step, f.var, f.num_splits, f.index, f.value) for f in frames] == [
        ("row", "rows", 2, 1, "r1"), ("cell", "cols", 2, 0, "1")]
    assert cell.index == 0 and run["row_join"]["6.1"].index == 1 and run["join"].task.index is None
    assert run["row"]["4.1"].data.stack_vars == ["rows"]
    assert run["start"].task.data.lineage == ("start",)
    assert run["end"].task["name"].sha and run["end"].task["name"].created_at is not None


def test_tags_inherited_by_steps_tasks_and_artifacts(run):
    tags = ("刺身 means sashimi", "exp", "user:tester", "runtime:sfncompile")
    assert all(t in run.tags for t in tags)
    assert run.user_tags == frozenset({"刺身 means sashimi", "exp"})
    assert {s.id for s in run.steps("exp")} == {s.id for s in run} and list(run.steps("not_a_tag")) == []
    assert {s.id for s in run.steps(*tags)} == {s.id for s in run}
    for step in run:
        assert step.tags == run.tags
        assert [t.id for t in step] == [t.id for t in step.tasks("exp")] and list(step.tasks("nope")) == []
        for task in step:
            assert task.tags == run.tags and task.system_tags == run.system_tags
            for artifact in task:
                assert artifact.tags == run.tags
    flow = run.parent
    assert flow.tags == frozenset() and list(flow.runs("not_a_tag")) == []
    assert [r.id for r in flow.runs("exp")] == [run.id]


def test_namespaces(run):
    assert client.get_namespace() == "user:tester"
    assert run.id in [r.id for r in client.Flow("LineageFlow")]
    client.namespace("user:nobody")
    assert client.get_namespace() == "user:nobody"
    with pytest.raises(client.MetaflowNamespaceMismatch):
        client.Flow("LineageFlow")[run.id]
    with pytest.raises(client.MetaflowNamespaceMismatch):
        client.Run(run.pathspec)
    with pytest.raises(client.MetaflowNamespaceMismatch):
        client.Task(f"{run.pathspec}/end/9")
    assert client.Task(f"{run.pathspec}/end/9", _namespace_check=False).successful
    client.namespace("exp")  # a user tag is a namespace too
    assert client.Flow("LineageFlow")[run.id].id == run.id
    assert client.namespace(None) is None and client.get_namespace() is None
    assert client.Flow("LineageFlow")[run.id].successful
    with pytest.raises(KeyError):
        client.Flow("LineageFlow")["no-such-run"]
    with pytest.raises(client.MetaflowInvalidPathspec):
        client.Run("LineageFlow")
    assert client.default_namespace() == "user:tester"


def test_pickled_client_objects_and_object_shape(run):
    stored = run["start"].task.data.task_obj
    assert isinstance(stored, client.Task) and stored.pathspec == f"{run.pathspec}/start/1"
    assert stored.parent.parent.id == run.id
    again = pickle.loads(pickle.dumps(run["cell"]["5.1.1"]))
    assert again == run["cell"]["5.1.1"] and again.data.value == "2"
    assert run.path_components == ["LineageFlow", run.id]
    assert run.parent == client.Flow("LineageFlow") and run["end"].parent == run
    assert run.end_task.pathspec == f"{run.pathspec}/end/9"
    assert run.finished and run.successful and run.finished_at >= run.created_at
    assert run.origin_pathspec == "LineageFlow/None" and run["end"].task.origin_pathspec is None
    assert "class LineageFlow" in run.code.flowspec and run.code.script_name == "lineage_flow.py"
    assert run["start"].task.code == run.code


def test_loglines_and_logs(run):
    start = run["start"].task
    lines = list(start.loglines("stdout"))
    assert [line for _, line in lines] == ["start says hi"]
    assert lines[0][0] is not None and start.stdout == "start says hi\n"
    assert start.stdout_size == len("start says hi\n")
    assert list(run["b"].task.loglines("stdout")) == [(None, "")]


def test_tag_mutation_rules(tmp_path, monkeypatch):
    backend = make_local_backend(tmp_path)
    driver = FlowDriver(Path(__file__).resolve().parents[1] / "runtime" / "flows" / "linear_flow.py",
                        backend.datastore, backend.side_channel, backend.cache_dir)
    run_id = new_run_id()
    write_run_record(backend.datastore, "LinearFlow", run_id, user="tester", tags=["launch"])
    driver.run_flow(run_id)
    monkeypatch.setenv("SFNCOMPILE_DATASTORE", backend.datastore)
    client.reset()
    client.namespace(None)
    run = client.Run(f"LinearFlow/{run_id}")
    system = sorted(run.system_tags)
    run.add_tags(["tag_along", system[0]])  # a system tag is not added as a user tag, silently
    assert "tag_along" in run.user_tags and not set(system) & run.user_tags
    with pytest.raises(client.MetaflowTaggingError):
        run.remove_tags(["tag_along", system[0]])  # all or nothing
    assert "tag_along" in client.Run(run.pathspec).user_tags
    run.remove_tag("tag_along")
    run.add_tags(["AAA", "BBB"])
    run.replace_tags(["AAA", "BBB"], ["BBB", "CCC"])  # removal first, then addition
    assert {"BBB", "CCC"} <= run.user_tags and "AAA" not in run.user_tags
    run.add_tags(["新想法"])
    assert "新想法" in client.Run(run.pathspec).user_tags  # persisted
    for bad in ("", "a" * 600, bytes(range(128, 192)), 4):
        with pytest.raises(client.MetaflowTaggingError):
            run.add_tag(bad) if not isinstance(bad, int) else run.remove_tag(bad)
    with pytest.raises(client.MetaflowTaggingError):
        run.replace_tags([], [])
    with pytest.raises(client.MetaflowTaggingError):
        run.add_tags("not-a-list")
    run.add_tag(["whoop", "eee"])  # Metaflow's deprecated list forms
    run.replace_tag(["whoop", "eee"], ["woo", "hoo"])
    assert {"woo", "hoo"} <= run.user_tags and "whoop" not in run.user_tags
    run.remove_tag(["woo", "hoo"])
    assert run.end_task.tags == run.tags == client.Run(run.pathspec).tags
    assert "launch" in run.user_tags
    client.namespace("CCC")
    assert [r.id for r in client.Flow("LinearFlow").runs()] == [run_id]
    client.reset()


def test_one_unreadable_record_does_not_break_listing(tmp_path, monkeypatch, capsys):
    backend = make_local_backend(tmp_path)
    driver = FlowDriver(Path(__file__).resolve().parents[1] / "runtime" / "flows" / "linear_flow.py",
                        backend.datastore, backend.side_channel, backend.cache_dir)
    good, damaged = new_run_id(), new_run_id() + "x"
    for run_id in (good, damaged):
        write_run_record(backend.datastore, "LinearFlow", run_id, user="tester")
        driver.run_flow(run_id)
    root = Path(backend.datastore) / "LinearFlow" / "runs"
    (root / damaged / "run.json").write_text('{"flow": "LinearFl')  # truncated
    record = root / good / "middle" / "2" / "0" / "record.json"  # middle is task 2, attempt 0
    record.write_text(record.read_text()[:40])
    monkeypatch.setenv("SFNCOMPILE_DATASTORE", backend.datastore)
    client.reset()
    client.namespace(None)
    assert [r.id for r in client.Flow("LinearFlow").runs()] == [good]
    run = client.Run(f"LinearFlow/{good}")
    assert {s.id for s in run} == {"start", "middle", "end"}
    middle = run["middle"].task
    assert not middle.successful and middle.metadata_dict["attempt"] == "0" and "attempt_ok" not in middle.metadata_dict
    assert run.successful and run["start"].task.data.numbers == [0, 1, 2]
    assert "skipping" in capsys.readouterr().err
    assert client.Run(f"LinearFlow/{damaged}").tags == frozenset()
    json.loads((root / good / "run.json").read_text())
    client.reset()


def test_resumed_run_metadata_and_origin_pathspecs(tmp_path, monkeypatch):
    from sfncompile_runtime.datastore import resume_plan

    backend = make_local_backend(tmp_path)
    driver = FlowDriver(Path(__file__).resolve().parents[1] / "runtime" / "flows" / "resume_flow.py",
                        backend.datastore, backend.side_channel, backend.cache_dir)
    origin = new_run_id()
    write_run_record(backend.datastore, "ResumeFlow", origin, user="tester")
    driver.run_flow(origin)
    resumed = new_run_id() + "r"
    plan = resume_plan(backend.datastore, driver.graph_dict, origin, "b")
    write_run_record(backend.datastore, "ResumeFlow", resumed, user="tester", origin_run_id=origin, rerun_steps=plan)
    driver.run_flow(resumed)
    monkeypatch.setenv("SFNCOMPILE_DATASTORE", backend.datastore)
    client.reset()
    client.namespace(None)
    run = client.Run(f"ResumeFlow/{resumed}")
    assert run.origin_pathspec == f"ResumeFlow/{origin}"
    start = run["start"].task
    assert start.origin_pathspec == f"ResumeFlow/{origin}/start/1"
    assert run["start"].origin_pathspec == f"ResumeFlow/{origin}/start"
    cloned = start.metadata_dict
    assert cloned["origin-run-id"] == origin and cloned["origin-task-id"] == "1"
    original = run.parent[origin]["start"]["1"].metadata_dict
    skip = {"origin-run-id", "origin-task-id", "python_version"}
    assert {k: v for k, v in cloned.items() if k not in skip} == {k: v for k, v in original.items() if k not in skip}
    rerun = run["b"].task.metadata_dict
    assert rerun["origin-run-id"] == origin and "origin-task-id" not in rerun
    assert run["b"].task.origin_pathspec is None
    assert start.stdout == run.parent[origin]["start"].task.stdout
    client.reset()
