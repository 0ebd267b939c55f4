"""End to end: every example and every shape runs through `sfncompile run` and the real parts
(front end, ASL emitter, job definitions, code package, runtime in local processes)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLES
from tests.executor.conftest import FLOWS

# example file -> (flow name, check of the end step's artifacts)
EXAMPLE_CHECKS = {
    "train_evaluate": ("TrainEvaluateFlow", lambda a: a["rmse"] < 1.5 and a["accepted"] is True
                       and abs(a["coef"]["slope"] - 3.0) < 0.5),
    "hyperparameter_sweep": ("HyperparameterSweepFlow", lambda a: a["best_error"] >= 0 and "best_alpha" in a),
    "nested_foreach": ("NestedForeachFlow", lambda a: len(a["winners"]) == 3
                       and all(a["winners"][d] in a["table"][d] for d in a["winners"])),
    "feature_branches": ("FeatureBranchesFlow", lambda a: len(a["features"]) > 0),
    "route_by_size": ("RouteBySizeFlow", lambda a: len(a["top_words"]) > 0),
    "retrain_until_good": ("RetrainUntilGoodFlow", lambda a: 1 <= a["iteration"] <= 6 and len(a["history"]) == a["iteration"]),
    "ab_test_segments": ("ABTestSegmentsFlow", lambda a: len(a["results"]) == 3
                         and all(r["winner"] in ("A", "B") for r in a["results"].values())),
    "churn_metaflow": ("ChurnScoringFlow", lambda a: isinstance(a["at_risk"], list)),
    "nightly_report": ("NightlyReportFlow", lambda a: a["report"].startswith("Orders report")),
}


def _side_channel_values(root, flow, run_id):
    """foreach widths and switch branches the run published (step -> value)."""
    from sfncompile_runtime.sidechannel import open_side_channel

    channel = open_side_channel("sqlite://" + str(root / "sidechannel.db"))
    rows = channel._db.execute("SELECT pk, item FROM items WHERE pk LIKE ?", (f"{flow}/{run_id}/%",)).fetchall()
    widths, branches = {}, {}
    for pk, item in rows:
        step = pk.split("/")[2]
        item = json.loads(item)
        if "width" in item:
            widths[step] = max(widths.get(step, 0), int(item["width"]["N"]))
        if "branch" in item:
            branches[step] = item["branch"]["S"]
    channel.close()
    return widths, branches


def _cost_of_run(local_runs, flow_path, flow, run_id, **extra):
    """The cost model's report for the widths/branches this run saw."""
    from sfncompile.backends.asl import compile_definition
    from sfncompile.backends.asl.cost import estimate
    from sfncompile.pipeline import load_graph

    widths, branches = _side_channel_values(local_runs.root, flow, run_id)
    return estimate(compile_definition(load_graph(str(flow_path))), widths=widths, branches=branches, **extra)


def _loop_round_tally(flow_path, choice_state):
    """The model's tally of one round of a switch loop: from the state the Choice jumps back to,
    following Next, up to and including the Choice."""
    from sfncompile.backends.asl import compile_definition
    from sfncompile.backends.asl.cost import CostContext, Tally, state_tally
    from sfncompile.pipeline import load_graph

    states = compile_definition(load_graph(str(flow_path)))["States"]
    choice = states[choice_state]
    order = list(states)
    name = next(r["Next"] for r in choice["Choices"] if order.index(r["Next"]) < order.index(choice_state))
    total = Tally()
    while True:
        total.add(state_tally(name, states[name], CostContext()))
        if name == choice_state:
            return total
        name = states[name]["Next"]


@pytest.mark.parametrize("example", sorted(EXAMPLE_CHECKS))
def test_example_runs_and_costs_what_cost_predicts(local_runs, example):
    flow, check = EXAMPLE_CHECKS[example]
    path = EXAMPLES / f"{example}.py"
    # A generous bound: a run that never ends (a switch loop gone wrong) fails instead of hanging.
    run_id, result = local_runs.run(path, extra=["--timeout", "240"])
    artifacts = local_runs.artifacts(flow, run_id)
    assert check(artifacts), {k: v for k, v in artifacts.items() if not k.endswith("rows")}
    run = local_runs.client_run(flow, run_id)
    assert run.successful and run.finished_at is not None
    # The run reports its billable transitions and history events; `sfncompile cost` predicts them.
    transitions = int(result.stderr.split("state transitions: ")[1].split()[0])
    events = int(result.stderr.split("history events: ")[1].split()[0].rstrip(","))
    report = _cost_of_run(local_runs, path, flow, run_id)
    if example == "retrain_until_good":
        # The loop ran `iteration` rounds; the model is told so.
        report = _cost_of_run(local_runs, path, flow, run_id, rounds={"evaluate": artifacts["iteration"]})
        assert artifacts["iteration"] > 1  # the loop really looped
        assert (transitions, events) == (report.transitions, report.parent_events)
        # ...and agrees with one pass of the model plus the loop body per extra round.
        per_round = _loop_round_tally(path, "evaluate.choice")
        single = _cost_of_run(local_runs, path, flow, run_id)
        extra = artifacts["iteration"] - 1
        assert (transitions, events) == (single.transitions + extra * per_round.transitions,
                                         single.parent_events + extra * per_round.events)
    else:
        assert (transitions, events) == (report.transitions, report.parent_events)
        children = 0
        largest = 0
        if "child executions" in result.stderr:
            tail = result.stderr.split("history events: ")[1]
            children = int(tail.split("(+ ")[1].split()[0])
            largest = int(tail.split("the largest with ")[1].split()[0])
        assert (children, largest) == (report.child_executions, report.child_events_max)


def test_foreach_with_split_inside(local_runs):
    run_id, _ = local_runs.run(FLOWS / "shapes_flow.py")
    artifacts = local_runs.artifacts("ForeachSplitFlow", run_id)
    assert artifacts["pairs"] == [("a-left", "a-right"), ("b-left", "b-right")]
    for index in ("0", "1"):
        assert local_runs.record("ForeachSplitFlow", run_id, "left", index)["status"] == "ok"


def test_retry_fails_once_then_succeeds(local_runs):
    run_id, result = local_runs.run(FLOWS / "retry_flow.py")
    store = local_runs.store("RetryOnceFlow")
    flaky = local_runs.task_id("RetryOnceFlow", run_id, "flaky")
    assert store.attempts(run_id, "flaky", flaky) == [0, 1]
    assert store.attempt_record(run_id, "flaky", flaky, 0)["status"] != "ok"
    assert local_runs.artifacts("RetryOnceFlow", run_id, "flaky")["attempt_seen"] == 1
    assert local_runs.artifacts("RetryOnceFlow", run_id)["done"] is True


def test_catch_a_task_killed_by_its_timeout(local_runs):
    run_id, _ = local_runs.run(FLOWS / "catch_timeout_flow.py")
    artifacts = local_runs.artifacts("CatchTimeoutFlow", run_id)
    assert artifacts["caught"] is True
    assert "imeout" in artifacts["failure_text"]
    assert "finished" not in local_runs.artifacts("CatchTimeoutFlow", run_id, "slow")


def test_bad_parameter_is_one_line_before_anything_runs(local_runs):
    result = local_runs.cli("run", str(EXAMPLES / "train_evaluate.py"), "--param", "n_samples=many", expect_exit=1)
    assert result.stderr.strip().splitlines() == ["error: parameter 'n_samples' expects an integer, got 'many'"]
    assert not (local_runs.root / "TrainEvaluateFlow" / "runs").exists()
    result = local_runs.cli("run", str(EXAMPLES / "train_evaluate.py"), "--param", "nope=1", expect_exit=1)
    assert "has no parameter 'nope'" in result.stderr


def test_parameters_reach_the_flow(local_runs):
    run_id, _ = local_runs.run(EXAMPLES / "train_evaluate.py", "n_samples=80", "model_name=tiny")
    artifacts = local_runs.artifacts("TrainEvaluateFlow", run_id)
    assert artifacts["n_samples"] == 80 and artifacts["model_name"] == "tiny"


def test_failing_run_then_resume_reuses_finished_tasks(local_runs, tmp_path):
    marker = tmp_path / "marker"
    flow = "ResumableFlow"
    origin, result = local_runs.run(FLOWS / "resumable_flow.py", f"marker={marker}", expect_exit=1)
    err = result.stderr
    assert f"failed task: {flow}/{origin}/fit/4" in err  # start 1, square 2, gather 3, fit 4
    assert "RuntimeError: marker" in err  # the last lines of its log
    assert local_runs.record(flow, origin, "fit") is None

    marker.write_text("now it exists")
    result = local_runs.cli("resume", str(FLOWS / "resumable_flow.py"), origin)
    resumed = result.stdout.strip().splitlines()[-1]
    assert resumed != origin
    for step, task in [("start", ""), ("square", "0"), ("square", "1"), ("square", "2"), ("gather", "")]:
        record = local_runs.record(flow, resumed, step, task)
        assert record["cloned_from"]["run_id"] == origin, (step, task)
        # the same blobs, not recomputed
        assert record["artifacts"] == {**local_runs.record(flow, origin, step, task)["artifacts"],
                                       **{k: v for k, v in record["artifacts"].items()
                                          if k not in local_runs.record(flow, origin, step, task)["artifacts"]}}
    for step in ("fit", "end"):
        assert "cloned_from" not in local_runs.record(flow, resumed, step)
    assert local_runs.artifacts(flow, resumed)["final"] == (1 + 4 + 9) * 10 + 1
    run_record = local_runs.store(flow).read_run(resumed)
    # Without a step, nothing is re-run by name: each task clones what succeeded (Metaflow's rule).
    assert run_record["origin_run_id"] == origin and run_record["rerun_steps"] == []


def test_unknown_resource_is_one_line(local_runs, monkeypatch):
    """A definition with a service the local executor cannot emulate fails before anything runs."""
    import sfncompile.backends.asl as asl

    real = asl.compile_definition

    def with_sqs(graph, options=None):
        definition = real(graph, options)
        first = definition["StartAt"]
        definition["States"] = {"Notify": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                                           "Parameters": {"QueueUrl": "q", "MessageBody": "hi"}, "Next": first},
                                **definition["States"]}
        definition["StartAt"] = "Notify"
        return definition

    monkeypatch.setattr(asl, "compile_definition", with_sqs)
    result = local_runs.cli("run", str(FLOWS / "retry_flow.py"), expect_exit=1)
    assert result.stderr.strip().splitlines() == [
        "error: cannot run RetryOnceFlow locally: state 'Notify': resource 'arn:aws:states:::sqs:sendMessage' "
        "has no local equivalent (supported: arn:aws:states:::batch:submitJob.sync, "
        "arn:aws:states:::dynamodb:getItem, arn:aws:states:::dynamodb:putItem, "
        "arn:aws:states:::dynamodb:updateItem, arn:aws:states:::s3:getObject)"]


def test_second_run_reuses_the_cached_graph_and_package(local_runs, monkeypatch):
    """An unchanged flow is not parsed, linted or packaged again; a changed one is."""
    import sfncompile.package
    import sfncompile.pipeline
    from sfncompile.executor.local_run import prepare

    calls = []
    real_load, real_build = sfncompile.pipeline.load_graph, sfncompile.package.build_code_package
    monkeypatch.setattr(sfncompile.pipeline, "load_graph", lambda *a, **k: calls.append("load") or real_load(*a, **k))
    monkeypatch.setattr(sfncompile.package, "build_code_package",
                        lambda *a, **k: calls.append("build") or real_build(*a, **k))

    flow = local_runs.root.parent / "flow" / "linear.py"
    flow.parent.mkdir()
    flow.write_text((FLOWS / "retry_flow.py").read_text())
    first = prepare(flow, datastore=str(local_runs.root))
    assert calls == ["load", "build"]
    second = prepare(flow, datastore=str(local_runs.root))
    assert calls == ["load", "build"]  # nothing parsed or packaged again
    assert second.code_sha256 == first.code_sha256
    assert second.definition == first.definition
    flow.write_text(flow.read_text().replace("self.done = True", "self.done = 'changed'"))
    third = prepare(flow, datastore=str(local_runs.root))
    assert calls == ["load", "build"] * 2
    assert third.code_sha256 != first.code_sha256


def test_resume_from_a_named_step_of_a_successful_run(local_runs, tmp_path):
    marker = tmp_path / "marker"
    marker.write_text("")
    flow = "ResumableFlow"
    origin, _ = local_runs.run(FLOWS / "resumable_flow.py", f"marker={marker}")
    result = local_runs.cli("resume", str(FLOWS / "resumable_flow.py"), "--step", "gather")
    resumed = result.stdout.strip().splitlines()[-1]
    assert f"resuming {flow}/{origin}: re-running from step 'gather'" in result.stderr  # the latest run: default origin
    for step, task in [("start", ""), ("square", "1")]:
        assert local_runs.record(flow, resumed, step, task)["cloned_from"]["run_id"] == origin
    for step in ("gather", "fit", "end"):
        assert "cloned_from" not in local_runs.record(flow, resumed, step)
    assert local_runs.client_run(flow, resumed).origin_run_id == origin
    result = local_runs.cli("resume", str(FLOWS / "resumable_flow.py"), origin, "--step", "nope", expect_exit=1)
    assert "has no step 'nope'" in result.stderr
