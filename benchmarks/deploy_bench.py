"""Infra measurements (run on demand, not in CI):

* synth time per flow (own App each, cold first run reported apart, then median of N warm),
* template resource counts and sizes,
* deploy cycle against a local moto server (create, no-change redeploy, update, delete; medians of N),
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip", nargs="*", default=[], choices=["synth", "validators", "deploy"])
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


if __name__ == "__main__":
    main()
