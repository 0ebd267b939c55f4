"""Our Step Functions definition vs Metaflow 2.19's ``step-functions create --only-json``.

For the same four flows (linear, branch, foreach, nested foreach), written
once with ``from metaflow import ...`` (our compiler accepts them unchanged):

* states, minified definition bytes, minified bytes per Batch Task state,
  ContainerOverrides bytes per Task (Batch allows 8,192);
* billable transitions per run and parent-execution history events, from our
  counting model (``sfncompile.backends.asl.cost``) applied to *both*
  definitions with the same widths;
* wall time of the compile command (subprocess, median of N runs each).

Metaflow needs AWS for ``--only-json`` (it uploads the code package to S3 and
checks the Batch queue), so this script starts a moto server, creates a
bucket and a job queue there, and points Metaflow at it. Run:

    PYTHONPATH=.:runtime /work/venv/bin/python benchmarks/asl_bench.py [--runs 5] [--mf-python /work/mfvenv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "runtime")]

FLOWS = {
    "linear": '''
from metaflow import FlowSpec, step


class LinearFlow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.a)

    @step
    def a(self):
        self.next(self.b)

    @step
    def b(self):
        self.next(self.end)

    @step
    def end(self):
        pass
''',
    "branch": '''
from metaflow import FlowSpec, step


class BranchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.next(self.join)

    @step
    def right(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
''',
    "foreach": '''
from metaflow import FlowSpec, step


class ForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(10))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
''',
    "nested_foreach": '''
from metaflow import FlowSpec, step


class NestedForeachFlow(FlowSpec):
    @step
    def start(self):
        self.outer_items = list(range(10))
        self.next(self.outer, foreach="outer_items")

    @step
    def outer(self):
        self.inner_items = list(range(10))
        self.next(self.inner, foreach="inner_items")

    @step
    def inner(self):
        self.next(self.inner_join)

    @step
    def inner_join(self, inputs):
        self.next(self.outer_join)

    @step
    def outer_join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
''',
}
# widths used for transitions/events: (our step -> width), (Metaflow Map state -> width)
WIDTHS = {
    "linear": ({}, {}),
    "branch": ({}, {}),
    "foreach": ({"start": 10}, {"*body": 10}),
    "nested_foreach": ({"start": 10, "outer": 10}, {"*outer": 10, "*inner": 10}),
}
BATCH_SYNC = "arn:aws:states:::batch:submitJob.sync"


def big_linear(count: int) -> str:
    lines = ["from metaflow import FlowSpec, step", "", "", f"class Linear{count}Flow(FlowSpec):"]
    names = ["start"] + [f"s{i}" for i in range(count - 2)] + ["end"]
    for here, after in zip(names, names[1:] + [None]):
        lines += ["    @step", f"    def {here}(self):", f"        self.next(self.{after})" if after else "        pass", ""]
    return "\n".join(lines) + "\n"


def batch_tasks(definition):
    from sfncompile.backends.asl.cost import iter_states

    return [state for _, state in iter_states(definition) if state.get("Resource", "").startswith(
        "arn:aws:states:::batch:submitJob")]


def measure(definition, widths) -> dict:
    from sfncompile.backends.asl.cost import estimate, iter_states

    tasks = batch_tasks(definition)
    task_bytes = [len(json.dumps(t, separators=(",", ":"))) for t in tasks]
    override_bytes = [len(json.dumps(t["Parameters"].get("ContainerOverrides", {}), separators=(",", ":")))
                      for t in tasks]
    report = estimate(definition, widths=widths)
    return {
        "states": sum(1 for _ in iter_states(definition)),
        "definition_bytes": len(json.dumps(definition, separators=(",", ":"))),
        "task_bytes_mean": round(statistics.mean(task_bytes)),
        "task_bytes_max": max(task_bytes),
        "override_bytes_mean": round(statistics.mean(override_bytes)),
        "override_bytes_max": max(override_bytes),
        "transitions": report.transitions,
        "parent_events": report.parent_events,
        "child_executions": report.child_executions,
    }


def moto_for_metaflow():
    from tests.support.moto_server import start_moto_server

    server = start_moto_server()
    import boto3

    kw = dict(endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id="testing",
              aws_secret_access_key="testing")
    boto3.client("s3", **kw).create_bucket(Bucket="mf-bench")
    batch = boto3.client("batch", **kw)
    iam = boto3.client("iam", **kw)
    role = iam.create_role(RoleName="batch-service", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    # Metaflow reads computeResources.type of the queue's environment: a managed one.
    ec2 = boto3.client("ec2", **kw)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="mf", Description="mf", VpcId=vpc)["GroupId"]
    profile = iam.create_instance_profile(InstanceProfileName="mf")["InstanceProfile"]["Arn"]
    ce = batch.create_compute_environment(
        computeEnvironmentName="mf-ce", type="MANAGED", serviceRole=role,
        computeResources={"type": "EC2", "minvCpus": 0, "maxvCpus": 16, "desiredvCpus": 0,
                          "instanceTypes": ["optimal"], "subnets": [subnet], "securityGroupIds": [group],
                          "instanceRole": profile})
    queue = batch.create_job_queue(jobQueueName="mf-queue", state="ENABLED", priority=1,
                                   computeEnvironmentOrder=[{"order": 1, "computeEnvironment":
                                                             ce["computeEnvironmentArn"]}])
    boto3.client("dynamodb", **kw).create_table(
        TableName="mf-table", KeySchema=[{"AttributeName": "pathspec", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pathspec", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    env = dict(os.environ)
    env.update(server.env())
    env.update({
        "METAFLOW_DEFAULT_DATASTORE": "s3", "METAFLOW_DATASTORE_SYSROOT_S3": "s3://mf-bench/metaflow",
        "METAFLOW_BATCH_JOB_QUEUE": queue["jobQueueArn"],
        "METAFLOW_ECS_S3_ACCESS_IAM_ROLE": "arn:aws:iam::123456789012:role/batch",
        "METAFLOW_SFN_IAM_ROLE": "arn:aws:iam::123456789012:role/sfn",
        "METAFLOW_SFN_DYNAMO_DB_TABLE": "mf-table", "METAFLOW_DEFAULT_METADATA": "local",
        "METAFLOW_USER": "bench", "USERNAME": "bench", "METAFLOW_S3_ENDPOINT_URL": server.endpoint,
    })
    return server, env


def run_timed(cmd, env, cwd, runs):
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:3])} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
        out = proc.stdout
    return statistics.median(times), out


def metaflow_json(stdout: str) -> dict:
    # --only-json prints banner lines, then the definition.
    start = stdout.index("{")
    return json.JSONDecoder().raw_decode(stdout[start:])[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mf-python", default="/work/mfvenv/bin/python")
    parser.add_argument("--json", action="store_true", help="print raw results as JSON")
    parser.add_argument("--foreach-mode", default=None, help="passed to our compile (default: distributed)")
    parser.add_argument("--big", type=int, default=0, metavar="N",
                        help="also compare a generated linear flow of N steps (definition size vs the 1 MB limit)")
    args = parser.parse_args(argv)

    if args.big:
        FLOWS[f"linear_{args.big}"] = big_linear(args.big)
        WIDTHS[f"linear_{args.big}"] = ({}, {})
    server, mf_env = moto_for_metaflow()
    our_env = dict(os.environ, PYTHONPATH=f"{ROOT}:{ROOT / 'runtime'}")
    results = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            mf_env["HOME"] = tmp
            for shape, source in FLOWS.items():
                path = Path(tmp) / f"{shape}.py"
                path.write_text(source.lstrip() + '\n\nif __name__ == "__main__":\n    '
                                + source.split("class ")[1].split("(")[0] + "()\n")
                ours_cmd = [sys.executable, "-m", "sfncompile.cli.main", "compile", str(path)]
                if args.foreach_mode:
                    ours_cmd += ["--foreach-mode", args.foreach_mode]
                ours_time, ours_out = run_timed(ours_cmd, our_env, tmp, args.runs)
                mf_time, mf_out = run_timed([args.mf_python, str(path), "--no-pylint", "step-functions", "create",
                                             "--only-json"], mf_env, tmp, args.runs)
                ours = measure(json.loads(ours_out), WIDTHS[shape][0])
                mf = measure(metaflow_json(mf_out), WIDTHS[shape][1])
                ours["compile_seconds"] = round(ours_time, 3)
                mf["compile_seconds"] = round(mf_time, 3)
                results[shape] = {"sfncompile": ours, "metaflow": mf}
    finally:
        server.stop()

    if args.json:
        print(json.dumps(results, indent=2))
        return
    keys = ["states", "definition_bytes", "task_bytes_mean", "task_bytes_max", "override_bytes_mean",
            "override_bytes_max", "transitions", "parent_events", "child_executions", "compile_seconds"]
    print(f"runs per compile timing: {args.runs} (median); widths: foreach 10, nested 10x10; "
          f"our foreach mode: {args.foreach_mode or 'distributed (default)'}")
    for shape, pair in results.items():
        print(f"\n{shape}")
        print(f"  {'metric':<22}{'sfncompile':>12}{'metaflow':>12}")
        for key in keys:
            print(f"  {key:<22}{pair['sfncompile'][key]:>12}{pair['metaflow'][key]:>12}")


if __name__ == "__main__":
    main()
