"""Least privilege, proven: production runs with moto enforcing IAM.

Each Batch job runs under its synthesised job role's credentials, each state machine call under
the state machine's role (``tests.support.moto_iam``); a call the template's policies do not allow
fails the run. What moto evaluates, and what it cannot, is written down in that module (and in
docs/deploy.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sfncompile.deploy import operate

from .conftest import example, flow_file

RUNTIME_FLOWS = Path(__file__).resolve().parents[1] / "runtime" / "flows"


def _execution_arn(result, run_id: str) -> str:
    return result.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + run_id


@pytest.fixture
def enforced(executing):
    from tests.support.moto_iam import enforcing

    with enforcing(executing.server):
        yield executing


def _run(cloud, flow, parameters=None) -> tuple[object, str, dict]:
    result = cloud.deploy(flow)
    run_id = operate.trigger(cloud.config, str(flow), parameters)
    return result, run_id, cloud.wait(_execution_arn(result, run_id), timeout=600)


def _job_role(cloud, result) -> str:
    (role,) = {d["containerProperties"]["jobRoleArn"]
               for d in cloud.client("batch").describe_job_definitions(status="ACTIVE")["jobDefinitions"]
               if d["jobDefinitionName"].startswith(result.deployment + "-")}
    return role


def _as_role(role_arn: str, service: str):
    import boto3

    from tests.support.moto_iam import role_credentials

    creds = role_credentials(role_arn)
    return boto3.client(service, aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=creds["AWS_SESSION_TOKEN"])


def test_foreach_and_switch_runs_need_nothing_beyond_their_roles_and_cannot_read_each_other(enforced):
    cloud = enforced
    mine, _, execution = _run(cloud, example("hyperparameter_sweep"), '{"alphas": "0.0,1.0"}')
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    theirs, _, execution = _run(cloud, example("route_by_size"))
    assert execution["status"] == "SUCCEEDED", execution.get("cause")

    # The mirror: flow A's job role cannot read (or overwrite) flow B's artifacts in the shared bucket.
    bucket = mine.datastore_root.split("/")[2]
    assert theirs.datastore_root.split("/")[2] == bucket  # one shared bucket: only the prefix separates them
    listed = [o["Key"] for o in cloud.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]
    their_blob = next(k for k in listed if "RouteBySizeFlow/" in k and "/data/" in k)
    my_blob = next(k for k in listed if "HyperparameterSweepFlow/" in k and "/data/" in k)
    s3 = _as_role(_job_role(cloud, mine), "s3")
    assert s3.get_object(Bucket=bucket, Key=my_blob)["Body"].read()
    from botocore.exceptions import ClientError

    for attempt in (lambda: s3.get_object(Bucket=bucket, Key=their_blob),
                    lambda: s3.put_object(Bucket=bucket, Key=their_blob, Body=b"overwritten")):
        with pytest.raises(ClientError) as denied:
            attempt()
        assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_resume_needs_nothing_beyond_its_roles(enforced, monkeypatch):
    cloud = enforced
    flow = str(flow_file("flaky_flow"))
    monkeypatch.setenv("SFNCOMPILE_TEST_FAIL_MIDDLE", "1")
    result, failed_id, execution = _run(cloud, flow, '{"size": 5}')
    assert execution["status"] == "FAILED"
    assert "middle failed on purpose" in operate.logs(cloud.config, f"FlakyFlow/{failed_id}/middle",
                                                           stream="stderr")
    monkeypatch.delenv("SFNCOMPILE_TEST_FAIL_MIDDLE")
    resumed_id = operate.resume(cloud.config, flow, failed_id)
    execution = cloud.wait(_execution_arn(result, resumed_id), timeout=600)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")


def test_pypi_step_needs_nothing_beyond_its_roles(enforced, monkeypatch, tmp_path):
    """The job builds the environment, uploads it under the flow's own prefix and reads it back."""
    cloud = enforced
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # a fresh host: no environment built by another test
    result, run_id, execution = _run(cloud, RUNTIME_FLOWS / "pypi_flow.py")
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    prefix = result.datastore_root.split("/", 3)[3] + "/" if result.datastore_root.count("/") > 2 else ""
    bucket = result.datastore_root.split("/")[2]
    keys = [o["Key"] for o in cloud.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"{prefix}PypiFlow/.cache/pypi/")
            .get("Contents", [])]
    assert any(k.endswith(".tar.gz") for k in keys), keys


def test_secrets_step_needs_nothing_beyond_its_roles(enforced):
    cloud = enforced
    cloud.client("secretsmanager").create_secret(Name="db-creds", SecretString=json.dumps({"user": "alice"}))
    _, run_id, execution = _run(cloud, flow_file("secret_reader_flow"))
    assert execution["status"] == "SUCCEEDED", execution.get("cause")


def test_exit_hook_needs_nothing_beyond_its_roles(enforced):
    """The success hook runs as a Batch job under the job role and reads the run it reports on.

    (A failing run is not used: moto's interpreter turns a failure leaving a Parallel branch into
    ``States.Runtime`` "Custom Error Names MUST NOT begin with the prefix 'States.'" before the
    Catch sees it, with or without IAM enforcement.)"""
    cloud = enforced
    result, run_id, execution = _run(cloud, flow_file("hooked_flow"))
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    batch = cloud.client("batch")
    jobs = {j["jobName"]: j for queue in batch.describe_job_queues()["jobQueues"]
            for status in ("SUCCEEDED", "FAILED")
            for j in batch.list_jobs(jobQueue=queue["jobQueueArn"], jobStatus=status)["jobSummaryList"]}
    assert jobs["HookedFlow-exit-hook-success"]["status"] == "SUCCEEDED", jobs
    (described,) = batch.describe_jobs(jobs=[jobs["HookedFlow-exit-hook-success"]["jobId"]])["jobs"]
    logs = cloud.client("logs").get_log_events(logGroupName="/aws/batch/job",
                                              logStreamName=described["container"]["logStreamName"])
    assert any("hook saw" in e["message"] for e in logs["events"]), logs["events"]


def test_a_call_the_roles_do_not_allow_fails_the_run(enforced):
    """The control: without its policies, the job role cannot write the run's artifacts and the
    state machine role cannot submit jobs; both fail the run."""
    cloud = enforced
    flow = flow_file("flaky_flow")
    result = cloud.deploy(flow)
    iam = cloud.client("iam")
    job_role = _job_role(cloud, result).rsplit("/", 1)[1]
    for name in iam.list_role_policies(RoleName=job_role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=job_role, PolicyName=name)
    run_id = operate.trigger(cloud.config, str(flow), None)
    execution = cloud.wait(_execution_arn(result, run_id), timeout=600)
    assert execution["status"] == "FAILED"
    assert "AccessDenied" in operate.logs(cloud.config, f"FlakyFlow/{run_id}/start", stream="stderr")

    machine_role = cloud.client("stepfunctions").describe_state_machine(
        stateMachineArn=result.state_machine_arn)["roleArn"].rsplit("/", 1)[1]
    for name in iam.list_role_policies(RoleName=machine_role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=machine_role, PolicyName=name)
    run_id = operate.trigger(cloud.config, str(flow), None)
    execution = cloud.wait(_execution_arn(result, run_id), timeout=600)
    assert execution["status"] == "FAILED"
    history = cloud.client("stepfunctions").get_execution_history(executionArn=execution["executionArn"])["events"]
    assert any("not authorized to perform: batch:submitjob" in json.dumps(e, default=str) for e in history)
