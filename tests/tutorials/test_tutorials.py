"""Metaflow's tutorials 00–03 and 06, unchanged, run with our CLI: same end artifacts as Metaflow.

``expected.json`` was recorded with Metaflow 2.19 on this machine
(``record.py``); ``episodes.py`` runs each episode and reads it back with the
same code on both sides. Each episode runs in a fresh copy of the tutorials,
launched from another directory (their ``script_path`` defaults must find
``movies.csv`` next to the flow file), with its own datastore.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from episodes import RUNS  # noqa: E402

EXPECTED = json.loads((HERE / "expected.json").read_text())["episodes"]

# Episodes that differ from Metaflow today, and why (strict: a fix must remove the entry).
KNOWN_DIFFERENCES: dict[str, str] = {}


def _env(workdir: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SFNCOMPILE_", "METAFLOW_"))}
    env.update({"SFNCOMPILE_DATASTORE": str(workdir / ".sfncompile"), "METAFLOW_USER": "tester"})
    return env


def run_episode(episode: str, workdir: Path) -> dict:
    shutil.copytree(HERE / "metaflow_tutorials", workdir / "tutorials")
    env = _env(workdir)
    for flow_file, params, options in RUNS[episode]:
        argv = [sys.executable, "-m", "sfncompile.cli.main", "run", str(workdir / "tutorials" / flow_file)]
        for name, value in params.items():
            argv += ["--param", f"{name}={value}"]
        proc = subprocess.run(argv + options, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{' '.join(argv)} failed:\n{proc.stderr[-3000:]}"
    proc = subprocess.run([sys.executable, str(HERE / "episodes.py"), "sfncompile", episode], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"reading {episode} back failed:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout)


def _param(episode):
    reason = KNOWN_DIFFERENCES.get(episode)
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(episode, id=episode, marks=marks)


def test_expected_covers_every_episode():
    assert set(EXPECTED) == set(RUNS)


@pytest.mark.parametrize("episode", [_param(e) for e in RUNS])
def test_tutorial_matches_metaflow(episode, tmp_path):
    got = run_episode(episode, tmp_path)
    expected = EXPECTED[episode]
    differences = {key: {"metaflow": expected.get(key), "sfncompile": got.get(key)}
                   for key in sorted(set(expected) | set(got)) if expected.get(key) != got.get(key)}
    assert not differences, json.dumps(differences, indent=1)[:4000]
