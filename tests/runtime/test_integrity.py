"""Nothing the datastore hands back is wrong: blobs are checked against their sha256 on read
(streamed), a damaged blob is replaced on write, a missing one is a clear error, and values that
cannot be artifacts are named with their step."""

from __future__ import annotations

import os

import pytest

from sfncompile_runtime.datastore import (SMALL, ArtifactCorrupted, ArtifactMissing, Datastore, blob_key)

VALUES = {"small": {"total": 45}, "large": os.urandom(3 * SMALL),
          "large-compressed": "the same line again\n" * (SMALL // 5)}


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return Datastore(str(tmp_path / "root"), "F")
    request.getfixturevalue("aws")
    import boto3

    boto3.client("s3").create_bucket(Bucket="blobs")
    return Datastore("s3://blobs/p", "F")


def _stored(store, sha) -> bytes:
    return store.storage.get_bytes(blob_key("F", sha))


def _flip(store, sha, offset=-3) -> None:
    """One flipped bit in the stored blob (the same size: only a hash can tell)."""
    data = bytearray(_stored(store, sha))
    data[offset] ^= 0x01
    store.storage.put_bytes(blob_key("F", sha), bytes(data))


@pytest.mark.parametrize("kind", sorted(VALUES))
def test_a_flipped_bit_is_refused_with_the_artifact_and_blob_named(store, kind, monkeypatch):
    if kind == "large-compressed":
        monkeypatch.setenv("SFNCOMPILE_COMPRESSION", "always")
    ref = store.put_artifact(VALUES[kind])
    _flip(store, ref["sha"])
    fresh = Datastore(store.storage, "F")
    with pytest.raises(ArtifactCorrupted) as caught:
        fresh.load_artifact(ref, "total", "end")
    message = str(caught.value)
    assert "artifact 'total'" in message and "step 'end'" in message
    assert store.storage.url(blob_key("F", ref["sha"])) in message
    assert "re-run" in message and "damaged" in message


def test_a_truncated_blob_is_refused(store):
    ref = store.put_artifact(VALUES["large"])
    key = blob_key("F", ref["sha"])
    store.storage.put_bytes(key, _stored(store, ref["sha"])[:-100])
    with pytest.raises(ArtifactCorrupted):
        Datastore(store.storage, "F").load_artifact(ref, "x")


def test_trailing_bytes_are_refused(store):
    ref = store.put_artifact({"a": 1})
    store.storage.put_bytes(blob_key("F", ref["sha"]), _stored(store, ref["sha"]) + b"\x00")
    with pytest.raises(ArtifactCorrupted):
        Datastore(store.storage, "F").load_artifact(ref, "a")


def test_a_deleted_blob_is_a_clear_error(store):
    ref = store.put_artifact(VALUES["large"])
    small = store.put_artifact(1234)
    for r in (ref, small):
        key = blob_key("F", r["sha"])
        if store.storage.is_local:
            os.unlink(store.storage.path(key))
        else:
            store.storage.client.delete_object(Bucket=store.storage.bucket, Key=store.storage.key(key))
        with pytest.raises(ArtifactMissing) as caught:
            Datastore(store.storage, "F").load_artifact(r, "model", "train")
        assert "artifact 'model'" in str(caught.value) and "missing" in str(caught.value)


@pytest.mark.parametrize("kind", sorted(VALUES))
def test_storing_again_replaces_a_damaged_blob(store, kind):
    value = VALUES[kind]
    ref = store.put_artifact(value)
    _flip(store, ref["sha"])
    again = Datastore(store.storage, "F").put_artifact(value)  # another task, another run
    assert again["sha"] == ref["sha"]
    assert Datastore(store.storage, "F").load_artifact(again) == value
    assert store.blob_is_intact(ref["sha"]) is True


def test_an_intact_blob_is_not_rewritten(store):
    value = VALUES["large"]
    ref = store.put_artifact(value)
    fresh = Datastore(store.storage, "F")
    calls = []
    original_file, original_bytes = fresh.storage.put_file, fresh.storage.put_bytes
    fresh.storage.put_file = lambda *a, **k: calls.append(a) or original_file(*a, **k)
    fresh.storage.put_bytes = lambda *a, **k: calls.append(a) or original_bytes(*a, **k)
    assert fresh.put_artifact(value)["sha"] == ref["sha"] and calls == []


def test_an_intact_blob_that_does_not_unpickle_keeps_its_own_error(store):
    """A class this process cannot import is not 'damage' (the client retries after importing the flow)."""
    import pickle
    import sys
    import types

    module = types.ModuleType("gone_module")
    exec("class Thing:\n    pass\n", module.__dict__)
    sys.modules["gone_module"] = module
    try:
        ref = store.put_artifact(module.Thing())
    finally:
        del sys.modules["gone_module"]
    with pytest.raises(ModuleNotFoundError):
        Datastore(store.storage, "F").load_artifact(ref, "thing")
    assert isinstance(pickle, types.ModuleType)
