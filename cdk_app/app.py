"""CDK app for infrastructure pipelines.

    cdk synth -a "python cdk_app/app.py" -c flow=examples/train_evaluate.py

Offline: no lookups, no credentials. Without ``-c image=...`` the job image is
``runtime/Dockerfile`` as a container image asset: synth needs no Docker; ``cdk deploy``
builds it, pushes it (to the ``aws-cdk/assets`` repository) and needs ``cdk bootstrap`` once.
Context keys (all optional except ``flow``):

* ``flow`` — the flow file (several: comma-separated); ``flow_class`` when a file has several flows
* ``prefix`` — stack/resource name prefix (default ``sfncompile``)
* ``compute`` — comma-separated: fargate (default), fargate_spot, ec2, spot, gpu
* ``bucket``, ``table``, ``job_queue`` — existing resources to use instead of creating them
* ``datastore_prefix`` — key prefix in the bucket
* ``subnets``, ``security_groups``, ``vpc_id`` — existing networking (comma-separated ids)
* ``image`` — container image (default: the runtime image asset above); ``base_image`` — that
  asset's base image, by digest (``REPO@sha256:...``); ``production_token``, ``deployer``, ``branch``, ``production`` — deployment identity
* ``job_role_arn``, ``execution_role_arn``, ``state_machine_role_arn`` — existing roles instead of created ones
* ``platform`` — ``false`` to synthesise the flow stack(s) only
* ``nag`` — ``true`` to run cdk-nag's AwsSolutions checks during synth
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "runtime"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


def _list(value) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return tuple(v.strip() for v in str(value).split(",") if v.strip())


def _bool(value) -> bool:
    return str(value).lower() in ("1", "true", "yes")


def main() -> None:
    from sfncompile.backends.cdk.app import quiet_node

    quiet_node()
    from sfncompile.backends.cdk.app import build_app
    from sfncompile.backends.cdk.build import compile_flow
    from sfncompile.backends.cdk.image import RUNTIME_IMAGE, check_base_image
    from sfncompile.backends.cdk.settings import FlowSettings, Networking, PlatformSettings
    from sfncompile.backends.jobdefs import JobDefinitionSettings
    from sfncompile.diagnostics import UserError
    from sfncompile.package import build_code_package

    # The CDK CLI passes -c context as JSON in the environment; read it before
    # anything starts the jsii kernel, so a missing flow fails in milliseconds.
    raw = os.environ.get("CDK_CONTEXT_JSON")
    if raw is None:
        import aws_cdk as cdk

        context = cdk.App().node.get_all_context() or {}
    else:
        context = json.loads(raw)

    def get(key, default=None):
        value = context.get(key)
        return default if value is None else value

    flows = _list(get("flow"))
    if not flows:
        sys.stderr.write('error: give the flow: cdk synth -a "python cdk_app/app.py" -c flow=path/to/flow.py\n')
        sys.exit(2)
    try:
        platform = PlatformSettings(
            prefix=get("prefix", "sfncompile"), bucket_name=get("bucket"), table_name=get("table"),
            job_queue_arn=get("job_queue"), compute=_list(get("compute")) or ("fargate",),
            networking=Networking(vpc_id=get("vpc_id"), subnet_ids=_list(get("subnets")),
                                  security_group_ids=_list(get("security_groups"))))
        # No image given: runtime/Dockerfile, as a container image asset `cdk deploy` builds and pushes.
        image = get("image", RUNTIME_IMAGE)
        builds = []
        for flow in flows:
            build = compile_flow(flow, get("flow_class"), JobDefinitionSettings(image=image))
            package = build_code_package(build.graph, flow)
            builds.append((build, FlowSettings(
                platform=platform, image=image, datastore_prefix=get("datastore_prefix", ""),
                code_sha256=package.sha256, production_token=get("production_token", ""),
                deployer=get("deployer", os.environ.get("USER", "pipeline")), branch=get("branch"),
                production=_bool(get("production", False)), job_role_arn=get("job_role_arn"),
                execution_role_arn=get("execution_role_arn"), state_machine_role_arn=get("state_machine_role_arn"),
                base_image=check_base_image(get("base_image")))))
        app, _ = build_app(builds, platform if _bool(get("platform", True)) else None,
                           outdir=os.environ.get("CDK_OUTDIR"), nag=_bool(get("nag", False)), context=context)
        app.synth()
    except UserError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
