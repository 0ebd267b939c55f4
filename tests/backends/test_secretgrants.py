"""secret_grants: what a flow's @secrets needs from IAM, from the IR alone."""

from __future__ import annotations

from pathlib import Path

from sfncompile.backends.secretgrants import SecretRef, secret_grants
from sfncompile.pipeline import load_graph

FLOW = Path(__file__).resolve().parent / "cdk" / "flows" / "secrets_flow.py"


def test_grants_name_each_secret_and_role_once(monkeypatch):
    monkeypatch.setenv("METAFLOW_DEFAULT_SECRETS_ROLE", "arn:aws:iam::1:role/this-machine-only")
    grants = secret_grants(load_graph(FLOW))
    assert grants.secrets == (
        SecretRef("arn:aws:secretsmanager:eu-west-1:111122223333:secret:api-key-AbC123", "eu-west-1"),
        SecretRef("db-creds", None), SecretRef("west", "us-west-2"))
    assert grants.roles == ("arn:aws:iam::444455556666:role/secret-reader",)
    assert SecretRef("arn:aws:secretsmanager:us-east-1:1:secret:short", None).arn_pattern().endswith("short-??????")
    assert SecretRef("db", None).arn_pattern() is None
