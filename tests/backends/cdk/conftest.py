"""One synth for the whole session: every example plus this folder's flows, and
two extra platform variants (EC2/spot/GPU with imported networking; all
existing resources), in one CDK App with cdk-nag's AwsSolutions pack on.

A synth costs ~10 s and ~540 MB cold, so every test here reads this one.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

HERE = Path(__file__).resolve().parent
FLOW_FILES = sorted(EXAMPLES.glob("*.py")) + sorted((HERE / "flows").glob("*.py"))
CODE_SHA = "ab" * 32
IMAGE_ASSET_FLOW = "train_evaluate.py"
TOKEN = "tok-test-0001"
SUBNET_A, SUBNET_B = "subnet-0123456789abcdef0", "subnet-0fedcba9876543210"
SECURITY_GROUP = "sg-0123456789abcdef0"


@dataclass
class Synthesized:
    result: object  # SynthResult
    builds: dict  # flow name -> FlowBuild
    settings: dict  # flow name -> FlowSettings
    outdir: Path
    seconds: float
    compile_seconds: dict = field(default_factory=dict)

    def flow_template(self, flow: str) -> dict:
        return self.result.templates[self.result.flow_stacks[flow]]

    def platform_template(self, stack_name: str | None = None) -> dict:
        return self.result.templates[stack_name or self.result.platform_stack]

    def resources(self, flow: str, kind: str) -> dict:
        return {k: v for k, v in self.flow_template(flow)["Resources"].items() if v["Type"] == kind}


def ec2_platform():
    from sfncompile.backends.cdk.settings import Networking, PlatformSettings

    return PlatformSettings(prefix="sfnc-ec2", compute=("ec2", "spot", "gpu"),
                            networking=Networking(subnet_ids=(SUBNET_A, SUBNET_B),
                                                  security_group_ids=(SECURITY_GROUP,)))


def existing_platform():
    from sfncompile.backends.cdk.settings import PlatformSettings

    # Existing bucket and table; the queue (and its network) is still created.
    return PlatformSettings(prefix="sfnc-existing", bucket_name="team-data-bucket", table_name="team-side-channel")


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> Synthesized:
    from sfncompile.backends.cdk.build import compile_flow
    from sfncompile.backends.cdk.settings import FlowSettings, PlatformSettings
    from sfncompile.backends.cdk.app import synth
    from sfncompile.backends.jobdefs import JobDefinitionSettings

    from sfncompile.backends.cdk.image import RUNTIME_IMAGE

    platform = PlatformSettings()
    builds, settings, pairs, compile_seconds = {}, {}, [], {}
    for path in FLOW_FILES:
        started = time.perf_counter()
        # One flow runs the image built from runtime/Dockerfile (a container image asset, the
        # default of `sfncompile synth`), so every validator below also sees that shape.
        image = RUNTIME_IMAGE if path.name == IMAGE_ASSET_FLOW else JobDefinitionSettings().image
        build = compile_flow(path, None, JobDefinitionSettings(image=image))
        compile_seconds[build.graph.name] = time.perf_counter() - started
        flow_settings = FlowSettings(platform=platform, code_sha256=CODE_SHA, production_token=TOKEN,
                                     deployer="tester", image=image)
        builds[build.graph.name] = build
        settings[build.graph.name] = flow_settings
        pairs.append((build, flow_settings))
    outdir = tmp_path_factory.mktemp("cdk-out")
    started = time.perf_counter()
    result = synth(pairs, platform, outdir=outdir, nag=True,
                   extra_platforms=[ec2_platform(), existing_platform()])
    return Synthesized(result=result, builds=builds, settings=settings, outdir=outdir,
                       seconds=time.perf_counter() - started, compile_seconds=compile_seconds)


def policy_statements(template: dict):
    """(logical id of the policy/role, statement) for every IAM statement in a template."""
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        documents = []
        if resource["Type"] == "AWS::IAM::Policy":
            documents.append(props["PolicyDocument"])
        elif resource["Type"] == "AWS::IAM::Role":
            documents.extend(p["PolicyDocument"] for p in props.get("Policies", []))
        for document in documents:
            for statement in document["Statement"]:
                yield logical_id, statement


def as_list(value):
    return value if isinstance(value, list) else [value]


def text(value) -> str:
    """A template value (possibly Fn::Join) as one string, refs shown as ${Ref}."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        return value["Fn::Join"][0].join(text(v) for v in value["Fn::Join"][1])
    if isinstance(value, dict) and "Ref" in value:
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    return json.dumps(value, sort_keys=True)
