"""The side channel: values the state machine reads back from a finished step.

A Batch ``.sync`` task returns only the job description, so a foreach step
publishes its width (and, for an inline Map, its item indices; for a
Distributed Map, a JSON manifest of them) and a switch step publishes the
branch value in one item keyed by ``<Flow>/<run_id>/<step>/<task_id>``; the
state machine reads it with ``dynamodb:getItem`` (see docs/state-machine.md §4).

Two stores, one interface:

* a DynamoDB table name → boto3 (``AWS_ENDPOINT_URL`` is honoured by boto3);
* ``sqlite:///abs/path.db`` → the standard library's sqlite3 in WAL mode with a
  busy timeout, safe for many task processes writing at once. The local
  executor serves ``dynamodb:getItem``/``putItem`` from it through
  ``get_typed_item``/``put_typed_item``, which speak DynamoDB's typed JSON.
"""

from __future__ import annotations

import json
import os
import time

TTL_SECONDS = 30 * 24 * 3600
INLINE_ITEMS_MAX = 1000  # an inline Map reads `items`; wider foreaches use the manifest


def item_key(flow: str, run_id: str, step: str, task_id: str) -> str:
    return f"{flow}/{run_id}/{step}/{task_id}"


# -- DynamoDB typed JSON ------------------------------------------------------

def to_typed(value: Any) -> dict:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": repr(value) if isinstance(value, float) else str(value)}
    if isinstance(value, str):
        return {"S": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, (list, tuple)):
        return {"L": [to_typed(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: to_typed(v) for k, v in value.items()}}
    raise TypeError(f"cannot store {type(value).__name__} in the side channel")


def from_typed(typed: dict) -> Any:
    (kind, value), = typed.items()
    if kind == "N":
        number = float(value)
        return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    if kind == "S" or kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "L":
        return [from_typed(v) for v in value]
    if kind == "M":
        return {k: from_typed(v) for k, v in value.items()}
    raise ValueError(f"unsupported DynamoDB type {kind}")


def item_to_typed(item: dict) -> dict:
    return {k: to_typed(v) for k, v in item.items()}


def item_from_typed(item: dict) -> dict:
    return {k: from_typed(v) for k, v in item.items()}


class ForeachTooWide(ValueError):
    pass


def foreach_plan(mode: str | None, width: int) -> tuple[bool, bool]:
    """(write ``items``, write the manifest) for ``SFNCOMPILE_FOREACH`` (contract §4).

    ``auto:<n>`` (also when absent, n = 1000): items up to n, else the manifest;
    ``distributed``: the manifest always; ``inline:<n>``: items, and more than
    n items is an error (raises ForeachTooWide with n).
    """
    mode = (mode or "").strip() or f"auto:{INLINE_ITEMS_MAX}"
    kind, _, limit_text = mode.partition(":")
    if kind == "distributed":
        return False, True
    try:
        limit = min(int(limit_text), INLINE_ITEMS_MAX) if limit_text else INLINE_ITEMS_MAX
    except ValueError:
        raise ValueError(f"SFNCOMPILE_FOREACH={mode!r} is not auto:<n>, inline:<n> or distributed")
    if kind == "inline":
        if width > limit:
            raise ForeachTooWide(limit)
        return True, False
    if kind == "auto":
        return (True, False) if width <= limit else (False, True)
    raise ValueError(f"SFNCOMPILE_FOREACH={mode!r} is not auto:<n>, inline:<n> or distributed")


def foreach_values(width: int, items: bool = True, manifest_bucket: str | None = None,
                   manifest_key: str | None = None) -> dict:
    values = {"width": width}
    if items:
        values["items"] = list(range(width))
    if manifest_key:
        values["manifest_bucket"] = manifest_bucket
        values["manifest_key"] = manifest_key
    return values


class SideChannel:
    """publish/get a step's values (plain Python), typed access for the executor."""

    def publish(self, flow: str, run_id: str, step: str, task_id: str, values: dict) -> None:
        item = {"pk": item_key(flow, run_id, step, task_id), **values,
                "expires_at": int(time.time()) + TTL_SECONDS}
        self.put_typed_item(item_to_typed(item))

    def get(self, flow: str, run_id: str, step: str, task_id: str) -> dict | None:
        typed = self.get_typed_item({"pk": {"S": item_key(flow, run_id, step, task_id)}})
        return None if typed is None else item_from_typed(typed)

    def get_typed_item(self, key_typed: dict) -> dict | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def put_typed_item(self, item_typed: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class SideChannelUnusable(RuntimeError):
    """The side channel's store cannot be opened (a damaged local database); the message says what to do."""


class SqliteSideChannel(SideChannel):
    def __init__(self, path: str):
        import sqlite3

        self.path = path
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        try:
            # autocommit mode; each statement is its own transaction
            self._db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout=60000")
            # No fsync while a new database is set up (WAL, the table): there is nothing in it to
            # lose, and the default's fsyncs made that ~35 ms of every run on a new datastore.
            self._db.execute("PRAGMA synchronous=OFF")
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                # another process is switching it at the same moment; it ends up WAL either way
            self._db.execute("CREATE TABLE IF NOT EXISTS items (pk TEXT PRIMARY KEY, item TEXT NOT NULL)")
            # Then WAL's NORMAL: a write survives the crash of any process and the database is never
            # damaged; only a crash of the machine itself may lose the latest writes -- what the
            # datastore's own files (written without fsync) would lose too. (FULL: 1-4 ms of fsync
            # for each foreach width or switch choice a task publishes.)
            self._db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:  # truncated, overwritten, a folder or a link to another file
            raise SideChannelUnusable(
                f"the local side-channel database {path} cannot be used ({exc}). It only holds the foreach "
                "widths and switch choices of local runs in progress: delete it (and any -wal/-shm file beside "
                "it) when no local run is running, then run again") from None

    def get_typed_item(self, key_typed: dict) -> dict | None:
        pk = key_typed["pk"]["S"]
        row = self._db.execute("SELECT item FROM items WHERE pk = ?", (pk,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put_typed_item(self, item_typed: dict) -> None:
        pk = item_typed["pk"]["S"]
        self._db.execute("INSERT OR REPLACE INTO items (pk, item) VALUES (?, ?)",
                         (pk, json.dumps(item_typed, sort_keys=True)))

    def close(self) -> None:
        self._db.close()


class DynamoSideChannel(SideChannel):
    def __init__(self, table: str):
        from .aws import client

        self.table = table
        self._client = client("dynamodb")

    def get_typed_item(self, key_typed: dict) -> dict | None:
        response = self._client.get_item(TableName=self.table, Key=key_typed, ConsistentRead=True)
        return response.get("Item")

    def put_typed_item(self, item_typed: dict) -> None:
        self._client.put_item(TableName=self.table, Item=item_typed)

    def close(self) -> None:
        pass


def open_side_channel(spec: str) -> SideChannel:
    """``sqlite:///abs/path.db`` or a DynamoDB table name."""
    if not spec:
        raise ValueError("no side channel configured (SFNCOMPILE_SIDE_CHANNEL is empty)")
    if spec.startswith("sqlite://"):
        path = spec[len("sqlite://"):]
        return SqliteSideChannel(path)
    return DynamoSideChannel(spec)
