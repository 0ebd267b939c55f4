"""Fault injection on local runs: a damaged or missing blob, a damaged code package, a truncated
run record, a parameter that is not UTF-8, values that cannot be artifacts. Each one is a clear
message (or a repair), never a wrong result or a traceback."""

from __future__ import annotations

import json

from tests.executor.conftest import FLOWS

FLOW = FLOWS / "total_flow.py"


def _total_blob(local_runs, run_id):
    from sfncompile_runtime.datastore import blob_key

    record = local_runs.record("TotalFlow", run_id, "start")
    sha = record["artifacts"]["total"]["sha"]
    return local_runs.store("TotalFlow").storage.path(blob_key("TotalFlow", sha))


def _flip_last_value_byte(path):
    data = bytearray(open(path, "rb").read())
    data[-3] ^= 0x03  # 45 -> 46: still a valid pickle, a different value
    open(path, "wb").write(bytes(data))


def test_a_damaged_blob_fails_resume_and_a_new_run_replaces_it(local_runs):
    run_id, _ = local_runs.run(FLOW)
    blob = _total_blob(local_runs, run_id)
    _flip_last_value_byte(blob)

    resumed = local_runs.cli("resume", str(FLOW), run_id, "--step", "end", expect_exit=1)
    assert "artifact 'total'" in resumed.output and "damaged" in resumed.output and blob in resumed.output
    assert "Traceback" not in resumed.output

    again, result = local_runs.run(FLOW)  # a new run stores 45 again over the damaged copy
    assert local_runs.artifacts("TotalFlow", again)["doubled"] == 90
    assert "replacing it" in open(_log_of(local_runs, again, "start")).read()
    local_runs.cli("resume", str(FLOW), run_id, "--step", "end")


def _log_of(local_runs, run_id, step):
    logs = local_runs.root / "_local_logs" / "TotalFlow" / run_id
    return next(p for p in logs.iterdir() if p.name.startswith(f"TotalFlow-{step}"))


def test_a_deleted_blob_is_one_clear_message(local_runs):
    import os

    run_id, _ = local_runs.run(FLOW)
    os.unlink(_total_blob(local_runs, run_id))
    resumed = local_runs.cli("resume", str(FLOW), run_id, "--step", "end", expect_exit=1)
    assert "artifact 'total'" in resumed.output and "missing" in resumed.output
    assert "Traceback" not in resumed.output and "FileNotFoundError" not in resumed.output


def test_a_damaged_code_package_is_stored_again(local_runs, monkeypatch, tmp_path):
    run_id, _ = local_runs.run(FLOW)
    code_dir = local_runs.root / "TotalFlow" / "code"
    package = next(code_dir.iterdir())
    data = bytearray(package.read_bytes())
    data[len(data) // 2] ^= 0xFF
    package.write_bytes(bytes(data))
    monkeypatch.setenv("SFNCOMPILE_CODE_CACHE", str(tmp_path / "another-host"))  # nothing extracted yet
    again, _ = local_runs.run(FLOW)
    assert local_runs.artifacts("TotalFlow", again)["doubled"] == 90


def test_a_truncated_run_record_is_skipped_with_a_warning(local_runs, capsys):
    first, _ = local_runs.run(FLOW)
    second, _ = local_runs.run(FLOW)
    record = local_runs.root / "TotalFlow" / "runs" / second / "run.json"
    record.write_bytes(record.read_bytes()[:25])

    from sfncompile import Flow, namespace

    local_runs.client_run("TotalFlow", first)  # points the client at this datastore
    namespace(None)
    assert [r.id for r in Flow("TotalFlow")] == [first]
    assert Flow("TotalFlow").latest_run.id == first
    assert str(record) in capsys.readouterr().err

    from sfncompile_runtime import datastore

    datastore._WARNED.clear()  # warned once per process: this "process" is a new command
    resumed = local_runs.cli("resume", str(FLOW), "--step", "end")  # latest readable run
    assert str(record) in resumed.output and f"resuming TotalFlow/{first}" in resumed.output
    named = local_runs.cli("resume", str(FLOW), second, expect_exit=1)
    assert "Traceback" not in named.output and second in named.output


def test_a_parameter_that_is_not_utf8_is_refused_before_anything_is_written(local_runs):
    result = local_runs.cli("run", str(FLOW), "--param", "label=a\udcffb", expect_exit=1)
    assert "parameter 'label'" in result.output and "UTF-8" in result.output
    assert "Traceback" not in result.output
    assert not (local_runs.root / "TotalFlow" / "runs").exists()


def test_trigger_refuses_a_parameter_that_is_not_utf8():
    import pytest

    from sfncompile.deploy.params import validate_parameters
    from sfncompile.diagnostics import UserError
    from sfncompile.pipeline import load_graph

    graph = load_graph(FLOW)
    for text in ('{"label": "a\\udcffb"}', '{"label": "a\udcffb"}'):
        with pytest.raises(UserError, match="parameter 'label' is not valid UTF-8"):
            validate_parameters(graph, text)
    assert validate_parameters(graph, json.dumps({"label": "é"})) == {"label": "é"}


def test_an_unpicklable_artifact_names_itself_and_its_step(local_runs):
    _, result = local_runs.run(FLOWS / "unstorable_flow.py", "mode=file", expect_exit=1)
    assert "artifact 'handle'" in result.output and "step 'start'" in result.output
    assert "TextIOWrapper" in result.output and "Traceback" not in result.output


def test_a_lambda_is_not_an_artifact_and_the_reader_is_told_where_it_went(local_runs):
    _, result = local_runs.run(FLOWS / "unstorable_flow.py", "mode=lambda", expect_exit=1)
    assert "no artifact 'scorer'" in result.output
    assert "step 'start' set self.scorer to a function" in result.output


def test_a_run_id_that_climbs_out_of_the_datastore_is_refused(local_runs):
    import pytest

    run_id, _ = local_runs.run(FLOW)
    outside = local_runs.root.parent / "outside" / "runs" / "x"
    outside.mkdir(parents=True)
    (outside / "run.json").write_text(json.dumps({"parameters": {"label": "planted"}}))
    for bad in ("../../outside/runs/x", "..", ".hidden", f"{run_id}/../{run_id}"):
        result = local_runs.cli("resume", str(FLOW), bad, expect_exit=1)
        assert "is not valid" in result.output and "Traceback" not in result.output
    from sfncompile import MetaflowNotFound, Run

    local_runs.client_run("TotalFlow", run_id)
    # The client answers as Metaflow's does for a run it cannot have (not found), saying why.
    with pytest.raises(MetaflowNotFound, match="is not valid"):
        Run("TotalFlow/..")


def test_a_name_that_cannot_be_a_run_or_step_is_a_key_error_as_in_metaflow(local_runs):
    import pytest

    from sfncompile import Flow

    run_id, _ = local_runs.run(FLOW)
    run = local_runs.client_run("TotalFlow", run_id)
    flow = Flow("TotalFlow")
    for bad in ("bad name", "../x", "", "a\x00b"):  # Metaflow 2.19: KeyError, whatever the name
        with pytest.raises(KeyError):
            flow[bad]
        assert bad not in flow
    for bad in ("start/0", "start/../start"):  # a path below a step is not a step
        with pytest.raises(KeyError):
            run[bad]


def test_the_client_unpacks_code_only_verified_and_only_into_a_private_folder(local_runs, tmp_path, monkeypatch):
    import os
    import stat

    import pytest

    from sfncompile_runtime.cachedirs import UnsafeCacheDir
    from sfncompile_runtime.client import code

    run_id, _ = local_runs.run(FLOW)
    sha = local_runs.record("TotalFlow", run_id, "start")["code_sha256"]
    store = local_runs.store("TotalFlow")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    planted = tmp_path / "tmp" / "sfncompile-client-code" / sha  # where a shared cache used to be
    planted.mkdir(parents=True)
    (planted / "graph.json").write_text('{"planted": true}')

    where = code.unpacked(store, sha)
    assert not where.startswith(str(planted)) and "planted" not in open(os.path.join(where, "graph.json")).read()
    folder = os.path.dirname(where)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700 and os.stat(folder).st_uid == os.getuid()

    os.chmod(folder, 0o777)  # someone else could have written into it: not used
    with pytest.raises(UnsafeCacheDir, match=folder):
        code.unpacked(store, sha)


def test_a_damaged_code_package_is_not_unpacked_by_the_client(local_runs, tmp_path, monkeypatch, capsys):
    from sfncompile_runtime.client import code

    run_id, _ = local_runs.run(FLOW)
    sha = local_runs.record("TotalFlow", run_id, "start")["code_sha256"]
    package = local_runs.root / "TotalFlow" / "code" / f"{sha}.tar.gz"
    data = bytearray(package.read_bytes())
    data[len(data) // 2] ^= 0x01
    package.write_bytes(bytes(data))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert code.unpacked(local_runs.store("TotalFlow"), sha) is None
    assert str(package) in capsys.readouterr().err


def test_a_damaged_side_channel_database_is_one_message_naming_it(local_runs):
    local_runs.run(FLOW)
    database = local_runs.root / "sidechannel.db"
    database.write_bytes(database.read_bytes()[:100])
    result = local_runs.cli("run", str(FLOW), expect_exit=1)
    assert str(database) in result.output and "delete it" in result.output and "Traceback" not in result.output
