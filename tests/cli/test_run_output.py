"""What `sfncompile run` prints: task output live on stderr with the task's pathspec, the run id as the
last stdout line, --quiet, --format json; the same with the default and warm-start task processes."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from sfncompile.cli.main import cli

FLOW = '''
import sys
from sfncompile import FlowSpec, Parameter, step

class PrintFlow(FlowSpec):
    fail = Parameter("fail", default=False)

    @step
    def start(self):
        self.items = [1, 2]
        print("starting with", self.items)
        self.next(self.each, foreach="items")

    @step
    def each(self):
        print("item", self.input)
        print("to stderr", self.input, file=sys.stderr)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        if self.fail:
            raise RuntimeError("failing on purpose")
        print("best", 42)
'''


@pytest.fixture
def flow(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SFNCOMPILE_DATASTORE", raising=False)
    (tmp_path / "print_flow.py").write_text(FLOW)
    return "print_flow.py"


def _run(*args):
    return CliRunner().invoke(cli, ["run", *args], catch_exceptions=False)


@pytest.mark.parametrize("mode", ["--no-warm-start", "--warm-start"])
def test_task_output_is_shown_prefixed_and_the_run_id_is_the_last_stdout_line(flow, mode):
    result = _run(flow, mode)
    assert result.exit_code == 0, result.output
    run_id = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"[0-9T]+-[0-9a-f]+", run_id)
    err = result.stderr
    assert re.search(rf"^\[PrintFlow/{run_id}/start/1 \(pid \d+\)\] starting with \[1, 2\]$", err, re.M)
    for i in (0, 1):  # stdout and stderr of each foreach task, each line with its own task
        assert re.search(rf"^\[PrintFlow/{run_id}/each/2\.{i} \(pid \d+\)\] item {i + 1}$", err, re.M)
        assert re.search(rf"^\[PrintFlow/{run_id}/each/2\.{i} \(pid \d+\)\] to stderr {i + 1}$", err, re.M)
    assert re.search(rf"^\[PrintFlow/{run_id}/end/4 \(pid \d+\)\] best 42$", err, re.M)
    assert "best 42" not in result.stdout  # stdout is for scripts: the run id


def test_quiet_hides_task_output(flow):
    result = _run(flow, "--quiet")
    assert result.exit_code == 0, result.output
    assert "best 42" not in result.output and "(pid " not in result.output
    assert result.stdout.strip().splitlines()[-1] in result.stderr  # the summary still names the run


def test_format_json_prints_one_object_on_stdout(flow):
    result = _run(flow, "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["flow"] == "PrintFlow" and summary["status"] == "SUCCEEDED" and summary["succeeded"] is True
    assert summary["pathspec"] == f"PrintFlow/{summary['run_id']}"
    assert summary["transitions"] > 0 and summary["history_events"] > summary["transitions"]
    assert summary["tasks"] == 5 and summary["failed_task"] is None
    assert set(summary["timings"]) >= {"load_graph", "compile", "package", "run"}
    assert "best 42" in result.stderr


def test_format_json_of_a_failed_run_and_of_its_resume(flow):
    failed = _run(flow, "--param", "fail=true", "--format", "json")
    assert failed.exit_code == 1
    summary = json.loads(failed.stdout)
    assert summary["succeeded"] is False and summary["status"] == "FAILED"
    assert summary["failed_task"] == f"PrintFlow/{summary['run_id']}/end/4"  # start 1, each 2, join 3, end 4
    assert "failing on purpose" in failed.stderr
    resumed = CliRunner().invoke(cli, ["resume", flow, summary["run_id"], "--format", "json"],
                                 catch_exceptions=False)
    # the origin's parameters are reused, so the end step fails again: still one JSON object
    again = json.loads(resumed.stdout)
    # Metaflow's cloning rule: nothing re-run by name; end runs again because it failed.
    assert again["origin_run_id"] == summary["run_id"] and again["rerun_steps"] == []
