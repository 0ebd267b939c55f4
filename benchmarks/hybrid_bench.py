"""Hybrid runs on moto: what a step costs on AWS Batch (moto) against the same step run here.

Runs ``tests/executor/flows/hybrid_flow.py`` (start and end local, ``crunch``
with ``@batch``) as a hybrid run several times against one moto server, whose
Batch jobs run as local processes (the test-support runner), plus all-local
runs of the same flow on the same S3 datastore, interleaved. Per task it
reports the wall time the run waited for the task, and for the remote task
where that went: SubmitJob → the job started (queue and dispatch),
started → stopped (the container's own run: bootstrap, code fetch, step,
commit), stopped → noticed (the DescribeJobs polling lag; the poll is 1 s).

    python benchmarks/hybrid_bench.py [--rounds 5]

Needs the test extras (moto). Not run in CI. The moto Batch "container" is a
local process, so the container's run is comparable with a local task; on
real AWS, queueing and container start add tens of seconds (Fargate) to
minutes (a cold EC2 compute environment).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "runtime")]
FLOW = ROOT / "tests" / "executor" / "flows" / "hybrid_flow.py"
BUCKET, TABLE = "bench-hybrid", "bench-hybrid-side"
ROOT_URL = f"s3://{BUCKET}/runs"
ROLE = "arn:aws:iam::123456789012:role/bench"


def _setup_aws():
    import boto3

    boto3.client("s3").create_bucket(Bucket=BUCKET)
    boto3.client("dynamodb").create_table(
        TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    iam, ec2, batch = boto3.client("iam"), boto3.client("ec2"), boto3.client("batch")
    service = iam.create_role(RoleName="svc", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    profile = iam.create_instance_profile(InstanceProfileName="inst")["InstanceProfile"]["Arn"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    env = batch.create_compute_environment(
        computeEnvironmentName="bench", type="MANAGED", state="ENABLED", serviceRole=service,
        computeResources={"type": "EC2", "minvCpus": 0, "maxvCpus": 4, "instanceTypes": ["optimal"],
                          "subnets": [subnet], "securityGroupIds": [group], "instanceRole": profile})
    return batch.create_job_queue(jobQueueName="bench", state="ENABLED", priority=1, computeEnvironmentOrder=[
        {"order": 1, "computeEnvironment": env["computeEnvironmentArn"]}])["jobQueueName"]


def _one_run(queue: str | None):
    import boto3

    from sfncompile.config import Config
    from sfncompile.executor.hybrid import prepare_hybrid
    from sfncompile.executor.local_run import execute, prepare

    t0 = time.perf_counter()
    prepared = prepare(FLOW, datastore=ROOT_URL, side_channel_table=TABLE)
    target = prepare_hybrid(prepared, Config.load(), job_queue=queue, job_role_arn=ROLE) if queue else None
    setup = time.perf_counter() - t0
    if os.environ.get("BENCH_PROFILE") and queue:
        import cProfile
        import pstats

        cProfile.runctx("prepare_hybrid(prepared, Config.load(), job_queue=queue, job_role_arn=ROLE)",
                        globals(), locals(), "/tmp/hybrid.prof")
        pstats.Stats("/tmp/hybrid.prof").sort_stats("cumulative").print_stats(25)
    outcome = execute(prepared, {"factor": 3, "fail_remote": False, "sleep": 0}, hybrid=target)
    assert outcome.succeeded, outcome.failure_summary()
    tasks = {}
    for job in outcome.jobs:
        step = job.parameters.get("step")
        entry = {"wall": job.stopped_at - job.started_at}
        if queue and step == "crunch":
            described = boto3.client("batch").describe_jobs(jobs=[job.job_id])["jobs"][0]
            created, started, stopped = (described[k] / 1000 for k in ("createdAt", "startedAt", "stoppedAt"))
            entry.update(dispatch=started - created, container=stopped - started,
                         poll_lag=job.stopped_at - stopped)
        tasks[step] = entry
    return setup, outcome.seconds, tasks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import logging

    from tests.support import moto_batch
    from tests.support.moto_server import start_moto_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

    server = start_moto_server()
    os.environ.update(server.env())
    os.environ["SFNCOMPILE_CODE_CACHE"] = tempfile.mkdtemp(prefix="bench-code-")
    moto_batch.install()
    try:
        queue = _setup_aws()
        _one_run(queue)  # warm: job definitions registered, code package stored
        rows = {"local": [], "hybrid": []}
        for _ in range(args.rounds):
            rows["local"].append(_one_run(None))
            rows["hybrid"].append(_one_run(queue))
    finally:
        server.stop()

    med = statistics.median
    print(f"hybrid_flow.py, {args.rounds} paired rounds, load average {os.getloadavg()[0]:.1f}")
    print(f"{'':28}{'all local':>12}{'hybrid':>12}")
    print(f"{'prepare (+ hybrid checks)':28}{med(r[0] for r in rows['local']):11.2f}s"
          f"{med(r[0] for r in rows['hybrid']):11.2f}s")
    print(f"{'run':28}{med(r[1] for r in rows['local']):11.2f}s{med(r[1] for r in rows['hybrid']):11.2f}s")
    for step in ("start", "crunch", "end"):
        print(f"{'task ' + step:28}{med(r[2][step]['wall'] for r in rows['local']):11.2f}s"
              f"{med(r[2][step]['wall'] for r in rows['hybrid']):11.2f}s")
    remote = [r[2]["crunch"] for r in rows["hybrid"]]
    for key, label in (("dispatch", "SubmitJob -> started"), ("container", "started -> stopped"),
                       ("poll_lag", "stopped -> noticed")):
        print(f"{'  crunch remote: ' + label:40}{med(e[key] for e in remote):7.2f}s")


if __name__ == "__main__":
    main()
