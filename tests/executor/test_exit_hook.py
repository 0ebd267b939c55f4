"""@exit_hook end to end through `sfncompile run`: the compiled state machine calls the hooks."""

from __future__ import annotations

import json

from tests.executor.conftest import FLOWS
from tests.executor.test_local_runs import _cost_of_run

FLOW = FLOWS / "exit_hook_flow.py"
NAME = "ExitHookFlow"


def _markers(local_runs) -> dict:
    folder = local_runs.root / "hook-markers"
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")} if folder.exists() else {}


def _hook_record(local_runs, run_id: str, kind: str) -> dict:
    return local_runs.store(NAME).read_json(f"{NAME}/runs/{run_id}/exit_hook.{kind}/0/record.json")


def test_success_runs_the_success_hooks_and_costs_what_cost_predicts(local_runs):
    run_id, result = local_runs.run(FLOW)
    markers = _markers(local_runs)
    assert markers["success"] == {"pathspec": f"{NAME}/{run_id}", "successful": True}
    assert "no_arguments" in markers and "error" not in markers
    record = _hook_record(local_runs, run_id, "success")
    assert record["status"] == "ok"
    assert [(h["name"], h["status"]) for h in record["hooks"]] == [
        ("sometimes_broken", "ok"), ("notify_ok", "ok"), ("no_arguments", "ok")]
    log = (local_runs.root / NAME / "runs" / run_id / "exit_hook.success" / "0" / "stdout.log").read_text()
    assert f"ok {NAME}/{run_id}" in log and "exit hook notify_ok (on_success) ran" in log
    run = local_runs.client_run(NAME, run_id)
    assert run.successful and sorted(s.id for s in run.steps()) == ["end", "start"]
    transitions = int(result.stderr.split("state transitions: ")[1].split()[0])
    events = int(result.stderr.split("history events: ")[1].split()[0].rstrip(","))
    report = _cost_of_run(local_runs, FLOW, NAME, run_id)
    assert (transitions, events) == (report.transitions, report.parent_events)


def test_a_failing_hook_never_changes_the_outcome(local_runs, monkeypatch):
    monkeypatch.setenv("EXIT_HOOK_FLOW_BREAK", "1")
    run_id, result = local_runs.run(FLOW)
    assert "succeeded" in result.stderr
    assert _markers(local_runs)["success"]["successful"] is True  # the hooks after the broken one still ran
    record = _hook_record(local_runs, run_id, "success")
    assert record["status"] == "failed"
    assert record["hooks"][0] == {"name": "sometimes_broken", "status": "failed",
                                  "error": "RuntimeError: this hook is broken"}
    assert [h["status"] for h in record["hooks"][1:]] == ["ok", "ok"]
    assert "exit_hook.success" in result.stderr  # the progress names the hook job, not a step


def test_failure_runs_the_error_hook_and_the_run_keeps_the_steps_error(local_runs):
    run_id, result = local_runs.run(FLOW, "fail=true", expect_exit=1)
    markers = _markers(local_runs)
    assert markers["error"] == {"pathspec": f"{NAME}/{run_id}", "successful": False, "caught": "States.TaskFailed"}
    assert "success" not in markers
    assert _hook_record(local_runs, run_id, "error")["hooks"] == [{"name": "notify_failed", "status": "ok"}]
    # The failure is the step's: its task, its error and its log, not the hook job's.
    assert f"failed task: {NAME}/{run_id}/start/1" in result.stderr
    assert "error: States.TaskFailed" in result.stderr
    assert "start was told to fail" in result.stderr
    assert not local_runs.client_run(NAME, run_id).successful
