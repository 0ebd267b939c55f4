"""Task ids are unique within a run (issue 9), as Metaflow's are: ``current.task_id`` differs
between the steps, the branches of a split, the items of a foreach and the visits of a
switch loop; and a resume finds each clone's origin by step, foreach index path and visit,
whatever ids the origin used (another graph, or the ids of runs made before this scheme)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.executor.conftest import LocalRuns

FLOW = Path(__file__).resolve().parents[1] / "deploy" / "flows" / "task_ids_flow.py"

# start 1, a 2, b 3, join 4, fan 5, each 6, gather 7, loop 8, end 9: the step's number in the
# graph's topological order, then the foreach index path, then the visit of a loop step.
EXPECTED = {"start": ["1"], "a": ["2"], "b": ["3"], "join": ["4"], "fan": ["5"], "each": ["6.0", "6.1", "6.2"],
            "gather": ["7"], "loop": ["8", "8-1", "8-2"], "end": ["9"]}


def check_task_ids(run) -> None:
    """The ids of every task of a successful TaskIdsFlow run, each as its own code saw it."""
    assert {s.id: sorted(t.id for t in s) for s in run} == EXPECTED
    ids = [t.id for s in run for t in s]
    assert len(ids) == len(set(ids))
    for step in run:
        for task in step:
            assert task.data.mine == task.id, task.pathspec
    assert run["join"].task.data.branch_ids == ["2", "3"]
    assert run["gather"].task.data.item_ids == ["6.0", "6.1", "6.2"]
    assert run["end"].task.data.loop_ids == ["8", "8-1", "8-2"]
    assert sorted(t.index for t in run["each"]) == [0, 1, 2]


def test_every_task_of_a_run_has_its_own_id(local_runs):
    run_id, result = local_runs.run(FLOW)
    run = local_runs.client_run("TaskIdsFlow", run_id)
    assert run.successful
    check_task_ids(run)
    for task in ("each/6.2", "loop/8", "loop/8-1", "loop/8-2"):  # the console names each task by its id
        assert f" ok     TaskIdsFlow/{run_id}/{task} (" in result.stderr, task
    each = run["each"]["6.1"]
    assert [p.pathspec for p in each.parent_tasks] == [f"TaskIdsFlow/{run_id}/fan/5"]
    assert [c.pathspec for c in each.child_tasks] == [f"TaskIdsFlow/{run_id}/gather/7"]
    assert each.metadata_dict["foreach-execution-path"] == "each:1"


def _resume(local_runs: LocalRuns, flow: Path, origin: str) -> str:
    return local_runs.cli("resume", str(flow), origin).stdout.strip().splitlines()[-1]


def test_resume_finds_origins_by_place_when_the_graph_numbers_steps_differently(local_runs, tmp_path, monkeypatch):
    monkeypatch.setenv("FAIL_LOOP_ROUND", "2")
    origin, _ = local_runs.run(FLOW, expect_exit=1)
    monkeypatch.delenv("FAIL_LOOP_ROUND")
    # The resumed code lists the split's branches the other way round: b is step 2, a step 3.
    changed = tmp_path / "changed" / FLOW.name
    changed.parent.mkdir()
    changed.write_text(FLOW.read_text().replace("self.next(self.a, self.b)", "self.next(self.b, self.a)"))
    resumed = _resume(local_runs, changed, origin)
    run = local_runs.client_run("TaskIdsFlow", resumed)
    assert run.successful
    a, b = run["a"].task, run["b"].task
    assert (a.id, b.id) == ("3", "2")
    # each clone is its origin's task at the same place, whatever id that one had
    assert a.origin_pathspec == f"TaskIdsFlow/{origin}/a/2" and b.origin_pathspec == f"TaskIdsFlow/{origin}/b/3"
    assert a.metadata_dict["origin-task-id"] == "2" and a.data.mine == "2"  # cloned: the origin's value
    assert a.stdout == local_runs.client_run("TaskIdsFlow", origin)["a"].task.stdout
    loop = {t.id: t for t in run["loop"]}
    assert sorted(loop) == ["8", "8-1", "8-2"]
    assert loop["8"].origin_pathspec == f"TaskIdsFlow/{origin}/loop/8"  # round 1 succeeded: cloned
    assert loop["8-1"].origin_pathspec is None and loop["8-2"].origin_pathspec is None  # round 2 failed: re-run
    assert run["end"].task.data.loop_ids == ["8", "8-1", "8-2"]


def _to_ids_before_run_unique(root: Path, flow: str, run_id: str) -> None:
    """Rewrite a run's layout as sfncompile wrote it before run-unique ids: task id = the
    foreach index path (``0`` at top level), ``-<k>`` for a loop's k-th visit, no ``visit``
    field in the records."""
    run_dir = root / flow / "runs" / run_id
    for step_dir in [p for p in run_dir.iterdir() if p.is_dir()]:
        for task_dir in sorted(step_dir.iterdir()):
            base, _, visit = task_dir.name.partition("-")
            old = (base.partition(".")[2] or "0") + (f"-{visit}" if visit else "")
            for name in ("record.json", "started.json"):
                for path in task_dir.glob(f"*/{name}"):
                    record = json.loads(path.read_text())
                    record.pop("visit", None)
                    if "task_id" in record:
                        record["task_id"] = old
                    path.write_text(json.dumps(record))
            shutil.move(str(task_dir), str(step_dir / f"_{old}"))
        for moved in list(step_dir.iterdir()):
            moved.rename(step_dir / moved.name[1:])


def test_runs_made_before_run_unique_ids_stay_readable_and_resumable(local_runs, monkeypatch):
    monkeypatch.setenv("FAIL_LOOP_ROUND", "2")
    origin, _ = local_runs.run(FLOW, expect_exit=1)
    monkeypatch.delenv("FAIL_LOOP_ROUND")
    _to_ids_before_run_unique(local_runs.root, "TaskIdsFlow", origin)
    old = local_runs.client_run("TaskIdsFlow", origin)
    assert sorted(t.id for t in old["each"]) == ["0", "1", "2"] and sorted(t.id for t in old["loop"]) == ["0", "0-1"]
    assert old["each"]["1"].index == 1 and old["start"].task.index is None
    assert [p.pathspec for p in old["each"]["1"].parent_tasks] == [f"TaskIdsFlow/{origin}/fan/0"]
    assert [c.pathspec for c in old["fan"].task.child_tasks] == [f"TaskIdsFlow/{origin}/each/{i}" for i in range(3)]
    assert [f.index for f in old["each"]["2"]["_foreach_stack"].data] == [2]

    resumed = _resume(local_runs, FLOW, origin)
    run = local_runs.client_run("TaskIdsFlow", resumed)
    assert run.successful
    assert {s.id: sorted(t.id for t in s) for s in run} == EXPECTED
    assert run["each"]["6.1"].origin_pathspec == f"TaskIdsFlow/{origin}/each/1"
    assert run["start"].task.metadata_dict["origin-task-id"] == "0"
    assert run["loop"]["8"].origin_pathspec == f"TaskIdsFlow/{origin}/loop/0"
    assert run["loop"]["8-1"].origin_pathspec is None  # the visit that failed runs again
    assert run["end"].task.data.loop_ids[1:] == ["8-1", "8-2"]  # the rounds that ran again
