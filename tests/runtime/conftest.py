"""Fixtures for runner tests: a datastore + side channel, locally or on moto (S3 + DynamoDB)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from .harness import FlowDriver

FLOWS = Path(__file__).resolve().parent / "flows"


@dataclass
class Backend:
    kind: str  # "local" | "s3"
    datastore: str
    side_channel: str
    cache_dir: Path

    def driver(self, flow_file: str, **extra_env) -> FlowDriver:
        return FlowDriver(FLOWS / flow_file, self.datastore, self.side_channel, self.cache_dir, extra_env)


def make_s3_backend(tmp_path: Path, bucket: str = "sfn-data", table: str = "sfn-side") -> Backend:
    import boto3

    boto3.client("s3").create_bucket(Bucket=bucket)
    boto3.client("dynamodb").create_table(
        TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    return Backend("s3", f"s3://{bucket}/root", table, tmp_path / "code-cache")


def make_local_backend(tmp_path: Path) -> Backend:
    return Backend("local", str(tmp_path / "datastore"), f"sqlite:///{tmp_path / 'side.db'}", tmp_path / "code-cache")


@pytest.fixture
def local_backend(tmp_path):
    return make_local_backend(tmp_path)


@pytest.fixture
def s3_backend(aws, tmp_path):
    return make_s3_backend(tmp_path)


@pytest.fixture(params=["local", "s3"])
def backend(request, tmp_path):
    if request.param == "local":
        return make_local_backend(tmp_path)
    request.getfixturevalue("aws")
    return make_s3_backend(tmp_path)


@pytest.fixture
def client_root(monkeypatch):
    """Point the client API at a backend's datastore and show every namespace."""
    from sfncompile_runtime import client

    def use(backend: Backend):
        monkeypatch.setenv("SFNCOMPILE_DATASTORE", backend.datastore)
        client.reset()
        client.namespace(None)
        return client

    yield use
    client.reset()
