"""Acknowledged findings of the security scanners, each with its reason.

Every suppression lives here, next to the construct it concerns, so a review
reads all the exceptions in one place. cdk-nag 3 acknowledgements go through
``Validations.of(construct).acknowledge``; checkov reads ``Metadata.checkov.skip``
on the resource in the template.
"""

from __future__ import annotations

import aws_cdk as cdk

# Benchmarks turn this off to count the findings the acknowledgements cover.
ENABLED = True


def acknowledge_nag(construct, rule: str, reason: str) -> None:
    if not ENABLED:
        return
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def skip_checkov(construct, check_id: str, reason: str) -> None:
    """Add a checkov skip to the L1 resource under ``construct``."""
    if not ENABLED:
        return
    resource = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
    if resource is None:  # an imported resource: nothing of ours in the template
        return
    meta = resource.get_metadata("checkov") or {"skip": []}
    meta = {"skip": [*meta.get("skip", []), {"id": check_id, "comment": reason}]}
    resource.add_metadata("checkov", meta)
