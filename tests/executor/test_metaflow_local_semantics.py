"""Local runs behave as Metaflow's local runtime does where the state machine alone would
differ: retries at once, a foreach must fan out (and at most --max-num-splits wide), a task
that dies of a signal says so and keeps what it printed."""

from __future__ import annotations

from tests.executor.conftest import FLOWS


def test_retry_happens_at_once_locally(local_runs):
    # Default @retry waits 2 minutes per retry on AWS; before the fix this run hit its timeout.
    run_id, result = local_runs.run(FLOWS / "retry_default_flow.py", extra=("--timeout", "90"))
    assert local_runs.artifacts("RetryDefaultFlow", run_id, "flaky")["attempt_seen"] == 2


def test_retry_delays_option_waits_as_aws_will(monkeypatch):
    """--retry-delays: the interpreter waits each retrier's IntervalSeconds (recorded, not slept)."""
    from sfncompile.executor import Interpreter
    from sfncompile.executor.cancel import CancelToken
    from sfncompile.executor.errors import StatesError

    waits = []
    monkeypatch.setattr(CancelToken, "wait", lambda self, seconds: waits.append(seconds) or False)
    attempts = []

    def flaky(parameters, call):
        attempts.append(call.retry_count)
        if len(attempts) < 3:
            raise StatesError("States.TaskFailed", "boom")
        return {}

    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:test", "End": True,
        "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 120, "MaxAttempts": 3,
                   "BackoffRate": 1.0}]}}}
    assert Interpreter(definition, {"arn:test": flaky}).run({}).succeeded
    assert waits == [120, 120]
    waits.clear()
    attempts.clear()
    assert Interpreter(definition, {"arn:test": flaky}, retry_delays=False).run({}).succeeded
    assert waits == [0, 0] and attempts == [0, 1, 2]


def test_foreach_over_an_empty_list_fails_as_metaflow(local_runs):
    run_id, result = local_runs.run(FLOWS / "empty_foreach_flow.py", expect_exit=1)
    assert "Foreach iterator over *items* in step *start* produced zero splits. Check your variable." in result.stderr
    assert local_runs.record("EmptyForeachFlow", run_id, "join") is None


def test_max_num_splits_caps_a_foreach(local_runs):
    run_id, result = local_runs.run(FLOWS / "empty_foreach_flow.py", "n=101", expect_exit=1)
    assert "yielded 101 child steps which is more than the current maximum of 100 children" in result.stderr
    run_id, _ = local_runs.run(FLOWS / "empty_foreach_flow.py", "n=3", extra=("--max-num-splits", "3"))
    assert local_runs.artifacts("EmptyForeachFlow", run_id)["xs"] == [0, 1, 2]


def test_a_segfaulted_task_says_so_and_keeps_its_output(local_runs):
    run_id, result = local_runs.run(FLOWS / "segfault_flow.py", expect_exit=1)
    task = local_runs.client_run("SegfaultFlow", run_id)["end"].task
    assert "Crash and burn!" in task.stdout
    assert "segmentation fault" in task.stderr
    assert "segmentation fault" in result.stderr  # the run's failure summary shows it too


def test_catch_after_killed_attempts_stores_failure_handled_by_catch(local_runs):
    # Before: the fallback copied the killed attempt's own record (type "TaskKilled"), which
    # Metaflow never produces: its fallback attempt always raises FailureHandledByCatch.
    run_id, _ = local_runs.run(FLOWS / "killed_catch_flow.py")
    end = local_runs.artifacts("KilledCatchFlow", run_id, "end")
    assert end["ex_type"] == "metaflow.plugins.catch_decorator.FailureHandledByCatch"
    assert "Your code did not raise an exception" in end["ex_text"] and "SIGKILL" in end["ex_text"]
    doomed = local_runs.client_run("KilledCatchFlow", run_id)["doomed"].task
    # 1 attempt + 1 retry + the fallback, as Metaflow counts them
    assert sorted(m.value for m in doomed.metadata if m.type == "attempt") == ["0", "1", "2"]
    assert "attempt_seen" not in doomed.data  # the fallback runs no user code


def test_an_early_return_runs_until_taken(local_runs):
    # Before: `check` refused the flow (SFN133), though Metaflow runs it; when the path is
    # taken, the task must fail rather than the run going on without a transition.
    run_id, _ = local_runs.run(FLOWS / "early_return_flow.py")
    assert local_runs.artifacts("EarlyReturnFlow", run_id, "end")["seen"] == "start"
    _, result = local_runs.run(FLOWS / "early_return_flow.py", "bail=true", expect_exit=1)
    assert "self.next() was not called" in result.output + (result.stderr or "")
