"""deploy / redeploy / update / dry run / delete / takeover, against the moto server."""

from __future__ import annotations

import json
import shutil

import pytest

from sfncompile.diagnostics import UserError

from .conftest import EXAMPLES, example

EXAMPLE_NAMES = sorted(p.stem for p in EXAMPLES.glob("*.py"))


def _stack_resources(cloud, stack: str) -> dict[str, dict]:
    cfn = cloud.client("cloudformation")
    return {r["LogicalResourceId"]: r for r in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]}


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_deploy_creates_every_resource(cloud, name):
    from sfncompile.backends.cdk.build import compile_flow

    result = cloud.deploy(example(name))
    build = compile_flow(example(name))
    flow = build.graph.name
    cfn = cloud.client("cloudformation")
    for stack in result.stacks:
        described = cfn.describe_stacks(StackName=stack.stack_name)["Stacks"][0]
        assert described["StackStatus"] == "CREATE_COMPLETE"
        template = json.loads(cfn.get_template(StackName=stack.stack_name)["TemplateBody"]) \
            if isinstance(cfn.get_template(StackName=stack.stack_name)["TemplateBody"], str) \
            else cfn.get_template(StackName=stack.stack_name)["TemplateBody"]
        # Every resource of the template exists in the stack.
        assert set(_stack_resources(cloud, stack.stack_name)) == set(template["Resources"])

    # Datastore bucket, code package, side-channel table, queue.
    bucket = result.datastore_root[len("s3://"):]
    s3 = cloud.client("s3")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    code_key = result.code_url.split(f"s3://{bucket}/", 1)[1]
    assert code_key.startswith(f"{flow}/code/") and s3.head_object(Bucket=bucket, Key=code_key)["ContentLength"] > 0
    table = cloud.client("dynamodb").describe_table(TableName="sfncompile-side-channel")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    batch = cloud.client("batch")
    (queue,) = batch.describe_job_queues(jobQueues=["sfncompile-fargate"])["jobQueues"]
    (env,) = batch.describe_compute_environments()["computeEnvironments"]
    assert env["computeResources"]["type"] == "FARGATE"

    # One job definition per resource spec, pointing at the uploaded package.
    jobdefs = [jd for jd in batch.describe_job_definitions(status="ACTIVE")["jobDefinitions"]
               if jd["jobDefinitionName"].startswith(result.deployment + "-")]
    assert len(jobdefs) == len(build.job_specs)
    for jd in jobdefs:
        env_vars = {e["name"]: e["value"] for e in jd["containerProperties"]["environment"]}
        assert env_vars["SFNCOMPILE_CODE_URL"] == result.code_url
        assert env_vars["SFNCOMPILE_PRODUCTION_TOKEN"] == result.production_token

    # The state machine is the compiled definition with the placeholders filled.
    sfn = cloud.client("stepfunctions")
    machine = sfn.describe_state_machine(stateMachineArn=result.state_machine_arn)
    definition = machine["definition"]
    assert "${" not in definition
    assert json.loads(definition)["StartAt"] == build.definition["StartAt"]
    assert queue["jobQueueArn"] in definition
    for jd in jobdefs:
        assert jd["jobDefinitionArn"] in definition

    # Roles, execution log group, schedule.
    resources = _stack_resources(cloud, result.deployment)
    iam = cloud.client("iam")
    roles = [r["PhysicalResourceId"] for r in resources.values() if r["ResourceType"] == "AWS::IAM::Role"]
    assert len(roles) >= 3
    for role in roles:
        iam.get_role(RoleName=role.split("/")[-1])
    groups = cloud.client("logs").describe_log_groups(logGroupNamePrefix="/aws/vendedlogs/states/")["logGroups"]
    assert [g for g in groups if g["logGroupName"].endswith(result.deployment)]
    if build.graph.decorator("schedule"):
        schedule = cloud.client("scheduler").get_schedule(Name=result.deployment)
        assert schedule["ScheduleExpressionTimezone"] == build.graph.decorator("schedule").args.get("timezone", "UTC")
        assert schedule["Target"]["Arn"] == result.state_machine_arn


def test_second_deploy_changes_nothing(cloud):
    first = cloud.deploy(example("train_evaluate"))
    cloud.lines.clear()
    second = cloud.deploy(example("train_evaluate"))
    assert [s.executed for s in second.stacks] == [False, False]
    assert all(not s.changes for s in second.stacks)
    assert second.state_machine_arn == first.state_machine_arn
    assert second.production_token == first.production_token
    assert any("already uploaded" in line for line in cloud.lines)
    assert sum("no changes" in line for line in cloud.lines) == 2
    # Nothing that shapes the templates changed: no synth at all.
    assert "templates unchanged since the last synth (cached)" in cloud.lines
    assert second.timings["synth"] < 1


def test_changed_step_updates_the_stack(cloud, tmp_path):
    flow = tmp_path / "train_evaluate.py"
    shutil.copy(example("train_evaluate"), flow)
    first = cloud.deploy(flow)
    flow.write_text(flow.read_text().replace('"""Fit', '"""Fit (changed)', 1) + "\n# a change\n")
    cloud.lines.clear()
    second = cloud.deploy(flow)
    flow_stack = second.stacks[-1]
    assert flow_stack.executed
    changed = {(c.action, c.resource_type) for c in flow_stack.changes}
    assert ("Modify", "AWS::Batch::JobDefinition") in changed
    assert second.code_url != first.code_url
    batch = cloud.client("batch")
    latest = {}
    for jd in batch.describe_job_definitions(status="ACTIVE")["jobDefinitions"]:
        if jd["revision"] > latest.get(jd["jobDefinitionName"], {"revision": 0})["revision"]:
            latest[jd["jobDefinitionName"]] = jd
    for jd in latest.values():
        assert jd["revision"] == 2
        env = {e["name"]: e["value"] for e in jd["containerProperties"]["environment"]}
        assert env["SFNCOMPILE_CODE_URL"] == second.code_url
    assert any(line.startswith("  ~ AWS::Batch::JobDefinition") for line in cloud.lines)


def test_dry_run_shows_changes_and_creates_nothing(cloud):
    result = cloud.deploy(example("train_evaluate"), dry_run=True)
    assert not any(s.executed for s in result.stacks)
    assert "  + AWS::StepFunctions::StateMachine StateMachine" in cloud.lines
    assert "  + AWS::Batch::JobQueue QueueFargate" in cloud.lines
    stacks = cloud.client("cloudformation").describe_stacks()["Stacks"]
    assert [s for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"] == []
    assert cloud.client("stepfunctions").list_state_machines()["stateMachines"] == []


def test_delete_removes_the_flow_stack_and_keeps_the_data(cloud):
    from sfncompile.deploy import operate

    result = cloud.deploy(example("train_evaluate"))
    deleted = operate.delete(cloud.config, str(example("train_evaluate")), echo=cloud.echo, yes=True)
    assert deleted == [result.deployment]
    assert cloud.client("stepfunctions").list_state_machines()["stateMachines"] == []
    active = cloud.client("batch").describe_job_definitions(status="ACTIVE")["jobDefinitions"]
    assert not [jd for jd in active if jd["jobDefinitionName"].startswith(result.deployment)]
    live = [s["StackName"] for s in cloud.client("cloudformation").describe_stacks()["Stacks"]
            if s["StackStatus"] != "DELETE_COMPLETE"]
    assert live == ["sfncompile-platform"]
    bucket = result.datastore_root[len("s3://"):]
    assert cloud.client("s3").head_object(Bucket=bucket, Key=result.code_url.split(bucket + "/", 1)[1])
    with pytest.raises(UserError, match="is not deployed"):
        operate.delete(cloud.config, "TrainEvaluateFlow", echo=cloud.echo, yes=True)


def test_taking_over_a_deployment_needs_its_token(cloud, tmp_path, monkeypatch):
    first = cloud.deploy(example("train_evaluate"))
    monkeypatch.setenv("SFNCOMPILE_HOME", str(tmp_path / "someone-else"))
    with pytest.raises(UserError, match="--authorize"):
        cloud.deploy(example("train_evaluate"), deployer="mallory")
    with pytest.raises(UserError, match="does not match"):
        cloud.deploy(example("train_evaluate"), deployer="mallory", authorize="wrong-token")
    taken = cloud.deploy(example("train_evaluate"), deployer="bob", authorize=first.production_token)
    assert taken.production_token == first.production_token
    # Bob now holds the token: no --authorize needed any more.
    assert cloud.deploy(example("train_evaluate"), deployer="bob").production_token == first.production_token


def test_project_branches_are_separate_deployments(cloud):
    from .conftest import flow_file

    mine = cloud.deploy(flow_file("triggered_flow"))
    prod = cloud.deploy(flow_file("triggered_flow"), production=True)
    assert mine.deployment == "sfncompile-demo-user-tester-triggered-flow"
    assert prod.deployment == "sfncompile-demo-prod-triggered-flow"
    assert mine.production_token != prod.production_token
    assert mine.datastore_root.endswith("/projects/demo/user.tester")
    assert prod.datastore_root.endswith("/projects/demo/prod")
    rules = cloud.client("events").list_rules()["Rules"]
    assert len([r for r in rules if "TriggerRule" in r["Name"] or "Trigger" in r.get("Description", "")]) == 2
    rule = next(r for r in rules if "triggered-flow" in r["Arn"] or "TriggeredFlow" in r.get("Description", ""))
    targets = cloud.client("events").list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert targets[0]["InputTransformer"]["InputPathsMap"] == {"p0": "$.detail.value", "p1": "$.detail.source"}


def test_ec2_spot_gpu_compute(cloud):
    result = cloud.deploy(example("train_evaluate"), compute=("ec2", "spot", "gpu"))
    batch = cloud.client("batch")
    kinds = {c["computeEnvironmentName"]: c["computeResources"]["type"]
             for c in batch.describe_compute_environments()["computeEnvironments"]}
    assert kinds == {"sfncompile-ec2": "EC2", "sfncompile-spot": "SPOT", "sfncompile-gpu": "EC2"}
    queues = {q["jobQueueName"] for q in batch.describe_job_queues()["jobQueues"]}
    assert queues == {"sfncompile-ec2", "sfncompile-spot", "sfncompile-gpu"}
    definition = cloud.client("stepfunctions").describe_state_machine(
        stateMachineArn=result.state_machine_arn)["definition"]
    assert ":job-queue/sfncompile-ec2" in definition  # the first kind runs the flow
    for jd in batch.describe_job_definitions(status="ACTIVE")["jobDefinitions"]:
        assert jd["platformCapabilities"] == ["EC2"]


def test_gpu_steps_go_to_the_gpu_queue(cloud, tmp_path):
    flow = tmp_path / "gpu_flow.py"
    flow.write_text(example("train_evaluate").read_text().replace("@resources(", "@resources(gpu=1, ", 1))
    assert "gpu=1" in flow.read_text()
    with pytest.raises(UserError, match="ask for GPUs.*--compute gpu"):
        cloud.deploy(flow, dry_run=True)
    result = cloud.deploy(flow, compute=("fargate", "gpu"))
    jobdefs = cloud.client("batch").describe_job_definitions(status="ACTIVE")["jobDefinitions"]
    gpu = [jd for jd in jobdefs if {"type": "GPU", "value": "1"} in jd["containerProperties"]["resourceRequirements"]]
    assert len(gpu) == 1 and gpu[0]["platformCapabilities"] == ["EC2"]
    assert {tuple(jd["platformCapabilities"]) for jd in jobdefs if jd not in gpu} == {("FARGATE",)}
    definition = json.loads(cloud.client("stepfunctions").describe_state_machine(
        stateMachineArn=result.state_machine_arn)["definition"])
    queues = {state["Parameters"]["JobQueue"] for state in definition["States"].values()
              if state.get("Resource", "").startswith("arn:aws:states:::batch")}
    assert {q.rsplit("/", 1)[1] for q in queues} == {"sfncompile-fargate", "sfncompile-gpu"}


def test_existing_roles_are_used_instead_of_created(cloud):
    iam = cloud.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    arns = {name: iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
            for name in ("team-job", "team-exec", "team-machine")}
    result = cloud.deploy(example("train_evaluate"), job_role_arn=arns["team-job"],
                          execution_role_arn=arns["team-exec"], state_machine_role_arn=arns["team-machine"])
    resources = _stack_resources(cloud, result.deployment)
    assert not [r for r in resources.values() if r["ResourceType"] in ("AWS::IAM::Role", "AWS::IAM::Policy")]
    for jd in cloud.client("batch").describe_job_definitions(status="ACTIVE")["jobDefinitions"]:
        assert jd["containerProperties"]["jobRoleArn"] == arns["team-job"]
        assert jd["containerProperties"]["executionRoleArn"] == arns["team-exec"]
    machine = cloud.client("stepfunctions").describe_state_machine(stateMachineArn=result.state_machine_arn)
    assert machine["roleArn"] == arns["team-machine"]


def test_large_templates_go_through_s3(cloud, monkeypatch):
    """Over CloudFormation's 51,200-byte inline limit the template is staged in the datastore bucket."""
    from sfncompile.deploy import stacks

    cloud.deploy(example("train_evaluate"))  # the platform (and its bucket) first
    monkeypatch.setattr(stacks, "TEMPLATE_BODY_LIMIT", 10_000)  # platform ~8 KB inline, the flow ~27 KB staged
    result = cloud.deploy(example("nightly_report"))
    assert result.stacks[-1].executed and result.state_machine_arn
    bucket = result.datastore_root[len("s3://"):]
    keys = [o["Key"] for o in cloud.client("s3").list_objects_v2(Bucket=bucket, Prefix="NightlyReportFlow/templates/")
            .get("Contents", [])]
    assert keys == ["NightlyReportFlow/templates/sfncompile-nightly-report-flow.json"]
