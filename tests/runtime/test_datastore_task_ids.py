"""Task ids (``datastore.task_id_for`` and friends): unique within a run, a function of the
graph, the step, the foreach index path and the visit alone; and finding another run's
task by its place, whatever ids that run used."""

from __future__ import annotations

import pytest

from sfncompile_runtime.datastore import (Datastore, InvalidName, attempt_prefix, index_path_in, split_task_id,
                                          step_numbers, task_id_for)


def _graph(edges: dict[str, list[str]], start: str = "start") -> dict:
    return {"name": "F", "start": start, "steps": {name: {"out_funcs": outs} for name, outs in edges.items()}}


SPLIT = {"start": ["a", "b"], "a": ["a2"], "a2": ["join"], "b": ["join"], "join": ["end"], "end": []}


def test_numbers_follow_the_graph_topologically_from_start():
    # the longer branch's a2 comes before the join that waits for it; end is last
    assert step_numbers(_graph(SPLIT)) == {"start": 1, "a": 2, "b": 3, "a2": 4, "join": 5, "end": 6}


def test_numbers_do_not_depend_on_the_order_steps_are_written_in():
    reordered = dict(reversed(list(SPLIT.items())))
    assert step_numbers(_graph(reordered)) == step_numbers(_graph(SPLIT))


def test_a_switch_loop_back_edge_does_not_hold_its_target():
    loop = {"start": ["body"], "body": ["check"], "check": ["body", "after"], "after": ["end"], "end": []}
    assert step_numbers(_graph(loop)) == {"start": 1, "body": 2, "check": 3, "after": 4, "end": 5}


def test_ids_are_unique_across_steps_foreach_paths_and_visits():
    graph = _graph(SPLIT)
    ids = [task_id_for(graph, step, path, visit) for step in graph["steps"]
           for path in ("", "0", "1", "0.1", "1.0", "10")
           for visit in (0, 1, 2)]
    assert len(ids) == len(set(ids))
    assert task_id_for(graph, "start") == "1"
    assert task_id_for(graph, "b", "0.2") == "3.0.2"
    assert task_id_for(graph, "join", "", 2) == "5-2"
    with pytest.raises(InvalidName, match="no step 'nope'"):
        task_id_for(graph, "nope")


@pytest.mark.parametrize("task_id, parsed", [
    ("3", ("3", 0)), ("3.0.12", ("3.0.12", 0)), ("3-2", ("3", 2)), ("4.1-10", ("4.1", 10)),
    ("0", ("0", 0)), ("0.1-1", ("0.1", 1)),  # ids of runs made before run-unique ids
    ("", None), ("x", None), ("3.", None), ("3..1", None), ("3-", None), ("3-x", None), ("run.json", None),
])
def test_split_task_id(task_id, parsed):
    assert split_task_id(task_id) == parsed


@pytest.mark.parametrize("task_id, depth, path", [
    ("3", 0, ""), ("3-1", 0, ""), ("6.2", 1, "2"), ("6.0.11-3", 2, "0.11"),
    ("0", 0, ""), ("2", 1, "2"), ("0.11", 2, "0.11"), ("1-2", 1, "1"),  # before run-unique ids
    ("3", 2, None), ("x", 0, None),
])
def test_index_path_in_reads_both_schemes(task_id, depth, path):
    assert index_path_in(task_id, depth) == path


def _commit(store: Datastore, run: str, step: str, task_id: str, index_path: str, visit=None, status="ok"):
    record = {"status": status, "index_path": index_path, "task_id": task_id}
    if visit is not None:
        record["visit"] = visit
    store.write_json(f"{attempt_prefix('F', run, step, task_id, 0)}/record.json", record)


def test_find_task_by_place_with_and_without_the_hint(tmp_path):
    store = Datastore(str(tmp_path), "F")
    for i in range(3):
        _commit(store, "r", "each", f"6.{i}", str(i), visit=0)
    assert store.find_task("r", "each", "1", hint="6.1") == "6.1"  # the hint is right: one read
    assert store.find_task("r", "each", "1", hint="5.1") == "6.1"  # another numbering: found by place
    assert store.find_task("r", "each", "7", hint="6.7") is None
    _commit(store, "r", "loop", "8", "", visit=0)
    _commit(store, "r", "loop", "8-1", "", visit=1, status="failed")
    assert store.find_task("r", "loop", "", 1, hint="4-1") == "8-1"
    assert store.find_task("r", "loop", "", 2) is None


def test_find_task_in_a_run_made_before_run_unique_ids(tmp_path):
    store = Datastore(str(tmp_path), "F")
    _commit(store, "old", "start", "0", "")  # no visit field: read from the id
    _commit(store, "old", "each", "1", "1")
    _commit(store, "old", "loop", "0", "")
    _commit(store, "old", "loop", "0-1", "")
    assert store.find_task("old", "start", "", hint="1") == "0"
    assert store.find_task("old", "each", "1", hint="2.1") == "1"
    assert store.find_task("old", "loop", "", 1, hint="3-1") == "0-1"
    # a record that contradicts its folder's name is not taken for another place
    _commit(store, "old", "each", "2", "5")
    assert store.find_task("old", "each", "2") is None
