"""The blob store: content addressing, compression only where it pays, streaming."""

from __future__ import annotations

import os
import pickle

import pytest

from sfncompile_runtime.datastore import SMALL, Datastore, blob_key


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return Datastore(str(tmp_path / "root"), "F")
    request.getfixturevalue("aws")
    import boto3

    boto3.client("s3").create_bucket(Bucket="blobs")
    return Datastore("s3://blobs/some/prefix", "F")


@pytest.mark.parametrize("value", [
    0, "text", {"a": [1, 2.5, None]}, b"x" * 10, os.urandom(3 << 20), b"abc" * (2 << 20), list(range(300000)),
], ids=["int", "str", "dict", "small-bytes", "random-3MiB", "compressible-6MiB", "big-list"])
def test_round_trip(store, value):
    ref = store.put_artifact(value)
    assert store.load_artifact(ref) == value
    assert ref["sha"] == __import__("hashlib").sha256(pickle.dumps(value, protocol=5)).hexdigest() or ref["size"] > SMALL


def test_compression_only_where_it_pays(store, monkeypatch):
    monkeypatch.setenv("SFNCOMPILE_COMPRESSION", "always")  # the ratio rule alone, whatever the speed
    random_ref = store.put_artifact(os.urandom(4 << 20))
    assert random_ref["enc"] == "raw" and random_ref["stored"] == random_ref["size"]
    text = "the same sentence again and again. " * 200000
    text_ref = store.put_artifact(text)
    assert text_ref["enc"] == "zlib" and text_ref["stored"] < text_ref["size"] / 10
    assert store.load_artifact(text_ref) == text
    assert store.put_artifact("tiny")["enc"] == "raw"
    monkeypatch.setenv("SFNCOMPILE_COMPRESSION", "never")
    assert store.put_artifact(text + ".")["enc"] == "raw"


def test_compression_pays_rule(monkeypatch):
    from sfncompile_runtime.datastore import compression_pays

    monkeypatch.delenv("SFNCOMPILE_COMPRESSION", raising=False)
    text = b"row,1,2,3,abc\n" * 50000
    assert compression_pays(text, bandwidth=1.0)  # a slow link: compressing always pays
    assert not compression_pays(text, bandwidth=1e18)  # an infinitely fast disk: never
    assert not compression_pays(os.urandom(1 << 18), bandwidth=1.0)  # incompressible
    assert not compression_pays(b"x" * 100, bandwidth=1.0)  # too small to bother


def test_blob_encoding_is_read_from_the_blob(store, monkeypatch):
    """Two tasks may store the same value with different encodings: loads never mind."""
    text = "abc,def,123\n" * 300000
    monkeypatch.setenv("SFNCOMPILE_COMPRESSION", "always")
    compressed = store.put_artifact(text)
    monkeypatch.setenv("SFNCOMPILE_COMPRESSION", "never")
    other = Datastore(store.storage, "F").put_artifact(text)  # blob exists: not rewritten
    assert other["sha"] == compressed["sha"] and other["enc"] == "raw"
    assert store.load_artifact(other) == text


def test_same_value_is_one_blob_written_once(store, tmp_path):
    value = os.urandom(2 << 20)
    first = store.put_artifact(value)
    key = blob_key("F", first["sha"])
    assert store.storage.exists(key)
    fresh = Datastore(store.storage, "F")  # another process: no in-memory memo
    calls = []
    original = fresh.storage.put_file
    fresh.storage.put_file = lambda *a, **k: calls.append(a) or original(*a, **k)
    again = fresh.put_artifact(bytes(value))
    assert again["sha"] == first["sha"] and calls == []


def test_large_object_is_streamed_not_copied(tmp_path):
    """Peak memory while storing a 256 MiB bytes object stays near one copy."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import os, resource, sys
        sys.path.insert(0, {str(__import__('pathlib').Path(__file__).resolve().parents[2] / 'runtime')!r})
        from sfncompile_runtime.datastore import Datastore
        value = os.urandom(256 << 20)
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        store = Datastore({str(tmp_path / 'root')!r}, "F")
        ref = store.put_artifact(value)
        del value
        after_store = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        loaded = store.load_artifact(ref)
        after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(base, after_store, after_load, len(loaded))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    base, after_store, after_load, size = map(int, out.split())
    assert size == 256 << 20
    assert after_store - base < 32 << 10  # KiB: storing added < 32 MiB over the artifact itself
    assert after_load < base + (64 << 10)  # loading (after the original was freed) ~ one copy


def test_attempt_records_and_latest(tmp_path):
    store = Datastore(str(tmp_path / "root"), "F")
    assert store.latest_record("r", "s", "0") is None
    store.write_json("F/runs/r/s/0/0/record.json", {"status": "failed", "attempt": 0})
    store.write_json("F/runs/r/s/0/1/started.json", {"attempt": 1})  # crashed: never committed
    assert store.latest_record("r", "s", "0") is None
    assert store.latest_record("r", "s", "0", ok_only=False)["attempt"] == 0
    store.write_json("F/runs/r/s/0/2/record.json", {"status": "ok", "attempt": 2})
    assert store.latest_record("r", "s", "0")["attempt"] == 2
    assert store.attempts("r", "s", "0") == [0, 1, 2]


def test_resume_starts_at_the_failed_step_not_at_a_join_behind_it(tmp_path):
    """Breadth-first, the join of a split comes before the end of its longer branch."""
    from sfncompile_runtime.datastore import attempt_prefix, resume_plan, where_run_stopped

    steps = {"start": ["a", "b"], "a": ["join"], "b": ["c"], "c": ["join"], "join": ["end"], "end": []}
    graph = {"name": "F", "start": "start",
             "steps": {name: {"out_funcs": out, "in_funcs": [p for p, o in steps.items() if name in o]}
                       for name, out in steps.items()}}
    store = Datastore(str(tmp_path), "F")
    for name, status in (("start", "ok"), ("a", "ok"), ("b", "ok"), ("c", "failed")):
        store.write_json(f"{attempt_prefix('F', 'r1', name, '0', 0)}/record.json", {"status": status})
    assert where_run_stopped(str(tmp_path), graph, "r1") == "c"
    # Re-run by name only what `resume STEP` names; otherwise each task clones by Metaflow's rule.
    assert resume_plan(str(tmp_path), graph, "r1") == []
    assert resume_plan(str(tmp_path), graph, "r1", "c") == ["c", "end", "join"]
