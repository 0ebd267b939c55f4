"""Deployment settings from the configuration (flags > environment > pyproject)."""

from __future__ import annotations

from ..backends.cdk.settings import COMPUTE_KINDS, FlowSettings, Networking, PlatformSettings
from ..config import Config
from ..diagnostics import UserError


def split_s3(url: str) -> tuple[str, str]:
    rest = url[len("s3://"):]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise UserError(f"datastore {url!r} names no bucket; use s3://bucket[/prefix]")
    return bucket, prefix.strip("/")


def _items(value) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return tuple(v.strip() for v in str(value).split(",") if v.strip())


def platform_settings(config: Config, *, compute: tuple[str, ...] = (), subnets: tuple[str, ...] = (),
                      security_groups: tuple[str, ...] = (), vpc_id: str | None = None,
                      public_ip: bool | None = None) -> PlatformSettings:
    datastore = str(config.get("datastore") or "")
    bucket = split_s3(datastore)[0] if datastore.startswith("s3://") else None
    # Flags first, then the configuration (SFNCOMPILE_COMPUTE=fargate,gpu / [tool.sfncompile]).
    compute = tuple(compute) or _items(config.get("compute"))
    subnets = tuple(subnets) or _items(config.get("subnets"))
    security_groups = tuple(security_groups) or _items(config.get("security_groups"))
    vpc_id = vpc_id or config.get("vpc_id") or None
    for kind in compute:
        if kind not in COMPUTE_KINDS:
            raise UserError(f"--compute {kind!r}: choose from {', '.join(COMPUTE_KINDS)}")
    return PlatformSettings(
        prefix=str(config.get("stack_prefix")),
        bucket_name=bucket,
        table_name=config.get("side_channel_table") or None,
        job_queue_arn=config.get("job_queue") or None,
        networking=Networking(vpc_id=vpc_id, subnet_ids=tuple(subnets), security_group_ids=tuple(security_groups),
                              public_ip=public_ip),
        compute=tuple(compute) or ("fargate",),
    )


def flow_settings(config: Config, platform: PlatformSettings, *, deployer: str, production_token: str = "",
                  branch: str | None = None, production: bool = False, code_sha256: str = "0" * 64,
                  notification_topic_arn: str | None = None, image: str | None = None) -> FlowSettings:
    datastore = str(config.get("datastore") or "")
    prefix = split_s3(datastore)[1] if datastore.startswith("s3://") else ""
    return FlowSettings(platform=platform, image=image or str(config.get("image")), datastore_prefix=prefix,
                        code_sha256=code_sha256, production_token=production_token, deployer=deployer,
                        branch=branch, production=production, notification_topic_arn=notification_topic_arn)
