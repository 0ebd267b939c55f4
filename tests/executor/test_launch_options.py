"""`run`/`resume` take Metaflow's options; parameters are completed in the launching process as
Metaflow's launcher does (function defaults evaluated, IncludeFile read and stored)."""

from __future__ import annotations

import json

from tests.executor.conftest import FLOWS

INCLUDE = FLOWS / "include_file" / "include_flow.py"


def test_includefile_default_from_a_function_is_read_at_launch(local_runs):
    run_id, _ = local_runs.run(INCLUDE)
    data = local_runs.artifacts("IncludeDefaultFlow", run_id, "start")
    assert data["movie_data"] == (FLOWS / "include_file" / "movies.csv").read_text()  # not the path
    assert local_runs.artifacts("IncludeDefaultFlow", run_id)["count"] == 2
    assert data["greeting"] == "hello from IncludeDefaultFlow (greeting)"
    # The execution input carries a reference to the stored bytes, not the content.
    params = local_runs.store("IncludeDefaultFlow").read_run(run_id)["parameters"]
    assert set(params["movie_data"]) == {"sfncompile_include_file", "path"}


def test_includefile_larger_than_the_overrides_limit_passes_by_reference(local_runs, tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("title,year\n" + "".join(f"movie {i},{1900 + i % 120}\n" for i in range(5000)))
    assert big.stat().st_size > 64 * 1024
    run_id, _ = local_runs.run(INCLUDE, extra=("--movie_data", str(big)))  # Metaflow's --NAME VALUE form
    assert local_runs.artifacts("IncludeDefaultFlow", run_id)["count"] == 5000


def test_metaflow_parameter_options_and_run_id_file(local_runs, tmp_path):
    id_file = tmp_path / "run-id"
    run_id, _ = local_runs.run(INCLUDE, extra=("--greeting=hi", "--run-id-file", str(id_file),
                                               "--tag", "刺身 means sashimi", "--tag", "multiple tags should be ok",
                                               "--max-workers", "50", "--max-num-splits", "10000"))
    assert id_file.read_text() == run_id
    assert local_runs.artifacts("IncludeDefaultFlow", run_id, "start")["greeting"] == "hi"
    tags = local_runs.store("IncludeDefaultFlow").read_run(run_id)["tags"]
    assert tags == sorted(["刺身 means sashimi", "multiple tags should be ok"])
    result = local_runs.cli("run", str(INCLUDE), "--nope", "1", expect_exit=1)
    assert "no such option: --nope" in result.stderr


def test_resume_takes_metaflows_step_positional_and_origin_run_id(local_runs, tmp_path):
    origin, _ = local_runs.run(INCLUDE)
    id_file = tmp_path / "rid"
    result = local_runs.cli("resume", str(INCLUDE), "end", "--origin-run-id", origin, "--run-id-file", str(id_file))
    resumed = result.stdout.strip().splitlines()[-1]
    assert id_file.read_text() == resumed
    assert local_runs.record("IncludeDefaultFlow", resumed, "start")["cloned_from"]["run_id"] == origin
    assert "cloned_from" not in local_runs.record("IncludeDefaultFlow", resumed, "end")
    assert json.loads(json.dumps(local_runs.store("IncludeDefaultFlow").read_run(resumed)["rerun_steps"])) == ["end"]


def test_python_flow_py_takes_metaflows_top_level_options(local_runs, tmp_path):
    """`python flow.py --metadata=local --datastore=local ... run ...` as Metaflow's core-suite driver runs it."""
    import subprocess
    import sys

    flow = tmp_path / "flow.py"
    flow.write_text(INCLUDE.read_text().replace("from metaflow import", "from sfncompile import"))
    (tmp_path / "movies.csv").write_text((FLOWS / "include_file" / "movies.csv").read_text())
    top = ["--metadata=local", "--datastore=local", "--environment=local", "--event-logger=nullSidecarLogger",
           "--no-pylint", "--quiet"]
    done = subprocess.run([sys.executable, str(flow), *top, "run", "--max-workers=50", "--max-num-splits=10000",
                           "--tag=刺身 means sashimi", "--run-id-file", "run-id", "--greeting", "abc"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    run_id = (tmp_path / "run-id").read_text()
    assert local_runs.artifacts("IncludeDefaultFlow", run_id, "start")["greeting"] == "abc"
    bad = subprocess.run([sys.executable, str(flow), "--bogus", "run"], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 2 and "option --bogus is not one sfncompile takes" in bad.stderr
