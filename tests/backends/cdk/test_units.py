"""Pure parts of the CDK back end (no synth)."""

from __future__ import annotations

import pytest

from sfncompile.backends.cdk.definition_uses import definition_uses
from sfncompile.backends.cdk.flow_stack import schedule_expression
from sfncompile.backends.cdk.jobspec import fargate_size, normalize
from sfncompile.backends.cdk.settings import FlowSettings, PlatformSettings, deployment_name, kebab
from sfncompile.diagnostics import UserError


@pytest.mark.parametrize("asked, valid", [
    ((1, 4096), (1, 4096)), ((1, 1024), (1, 2048)), ((0.25, 256), (0.25, 512)), ((2, 3000), (2, 4096)),
    ((3, 8192), (4, 8192)), ((16, 122880), (16, 122880)),
])
def test_fargate_sizes_round_up_to_a_valid_combination(asked, valid):
    assert fargate_size(*asked) == valid


def test_fargate_refuses_what_it_cannot_run():
    with pytest.raises(ValueError, match="EC2 compute environment"):
        fargate_size(32, 4096)


def test_names():
    assert kebab("HyperparameterSweepFlow") == "hyperparameter-sweep-flow"
    assert kebab("ABTestSegmentsFlow") == "abtest-segments-flow"
    settings = FlowSettings(deployer="alice")
    assert deployment_name("HelloFlow", None, settings) == "sfncompile-hello-flow"
    project = {"name": "fraud_model"}
    assert deployment_name("HelloFlow", project, settings) == "sfncompile-fraud-model-user-alice-hello-flow"
    assert deployment_name("HelloFlow", project, FlowSettings(branch="exp1")) == \
        "sfncompile-fraud-model-test-exp1-hello-flow"
    assert deployment_name("HelloFlow", project, FlowSettings(production=True)) == "sfncompile-fraud-model-prod-hello-flow"
    long = deployment_name("X" * 120, None, settings)
    assert len(long) <= 80


def test_platform_settings_are_checked():
    with pytest.raises(UserError, match="stack_prefix"):
        PlatformSettings(prefix="Bad_Prefix")
    with pytest.raises(UserError, match="compute kind"):
        PlatformSettings(compute=("tpu",))
    assert not PlatformSettings(bucket_name="b", table_name="t", job_queue_arn="q").creates_platform
    from sfncompile.backends.cdk.settings import Networking

    with pytest.raises(UserError, match="not a subnet id"):
        Networking(subnet_ids=("subnet-xyz",))
    with pytest.raises(UserError, match="needs the subnets"):
        Networking(security_group_ids=("sg-0123456789abcdef0",))


def test_schedule_expressions():
    assert schedule_expression({"cron": "0 3 * * ? *"}) == "cron(0 3 * * ? *)"
    assert schedule_expression({"hourly": True}) == "cron(0 * * * ? *)"
    assert schedule_expression({"weekly": True}) == "cron(0 0 ? * SUN *)"
    assert schedule_expression({}) == "cron(0 0 * * ? *)"


def test_definition_uses_finds_every_integration():
    definition = {"StartAt": "a", "States": {
        "a": {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.sync", "Next": "b"},
        "b": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem", "Next": "m"},
        "m": {"Type": "Map", "ItemReader": {"Resource": "arn:aws:states:::s3:getObject"},
              "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject"},
              "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "x", "States": {
                  "x": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}}},
              "End": True}}}
    uses = definition_uses(definition)
    assert uses.batch_sync and uses.dynamodb_actions == {"dynamodb:GetItem"}
    assert uses.s3_read and uses.s3_write and uses.distributed_map
    assert uses.unknown == {"arn:aws:states:::lambda:invoke"}


def test_job_spec_reads_the_jobdefs_spec():
    from sfncompile.backends.jobdefs import JobDefinitionSpec

    spec = JobDefinitionSpec(key="C2M2048", cpu=2, memory=2048, gpu=0, image="img", command=["python3", "-c", "x"],
                             environment={"A": "1"}, retry_strategy={"attempts": 3, "evaluateOnExit": [
                                 {"onReason": "*", "action": "EXIT"}]}, timeout_seconds=30)
    job = normalize("C2M2048", spec)
    assert (job.vcpus, job.memory, job.attempts, job.timeout_seconds) == (2, 2048, 3, 30)
    assert job.evaluate_on_exit == [{"onReason": "*", "action": "EXIT"}]
