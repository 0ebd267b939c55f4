"""The side channel: SQLite (concurrent processes) and DynamoDB, typed items."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sfncompile_runtime.sidechannel import (ForeachTooWide, foreach_plan, item_from_typed, item_to_typed,
                                            open_side_channel)

RUNTIME = str(Path(__file__).resolve().parents[2] / "runtime")


def test_sqlite_concurrent_writers(tmp_path):
    spec = f"sqlite:///{tmp_path / 'side.db'}"
    script = (f"import sys; sys.path.insert(0, {RUNTIME!r})\n"
              "from sfncompile_runtime.sidechannel import open_side_channel\n"
              f"ch = open_side_channel({spec!r})\n"
              "w = int(sys.argv[1])\n"
              "for i in range(50): ch.publish('F', 'r', f'w{w}', str(i), {'width': i, 'items': list(range(i % 3))})\n")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(w)]) for w in range(6)]
    assert [p.wait() for p in procs] == [0] * 6
    channel = open_side_channel(spec)
    for w in range(6):
        for i in (0, 17, 49):
            item = channel.get("F", "r", f"w{w}", str(i))
            assert item["width"] == i and item["items"] == list(range(i % 3))


def test_sqlite_writes_without_an_fsync_each(tmp_path):
    """WAL with synchronous=NORMAL (safe from any process's crash, never damaged; no fsync per
    write), for a new database and for one another process made."""
    spec = f"sqlite:///{tmp_path / 'side.db'}"
    for channel in (open_side_channel(spec), open_side_channel(spec)):
        assert channel._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert channel._db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        channel.publish("F", "run", "pick", "0", {"branch": "large"})
        channel.close()
    assert open_side_channel(spec).get("F", "run", "pick", "0")["branch"] == "large"


def test_typed_items_round_trip_sqlite(tmp_path):
    channel = open_side_channel(f"sqlite:///{tmp_path / 'side.db'}")
    channel.publish("F", "run", "pick", "0", {"branch": "large"})
    typed = channel.get_typed_item({"pk": {"S": "F/run/pick/0"}})
    assert typed["branch"] == {"S": "large"} and "N" in typed["expires_at"]
    channel.put_typed_item({"pk": {"S": "x"}, "width": {"N": "2"}, "items": {"L": [{"N": "0"}, {"N": "1"}]}})
    assert channel.get("F", "run", "nothing", "0") is None
    assert item_from_typed(channel.get_typed_item({"pk": {"S": "x"}})) == {"pk": "x", "width": 2, "items": [0, 1]}


def test_dynamodb_side_channel(aws):
    import boto3

    boto3.client("dynamodb").create_table(
        TableName="side", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    channel = open_side_channel("side")
    channel.publish("F", "run", "each", "3.1", {"width": 4, "items": [0, 1, 2, 3]})
    raw = boto3.client("dynamodb").get_item(TableName="side", Key={"pk": {"S": "F/run/each/3.1"}})["Item"]
    assert raw["width"] == {"N": "4"} and raw["items"]["L"][3] == {"N": "3"}
    assert channel.get_typed_item({"pk": {"S": "F/run/each/3.1"}}) == raw
    assert channel.get_typed_item({"pk": {"S": "missing"}}) is None
    channel.put_typed_item(item_to_typed({"pk": "k", "branch": "a"}))
    assert channel.get_typed_item({"pk": {"S": "k"}})["branch"] == {"S": "a"}


def test_foreach_plan():
    assert foreach_plan(None, 1000) == (True, False)
    assert foreach_plan(None, 1001) == (False, True)
    assert foreach_plan("auto:2", 2) == (True, False)
    assert foreach_plan("auto:2", 3) == (False, True)
    assert foreach_plan("distributed", 1) == (False, True)
    assert foreach_plan("inline:5", 5) == (True, False)
    with pytest.raises(ForeachTooWide):
        foreach_plan("inline:5", 6)
    with pytest.raises(ValueError):
        foreach_plan("sideways", 1)
