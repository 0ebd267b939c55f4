"""runs / status / logs on local runs: by default the datastore in the current directory, with the
pathspecs a deployed flow takes (Flow/RUN_ID, Flow/RUN_ID/step[/task])."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sfncompile.cli.main import cli

FLOW = '''
import sys
from sfncompile import FlowSpec, Parameter, step

class InspectFlow(FlowSpec):
    fail = Parameter("fail", default=False)

    @step
    def start(self):
        self.items = ["a", "b"]
        self.next(self.each, foreach="items")

    @step
    def each(self):
        print("working on", self.input)
        print("warning about", self.input, file=sys.stderr)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        if self.fail:
            raise ValueError("the end is broken")
        print("done")
'''


def cli_run(*args, expect=0):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == expect, result.output
    return result


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder with one successful and one failed run, in ./.sfncompile (the default)."""
    folder = tmp_path_factory.mktemp("project")
    (folder / "inspect_flow.py").write_text(FLOW)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.delenv("SFNCOMPILE_DATASTORE", raising=False)
        ok = cli_run("run", "inspect_flow.py", "-q").stdout.strip().splitlines()[-1]
        failed = cli_run("run", "inspect_flow.py", "-q", "--param", "fail=yes", expect=1).stdout.strip().splitlines()[-1]
    assert (folder / ".sfncompile" / "InspectFlow" / "runs" / ok).is_dir()
    return folder, ok, failed


@pytest.fixture
def here(project, monkeypatch):
    folder, ok, failed = project
    monkeypatch.chdir(folder)
    monkeypatch.delenv("SFNCOMPILE_DATASTORE", raising=False)
    return ok, failed


def test_runs_lists_local_runs_newest_first_with_their_outcome(here):
    ok, failed = here
    rows = json.loads(cli_run("runs", "InspectFlow", "--json").stdout)
    assert [(r["run_id"], r["status"]) for r in rows] == [(failed, "FAILED"), (ok, "SUCCEEDED")]
    assert all(r["started"] and r["stopped"] for r in rows)
    text = cli_run("runs", "inspect_flow.py").stdout.splitlines()  # a flow file works too
    assert text[0].split()[:2] == [failed, "FAILED"] and text[1].split()[:2] == [ok, "SUCCEEDED"]


def test_status_of_a_local_run_per_step(here):
    ok, failed = here
    out = cli_run("status", f"InspectFlow/{ok}").stdout
    assert out.startswith(f"InspectFlow/{ok}: SUCCEEDED (started ")
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [
        ["start", "succeeded"], ["each", "succeeded"], ["join", "succeeded"], ["end", "succeeded"]]
    info = json.loads(cli_run("status", f"InspectFlow/{failed}", "--json").stdout)
    assert info["status"] == "FAILED"
    assert {s["name"]: s["state"] for s in info["steps"]}["end"] == "failed"
    # the exception type as Metaflow names it (the task's exception record)
    assert info["error"] == "builtins.ValueError" and "the end is broken" in info["cause"]
    assert f"InspectFlow/{failed}/end/4" in info["cause"]  # start 1, each 2, join 3, end 4


def test_logs_of_a_task_and_of_every_task_of_a_step(here):
    ok, _ = here
    assert cli_run("logs", f"InspectFlow/{ok}/end").stdout == "done\n"
    assert cli_run("logs", f"InspectFlow/{ok}/each/2.1").stdout == "working on b\n"
    assert cli_run("logs", f"InspectFlow/{ok}/each/2.0", "--stderr").stdout == "warning about a\n"
    both = cli_run("logs", f"InspectFlow/{ok}/each").stdout
    assert both == (f"== InspectFlow/{ok}/each/2.0\nworking on a\n== InspectFlow/{ok}/each/2.1\nworking on b\n")


def test_another_datastore_is_read_with_the_flag_or_the_environment(project, tmp_path, monkeypatch):
    folder, ok, _ = project
    monkeypatch.chdir(tmp_path)  # no runs here
    monkeypatch.delenv("SFNCOMPILE_DATASTORE", raising=False)
    missing = cli_run("runs", "InspectFlow", expect=1)
    assert "no runs of InspectFlow in the datastore" in missing.stderr and "--deployed" in missing.stderr
    assert ok in cli_run("runs", "InspectFlow", "--datastore", str(folder / ".sfncompile")).stdout
    monkeypatch.setenv("SFNCOMPILE_DATASTORE", str(folder / ".sfncompile"))
    assert cli_run("logs", f"InspectFlow/{ok}/end").stdout == "done\n"


@pytest.mark.parametrize("args, message", [
    (["status", "InspectFlow/nope"], "no run InspectFlow/nope in the datastore"),
    (["status", "InspectFlow"], "give the run as FlowName/RUN_ID"),
    (["logs", "InspectFlow/RUN/step/0/extra"], "give Flow/RUN_ID/step[/task_id]"),
])
def test_mistakes_are_one_line(here, args, message):
    result = cli_run(*args, expect=1)
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_unknown_steps_and_tasks_are_named(here):
    ok, _ = here
    assert "has no step 'nope' (steps: each, end, join, start)" in cli_run(
        "logs", f"InspectFlow/{ok}/nope", expect=1).stderr
    assert "has no task '7'" in cli_run("logs", f"InspectFlow/{ok}/each/7", expect=1).stderr
