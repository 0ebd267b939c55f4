"""Settings: command-line flags > environment > ``[tool.sfncompile]`` in pyproject.toml.

Every setting has one name used everywhere: the flag ``--job-queue``, the
environment variable ``SFNCOMPILE_JOB_QUEUE`` and the pyproject key
``job_queue``. A few settings also honour the standard AWS variables that boto3
reads itself (``AWS_REGION``, ``AWS_ENDPOINT_URL``). A missing required setting is
one line naming all three places it can come from.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sfncompile_runtime.envnames import DEFAULT_DATASTORE

from .diagnostics import UserError

# name -> (description, extra environment variables consulted after SFNCOMPILE_<NAME>)
SETTINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "datastore": ("datastore root: a directory or s3://bucket/prefix", ()),
    "region": ("AWS region", ("AWS_REGION", "AWS_DEFAULT_REGION")),
    "endpoint_url": ("AWS endpoint URL (e.g. a moto server)", ("AWS_ENDPOINT_URL",)),
    "job_queue": ("AWS Batch job queue name or ARN", ()),
    "job_role_arn": ("IAM role the Batch jobs of a hybrid run assume", ()),
    "execution_role_arn": ("ECS execution role for Fargate jobs of a hybrid run", ()),
    "side_channel_table": ("DynamoDB table the state machine reads step results from", ()),
    "stack_prefix": ("prefix of CloudFormation stack names", ()),
    "namespace": ("client namespace, e.g. user:alice", ()),
    "image": ("container image for Batch jobs", ()),
    "base_image": ("base of the job image built from runtime/Dockerfile when no image is given (synth), "
                   "by digest: REPO@sha256:...", ()),
    "max_workers": ("local parallelism", ()),
    "retry_delays": ("local runs: wait @retry's minutes_between_retries as AWS will (default: retry at once, "
                     "as Metaflow's local runtime)", ()),
    "compute": ("Batch compute: fargate, fargate_spot, ec2, spot or gpu", ()),
    "subnets": ("comma-separated subnet ids for Batch (imported networking)", ()),
    "security_groups": ("comma-separated security group ids for Batch", ()),
    "vpc_id": ("existing VPC id to run Batch in", ()),
}

DEFAULTS: dict[str, Any] = {
    "datastore": DEFAULT_DATASTORE,
    "stack_prefix": "sfncompile",
    "image": "public.ecr.aws/docker/library/python:3.11-slim",
    "compute": "fargate",
}


def env_name(key: str) -> str:
    return "SFNCOMPILE_" + key.upper()


def flag_name(key: str) -> str:
    return "--" + key.replace("_", "-")


def _find_pyproject(start: Path) -> Path | None:
    start = start.resolve()
    for folder in [start, *start.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _read_pyproject(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # a declared dependency on 3.10 (pyproject.toml): the same parser, before the standard library had it
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{path}: cannot read [tool.sfncompile]: {exc}")
    table = data.get("tool", {}).get("sfncompile", {})
    if not isinstance(table, dict):
        raise UserError(f"{path}: [tool.sfncompile] must be a table")
    unknown = sorted(set(table) - set(SETTINGS))
    if unknown:
        raise UserError(f"{path}: unknown setting(s) in [tool.sfncompile]: {', '.join(unknown)} "
                        f"(known: {', '.join(sorted(SETTINGS))})")
    return table


@dataclass
class Config:
    flags: dict[str, Any] = field(default_factory=dict)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    pyproject: dict[str, Any] = field(default_factory=dict)
    pyproject_path: Path | None = None

    @classmethod
    def load(cls, project_dir: str | Path = ".", flags: dict[str, Any] | None = None,
             environ: dict[str, str] | None = None) -> "Config":
        path = _find_pyproject(Path(project_dir))
        return cls(flags={k: v for k, v in (flags or {}).items() if v is not None},
                   environ=dict(os.environ if environ is None else environ),
                   pyproject=_read_pyproject(path), pyproject_path=path)

    def get(self, key: str, default: Any = None) -> Any:
        if key not in SETTINGS:
            raise KeyError(key)
        if key in self.flags:
            return self.flags[key]
        for var in (env_name(key), *SETTINGS[key][1]):
            value = self.environ.get(var)
            if value:
                return value
        if key in self.pyproject:
            return self.pyproject[key]
        return DEFAULTS.get(key, default)

    def is_set(self, key: str) -> bool:
        """Whether ``key`` was given (flag, environment, pyproject), not left to its default."""
        if key not in SETTINGS:
            raise KeyError(key)
        return (key in self.flags or any(self.environ.get(var) for var in (env_name(key), *SETTINGS[key][1]))
                or key in self.pyproject)

    def require(self, key: str) -> Any:
        value = self.get(key)
        if value in (None, ""):
            desc = SETTINGS[key][0]
            raise UserError(f"missing setting '{key}' ({desc}): pass {flag_name(key)}, "
                            f"set {env_name(key)} or add '{key} = ...' under [tool.sfncompile] in pyproject.toml")
        return value
