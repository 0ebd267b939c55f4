"""Hybrid runs against the moto server: steps with @batch go to AWS Batch (jobs run as local
processes by the test-support runner), the others run here; artifacts cross through S3."""

from __future__ import annotations

import threading
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

FLOW = Path(__file__).parent / "flows" / "hybrid_flow.py"
BUCKET = "hybrid-datastore"
TABLE = "hybrid-side-channel"
ROOT = f"s3://{BUCKET}/runs"
ROLE = "arn:aws:iam::123456789012:role/hybrid-job-role"


@pytest.fixture
def batch_cloud(aws, tmp_path, monkeypatch):
    """Bucket, side-channel table and an EC2 Batch queue on a clean moto; jobs run as local processes."""
    from tests.support import moto_batch

    moto_batch.install()
    monkeypatch.setenv("SFNCOMPILE_CODE_CACHE", str(tmp_path / "code-cache"))
    monkeypatch.chdir(tmp_path)
    for key in ("SFNCOMPILE_JOB_QUEUE", "SFNCOMPILE_JOB_ROLE_ARN", "SFNCOMPILE_DATASTORE"):
        monkeypatch.delenv(key, raising=False)
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    boto3.client("dynamodb").create_table(
        TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    iam = boto3.client("iam")
    service = iam.create_role(RoleName="batch-service", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    instance = iam.create_instance_profile(InstanceProfileName="batch-instance")["InstanceProfile"]["Arn"]
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="hybrid", Description="hybrid", VpcId=vpc)["GroupId"]
    batch = boto3.client("batch")
    queues = {}
    for kind in ("EC2", "FARGATE"):
        env = batch.create_compute_environment(
            computeEnvironmentName=f"hybrid-{kind.lower()}", type="MANAGED", state="ENABLED",
            serviceRole=service,
            computeResources={"type": kind, "maxvCpus": 4, "subnets": [subnet],
                              "securityGroupIds": [group],
                              **({"minvCpus": 0, "instanceTypes": ["optimal"], "instanceRole": instance}
                                 if kind == "EC2" else {})})
        queues[kind] = batch.create_job_queue(
            jobQueueName=f"hybrid-{kind.lower()}", state="ENABLED", priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env["computeEnvironmentArn"]}])["jobQueueName"]
    return queues


def _run(*args, ok=True):
    from sfncompile.cli.main import cli

    result = CliRunner().invoke(cli, [*args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def _hybrid_args(queue):
    return ["--datastore", ROOT, "--side-channel-table", TABLE, "--job-queue", queue, "--job-role-arn", ROLE]


def _artifacts(run_id):
    from sfncompile_runtime.datastore import Datastore

    store = Datastore(ROOT, "HybridFlow")
    out = {}
    for number, step in enumerate(("start", "crunch", "end"), start=1):  # a linear flow: tasks 1, 2, 3
        record = store.latest_record(run_id, step, str(number))
        out.update({name: store.load_artifact(ref) for name, ref in record["artifacts"].items()
                    if name in ("total", "where_start", "where_crunch", "where_end")})
    return out


def test_batch_step_goes_to_aws_batch_and_the_rest_runs_here(batch_cloud):
    result = _run("run", str(FLOW), "--hybrid", *_hybrid_args(batch_cloud["EC2"]))
    run_id = result.stdout.strip().splitlines()[-1]
    data = _artifacts(run_id)
    assert data["where_start"] == "local" and data["where_end"] == "local"
    assert data["where_crunch"] != "local"  # AWS_BATCH_JOB_ID: it ran as a Batch job
    job = boto3.client("batch").describe_jobs(jobs=[data["where_crunch"]])["jobs"][0]
    assert job["status"] == "SUCCEEDED" and job["jobQueue"].endswith("hybrid-ec2")
    # the remote task's log reached the progress view, prefixed with its pathspec
    assert f"[HybridFlow/{run_id}/crunch/2] crunching 4 numbers" in result.output

    local = _run("run", str(FLOW), "--datastore", ROOT, "--side-channel-table", TABLE)
    local_data = _artifacts(local.stdout.strip().splitlines()[-1])
    assert local_data["where_crunch"] == "local"
    assert local_data["total"] == data["total"] == 30


def test_with_batch_sends_every_step(batch_cloud):
    result = _run("run", str(FLOW), "--with", "batch", *_hybrid_args(batch_cloud["EC2"]))
    data = _artifacts(result.stdout.strip().splitlines()[-1])
    assert "local" not in (data["where_start"], data["where_crunch"], data["where_end"])
    assert data["total"] == 30
    # one job definition per resource spec, registered once and reused by the next run
    names = {d["jobDefinitionName"] for d in boto3.client("batch").describe_job_definitions(
        status="ACTIVE")["jobDefinitions"]}
    assert {n for n in names if n.startswith("sfncompile-HybridFlow-")} == {
        "sfncompile-HybridFlow-Default", "sfncompile-HybridFlow-C1M2048"}
    _run("run", str(FLOW), "--with", "batch", *_hybrid_args(batch_cloud["EC2"]))
    revisions = boto3.client("batch").describe_job_definitions(
        jobDefinitionName="sfncompile-HybridFlow-Default")["jobDefinitions"]
    assert len(revisions) == 1


def test_remote_failure_shows_the_reason_then_resume_finishes(batch_cloud, monkeypatch):
    failed = _run("run", str(FLOW), "--hybrid", *_hybrid_args(batch_cloud["EC2"]), "--param", "fail_remote=true",
                  ok=False)
    assert failed.exit_code == 1
    origin = failed.stdout.strip().splitlines()[-1]
    assert f"failed task: HybridFlow/{origin}/crunch/2" in failed.output
    assert "remote step failed on purpose" in failed.output  # the remote log's tail

    monkeypatch.setenv("HYBRID_FIXED", "1")  # the Batch stand-in runs jobs with this process's environment
    resumed = _run("resume", str(FLOW), origin, "--hybrid", *_hybrid_args(batch_cloud["EC2"]))
    data = _artifacts(resumed.stdout.strip().splitlines()[-1])
    assert data["total"] == 30 and data["where_crunch"] != "local"
    assert data["where_start"] == "local"


def test_cancelling_the_run_terminates_the_remote_job(batch_cloud):
    from sfncompile.config import Config
    from sfncompile.executor.cancel import CancelToken
    from sfncompile.executor.hybrid import prepare_hybrid
    from sfncompile.executor.local_run import execute, prepare

    prepared = prepare(FLOW, datastore=ROOT, side_channel_table=TABLE)
    target = prepare_hybrid(prepared, Config.load(), job_queue=batch_cloud["EC2"], job_role_arn=ROLE)
    token = CancelToken()
    remote_started = threading.Event()
    job_ids = []

    def on_event(kind, info):
        if kind == "started" and info.get("remote"):
            job_ids.append(info["job_id"])
            remote_started.set()

    holder = {}
    worker = threading.Thread(target=lambda: holder.update(outcome=execute(
        prepared, {"factor": 3, "fail_remote": False, "sleep": 60}, cancel=token, hybrid=target,
        on_job_event=on_event)))
    worker.start()
    assert remote_started.wait(60)
    token.cancel("interrupted by the user")
    worker.join(60)
    assert not worker.is_alive()
    assert not holder["outcome"].succeeded
    batch = boto3.client("batch")
    for _ in range(100):
        job = batch.describe_jobs(jobs=job_ids)["jobs"][0]
        if job["status"] in ("SUCCEEDED", "FAILED"):
            break
        threading.Event().wait(0.1)
    assert job["status"] == "FAILED"
    assert "terminated by sfncompile" in job["statusReason"]


@pytest.mark.parametrize("change, message", [
    ("local_datastore", "pass --datastore s3://bucket/prefix"),
    ("no_queue", "the platform stack sfncompile-platform is not deployed"),
    ("unknown_queue", "job queue 'nope' does not exist"),
    ("no_role", "need an IAM role to read and write the datastore: pass --job-role-arn"),
    ("fargate", "runs on Fargate, whose jobs need an execution role"),
    ("no_credentials", "no AWS credentials found"),
    ("queue_without_hybrid", "--job-queue applies to steps sent to AWS Batch"),
])
def test_each_missing_requirement_is_one_message(batch_cloud, tmp_path, monkeypatch, change, message):
    args = ["run", str(FLOW), "--hybrid", "--datastore", ROOT, "--side-channel-table", TABLE,
            "--job-queue", batch_cloud["EC2"], "--job-role-arn", ROLE]
    if change == "local_datastore":
        args[args.index(ROOT)] = str(tmp_path / "ds")
    elif change == "no_queue":
        i = args.index("--job-queue")
        del args[i:i + 2]
    elif change == "unknown_queue":
        args[args.index(batch_cloud["EC2"])] = "nope"
    elif change == "no_role":
        i = args.index("--job-role-arn")
        del args[i:i + 2]
    elif change == "fargate":
        args[args.index(batch_cloud["EC2"])] = batch_cloud["FARGATE"]
    elif change == "no_credentials":
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    elif change == "queue_without_hybrid":
        args.remove("--hybrid")
    result = _run(*args, ok=False)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
