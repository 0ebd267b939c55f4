"""With no image configured, a synth's job definitions run the image built from
runtime/Dockerfile: a container image asset of the assembly (`cdk deploy` builds and pushes it;
synth needs no Docker). `sfncompile deploy`, which pushes no images, refuses that setting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT

from .conftest import policy_statements


def _asset_entries(outdir: Path, flow: str) -> list[dict]:
    metadata = json.loads((outdir / f"Flow{flow}.metadata.json").read_text())  # the stack's artifact id
    return [entry["data"] for entries in metadata.values() for entry in entries
            if entry.get("type") == "aws:cdk:asset" and entry["data"].get("packaging") == "container-image"]


def test_the_default_image_is_runtime_dockerfile_as_an_asset(synthesized):
    template = synthesized.flow_template("TrainEvaluateFlow")
    (asset,) = _asset_entries(synthesized.outdir, "TrainEvaluateFlow")
    context = synthesized.outdir / asset["path"]
    # the build context holds exactly what the Dockerfile reads: the shipped definition and the pins
    assert (context / "Dockerfile").read_text() == (ROOT / "runtime" / "Dockerfile").read_text()
    assert (context / "sfncompile_runtime" / "requirements.txt").read_text() == \
        (ROOT / "runtime" / "sfncompile_runtime" / "requirements.txt").read_text()
    assert sorted(p.relative_to(context).as_posix() for p in context.rglob("*") if p.is_file()) == \
        ["Dockerfile", "sfncompile_runtime/requirements.txt"]
    images = {json.dumps(r["Properties"]["ContainerProperties"]["Image"]) for r in template["Resources"].values()
              if r["Type"] == "AWS::Batch::JobDefinition"}
    assert len(images) == 1 and f"/{asset['repositoryName']}:{asset['imageTag']}" in images.pop()
    # the jobs' execution role may pull from that repository, and from nothing else
    pulls = [s for _, s in policy_statements(template) if "ecr:BatchGetImage" in s["Action"]]
    assert len(pulls) == 1 and f":repository/{asset['repositoryName']}" in json.dumps(pulls[0]["Resource"])


def test_a_flow_given_an_image_has_no_asset(synthesized):
    others = [flow for flow in synthesized.result.flow_stacks if flow != "TrainEvaluateFlow"]
    assert others and all(_asset_entries(synthesized.outdir, flow) == [] for flow in others)


def test_the_asset_hash_depends_on_the_image_definition_only(tmp_path, monkeypatch):
    """Bytecode caches, runtime sources, the staging folder: none of them move the tag."""
    from sfncompile.backends.cdk import image

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a"))
    first = Path(image.runtime_image_context())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "b"))
    second = Path(image.runtime_image_context())
    assert first != second and first.name == second.name
    assert (first / "Dockerfile").read_text() == (second / "Dockerfile").read_text()


def test_sfncompile_deploy_refuses_the_asset_image_before_any_aws_call(tmp_path, monkeypatch):
    from sfncompile.backends.cdk.image import RUNTIME_IMAGE
    from sfncompile.config import Config
    from sfncompile.deploy.deployment import DeployOptions, deploy
    from sfncompile.diagnostics import UserError

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: any call would fail
    config = Config.load(tmp_path, flags={"image": RUNTIME_IMAGE, "region": "us-east-1"})
    with pytest.raises(UserError, match="does not build images"):
        deploy(ROOT / "examples" / "train_evaluate.py", config, DeployOptions(), echo=lambda line: None)
