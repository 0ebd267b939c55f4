"""A sweep of damage to every kind of file a local run leaves in the datastore, read back by
every reader: `status`, `logs`, `runs`, `resume`, the client API and the UI's pages.

The rule for each (file, damage): never a wrong result, never our traceback; a reader that
can go on skips what it cannot use (with a warning naming it), and one that cannot stops with
one message naming the file. A resume that succeeds must give the right answer."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.executor.conftest import FLOWS, LocalRuns

FLOW = FLOWS / "squares_flow.py"

# Task ids: start 1, body 2 (item 1: 2.1), join 3, end 4 (docs/datastore.md, "Task ids").
RECORDS = ["run.json", "start/1/0/record.json", "body/2.1/0/record.json", "join/3/0/record.json",
           "body/2.1/0/started.json", "start/1/0/manifest.json"]
JSON_DAMAGE = ["truncated", "empty", "flipped", "deleted", "list", "wrong-types", "symlink", "directory",
               "not-utf8", "other-run"]
BLOB_DAMAGE = ["truncated", "empty", "flipped", "deleted", "symlink", "directory"]
LOG_DAMAGE = ["not-utf8", "deleted", "symlink", "directory"]
CASES = ([(f"runs/RUN/{r}", d) for r in RECORDS for d in JSON_DAMAGE]
         + [(f"blob:{name}", d) for name in ("items", "sq") for d in BLOB_DAMAGE]
         + [("runs/RUN/body/2.1/0/stdout.log", d) for d in LOG_DAMAGE]
         + [("code", d) for d in BLOB_DAMAGE]
         + [("sidechannel", d) for d in ("truncated", "symlink", "directory")])


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """One finished run (and a second one, the source of 'other-run' copies), made once."""
    base = tmp_path_factory.mktemp("pristine")
    with pytest.MonkeyPatch.context() as mp:
        _private_caches(mp, base)
        runs = LocalRuns(base / "datastore")
        first, _ = runs.run(FLOW)
        second, _ = runs.run(FLOW)
    return base, first, second


def _private_caches(mp, base):
    mp.setenv("SFNCOMPILE_CODE_CACHE", str(base / "code-cache"))
    mp.setenv("XDG_CACHE_HOME", str(base / "cache"))
    mp.setenv("SFNCOMPILE_DATASTORE", str(base / "datastore"))


def _damage(path: str, damage: str, other: str) -> None:
    data = open(path, "rb").read()
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "empty":
        data = b""
    elif damage == "flipped":
        data = bytearray(data)
        data[len(data) // 2] ^= 0x10
        data = bytes(data)
    elif damage == "not-utf8":
        data = data[:5] + b"\xff\xfe\x00\x1b[2J" + data[5:]
    elif damage == "list":
        data = b"[0, 1]"
    elif damage == "wrong-types":
        record = json.loads(data)
        if isinstance(record, dict):
            record = {k: ([] if isinstance(v, (dict, str)) else "x") for k, v in record.items()}
        else:
            record = ["x"]
        data = json.dumps(record).encode()
    elif damage == "other-run":  # the same file of another run copied over this one's
        data = open(other, "rb").read()
    os.unlink(path)
    if damage == "symlink":
        os.symlink("/etc/passwd", path)
    elif damage == "directory":
        os.mkdir(path)
    elif damage != "deleted":
        open(path, "wb").write(data)


def _blob_path(root, flow, run_id, name) -> str:
    step = "start/1" if name == "items" else "body/2.1"
    record = json.load(open(f"{root}/{flow}/runs/{run_id}/{step}/0/record.json"))
    sha = record["artifacts"][name]["sha"]
    return f"{root}/{flow}/data/{sha[:2]}/{sha}"


@pytest.mark.parametrize("target,damage", CASES, ids=[f"{t.replace('runs/RUN/', '')}-{d}" for t, d in CASES])
def test_damage_is_skipped_or_named_never_a_traceback_or_a_wrong_answer(pristine, tmp_path, monkeypatch,
                                                                        target, damage):
    base, run_id, other_run = pristine
    root = tmp_path / "datastore"
    shutil.copytree(base / "datastore", root, symlinks=True)
    _private_caches(monkeypatch, tmp_path)
    runs = LocalRuns(root)
    if target.startswith("blob:"):
        path = other = _blob_path(root, "SquaresFlow", run_id, target[5:])
    elif target == "code":
        path = other = str(next((root / "SquaresFlow" / "code").iterdir()))
    elif target == "sidechannel":
        path = other = str(root / "sidechannel.db")
    else:
        path = str(root / "SquaresFlow" / target.replace("RUN", run_id))
        other = str(root / "SquaresFlow" / target.replace("RUN", other_run))
    _damage(path, damage, other)

    for args in (("status", f"SquaresFlow/{run_id}"), ("logs", f"SquaresFlow/{run_id}/body"),
                 ("runs", str(FLOW))):
        result = runs.cli(*args, expect_exit=None)  # our own exception would raise here
        assert result.exit_code in (0, 1) and "Traceback" not in result.output, (args, result.output)

    _read_everything_with_the_client(runs, run_id)
    _render_every_page(root, run_id)

    resumed = runs.cli("resume", str(FLOW), run_id, "--step", "join", expect_exit=None)
    assert "Traceback" not in resumed.output, resumed.output
    if resumed.exit_code == 0:  # then the answer is right
        new_run = resumed.stdout.strip().splitlines()[-1]
        assert runs.artifacts("SquaresFlow", new_run)["total"] == 5
    else:
        assert resumed.exit_code == 1 and path in resumed.output, resumed.output


def _read_everything_with_the_client(runs, run_id):
    from sfncompile import Flow
    from sfncompile_runtime.datastore import DatastoreIntegrityError

    run = runs.client_run("SquaresFlow", run_id)
    [r.id for r in Flow("SquaresFlow")]
    Flow("SquaresFlow").latest_run
    run.finished, run.successful, run.tags, run.code
    for step in run:
        for task in step:
            task.stdout, task.stderr, task.finished, task.successful
            for artifact in task:
                try:
                    value = artifact.data
                except DatastoreIntegrityError as exc:  # one message naming the blob
                    assert "blob" in str(exc)
                    continue
                if artifact.id == "total":
                    assert value == 5


def _render_every_page(root, run_id):
    from sfncompile.ui.server import App, NotFound

    app = App(str(root))
    for path in ("/", "/SquaresFlow", f"/SquaresFlow/{run_id}", f"/SquaresFlow/{run_id}/body",
                 f"/SquaresFlow/{run_id}/body/2.1", f"/SquaresFlow/{run_id}/join/3",
                 f"/SquaresFlow/{run_id}/body/2.1/_log/stdout", f"/SquaresFlow/{run_id}/start/1"):
        try:
            status, _, body, _ = app.handle(path, {})
        except NotFound:
            continue
        assert status == 200 and b"root:x:0:0" not in body, path
