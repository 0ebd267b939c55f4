"""Production operations refuse what would hurt: an unknown resume origin, deleting someone else's
flow or a platform in use, a status that leaks the token, AWS failures half-way through a deploy,
a stack without outputs, run ids that climb out of the datastore."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sfncompile.cli.main import cli
from sfncompile.diagnostics import UserError

from .conftest import example, flow_file


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_trigger_resume_of_an_unknown_run_starts_nothing(cloud):
    flow = str(flow_file("required_param_flow"))
    cloud.deploy(flow)
    code, out, err = run("trigger", flow, "--resume", "nope")
    assert code == 1 and out == "" and "has no run nope" in err and "Traceback" not in err
    code, out, err = run("trigger", flow, "--resume", "../../other/runs/x")
    assert code == 1 and "is not valid" in err
    executions = cloud.client("stepfunctions").list_executions(
        stateMachineArn=cloud.client("stepfunctions").list_state_machines()["stateMachines"][0]["stateMachineArn"])
    assert executions["executions"] == []


def test_delete_needs_the_token_and_a_confirmation(cloud, tmp_path, monkeypatch):
    from sfncompile.deploy import operate

    flow = str(example("train_evaluate"))
    result = cloud.deploy(flow)
    monkeypatch.setenv("SFNCOMPILE_HOME", str(tmp_path / "someone-else"))  # no token in this user's file
    with pytest.raises(UserError, match="production token you do not have; pass --authorize"):
        operate.delete(cloud.config, flow, echo=cloud.echo, yes=True)
    with pytest.raises(UserError, match="does not match"):
        operate.delete(cloud.config, flow, echo=cloud.echo, yes=True, authorize="wrong")
    with pytest.raises(UserError, match="needs confirmation: pass --yes"):
        operate.delete(cloud.config, flow, echo=cloud.echo, authorize=result.production_token)
    with pytest.raises(UserError, match="nothing was deleted"):
        operate.delete(cloud.config, flow, echo=cloud.echo, authorize=result.production_token,
                       confirm=lambda question: False)
    assert cloud.client("stepfunctions").list_state_machines()["stateMachines"]
    asked = []
    deleted = operate.delete(cloud.config, flow, echo=cloud.echo, authorize=result.production_token,
                             confirm=lambda question: asked.append(question) or True)
    assert deleted == [result.deployment] and result.deployment in asked[0]


def test_the_platform_is_not_deleted_while_a_flow_uses_it(cloud):
    from sfncompile.deploy import operate

    first = cloud.deploy(example("train_evaluate"))
    second = cloud.deploy(flow_file("required_param_flow"))
    with pytest.raises(UserError) as refused:
        operate.delete(cloud.config, str(example("train_evaluate")), echo=cloud.echo, platform=True, yes=True)
    assert second.deployment in refused.value.message and "delete those flows first" in refused.value.message
    live = {s["StackName"] for s in cloud.client("cloudformation").describe_stacks()["Stacks"]
            if s["StackStatus"] != "DELETE_COMPLETE"}
    assert {first.deployment, second.deployment, "sfncompile-platform"} <= live  # nothing was deleted
    tables = cloud.client("dynamodb").list_tables()["TableNames"]
    operate.delete(cloud.config, str(example("train_evaluate")), echo=cloud.echo, yes=True)
    operate.delete(cloud.config, "RequiredParamFlow", echo=cloud.echo, yes=True)
    assert cloud.client("dynamodb").list_tables()["TableNames"] == tables  # the platform was untouched
    code, out, err = run("delete", "--platform", "--yes")  # no flow left: the platform alone
    assert "still used" not in err
    assert code == 0 and "deleted sfncompile-platform" in out, err
    live = {s["StackName"] for s in cloud.client("cloudformation").describe_stacks()["Stacks"]
            if s["StackStatus"] != "DELETE_COMPLETE"}
    assert live == set()
    assert cloud.client("ec2").describe_vpcs(Filters=[{"Name": "tag:aws:cloudformation:stack-name",
                                                       "Values": ["sfncompile-platform"]}])["Vpcs"] == []


def test_status_of_a_failed_job_is_short_and_never_shows_the_token():
    from sfncompile.deploy.operate import failure_summary

    token = "flow-0123456789ab"
    job = {"JobName": "Flow-start", "JobId": "job-1", "Status": "FAILED", "StatusReason": "Essential container in "
           "task exited", "Attempts": [{"Container": {"ExitCode": 3, "LogStreamName": "Flow/default/abc"}}],
           "Parameters": {"mode": "step"},
           "Container": {"Command": ["python3", "-c", "import os,sys\n" * 100], "ExitCode": 3,
                         "Environment": [{"Name": "SFNCOMPILE_PRODUCTION_TOKEN", "Value": token}]}}
    summary, details = failure_summary(json.dumps(job), token)
    assert summary == {"job_name": "Flow-start", "job_id": "job-1", "status": "FAILED",
                       "reason": "Essential container in task exited", "exit_code": 3,
                       "log_stream": "Flow/default/abc", "attempts": 1}
    assert token not in json.dumps(details) and "Environment" not in details["Container"]
    assert "Command" not in details["Container"]
    summary, _ = failure_summary(f"something about {token}", token)
    assert token not in summary["reason"]


def test_a_server_error_during_a_first_deploy_is_one_message_and_leaves_nothing(cloud, monkeypatch):
    """An HTTP 500 with a body that is no AWS error (what a proxy or moto returns) on ExecuteChangeSet."""
    from botocore.awsrequest import AWSResponse

    from sfncompile.deploy import aws

    original = aws.Clients.__call__

    def with_failing_execute(self, service):
        client = original(self, service)
        if service == "cloudformation" and not getattr(client, "_fault_injected", False):
            class Raw:
                def stream(self, **kwargs):
                    yield b"<html>Internal Server Error</html>"

            def fail(request, **kwargs):
                return AWSResponse(request.url, 500, {}, Raw())

            client.meta.events.register("before-send.cloudformation.ExecuteChangeSet", fail)
            client._fault_injected = True
        return client

    monkeypatch.setattr(aws.Clients, "__call__", with_failing_execute)
    with pytest.raises(UserError) as failed:
        cloud.deploy(flow_file("required_param_flow"))
    message = failed.value.message
    assert "stack sfncompile-platform" in message and "deploy again" in message
    live = [s["StackName"] for s in cloud.client("cloudformation").describe_stacks()["Stacks"]
            if s["StackStatus"] != "DELETE_COMPLETE"]
    assert live == []  # the failed first deploy was removed: no REVIEW_IN_PROGRESS stack


def test_a_stack_without_outputs_is_an_error_not_a_none(cloud):
    from sfncompile.deploy.operate import FLOW_TAG

    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    cloud.client("cloudformation").create_stack(StackName="sfncompile-broken-flow", TemplateBody=json.dumps(template),
                                                Tags=[{"Key": FLOW_TAG, "Value": "BrokenFlow"}])
    code, out, err = run("runs", "BrokenFlow", "--deployed")
    assert code == 1 and "sfncompile-broken-flow" in err and "no StateMachineArn output" in err
    assert "None" not in err
    code, out, err = run("delete", "BrokenFlow", "--yes")  # a broken stack can still be deleted
    assert code == 0 and "deleted sfncompile-broken-flow" in out, err


@pytest.mark.parametrize("deployed", [[], ["--deployed"]], ids=["local", "deployed"])
@pytest.mark.parametrize("spec", ["RequiredParamFlow/../../etc", "RequiredParamFlow/..", "Flow/run/../x/0",
                                  "Flow/../step/0"])
def test_pathspecs_that_climb_out_are_refused(cloud, spec, deployed, tmp_path):
    command = "logs" if spec.count("/") > 2 else "status"
    code, out, err = run(command, spec, "--datastore", str(tmp_path), *deployed)
    assert code == 1 and ("is not valid" in err or "give" in err) and "Traceback" not in err
