"""The `core` subset of this suite (tests/conftest.py CORE_PATHS) on the other supported Pythons.

The main run is on the interpreter that runs pytest (3.11 here); this runs the core subset on 3.10
(the oldest supported, where `tomllib` is missing) and 3.13 (the newest), each in a fresh venv with
the package's dependencies and the [test-core] extra, the sources on PYTHONPATH.

Interpreters are looked up on the PATH (python3.X) and in pyenv's versions folder; uv cannot fetch
one here (its `uv python install` downloads from GitHub, which this network does not reach), so a
missing interpreter skips with that reason rather than failing.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CORE_PATHS, ROOT
from tests.test_wheel import uv

VERSIONS = ("3.10", "3.13")


def find_python(version: str) -> str | None:
    roots = [os.environ.get("PYENV_ROOT") or "", str(Path.home() / ".pyenv")]
    candidates = [p for root in roots if root
                  for p in sorted(glob.glob(f"{root}/versions/{version}.*/bin/python{version}"), reverse=True)]
    on_path = shutil.which(f"python{version}")
    if on_path and "/shims/" not in on_path:  # a pyenv shim fails unless that version is selected
        candidates.insert(0, on_path)
    for candidate in candidates:
        proc = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True)
        if proc.returncode == 0 and proc.stdout.strip() == version:
            return candidate
    return None


def _requirements() -> list[str]:
    """The package's dependencies and its [test-core] extra, as pyproject.toml declares them."""
    try:
        import tomllib
    except ModuleNotFoundError:  # the suite itself on 3.10
        import tomli as tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["test-core"]]


@pytest.mark.parametrize("version", VERSIONS)
def test_core_suite_passes_on(version, tmp_path):
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} here (looked for python{version} on the PATH and under "
                    f"~/.pyenv/versions); uv cannot download one: this network reaches PyPI, not GitHub")
    venv = tmp_path / "venv"
    subprocess.run([uv(), "venv", "-q", "-p", python, str(venv)], check=True, timeout=300)
    install = subprocess.run([uv(), "pip", "install", "-q", "-p", str(venv / "bin" / "python"), *_requirements()],
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SFNCOMPILE_", "PYTEST", "VIRTUAL_ENV"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "runtime")])
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    paths = [p for p in CORE_PATHS if (ROOT / p).exists()]
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-m", "core", "-x", *paths], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=3000)
    tail = "\n".join(proc.stdout.splitlines()[-40:])
    assert proc.returncode == 0, f"core subset on Python {version} failed:\n{tail}\n{proc.stderr[-3000:]}"
    assert " passed" in tail
