"""The progress view (live and plain) and --param parsing, without running a flow."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest

from sfncompile.diagnostics import UserError
from sfncompile.executor.parameters import parse_parameters
from sfncompile.executor.progress import Progress


def _event(progress, kind, step, index=""):
    record = SimpleNamespace(started_at=1.0, stopped_at=1.5)
    progress.on_job_event(kind, {"parameters": {"step": step}, "environment": {"SFNCOMPILE_INDEX_PATH": index},
                                 "record": record})


def test_plain_progress_prints_one_line_per_finished_task():
    out = io.StringIO()
    progress = Progress("F", "r1", ["start", "work", "end"], step_numbers={"start": 1, "work": 2, "end": 3},
                        stream=out, live=False)
    progress.start()
    _event(progress, "started", "start")
    _event(progress, "succeeded", "start")
    _event(progress, "started", "work", "3")
    _event(progress, "failed", "work", "3")
    progress.stop()
    lines = out.getvalue().splitlines()
    assert lines[0] == "F run r1"
    assert lines[1].endswith("ok     F/r1/start/1 (0.5s)")
    assert lines[2].endswith("FAILED F/r1/work/2.3 (0.5s)")  # work is step 2, item 3
    assert "\x1b" not in out.getvalue()


def test_live_progress_counts_tasks_per_foreach_step():
    out = io.StringIO()
    progress = Progress("F", "r1", ["start", "work", "join"], step_numbers={"start": 1, "work": 2, "join": 3},
                        foreach_steps={"work"}, stream=out, live=True,
                        interval=3600)
    _event(progress, "started", "start")
    _event(progress, "succeeded", "start")
    for i in range(4):
        _event(progress, "started", "work", str(i))
    _event(progress, "succeeded", "work", "0")
    _event(progress, "failed", "work", "1")
    lines = progress.lines()
    assert lines[0].split() == ["start", "done"]
    assert lines[1].split() == ["work", "failed", "1/4", "tasks", "2", "running,", "1", "failed"]
    assert lines[2].split() == ["join", "waiting"]
    progress._draw()
    progress._draw()
    assert "\x1b[4F" in out.getvalue()  # the second frame redraws over the first


def graph(*params):
    return SimpleNamespace(name="G", parameters=list(params), steps={})


def param(name, type_, default=None, required=False, separator=None):
    return SimpleNamespace(name=name, attr=name, type=type_, default=default, has_default=default is not None,
                           required=required, separator=separator)


def test_parameters_are_typed():
    g = graph(param("n", "int", 1), param("rate", "float", 0.1), param("flag", "bool", True),
              param("cfg", "json", "{}"), param("name", "str", "x"), param("ids", "int", "1", separator=","))
    values = parse_parameters(g, ["n=3", "rate=2", "flag=no", 'cfg={"a": [1]}', "name=a=b", "ids=1, 2"])
    assert values == {"n": 3, "rate": 2.0, "flag": False, "cfg": {"a": [1]}, "name": "a=b", "ids": "1, 2"}
    assert json.dumps(values)  # the execution input is JSON


def test_parameters_too_large_for_the_state_machine_are_refused_before_the_run():
    with pytest.raises(UserError, match="container overrides"):
        parse_parameters(graph(param("blob", "str", "")), ["blob=" + "x" * 8000])


@pytest.mark.parametrize("given, message", [
    (["n=x"], "parameter 'n' expects an integer, got 'x'"),
    (["flag=maybe"], "parameter 'flag' expects true or false, got 'maybe'"),
    (["cfg={"], "parameter 'cfg' expects JSON"),
    (["nope=1"], "flow G has no parameter 'nope' (parameters: cfg, flag, n, need)"),
    (["n"], "--param expects NAME=VALUE, got 'n'"),
    (["n=1", "n=2"], "parameter 'n' is given twice"),
    ([], "missing required parameter(s): need"),
])
def test_bad_parameters_are_one_clear_line(given, message):
    g = graph(param("n", "int", 1), param("flag", "bool", True), param("cfg", "json", "{}"),
              param("need", "str", required=True))
    if given != [] and "need" not in " ".join(given):
        given = given + ["need=1"] if not given[0].startswith("n=1") else given
    with pytest.raises(UserError) as caught:
        parse_parameters(g, given)
    assert caught.value.message.startswith(message)


def test_include_file_sends_the_text(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    assert parse_parameters(graph(param("data", "file")), [f"data={path}"]) == {"data": "a,b\n1,2\n"}
    with pytest.raises(UserError, match="cannot be read"):
        parse_parameters(graph(param("data", "file")), [f"data={tmp_path / 'missing'}"])


def test_each_visit_of_a_loop_step_shows_its_own_task_id():
    """A job that is no retry and no @catch fallback starts a new visit (``<id>-<k>``), as the
    task numbers its visits in the datastore; a retry stays on its visit."""
    out = io.StringIO()
    progress = Progress("F", "r1", ["start", "loop"], step_numbers={"start": 1, "loop": 2}, stream=out, live=False)

    def event(kind, job, retry="0", mode="step", **extra):
        progress.on_job_event(kind, {"job_id": job, "parameters": {"step": "loop", "mode": mode},
                                     "environment": {"SFNCOMPILE_INDEX_PATH": "", "SFNCOMPILE_RETRY_COUNT": retry},
                                     **extra})

    for job, retry, mode, outcome in (("j1", "0", "step", "succeeded"), ("j2", "0", "step", "failed"),
                                      ("j3", "1", "step", "failed"), ("j4", "1", "fallback", "succeeded"),
                                      ("j5", "0", "step", "succeeded")):
        event("started", job, retry, mode)
        event("log", job, retry, mode, line=f"from {job}")
        event(outcome, job, retry, mode)
    lines = out.getvalue().splitlines()
    assert [line.split()[-2] for line in lines if "(pid" not in line and line.startswith("[ ")] == [
        "F/r1/loop/2", "F/r1/loop/2-1", "F/r1/loop/2-1", "F/r1/loop/2-1", "F/r1/loop/2-2"]
    assert [line for line in lines if line.startswith("[F/")] == [
        "[F/r1/loop/2] from j1", "[F/r1/loop/2-1] from j2", "[F/r1/loop/2-1] from j3", "[F/r1/loop/2-1] from j4",
        "[F/r1/loop/2-2] from j5"]


def _log(progress, step, line, index="", pid=None):
    progress.on_job_event("log", {"parameters": {"step": step}, "environment": {"SFNCOMPILE_INDEX_PATH": index},
                                  "line": line, "pid": pid})


def test_task_output_is_prefixed_with_the_task_pathspec_and_pid():
    out = io.StringIO()
    progress = Progress("F", "r1", ["start", "work"], step_numbers={"start": 1, "work": 2}, stream=out, live=False)
    _log(progress, "start", "hello", pid=4321)
    _log(progress, "work", "remote line", index="2")  # a remote Batch job's log: no local pid
    assert out.getvalue().splitlines() == ["[F/r1/start/1 (pid 4321)] hello", "[F/r1/work/2.2] remote line"]


def test_quiet_progress_shows_no_task_output_nor_task_lines():
    out = io.StringIO()
    progress = Progress("F", "r1", ["start"], step_numbers={"start": 1}, stream=out, live=False, show_output=False)
    _event(progress, "started", "start")
    _log(progress, "start", "hello", pid=1)
    _event(progress, "succeeded", "start")
    assert out.getvalue() == ""


def test_live_view_prints_task_output_above_the_block_and_redraws_it():
    out = io.StringIO()
    progress = Progress("F", "r1", ["start", "end"], step_numbers={"start": 1, "end": 2}, stream=out, live=True,
                        interval=3600)
    _event(progress, "started", "start")
    progress._draw()  # the block: 2 steps + the elapsed line
    _log(progress, "start", "hello", pid=7)
    progress._draw()
    text = out.getvalue()
    first_block, rest = text.split("\x1b[3F\x1b[J", 1)  # the block is erased before the line ...
    assert rest.startswith("[F/r1/start/1 (pid 7)] hello\n")
    assert rest.count("start  running") == 1  # ... and drawn again below it
    assert "\x1b[" not in rest.split("\n", 1)[0]


DEFAULTS_FLOW = '''
import os
from metaflow import Config, FlowSpec, JSONType, Parameter, step

def from_configs(ctx):
    return {{"pid": os.getpid(), "n": ctx.configs.cfg.n + 1, "name": ctx.parameter_name}}

def broken(ctx):
    return {{"a": 1}}["missing"]

class DefaultsFlow(FlowSpec):
    cfg = Config("cfg", default_value={{"n": 41}})
    info = Parameter("info", default=from_configs, type=JSONType)
    {extra}

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_function_defaults_run_in_a_child_process_with_the_configs(tmp_path, monkeypatch):
    """Metaflow's launcher evaluates them; so does a child process importing the flow (frontend.launch):
    none of the user's code runs in the process that compiles and launches."""
    import os

    from sfncompile.pipeline import load_graph

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "defaults_flow.py"
    path.write_text(DEFAULTS_FLOW.format(extra=""))
    graph = load_graph(str(path))
    values = parse_parameters(graph, [], flow_path=path, root=None)
    assert values["info"]["n"] == 42 and values["info"]["name"] == "info"
    assert values["info"]["pid"] != os.getpid()

    path.write_text(DEFAULTS_FLOW.format(extra='broken = Parameter("broken", default=broken)'))
    graph = load_graph(str(path))
    with pytest.raises(UserError) as failure:
        parse_parameters(graph, [], flow_path=path, root=None)
    message = failure.value.message
    assert message.startswith(f"{path}:14: the default of parameter 'broken' raised KeyError: 'missing'")
    assert f'File "{path}", line 9, in broken' in message  # the user's frame, none of ours
    assert "sfncompile_runtime" not in message
