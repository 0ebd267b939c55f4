"""A local run with S3 as the datastore and DynamoDB as the side channel, on the moto server."""

from __future__ import annotations

import boto3
from click.testing import CliRunner

from tests.conftest import EXAMPLES

BUCKET = "sfn-datastore"
TABLE = "sfn-side-channel"


def _make_stores():
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    boto3.client("dynamodb").create_table(
        TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")


def test_foreach_run_on_s3_and_dynamodb(aws, tmp_path, monkeypatch):
    from sfncompile.cli.main import cli
    from sfncompile_runtime.datastore import Datastore

    monkeypatch.setenv("SFNCOMPILE_CODE_CACHE", str(tmp_path / "code-cache"))
    _make_stores()
    root = f"s3://{BUCKET}/runs"
    result = CliRunner().invoke(cli, ["run", str(EXAMPLES / "hyperparameter_sweep.py"), "--datastore", root,
                                      "--side-channel-table", TABLE, "--max-workers", "2"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    run_id = result.stdout.strip().splitlines()[-1]

    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="runs/HyperparameterSweepFlow/")["Contents"]]
    assert any(k.startswith("runs/HyperparameterSweepFlow/code/") for k in keys)
    assert any(k.startswith(f"runs/HyperparameterSweepFlow/runs/{run_id}/end/") for k in keys)
    # the foreach width went through DynamoDB, read back by the state machine (keyed by index path)
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": f"HyperparameterSweepFlow/{run_id}/start/0"}})["Item"]
    width = int(item["width"]["N"])
    store = Datastore(root, "HyperparameterSweepFlow")
    # fit is step 2 (start 1, fit 2, pick_best 3, end 4): one task per item, 2.<index>
    assert sorted(store.tasks(run_id, "fit")) == sorted(f"2.{i}" for i in range(width))
    end = store.latest_record(run_id, "end", "4")
    assert store.load_artifact(end["artifacts"]["best_error"]) >= 0
