"""The UI's model: a run's status from its records."""

from __future__ import annotations

import json

from sfncompile.ui.model import Model


def _write(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


def _run_with_a_cancelled_item(root, run_status):
    """A foreach whose item 1 failed while item 2 was still going: item 2 has started.json only."""
    run = root / "F" / "runs" / "r1"
    _write(run / "run.json", {"flow": "F", "run_id": "r1", "created_at": 1.0, **run_status})
    _write(run / "start" / "1" / "0" / "record.json", {"status": "ok", "started_at": 1.0, "finished_at": 2.0})
    _write(run / "work" / "2.1" / "0" / "record.json", {"status": "failed", "started_at": 2.0, "finished_at": 3.0})
    _write(run / "work" / "2.2" / "0" / "started.json", {"attempt": 0, "started_at": 2.0, "index_path": "2"})


def test_a_run_recorded_as_failed_is_not_running_for_a_task_it_cancelled(tmp_path):
    _run_with_a_cancelled_item(tmp_path, {"status": "FAILED", "finished_at": 4.0})
    summary = Model(str(tmp_path)).run_summary("F", "r1")
    assert summary.status == "failed"
    assert [t.task_id for t in summary.steps["work"]] == ["2.1", "2.2"]


def test_without_a_recorded_outcome_a_task_without_record_is_still_running(tmp_path):
    _run_with_a_cancelled_item(tmp_path, {})
    assert Model(str(tmp_path)).run_summary("F", "r1").status == "running"
