"""What a flow's ``@secrets`` needs from IAM: the Secrets Manager secrets its jobs read
and the roles they assume to read them. A pure function of the IR, so the
CDK stack grants exactly these and tests can check them without a synth.

A job reads each ``aws-secrets-manager`` source itself, at task start, with
boto3 (``sfncompile_runtime.secretsources``), the same code a local run uses,
so Metaflow's expansion of a JSON secret into one variable per key, binary
secrets and ``env_var_name`` behave the same everywhere. A source read under a
role (``role=`` on the source, or on the decorator) is read by that role: the
job role may assume it and gets no access to the secret itself. ``inline``
sources need nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sfncompile_runtime.secretsources import AWS, aws_region, parse_sources

_FULL_ARN = re.compile(r"^arn:[^:]+:secretsmanager:[^:]+:[^:]+:secret:.+-[A-Za-z0-9]{6}$")


@dataclass(frozen=True)
class SecretRef:
    """One Secrets Manager secret: a full ARN as written, or a name (ARN built in the stack)."""

    secret_id: str
    region: str | None  # None: the stack's region

    @property
    def is_arn(self) -> bool:
        return self.secret_id.startswith("arn:")

    def arn_pattern(self) -> str | None:
        """The IAM resource for an ARN given in the flow: as is when complete, else with
        Secrets Manager's 6-character suffix as a wildcard (None for a name)."""
        if not self.is_arn:
            return None
        return self.secret_id if _FULL_ARN.match(self.secret_id) else f"{self.secret_id}-??????"


@dataclass(frozen=True)
class SecretGrants:
    secrets: tuple[SecretRef, ...]
    roles: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.secrets or self.roles)


def secret_grants(graph) -> SecretGrants:
    secrets: set[SecretRef] = set()
    roles: set[str] = set()
    for step in graph.steps.values():
        deco = step.decorator("secrets")
        if deco is None:
            continue
        args = deco.args or {}
        for spec in parse_sources(args.get("sources") or [], args.get("role"), environment_defaults=False):
            if spec.backend != AWS:
                continue
            if spec.role:
                roles.add(spec.role)
            else:
                secrets.add(SecretRef(spec.secret_id, aws_region(spec) if spec.secret_id.startswith("arn:")
                                      else spec.options.get("region")))
    return SecretGrants(tuple(sorted(secrets, key=lambda s: (s.secret_id, s.region or ""))), tuple(sorted(roles)))
