"""The package as users install it: a wheel built from a copy of the sources, installed into a fresh
venv, used from a folder outside the checkout (no PYTHONPATH, no editable install).

uv builds and installs (pip needs minutes per fresh venv here; uv seconds) with its shared cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT

BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "sfncompile", "runtime", "templates")


def uv() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        pytest.skip("uv is not installed (it comes with the [test] extra)")
    return find_uv_bin()


def _clean_env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SFNCOMPILE_", "PYTHON", "VIRTUAL_ENV", "PYTEST", "AWS_"))}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    env["JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"] = "1"
    return env


def _sh(args, cwd, env, expect=0, timeout=600):
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == expect, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(src, source / name)
    out = tmp_path_factory.mktemp("dist")
    _sh([uv(), "build", "--wheel", "--out-dir", out, source], source, dict(os.environ))
    (built,) = out.glob("sfncompile-*.whl")
    return built


def test_the_wheel_ships_templates_and_py_typed(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {p.name for p in (ROOT / "templates").glob("*.j2")}
    assert {f"sfncompile/templates/{t}" for t in templates} <= names
    assert "sfncompile/py.typed" in names
    assert "sfncompile_runtime/bootstrap.py" in names
    assert not any(n.startswith(("tests/", "templates/")) for n in names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("dist-info/METADATA"))).decode()
    assert "Requires-Dist: tomli>=1.1; python_version < \"3.11\"" in metadata
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "sfncompile = sfncompile.pytest_plugin" in entry_points


def test_installed_wheel_compiles_runs_and_synths_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    _sh([uv(), "venv", "-q", "-p", sys.executable, venv], tmp_path, dict(os.environ))
    env = _clean_env(venv)
    python = venv / "bin" / "python"
    _sh([uv(), "pip", "install", "-q", "-p", python, wheel], tmp_path, env)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(EXAMPLES / "train_evaluate.py", work / "flow.py")
    sfn = venv / "bin" / "sfncompile"

    # The package is the installed one, not the checkout.
    where = _sh([python, "-c", "import sfncompile, sfncompile_runtime; print(sfncompile.__file__); "
                 "print(sfncompile_runtime.__file__)"], work, env).stdout
    assert str(ROOT) not in where and str(venv) in where

    _sh([sfn, "compile", "flow.py", "-o", "sfn.json"], work, env)
    assert json.loads((work / "sfn.json").read_text())["States"]

    ran = _sh([sfn, "run", "flow.py"], work, env)
    run_id = ran.stdout.strip().splitlines()[-1]
    assert (work / ".sfncompile" / "TrainEvaluateFlow" / "runs" / run_id).is_dir()
    status = json.loads(_sh([sfn, "status", f"TrainEvaluateFlow/{run_id}", "--json"], work, env).stdout)
    assert status["status"] == "SUCCEEDED"

    # Without the [cdk] extra: one line naming it, exit 1, nothing written.
    no_cdk = _sh([sfn, "synth", "flow.py", "-o", "out"], work, env, expect=1)
    assert no_cdk.stderr == ("error: 'sfncompile synth' needs the [cdk] extra, which is not installed: "
                             "pip install 'sfncompile[cdk]'\n")
    assert not (work / "out").exists()

    _sh([uv(), "pip", "install", "-q", "-p", python, f"{wheel}[cdk]"], tmp_path, env)
    synth = _sh([sfn, "synth", "flow.py", "-o", "out"], work, env)
    assert "sfncompile-train-evaluate-flow:" in synth.stdout
    assert (work / "out" / "Dockerfile").read_text().startswith("# Container image for sfncompile Batch jobs")
    assert list((work / "out").glob("*.template.json"))
