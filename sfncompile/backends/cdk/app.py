"""Build a CDK App of the platform stack and any number of flow stacks, and synth it."""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .build import FlowBuild
from .settings import FlowSettings, PlatformSettings

# Fixed context so a synth never looks anything up and is byte-identical run to run.
OFFLINE_CONTEXT = {
    "aws:cdk:enable-path-metadata": False,
    "aws:cdk:enable-asset-metadata": False,
    "aws:cdk:version-reporting": False,
    "@aws-cdk/core:newStyleStackSynthesis": True,
    # Grant S3 log delivery through a bucket policy, not the legacy ACL.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


@dataclass
class SynthResult:
    outdir: Path
    templates: dict[str, dict[str, Any]]  # stack name -> template
    flow_stacks: dict[str, str]  # flow name -> stack name
    platform_stack: str | None
    seconds: float
    nag_findings: list[dict[str, Any]] = field(default_factory=list)


def quiet_node() -> None:
    """jsii prints a banner on an end-of-life Node (20 here); it is noise in a CLI."""
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def _synthesizer():
    import aws_cdk as cdk

    # The legacy synthesizer adds no CDKMetadata / BootstrapVersion parameter, and a stack
    # without assets (an image given by reference) needs no bootstrap stack at all. The one
    # asset we make, the runtime image (image.py), goes to the CLI-managed `aws-cdk/assets`
    # ECR repository on `cdk deploy` (which then wants `cdk bootstrap` once).
    return cdk.LegacyStackSynthesizer()


def build_app(builds: list[tuple[FlowBuild, FlowSettings]], platform: PlatformSettings | None,
              outdir: str | Path | None = None, nag: bool = False, context: dict | None = None,
              extra_platforms: list[PlatformSettings] = ()):
    quiet_node()
    import aws_cdk as cdk

    from .flow_stack import FlowStack
    from .platform import PlatformStack

    app = cdk.App(outdir=str(outdir) if outdir else None, context={**OFFLINE_CONTEXT, **(context or {})},
                  analytics_reporting=False)
    stacks = {}
    if platform is not None and platform.creates_platform:
        stacks["platform"] = PlatformStack(app, "Platform", settings=platform, synthesizer=_synthesizer(),
                                           analytics_reporting=False)
    for index, extra in enumerate(extra_platforms):
        stacks[f"platform:{extra.prefix}"] = PlatformStack(app, f"Platform{index + 2}", settings=extra,
                                                          synthesizer=_synthesizer(), analytics_reporting=False)
    for build, settings in builds:
        stack = FlowStack(app, f"Flow{build.graph.name}", build=build, settings=settings,
                          synthesizer=_synthesizer(), analytics_reporting=False)
        stacks[build.graph.name] = stack
    if nag:
        from cdk_nag import AwsSolutionsChecks

        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stacks


def synth(builds: list[tuple[FlowBuild, FlowSettings]], platform: PlatformSettings | None,
          outdir: str | Path | None = None, nag: bool = False,
          extra_platforms: list[PlatformSettings] = ()) -> SynthResult:
    """One synth of one App holding every stack (a synth costs ~1 s warm, ~10 s cold)."""
    outdir = Path(outdir or tempfile.mkdtemp(prefix="sfncompile-synth-"))
    quiet_node()
    started = time.perf_counter()
    app, stacks = build_app(builds, platform, outdir=outdir, nag=nag, extra_platforms=extra_platforms)
    try:
        assembly = app.synth()
    except RuntimeError as exc:
        if "Validation failed" not in str(exc):
            raise
        from ...diagnostics import UserError

        report = json.loads((outdir / "validation-report.json").read_text())
        lines = [f"{v['ruleName']} at {c.get('constructPath')}" for p in report.get("pluginReports", [])
                 for v in p.get("violations", []) for c in v.get("violatingConstructs", [])]
        raise UserError(f"cdk-nag: {len(lines)} unacknowledged finding(s): " + "; ".join(lines[:10])) from None
    seconds = time.perf_counter() - started
    templates, flow_stacks, platform_name = {}, {}, None
    for key, stack in stacks.items():
        artifact = assembly.get_stack_artifact(stack.artifact_id)
        templates[stack.stack_name] = artifact.template
        if key == "platform":
            platform_name = stack.stack_name
        elif not key.startswith("platform:"):
            flow_stacks[key] = stack.stack_name
    findings = []
    report = outdir / "validation-report.json"
    if report.exists():
        findings = json.loads(report.read_text()).get("pluginReports", [])
    return SynthResult(outdir=outdir, templates=templates, flow_stacks=flow_stacks,
                       platform_stack=platform_name, seconds=seconds, nag_findings=findings)
