"""Infra measurements (run on demand, not in CI):

* synth time per flow (own App each, cold first run reported apart, then median of N warm),
* template resource counts and sizes,
* deploy cycle against a local moto server (create, no-change redeploy, update, delete; medians of N),
* the same Metaflow-written flow deployed by `sfncompile deploy` and by Metaflow's
  `step-functions create` (each a fresh CLI process) to one moto server,
* validator findings: cfn-lint errors, checkov failures, cdk-nag findings — for a naive stack
  (plain L2 defaults, as a first attempt would be), for ours with acknowledgements disabled,
  and for ours as shipped.

    cd /work/main && PYTHONPATH=.:runtime python benchmarks/deploy_bench.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "runtime")]
VENV_BIN = Path(sys.executable).parent


def _builds(paths, platform):
    from sfncompile.backends.cdk.build import compile_flow
    from sfncompile.backends.cdk.settings import FlowSettings
    from sfncompile.backends.jobdefs import JobDefinitionSettings

    return [(compile_flow(p, None, JobDefinitionSettings()),
             FlowSettings(platform=platform, code_sha256="ab" * 32, production_token="bench", deployer="bench"))
            for p in paths]


def synth_times(paths, runs):
    from sfncompile.backends.cdk.app import synth
    from sfncompile.backends.cdk.settings import PlatformSettings

    platform = PlatformSettings()
    rows = {}
    cold = None
    for path in paths:
        times = []
        for _ in range(runs):
            (build, settings), = _builds([path], platform)
            started = time.perf_counter()
            result = synth([(build, settings)], platform, outdir=tempfile.mkdtemp())
            elapsed = time.perf_counter() - started
            if cold is None:
                cold = elapsed
                continue
            times.append(elapsed)
        template = result.templates[result.flow_stacks[build.graph.name]]
        rows[build.graph.name] = {"synth_s_median": statistics.median(times),
                                  "resources": len(template["Resources"]),
                                  "template_bytes": len(json.dumps(template)),
                                  "definition_bytes": len(build.definition_text),
                                  "job_definitions": len(build.job_specs)}
    platform_resources = len(result.templates[result.platform_stack]["Resources"])
    return cold, rows, platform_resources


def naive_app(outdir):
    """What a first attempt looks like: L2 defaults, broad grants, no logging."""
    import aws_cdk as cdk
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_stepfunctions as sfn

    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Naive", synthesizer=cdk.LegacyStackSynthesizer())
    bucket = s3.Bucket(stack, "Data")
    table = dynamodb.Table(stack, "Side", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING))
    role = iam.Role(stack, "Jobs", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    bucket.grant_read_write(role)
    table.grant_read_write_data(role)
    machine_role = iam.Role(stack, "Machine", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
    machine_role.add_to_policy(iam.PolicyStatement(actions=["batch:*", "dynamodb:*", "events:*"], resources=["*"]))
    sfn.CfnStateMachine(stack, "Machine2", role_arn=machine_role.role_arn,
                        definition_string='{"StartAt": "a", "States": {"a": {"Type": "Pass", "End": true}}}')
    return app


def count_findings(outdir: Path, app=None):
    """(cfn-lint errors, checkov failed, cdk-nag findings) for the templates in outdir."""
    nag = 0
    if app is not None:
        from cdk_nag import AwsSolutionsChecks
        import aws_cdk as cdk

        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
        try:
            app.synth()
        except RuntimeError:
            pass
    report = outdir / "validation-report.json"
    if report.exists():
        for plugin in json.loads(report.read_text()).get("pluginReports", []):
            if plugin["pluginName"] == "AwsSolutions":
                nag += sum(len(v["violatingConstructs"]) for v in plugin["violations"])
    templates = sorted(str(p) for p in outdir.glob("*.template.json"))
    lint = json.loads(subprocess.run([str(VENV_BIN / "cfn-lint"), "--format", "json", *templates],
                                     capture_output=True, text=True).stdout or "[]")
    lint_errors = sum(1 for f in lint if f["Level"] == "Error")
    checkov = json.loads(subprocess.run([str(VENV_BIN / "checkov"), "-d", str(outdir), "--framework",
                                         "cloudformation", "-o", "json", "--skip-download", "--compact"],
                                        capture_output=True, text=True).stdout)
    checkov = checkov if isinstance(checkov, list) else [checkov]
    failed = sum(r["summary"]["failed"] for r in checkov)
    skipped = sum(r["summary"]["skipped"] for r in checkov)
    return {"cfn_lint_errors": lint_errors, "checkov_failed": failed, "checkov_skipped": skipped, "cdk_nag": nag}


def validator_counts(paths):
    from sfncompile.backends.cdk import findings
    from sfncompile.backends.cdk.app import build_app
    from sfncompile.backends.cdk.settings import PlatformSettings

    out = {}
    naive_dir = Path(tempfile.mkdtemp())
    out["naive"] = count_findings(naive_dir, naive_app(naive_dir))
    platform = PlatformSettings()
    for label, enabled in (("ours_without_acknowledgements", False), ("ours", True)):
        findings.ENABLED = enabled
        outdir = Path(tempfile.mkdtemp())
        app, _ = build_app(_builds(paths, platform), platform, outdir=outdir)
        out[label] = count_findings(outdir, app)
    findings.ENABLED = True
    return out


def deploy_cycle(runs):
    from tests.support import moto_batch, moto_cfn
    from tests.support.moto_server import start_moto_server

    from sfncompile.config import Config
    from sfncompile.deploy import operate
    from sfncompile.deploy.deployment import DeployOptions, deploy

    server = start_moto_server()
    os.environ.update(server.env())
    home = Path(tempfile.mkdtemp())
    os.environ["SFNCOMPILE_HOME"] = str(home)
    moto_cfn.install()
    moto_batch.install()
    config = Config.load(home)
    flow = home / "train_evaluate.py"
    quiet = lambda line: None  # noqa: E731
    rows = {"create": [], "redeploy_no_change": [], "update_changed_step": [], "delete": [],
            "production_run": []}
    try:
        for index in range(runs):
            server.reset()
            # Before the deploy: moto creates state machines in the executing backend only then.
            moto_batch.enable_execution(server)
            shutil.copy(ROOT / "examples" / "train_evaluate.py", flow)
            started = time.perf_counter()
            result = deploy(str(flow), config, DeployOptions(deployer="bench"), echo=quiet)
            rows["create"].append(time.perf_counter() - started)
            started = time.perf_counter()
            deploy(str(flow), config, DeployOptions(deployer="bench"), echo=quiet)
            rows["redeploy_no_change"].append(time.perf_counter() - started)
            flow.write_text(flow.read_text() + f"\n# change {index}\n")
            started = time.perf_counter()
            deploy(str(flow), config, DeployOptions(deployer="bench"), echo=quiet)
            rows["update_changed_step"].append(time.perf_counter() - started)
            started = time.perf_counter()
            run_id = operate.trigger(config, str(flow), None)
            arn = result.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + run_id
            import boto3

            sfn = boto3.client("stepfunctions")
            while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
                time.sleep(0.2)
            rows["production_run"].append(time.perf_counter() - started)
            started = time.perf_counter()
            operate.delete(config, str(flow), echo=quiet)
            rows["delete"].append(time.perf_counter() - started)
    finally:
        server.stop()
    return {k: {"median_s": statistics.median(v), "runs": len(v)} for k, v in rows.items()}


SAME_FLOW = '''from metaflow import FlowSpec, Parameter, step


class BenchDeployFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5)

    @step
    def start(self):
        self.x = 1
        self.next(self.train)

    @step
    def train(self):
        self.y = self.x + self.alpha
        self.next(self.end)

    @step
    def end(self):
        print(self.y)


if __name__ == "__main__":
    BenchDeployFlow()
'''


def cli_vs_metaflow(runs, metaflow_python="/work/mfvenv/bin/python"):
    """The same Metaflow-written flow deployed by each tool's CLI (fresh process each time) to one moto server.

    Metaflow's `step-functions create` deploys a state machine and job definitions onto infrastructure that
    must already exist (queue, roles, bucket, table: created here first); `sfncompile deploy` creates or
    updates its CloudFormation stacks, the platform included.
    """
    import boto3

    from tests.support import moto_batch, moto_cfn, moto_events
    from tests.support.moto_server import start_moto_server

    server = start_moto_server()
    os.environ.update(server.env())
    moto_cfn.install()
    moto_batch.install()
    moto_events.install()
    work = Path(tempfile.mkdtemp())
    flow = work / "bench_deploy_flow.py"
    flow.write_text(SAME_FLOW)
    env = dict(os.environ, SFNCOMPILE_HOME=str(work / "home"), PYTHONPATH=f"{ROOT}:{ROOT / 'runtime'}",
               JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    rows = {"sfncompile_first_deploy": [], "sfncompile_redeploy_no_change": [], "metaflow_create": []}
    try:
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "sfncompile.cli.main", "deploy", str(flow)], env=env,
                              cwd=work, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        rows["sfncompile_first_deploy"].append(time.perf_counter() - started)
        for _ in range(runs):
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "sfncompile.cli.main", "deploy", str(flow)], env=env,
                                  cwd=work, capture_output=True, text=True)
            assert proc.returncode == 0, proc.stderr
            rows["sfncompile_redeploy_no_change"].append(time.perf_counter() - started)
        if Path(metaflow_python).exists():
            iam, batch, ec2 = boto3.client("iam"), boto3.client("batch"), boto3.client("ec2")
            role = iam.create_role(RoleName="mf-role", AssumeRolePolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
            vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
            group = ec2.create_security_group(GroupName="mf", Description="mf", VpcId=vpc)["GroupId"]
            ce = batch.create_compute_environment(
                computeEnvironmentName="mf-ce", type="MANAGED", serviceRole=role,
                computeResources={"type": "FARGATE", "maxvCpus": 4, "subnets": [subnet],
                                  "securityGroupIds": [group]})["computeEnvironmentArn"]
            queue = batch.create_job_queue(jobQueueName="mf-queue", priority=1, state="ENABLED",
                                           computeEnvironmentOrder=[{"order": 1, "computeEnvironment": ce}]
                                           )["jobQueueArn"]
            boto3.client("s3").create_bucket(Bucket="mf-bucket")
            mf_env = dict(os.environ, METAFLOW_DEFAULT_DATASTORE="s3",
                          METAFLOW_DATASTORE_SYSROOT_S3="s3://mf-bucket/metaflow",
                          METAFLOW_S3_ENDPOINT_URL=server.endpoint, METAFLOW_BATCH_JOB_QUEUE=queue,
                          METAFLOW_ECS_S3_ACCESS_IAM_ROLE=role, METAFLOW_SFN_IAM_ROLE=role,
                          METAFLOW_EVENTS_SFN_ACCESS_IAM_ROLE=role, METAFLOW_ECS_FARGATE_EXECUTION_ROLE=role,
                          METAFLOW_SFN_DYNAMO_DB_TABLE="mf-table", METAFLOW_DEFAULT_METADATA="local",
                          METAFLOW_HOME=str(work / "mfhome"), USERNAME="bench")
            for _ in range(runs):
                started = time.perf_counter()
                proc = subprocess.run([metaflow_python, str(flow), "--no-pylint", "step-functions", "create"],
                                      env=mf_env, cwd=work, capture_output=True, text=True)
                assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
                rows["metaflow_create"].append(time.perf_counter() - started)
    finally:
        server.stop()
    return {k: {"median_s": statistics.median(v), "runs": len(v)} for k, v in rows.items() if v}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip", nargs="*", default=[], choices=["synth", "validators", "deploy", "metaflow"])
    args = parser.parse_args()
    from sfncompile.backends.cdk.app import quiet_node

    quiet_node()
    paths = sorted((ROOT / "examples").glob("*.py"))
    def show(name, value):
        print(json.dumps({name: value}, indent=2), flush=True)

    if "synth" not in args.skip:
        cold, rows, platform_resources = synth_times(paths, args.runs)
        show("synth", {"cold_first_synth_s": cold, "platform_resources": platform_resources, "flows": rows})
    if "validators" not in args.skip:
        show("validators", validator_counts(paths))
    if "deploy" not in args.skip:
        show("deploy_cycle_train_evaluate", deploy_cycle(args.runs))
    if "metaflow" not in args.skip:
        show("cli_deploy_vs_metaflow_step_functions_create", cli_vs_metaflow(args.runs))


if __name__ == "__main__":
    main()
