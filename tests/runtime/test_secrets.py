"""@secrets (Metaflow 2.19's semantics): sources read before the step runs, into its environment.

Unit tests of the rules (no AWS), the AWS Secrets Manager backend against the
session's moto server, and a real run of a flow through the runner.
"""

from __future__ import annotations

import json

import pytest

from sfncompile_runtime import secretsources as ss
from sfncompile_runtime.datastore import Datastore


def _inline(env_vars, **extra):
    return {"type": "inline", "id": extra.pop("id", "1"), "options": {"env_vars": env_vars}, **extra}


def test_inline_sources_and_the_naming_rules():
    assert ss.resolve({"sources": [_inline({"secret_1": "a", "SECRET_2": "b"})]}, environ={}) == {
        "secret_1": "a", "SECRET_2": "b"}
    for bad, why in [({"1BAD": "x"}, "invalid env var name '1BAD'"),
                     ({"METAFLOW_X": "x"}, "disallowed env var name 'METAFLOW_X'"),
                     ({"SFNCOMPILE_RUN_ID": "x"}, "disallowed env var name"),
                     ({"OK": 3}, "non string value")]:
        with pytest.raises(ss.SecretsError, match=why):
            ss.resolve({"sources": [_inline(bad)]}, environ={})
    two = [_inline({"A": "1"}, id="one"), _inline({"A": "2"}, id="two")]
    with pytest.raises(ss.SecretsError, match="'A' as env var, and it is also added by '1'|also added by 'one"):
        ss.resolve({"sources": two}, environ={})
    with pytest.raises(ss.SecretsError, match="already exists in env"):
        ss.resolve({"sources": [_inline({"HOME": "x"})]}, environ={"HOME": "/root"})
    assert ss.resolve({"sources": [_inline({"HOME": "x"})], "allow_override": True}, environ={"HOME": "/r"}) == {
        "HOME": "x"}


def test_source_forms_types_and_roles(monkeypatch):
    monkeypatch.delenv("METAFLOW_DEFAULT_SECRETS_ROLE", raising=False)
    specs = ss.parse_sources(["db", "aws-secrets-manager.x.y", {"id": "z", "role": "arn:aws:iam::1:role/src"}],
                             role="arn:aws:iam::1:role/deco")
    assert [(s.backend, s.secret_id, s.role) for s in specs] == [
        ("aws-secrets-manager", "db", "arn:aws:iam::1:role/deco"),
        ("aws-secrets-manager", "x.y", "arn:aws:iam::1:role/deco"),
        ("aws-secrets-manager", "z", "arn:aws:iam::1:role/src")]
    monkeypatch.setenv("METAFLOW_DEFAULT_SECRETS_ROLE", "arn:aws:iam::1:role/config")
    assert ss.parse_sources(["db"])[0].role == "arn:aws:iam::1:role/config"
    for bad in ("db", [""], [3], ["vault.x"], [{"id": 3}], [{"id": "a", "type": "vault"}],
                [{"id": "a", "options": []}], [{"id": "a", "role": 1}]):
        assert ss.source_problems(bad), bad
    assert ss.source_problems([]) is None


def test_aws_secrets_manager_json_plain_and_binary(aws):
    import boto3

    sm = boto3.client("secretsmanager")
    arn = sm.create_secret(Name="db-creds", SecretString=json.dumps({"user": "admin", "pass-word": 7}))["ARN"]
    sm.create_secret(Name="plain", SecretString="not json")
    sm.create_secret(Name="blob", SecretBinary=b"\x00\x01")
    sm.create_secret(Name="listy", SecretString="[1, 2]")
    assert ss.resolve({"sources": ["db-creds"]}, environ={}) == {"user": "admin", "pass_word": "7"}
    assert ss.resolve({"sources": [arn]}, environ={}) == {"user": "admin", "pass_word": "7"}  # region from the ARN
    plain = {"id": "plain", "options": {"json": False}}
    assert ss.resolve({"sources": [plain]}, environ={}) == {"plain": "not json"}
    named = {"id": "plain", "options": {"json": False, "env_var_name": "MY_VAR"}}
    assert ss.resolve({"sources": [named]}, environ={}) == {"MY_VAR": "not json"}
    assert ss.resolve({"sources": ["blob"]}, environ={}) == {"blob": "AAE="}
    with pytest.raises(ss.SecretsError, match="could not be parsed as JSON"):
        ss.resolve({"sources": ["plain"]}, environ={})
    with pytest.raises(ss.SecretsError, match="not an object"):
        ss.resolve({"sources": ["listy"]}, environ={})
    with pytest.raises(ss.SecretsError, match="Failed to retrieve secret 'missing'"):
        ss.resolve({"sources": ["missing"]}, environ={})
    assumed = ss.resolve({"sources": ["db-creds"], "role": "arn:aws:iam::123456789012:role/reader"}, environ={})
    assert assumed["user"] == "admin"


def test_a_flow_gets_its_secrets_locally(aws, local_backend):
    import boto3

    sm = boto3.client("secretsmanager")
    sm.create_secret(Name="db-creds", SecretString=json.dumps({"user": "admin", "pass-word": "s3cr3t"}))
    sm.create_secret(Name="plain", SecretString="hello")
    driver = local_backend.driver("secrets_flow.py")
    run_id = driver.run_flow()
    store = Datastore(local_backend.datastore, "SecretsFlow")
    end = store.latest_record(run_id, "end", "2")
    start = store.latest_record(run_id, "start", "1")
    assert store.load_artifact(start["artifacts"]["inline"]) == ("Pizza is a vegetable.", "How do eels reproduce?")
    assert store.load_artifact(end["artifacts"]["aws"]) == ("admin", "s3cr3t", "hello")
    assert store.load_artifact(end["artifacts"]["leaked"]) is None


def test_a_missing_secret_fails_the_step_with_its_name(aws, local_backend):
    from tests.runtime.harness import new_run_id

    driver = local_backend.driver("secrets_flow.py")
    run_id = new_run_id()
    assert driver.run_step("start", run_id).returncode == 0
    proc = driver.run_step("end", run_id)
    assert proc.returncode == 1
    assert "@secrets of step 'end': Failed to retrieve secret 'db-creds'" in proc.stderr
    record = Datastore(local_backend.datastore, "SecretsFlow").latest_record(run_id, "end", "2", ok_only=False)
    assert record["status"] == "failed" and "db-creds" in record["exception"]["message"]
