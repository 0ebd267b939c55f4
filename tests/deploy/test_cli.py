"""The commands as a user types them: synth, deploy, trigger, runs, status, terminate, delete."""

from __future__ import annotations

import json

from click.testing import CliRunner

from sfncompile.cli.main import cli
from sfncompile.deploy.runids import RUN_ID

from tests.conftest import ROOT

from .conftest import example, flow_file


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_synth_writes_the_cloud_assembly(tmp_path):
    code, out, err = run("synth", str(example("train_evaluate")), "-o", str(tmp_path / "out"))
    assert code == 0, err
    assert "sfncompile-platform: 21 resources" in out
    assert "sfncompile-train-evaluate-flow: 10 resources" in out
    template = json.loads((tmp_path / "out" / "FlowTrainEvaluateFlow.template.json").read_text())
    assert template["Resources"]["StateMachine"]["Type"] == "AWS::StepFunctions::StateMachine"


def test_deploy_trigger_runs_status_terminate_delete(cloud):
    flow = str(flow_file("required_param_flow"))
    code, out, err = run("deploy", flow, "--dry-run")
    assert code == 0, err
    assert "  + AWS::StepFunctions::StateMachine StateMachine" in out and "dry run: nothing was changed" in out

    code, out, err = run("deploy", flow)
    assert code == 0, err
    assert "state machine: arn:aws:states:us-east-1:123456789012:stateMachine:sfncompile-required-param-flow" in out

    code, out, err = run("trigger", flow, "--params", '{"count": "x"}')
    assert (code, out) == (1, "")
    assert err == "error: parameter 'count' must be an integer, got \"x\"\n"

    code, out, err = run("trigger", flow, "--params", '{"count": 3}')
    assert code == 0, err
    run_id = out.strip()
    assert RUN_ID.match(run_id)

    code, out, err = run("runs", "RequiredParamFlow", "--deployed")
    assert code == 0 and out.split()[:2] == [run_id, "RUNNING"]

    code, out, err = run("status", f"RequiredParamFlow/{run_id}", "--json", "--deployed")
    assert code == 0 and json.loads(out)["status"] == "RUNNING"

    code, out, err = run("terminate", f"RequiredParamFlow/{run_id}")
    assert code == 0 and out == f"terminated RequiredParamFlow/{run_id}\n"

    code, out, err = run("delete", flow)  # no terminal to ask on: nothing happens without --yes
    assert code == 1 and err == ("error: deleting sfncompile-required-param-flow needs confirmation: "
                                 "pass --yes\n")
    code, out, err = run("delete", flow, "--yes")
    assert code == 0 and "deleted sfncompile-required-param-flow" in out
    code, out, err = run("runs", "RequiredParamFlow", "--deployed")
    assert code == 1 and err == "error: RequiredParamFlow is not deployed (run 'sfncompile deploy' first)\n"


def test_unreachable_endpoint_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    code, out, err = run("runs", "AnyFlow", "--deployed", "--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1")
    assert code == 1
    assert err.startswith("error: finding the deployment: cannot reach the AWS endpoint http://127.0.0.1:9")
    assert err.count("\n") == 1


def test_bad_networking_flag_is_one_line():
    code, out, err = run("deploy", str(example("train_evaluate")), "--subnet", "subnet-nope", "--dry-run")
    assert code == 1 and err == "error: 'subnet-nope' is not a subnet id (like subnet-0123456789abcdef0)\n"


def test_synth_writes_a_dockerfile_with_boto3(tmp_path):
    code, out, err = run("synth", str(flow_file("triggered_flow")), "-o", str(tmp_path / "out"))
    assert code == 0, err
    dockerfile = (tmp_path / "out" / "Dockerfile").read_text()
    assert dockerfile.startswith("# Container image for sfncompile Batch jobs (TriggeredFlow)")
    # the tested wheels, by version and sha256, as in runtime/sfncompile_runtime/requirements.txt
    assert "'boto3==1." in dockerfile and " --hash=sha256:" in dockerfile and "--require-hashes" in dockerfile
    assert "ARG BASE=" in dockerfile and "FROM ${BASE}" in dockerfile
    # no image configured: the job definitions run runtime/Dockerfile, an asset `cdk deploy` builds
    (asset,) = [p for p in (tmp_path / "out").iterdir() if p.name.startswith("asset.")]
    assert (asset / "Dockerfile").read_text() == (ROOT / "runtime" / "Dockerfile").read_text()
    template = (tmp_path / "out" / "FlowTriggeredFlow.template.json").read_text()
    assert "/aws-cdk/assets:" + asset.name[len("asset."):] in template


def test_synth_with_an_image_makes_no_asset(tmp_path):
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/jobs@sha256:" + "a" * 64
    code, out, err = run("synth", str(flow_file("triggered_flow")), "-o", str(tmp_path / "out"), "--image", image)
    assert code == 0, err
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith("asset.")]
    assert image in (tmp_path / "out" / "FlowTriggeredFlow.template.json").read_text()


def test_deploy_report(cloud, tmp_path):
    report = tmp_path / "report.md"
    code, out, err = run("deploy", str(example("train_evaluate")), "--report", str(report))
    assert code == 0, err
    text = report.read_text()
    assert text.startswith("# Deployment of train_evaluate (sfncompile-train-evaluate-flow)")
    assert "* Add `AWS::StepFunctions::StateMachine` StateMachine" in text
    assert "note: the default image" in out


def test_synth_builds_the_runtime_image_on_a_base_given_by_digest_only(tmp_path):
    base = "public.ecr.aws/docker/library/python@sha256:" + "b" * 64
    code, out, err = run("synth", str(flow_file("triggered_flow")), "-o", str(tmp_path / "out"), "--base-image", base)
    assert code == 0, err
    metadata = json.loads((tmp_path / "out" / "FlowTriggeredFlow.metadata.json").read_text())
    assets = [e["data"] for entries in metadata.values() for e in entries if e.get("type") == "aws:cdk:asset"]
    assert [a["buildArgs"] for a in assets] == [{"BASE": base}]
    code, out, err = run("synth", str(flow_file("triggered_flow")), "-o", str(tmp_path / "tag"),
                         "--base-image", "python:3.11-slim")
    assert code == 1 and "must name the image by digest" in err and "Traceback" not in err
