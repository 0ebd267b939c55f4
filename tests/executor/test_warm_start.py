"""--warm-start: tasks forked from a process that ran the bootstrap give the same results."""

from __future__ import annotations

import json
import os

import pytest

from sfncompile.executor.warm import supported
from tests.conftest import EXAMPLES
from tests.executor.conftest import FLOWS

pytestmark = pytest.mark.skipif(not supported(), reason="warm start needs Linux (pidfd_open, send_fds)")


def test_foreach_with_split_same_artifacts(local_runs):
    run_id, _ = local_runs.run(FLOWS / "shapes_flow.py", extra=["--warm-start"])
    assert local_runs.artifacts("ForeachSplitFlow", run_id)["pairs"] == [("a-left", "a-right"), ("b-left", "b-right")]
    # the task's output reached the datastore's log through the forked child
    assert local_runs.client_run("ForeachSplitFlow", run_id).successful


def test_retry_and_parameters(local_runs):
    run_id, _ = local_runs.run(FLOWS / "retry_flow.py", extra=["--warm-start"])
    flaky = local_runs.task_id("RetryOnceFlow", run_id, "flaky")
    assert local_runs.store("RetryOnceFlow").attempts(run_id, "flaky", flaky) == [0, 1]
    run_id, _ = local_runs.run(EXAMPLES / "train_evaluate.py", "n_samples=80", extra=["--warm-start"])
    assert local_runs.artifacts("TrainEvaluateFlow", run_id)["n_samples"] == 80


def test_timeout_kills_the_forked_task(local_runs):
    run_id, _ = local_runs.run(FLOWS / "catch_timeout_flow.py", extra=["--warm-start"])
    assert local_runs.artifacts("CatchTimeoutFlow", run_id)["caught"] is True


def test_failure_log_and_resume(local_runs, tmp_path):
    marker = tmp_path / "marker"
    origin, result = local_runs.run(FLOWS / "resumable_flow.py", f"marker={marker}", expect_exit=1,
                                    extra=["--warm-start"])
    assert "RuntimeError: marker" in result.stderr
    marker.write_text("")
    result = local_runs.cli("resume", str(FLOWS / "resumable_flow.py"), origin, "--warm-start")
    resumed = result.stdout.strip().splitlines()[-1]
    assert local_runs.record("ResumableFlow", resumed, "gather")["cloned_from"]["run_id"] == origin
    assert local_runs.artifacts("ResumableFlow", resumed)["final"] == 141


def _views(local_runs, mode):
    run_id, _ = local_runs.run(FLOWS / "process_view_flow.py", extra=[mode])
    data = local_runs.artifacts("ProcessViewFlow", run_id, step="join")
    return [json.loads(data["start_view"])] + [json.loads(v) for v in data["views"]]


def test_a_forked_task_sees_what_a_fresh_process_sees(local_runs):
    """Environment (@environment variables and the bootstrap's own included), sys.path, cwd,
    sys.argv, open file descriptors, signal handlers and mask, loaded user modules: the same
    in a task forked from the warm process as in a fresh process per task. Process ids and
    random states differ from task to task in both modes."""
    fresh = _views(local_runs, "--no-warm-start")
    warm = _views(local_runs, "--warm-start")
    for views in (fresh, warm):
        assert len({v["pid"] for v in views}) == len(views)
        assert len({v["random"] for v in views}) == len(views)
        assert views[0]["env"]["VIEW_VAR"] == "from-decorator"
        assert views[0]["env"]["SFNCOMPILE_PACKAGE_DIR"]
    # fresh: task processes are children of the executor (this process); warm: forked from the
    # warm process. Either way the step itself runs under its task's supervising process.
    assert {v["task_ppid"] for v in fresh} == {os.getpid()}
    assert os.getpid() not in {v["task_ppid"] for v in warm}
    for f, w in zip(fresh, warm):
        for key in ("env", "path", "cwd", "argv", "orig_argv", "fds", "handlers", "blocked", "user_modules"):
            assert w[key] == f[key], key
    # the per-task variables reach each task: its own index path
    assert [v["env"]["SFNCOMPILE_INDEX_PATH"] for v in warm[1:]] == \
        [v["env"]["SFNCOMPILE_INDEX_PATH"] for v in fresh[1:]]


def test_task_variables_never_reach_the_warm_process():
    from sfncompile.executor.batch import TASK_VARIABLES, warm_environment

    task = {"SFNCOMPILE_DATASTORE": "/d", "HOME": "/h", "VIEW_VAR": "x", "SFNCOMPILE_RUN_ID": "r1",
            "SFNCOMPILE_INDEX_PATH": "0"}
    env = warm_environment(task)
    assert env == {"SFNCOMPILE_DATASTORE": "/d", "HOME": "/h", "VIEW_VAR": "x"}
    assert not TASK_VARIABLES & set(env)


def _record_zygotes(monkeypatch):
    """(events in order, pids of the zygotes started), recorded as the run goes."""
    from sfncompile.executor import warm
    from sfncompile_runtime import datastore

    from sfncompile.backends import asl

    events, pids = [], []
    init, prestart, write = warm.Zygote.__init__, warm.ZygotePool.prestart, datastore.write_run_record
    compile_definition = asl.compile_definition

    def recording_compile(*args, **kwargs):
        events.append("compile")
        return compile_definition(*args, **kwargs)

    def recording_init(self, command, environment):
        init(self, command, environment)
        pids.append(self.process.pid)

    def recording_prestart(self, command, environment):
        events.append("prestart")
        return prestart(self, command, environment)

    def recording_write(*args, **kwargs):
        events.append("run record")
        return write(*args, **kwargs)

    monkeypatch.setattr(warm.Zygote, "__init__", recording_init)
    monkeypatch.setattr(warm.ZygotePool, "prestart", recording_prestart)
    monkeypatch.setattr(datastore, "write_run_record", recording_write)
    monkeypatch.setattr(asl, "compile_definition", recording_compile)
    return events, pids


def test_the_first_tasks_warm_process_starts_while_the_run_is_set_up(local_runs, monkeypatch):
    """The start step's warm process is started (on a thread) as soon as its job definition
    exists, before the state machine is compiled, and the start task is forked from that very
    process: not a second one started for it (the run's own prestart finds it started)."""
    events, pids = _record_zygotes(monkeypatch)
    run_id, _ = local_runs.run(FLOWS / "process_view_flow.py")
    assert events == ["prestart", "compile", "prestart", "run record"]
    start = json.loads(local_runs.artifacts("ProcessViewFlow", run_id, step="join")["start_view"])
    assert start["task_ppid"] == pids[0]
    assert len(pids) == len(set(pids)) == 2  # start (with its @environment) and the other steps: one each


def test_a_run_that_never_starts_leaves_no_warm_process(local_runs, monkeypatch):
    from sfncompile.executor import local_run
    from sfncompile.executor.errors import DefinitionError

    _, pids = _record_zygotes(monkeypatch)

    def refuse(*args, **kwargs):
        raise DefinitionError("refused by the test")

    monkeypatch.setattr(local_run, "Interpreter", refuse)
    result = local_runs.cli("run", str(FLOWS / "process_view_flow.py"), expect_exit=1)
    assert "refused by the test" in result.stderr
    assert len(pids) == 1  # the prestarted one, closed with the run that never was
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)


def test_a_flow_the_compile_refuses_leaves_no_warm_process(local_runs, monkeypatch):
    """The first zygote starts before the compile: a refused compile closes it."""
    from sfncompile.backends import asl
    from sfncompile.diagnostics import UserError

    _, pids = _record_zygotes(monkeypatch)

    def refuse(*args, **kwargs):
        raise UserError("limits refused by the test")

    monkeypatch.setattr(asl, "compile_definition", refuse)
    result = local_runs.cli("run", str(FLOWS / "process_view_flow.py"), expect_exit=1)
    assert "limits refused by the test" in result.stderr
    assert len(pids) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)


def test_the_environment_of_the_start_steps_task_is_its_state_machines():
    """What ``prepare`` prestarts with (``jobdefs.step_environment``) is what the start Task state
    sets besides the per-task variables: the zygote the first task asks for is the one started."""
    from sfncompile.backends.asl import compile_definition
    from sfncompile.backends.jobdefs import step_environment
    from sfncompile.executor.batch import TASK_VARIABLES
    from sfncompile.executor.local_run import _submit_request
    from sfncompile.pipeline import load_graph

    for path in [FLOWS / "process_view_flow.py", *sorted(EXAMPLES.glob("*.py"))]:
        graph = load_graph(path)
        request = _submit_request(compile_definition(graph), graph.start)
        static = {item["Name"]: item["Value"] for item in request["ContainerOverrides"]["Environment"]
                  if item["Name"] not in TASK_VARIABLES}
        assert static == step_environment(graph.steps[graph.start]), path.name
    assert step_environment(load_graph(FLOWS / "process_view_flow.py").steps["start"]) == {"VIEW_VAR": "from-decorator"}
