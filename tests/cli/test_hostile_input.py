"""Hostile input to `run`/`resume`: tags Metaflow refuses, a --run-id-file that cannot be written,
text that is not Unicode in a record. Refused before a run record exists (or the run ends as
failed), with one message; never a run that stays "running" forever."""

from __future__ import annotations

import json
import os

import pytest

from tests.executor.conftest import FLOWS, local_runs  # noqa: F401  (fixture)

FLOW = FLOWS / "total_flow.py"


@pytest.mark.parametrize("tag,words", [("a\udcffb", "UTF-8"), ("", "empty"), ("x" * 501, "too long")],
                         ids=["not-utf8", "empty", "too-long"])
def test_a_tag_metaflow_refuses_is_refused_before_the_run_exists(local_runs, tag, words):
    result = local_runs.cli("run", str(FLOW), "--tag", tag, expect_exit=1)
    assert words in result.output and "--tag" in result.output and "Traceback" not in result.output
    assert not (local_runs.root / "TotalFlow" / "runs").exists()


def test_a_run_id_file_in_a_missing_folder_is_refused_before_the_run_exists(local_runs, tmp_path):
    result = local_runs.cli("run", str(FLOW), "--run-id-file", str(tmp_path / "nope" / "id"), expect_exit=1)
    assert str(tmp_path / "nope") in result.output and "Traceback" not in result.output
    assert not (local_runs.root / "TotalFlow" / "runs").exists()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_run_id_file_that_fails_on_write_leaves_a_failed_run_not_a_running_one(local_runs):
    result = local_runs.cli("run", str(FLOW), "--run-id-file", "/dev/full", expect_exit=1)
    assert "/dev/full" in result.output and "Traceback" not in result.output
    (run_dir,) = (local_runs.root / "TotalFlow" / "runs").iterdir()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "FAILED"


def test_a_record_holding_text_that_is_not_unicode_is_skipped_and_every_page_renders(local_runs, capsys):
    from sfncompile.ui.server import App

    run_id, _ = local_runs.run(FLOW)
    record = local_runs.root / "TotalFlow" / "runs" / run_id / "run.json"
    content = json.loads(record.read_text())
    content["tags"] = ["a\udcffb"]  # json.dumps escapes it: valid JSON, invalid text
    record.write_text(json.dumps(content))
    app = App(str(local_runs.root))
    for path in ("/", "/TotalFlow", f"/TotalFlow/{run_id}", f"/TotalFlow/{run_id}/start/1"):
        assert app.handle(path, {})[0] == 200
    assert str(record) in capsys.readouterr().err
