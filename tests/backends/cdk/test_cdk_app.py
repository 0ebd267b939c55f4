"""cdk_app/app.py as an infrastructure pipeline runs it: offline, no credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

CDK_CLI = ROOT / "cdk_app" / "node_modules" / ".bin" / "cdk"


def test_cdk_app_synthesises_offline_without_credentials(synthesized, tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path),
           "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}  # no AWS_* at all
    out = tmp_path / "cdk.out"
    app = f"{sys.executable} cdk_app/app.py"
    if CDK_CLI.exists():  # the pinned CLI (cdk_app/package.json: npm install there)
        cmd = [str(CDK_CLI), "synth", "-a", app, "-c", "flow=examples/train_evaluate.py", "-c", "nag=true",
               "-o", str(out), "--quiet"]
    else:  # the CLI's protocol without the CLI: context and output directory through the environment
        cmd = [sys.executable, "cdk_app/app.py"]
        env.update(CDK_OUTDIR=str(out), CDK_CONTEXT_JSON=json.dumps({"flow": "examples/train_evaluate.py",
                                                                     "nag": "true"}))
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    template = json.loads((out / "FlowTrainEvaluateFlow.template.json").read_text())
    platform = json.loads((out / "Platform.template.json").read_text())
    # Same stacks as the in-process synth (only the code package hash and token differ).
    assert set(template["Resources"]) == set(synthesized.flow_template("TrainEvaluateFlow")["Resources"])
    assert set(platform["Resources"]) == set(synthesized.platform_template()["Resources"])
    machine = template["Resources"]["StateMachine"]["Properties"]
    assert machine["DefinitionString"] == synthesized.builds["TrainEvaluateFlow"].definition_text


def test_cdk_app_says_what_is_missing(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "CDK_OUTDIR": str(tmp_path / "out"),
           "CDK_CONTEXT_JSON": "{}", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    proc = subprocess.run([sys.executable, "cdk_app/app.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 2
    assert proc.stderr.strip() == 'error: give the flow: cdk synth -a "python cdk_app/app.py" -c flow=path/to/flow.py'
