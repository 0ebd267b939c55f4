"""A full production run without AWS.

moto executes our deployed state machine (opt-in), our test-support Batch
runner runs every submitted job's command (the runtime bootstrap) as a local
process against moto's S3 and DynamoDB, and the client API reads the results
from the deployed datastore.
"""

from __future__ import annotations

import os

import pytest

from sfncompile.deploy import operate

from .conftest import example, flow_file


def _execution_arn(result, run_id: str) -> str:
    return result.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + run_id


@pytest.fixture
def client_on(monkeypatch):
    def use(result):
        monkeypatch.setenv("SFNCOMPILE_DATASTORE", result.datastore_root)
        from sfncompile_runtime.client import namespace

        namespace(None)
    return use


def test_foreach_flow_runs_in_production(executing, client_on):
    cloud = executing
    result = cloud.deploy(example("hyperparameter_sweep"))
    run_id = operate.trigger(cloud.config, str(example("hyperparameter_sweep")), '{"alphas": "0.0,1.0,10.0"}')
    execution = cloud.wait(_execution_arn(result, run_id))
    assert execution["status"] == "SUCCEEDED", execution.get("cause")

    status = operate.status(cloud.config, f"HyperparameterSweepFlow/{run_id}")
    steps = {s.name: s for s in status["steps"]}
    assert status["status"] == "SUCCEEDED"
    assert set(steps) == {"start", "fit", "pick_best", "end"}
    # fit runs in a Distributed Map (child executions): counted from the datastore.
    assert steps["fit"].succeeded == 3 and steps["fit"].tasks_done == 3
    assert all(s.state == "succeeded" for s in steps.values())

    client_on(result)
    from sfncompile_runtime.client import Flow

    run = Flow("HyperparameterSweepFlow").latest_run
    assert run.id == run_id and run.successful
    assert sorted(t.data.alpha for t in run["fit"].tasks()) == [0.0, 1.0, 10.0]
    assert run.data.best_alpha in (0.0, 1.0, 10.0)
    assert f"production:{result.production_token}" in run.system_tags

    rows = operate.runs(cloud.config, "HyperparameterSweepFlow")
    assert rows == [{**rows[0], "run_id": run_id, "status": "SUCCEEDED"}]
    # Logs: the datastore first, CloudWatch (the Batch job's stream) as the fallback.
    stdout = operate.logs(cloud.config, f"HyperparameterSweepFlow/{run_id}/pick_best")
    assert stdout == run["pick_best"].task.stdout
    from sfncompile.deploy.operate import _cloudwatch_logs, find_deployment
    from sfncompile.deploy.aws import Clients

    clients = Clients.from_config(cloud.config)
    text = _cloudwatch_logs(clients, find_deployment(clients, "HyperparameterSweepFlow"), run_id, "end")
    assert "best alpha=" in text and "best alpha=" in run["end"].task.stdout


def test_switch_flow_runs_in_production(executing, client_on):
    cloud = executing
    result = cloud.deploy(example("route_by_size"))
    run_id = operate.trigger(cloud.config, str(example("route_by_size")), None)
    execution = cloud.wait(_execution_arn(result, run_id))
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    client_on(result)
    from sfncompile_runtime.client import Run

    run = Run(f"RouteBySizeFlow/{run_id}")
    assert run.successful
    taken = {s.id for s in run.steps()}
    assert "start" in taken and "end" in taken
    assert len({"process_small", "process_large"} & taken) == 1


def test_failed_production_run_is_resumed(executing, client_on, monkeypatch):
    cloud = executing
    flow = str(flow_file("flaky_flow"))
    result = cloud.deploy(flow)
    monkeypatch.setenv("SFNCOMPILE_TEST_FAIL_MIDDLE", "1")  # the jobs inherit it (local processes)
    failed_id = operate.trigger(cloud.config, flow, '{"size": 5}')
    assert cloud.wait(_execution_arn(result, failed_id))["status"] == "FAILED"
    status = operate.status(cloud.config, f"FlakyFlow/{failed_id}")
    states = {s.name: s.state for s in status["steps"]}
    assert states == {"start": "succeeded", "middle": "failed"}

    monkeypatch.delenv("SFNCOMPILE_TEST_FAIL_MIDDLE")
    resumed_id = operate.resume(cloud.config, flow, failed_id)
    assert cloud.wait(_execution_arn(result, resumed_id))["status"] == "SUCCEEDED"
    client_on(result)
    from sfncompile_runtime.client import Run

    run = Run(f"FlakyFlow/{resumed_id}")
    assert run.successful and run.origin_run_id == failed_id
    assert run.data.total == 10  # the origin's parameters (size=5) were reused
    # start was not run again: its task is cloned from the failed run.
    assert run["start"].task.origin_pathspec == f"FlakyFlow/{failed_id}/start/1"


def test_task_ids_are_unique_in_production(executing, client_on):
    """On Step Functions each Batch job and Map iteration computes its own task id, with no
    coordination: the same run-unique ids as a local run (issue 9)."""
    from tests.executor.test_task_ids import check_task_ids

    cloud = executing
    result = cloud.deploy(flow_file("task_ids_flow"))
    run_id = operate.trigger(cloud.config, str(flow_file("task_ids_flow")), None)
    execution = cloud.wait(_execution_arn(result, run_id))
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    client_on(result)
    from sfncompile_runtime.client import Run

    run = Run(f"TaskIdsFlow/{run_id}")
    assert run.successful
    check_task_ids(run)


def test_event_starts_a_run_with_parameters_from_the_event(executing, client_on):
    import json

    cloud = executing
    result = cloud.deploy(flow_file("triggered_flow"))
    cloud.client("events").put_events(Entries=[{
        "Source": "sfncompile", "DetailType": "data_ready",
        "Detail": json.dumps({"value": 0.25, "source": "nightly-export", "ignored": 1})}])
    sfn = cloud.client("stepfunctions")
    (execution,) = sfn.list_executions(stateMachineArn=result.state_machine_arn)["executions"]
    assert json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"]) == \
        {"parameters": {"alpha": 0.25, "label": "nightly-export"}}
    assert cloud.wait(execution["executionArn"])["status"] == "SUCCEEDED"
    client_on(result)
    from sfncompile_runtime.client import Run

    run = Run(f"TriggeredFlow/{execution['name']}")
    assert run.successful and run.data.result == 0.5
    # An event of another type starts nothing.
    cloud.client("events").put_events(Entries=[{"Source": "sfncompile", "DetailType": "other", "Detail": "{}"}])
    assert len(sfn.list_executions(stateMachineArn=result.state_machine_arn)["executions"]) == 1


def test_trigger_on_finish_runs_the_downstream_flow(executing, client_on):
    import json

    cloud = executing
    upstream = cloud.deploy(flow_file("triggered_flow"))
    downstream = cloud.deploy(flow_file("downstream_flow"))
    # Terminal-state notifications: subscribe a queue to the exit-hook topic.
    sqs, sns = cloud.client("sqs"), cloud.client("sns")
    queue_url = sqs.create_queue(QueueName="hooks")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    (topic,) = [t["TopicArn"] for t in sns.list_topics()["Topics"] if "downstream-flow-notifications" in t["TopicArn"]]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    cloud.client("events").put_events(Entries=[{"Source": "sfncompile", "DetailType": "data_ready",
                                               "Detail": json.dumps({"value": 1.5, "source": "x"})}])
    sfn = cloud.client("stepfunctions")
    (first,) = sfn.list_executions(stateMachineArn=upstream.state_machine_arn)["executions"]
    assert cloud.wait(first["executionArn"])["status"] == "SUCCEEDED"
    # Upstream's SUCCEEDED status-change event started the downstream flow on the same project branch.
    (second,) = sfn.list_executions(stateMachineArn=downstream.state_machine_arn)["executions"]
    assert cloud.wait(second["executionArn"])["status"] == "SUCCEEDED"
    client_on(downstream)
    from sfncompile_runtime.client import Run

    assert Run(f"DownstreamFlow/{second['name']}").successful
    # A successful run is not a failure notification (on_error only).
    assert "Messages" not in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0)
    # A run that fails (the runtime refuses an undeclared parameter) notifies the exit-hook topic.
    failing = sfn.start_execution(stateMachineArn=downstream.state_machine_arn, name="failing-run",
                                  input='{"parameters": {"undeclared": 1}}')
    assert cloud.wait(failing["executionArn"])["status"] == "FAILED"
    bodies = []
    for _ in range(50):  # the event is put by the execution's worker thread as it ends
        bodies += [json.loads(m["Body"])["Message"]
                   for m in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages", [])]
        if bodies:
            break
        import time

        time.sleep(0.2)
    assert len(bodies) == 1
    assert json.loads(bodies[0])["detail"] | {"input": None} == {
        "executionArn": failing["executionArn"], "stateMachineArn": downstream.state_machine_arn,
        "name": "failing-run", "status": "FAILED", "input": None}


def test_scheduled_flow_runs_with_its_schedule_input(executing, client_on):
    """moto's scheduler never fires; start the schedule's target with its input as EventBridge Scheduler does."""
    cloud = executing
    result = cloud.deploy(example("nightly_report"))
    schedule = cloud.client("scheduler").get_schedule(Name=result.deployment)
    assert (schedule["ScheduleExpression"], schedule["ScheduleExpressionTimezone"]) == \
        ("cron(30 3 * * ? *)", "Europe/Paris")
    sfn = cloud.client("stepfunctions")
    started = sfn.start_execution(stateMachineArn=schedule["Target"]["Arn"], name="scheduled-1",
                                  input=schedule["Target"]["Input"])
    assert cloud.wait(started["executionArn"])["status"] == "SUCCEEDED"
    client_on(result)
    from sfncompile_runtime.client import Run

    run = Run("NightlyReportFlow/scheduled-1")
    assert run.successful and run["start"].task.data.currency == "EUR"


def test_deployed_project_branch_and_configs_reach_triggered_runs(executing, client_on):
    """A deployment without --production runs on branch user.<deployer> (Metaflow's @project), with
    --production on prod; `trigger` gives its runs the project:/project_branch: system tags local
    runs have; a Config from the flow's own parser is compiled in at deploy time."""
    from sfncompile_runtime.client import Run

    cloud = executing
    flow = flow_file("project_config_flow")
    for options, branch in (({}, "user.tester"), ({"branch": "feature"}, "test.feature"),
                            ({"production": True}, "prod")):
        result = cloud.deploy(flow, **options)
        run_id = operate.trigger(cloud.config, str(flow), None, deployment=result.deployment)
        assert cloud.wait(_execution_arn(result, run_id))["status"] == "SUCCEEDED", branch
        client_on(result)
        run = Run(f"ProjectConfigFlow/{run_id}")
        data = run["start"].task.data
        assert (data.branch, data.is_production) == (branch, branch == "prod"), options
        assert data.project_flow_name == f"branchy.{branch}.ProjectConfigFlow"
        assert data.mode == "fast" and dict(data.setting) == {"mode": "fast"}
        assert {"project:branchy", f"project_branch:{branch}"} <= set(run.system_tags), run.system_tags
