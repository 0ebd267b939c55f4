"""`sfncompile resume` with Metaflow's cloning rule: a task is cloned when the origin has a
successful task at the same place and every task it reads was cloned."""

from __future__ import annotations

from tests.executor.conftest import FLOWS


def _visits(local_runs, flow, run_id, step):
    """The successful record of each visit of a loop step (each visit is a task: 2, 2-1, 2-2 ...)."""
    store = local_runs.store(flow)
    task = local_runs.task_id(flow, run_id, step)
    records = [store.latest_record(run_id, step, visit) for visit in store.visits(run_id, step, task)]
    return [r for r in records if r is not None]


def test_resume_inside_a_switch_loop_clones_the_rounds_that_succeeded_and_ends(local_runs):
    flow = "LoopResumeFlow"
    origin, _ = local_runs.run(FLOWS / "loop_resume_flow.py", expect_exit=1)
    assert len(_visits(local_runs, flow, origin, "loop_step")) == 5
    # (Before the fix the loop step's clone repeated for ever: bounded here by --timeout.)
    result = local_runs.cli("resume", str(FLOWS / "loop_resume_flow.py"), origin, "--timeout", "120")
    resumed = result.stdout.strip().splitlines()[-1]
    visits = _visits(local_runs, flow, resumed, "loop_step")
    assert len(visits) == 10
    assert [bool(v.get("cloned_from")) for v in visits] == [True] * 5 + [False] * 5
    # As in Metaflow, each round is a task of its own; the k-th clones the origin's k-th.
    # loop_step is step 2 (start 1); its visits are 2, 2-1, 2-2 ... in both runs
    assert [v["task_id"] for v in visits] == ["2"] + [f"2-{k}" for k in range(1, 10)]
    assert [v["visit"] for v in visits] == list(range(10))
    assert [v["cloned_from"]["task_id"] for v in visits[:5]] == ["2", "2-1", "2-2", "2-3", "2-4"]
    client_steps = local_runs.client_run(flow, resumed)["loop_step"]
    assert len(list(client_steps)) == 10
    assert local_runs.record(flow, resumed, "start")["cloned_from"]["run_id"] == origin
    assert "cloned_from" not in local_runs.record(flow, resumed, "exit_loop")
    assert local_runs.artifacts(flow, resumed)["final"] == 10


def test_resume_of_a_succeeded_run_clones_every_task(local_runs):
    flow = "LoopResumeFlow"
    origin, _ = local_runs.run(FLOWS / "loop_resume_flow.py", expect_exit=1)
    first = local_runs.cli("resume", str(FLOWS / "loop_resume_flow.py"), origin).stdout.strip().splitlines()[-1]
    second = local_runs.cli("resume", str(FLOWS / "loop_resume_flow.py"), first).stdout.strip().splitlines()[-1]
    for step in ("start", "loop_step", "exit_loop", "end"):
        assert local_runs.record(flow, second, step)["cloned_from"]["run_id"] == first, step
    assert len(_visits(local_runs, flow, second, "loop_step")) == 10
    assert local_runs.artifacts(flow, second)["final"] == 10


def test_resume_step_reruns_that_step_and_what_follows(local_runs):
    flow = "LoopResumeFlow"
    origin, _ = local_runs.run(FLOWS / "loop_resume_flow.py", expect_exit=1)
    first = local_runs.cli("resume", str(FLOWS / "loop_resume_flow.py"), origin).stdout.strip().splitlines()[-1]
    again = local_runs.cli("resume", str(FLOWS / "loop_resume_flow.py"), first, "--step", "exit_loop")
    again = again.stdout.strip().splitlines()[-1]
    assert local_runs.record(flow, again, "loop_step")["cloned_from"]["run_id"] == first
    for step in ("exit_loop", "end"):
        assert "cloned_from" not in local_runs.record(flow, again, step)
