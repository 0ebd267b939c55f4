"""The shipped image definition pins what tasks run: the runtime's dependencies exactly, the base
image by digest when one is given; the bootstrap's pip fallback installs the same pins."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sfncompile_runtime.bootstrap import BOOTSTRAP_SOURCE

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"


def _pins() -> dict[str, tuple[str, str]]:
    """name -> (version, sha256 of its wheel)."""
    pins = {}
    for line in (RUNTIME / "sfncompile_runtime" / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][0-9A-Za-z.]*) --hash=sha256:([0-9a-f]{64})", line)
            assert match, f"not pinned exactly, by version and wheel hash: {line}"
            pins[match.group(1)] = (match.group(2), match.group(3))
    return pins


def test_requirements_pin_boto3_and_its_dependencies_exactly():
    pins = _pins()
    assert {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "urllib3", "six"} <= set(pins)


def test_the_dockerfile_installs_the_pins_and_takes_a_base_by_digest():
    text = (RUNTIME / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE=\S+$", text, re.M) and re.search(r"^FROM \$\{BASE\}$", text, re.M)
    assert "-r /opt/sfncompile/requirements.txt" in text and "--no-deps" in text
    assert not re.search(r"pip install[^\n]*boto3[<>=~ \"]", text), "boto3 must come from requirements.txt"


def test_the_bootstrap_fallback_installs_exactly_the_same_pins():
    text = re.search(r"B='([^']+)'", BOOTSTRAP_SOURCE).group(1).replace("\\n", "\n")
    expected = (RUNTIME / "sfncompile_runtime" / "requirements.txt").read_text()
    assert text.splitlines() == [line for line in expected.splitlines() if line and not line.startswith("#")]
    assert "'--require-hashes'" in BOOTSTRAP_SOURCE and "'--only-binary=:all:'" in BOOTSTRAP_SOURCE
    assert "'boto3'])" not in BOOTSTRAP_SOURCE  # no unpinned install left
    assert "--require-hashes" in (RUNTIME / "Dockerfile").read_text()


def _venv_without_boto3(tmp_path):
    import subprocess
    import sys

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = str(venv / "bin" / "python")
    assert subprocess.run([python, "-c", "import boto3"], capture_output=True).returncode != 0
    return python


def _bootstrap(python, tmp_path, cache, extra_env=()):
    """The bootstrap in ``python`` (no boto3), for a code package on S3 whose sha256 is wrong on
    purpose: getting as far as that refusal proves boto3 was installed, imported and used."""
    import os
    import subprocess

    import boto3

    boto3.client("s3").create_bucket(Bucket="code")
    boto3.client("s3").put_object(Bucket="code", Key="p.tar.gz", Body=b"not the package")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update({"SFNCOMPILE_CODE_URL": "s3://code/p.tar.gz", "SFNCOMPILE_CODE_SHA256": "0" * 64,
                "SFNCOMPILE_CODE_CACHE": str(cache), **dict(extra_env)})
    return subprocess.run([python, "-c", BOOTSTRAP_SOURCE, "step", "start"], env=env, capture_output=True,
                          text=True, timeout=600)


def _pypi_reachable() -> bool:
    import socket

    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


needs_pypi = pytest.mark.skipif(not _pypi_reachable(), reason="the pip fallback downloads from PyPI")


@needs_pypi
def test_an_image_without_boto3_installs_exactly_the_hash_pinned_wheels(aws, tmp_path):
    python = _venv_without_boto3(tmp_path)
    cache = tmp_path / "cache"
    done = _bootstrap(python, tmp_path, cache)
    assert "does not match SFNCOMPILE_CODE_SHA256" in done.stderr, done.stderr
    installed = {p.name for p in (cache / "boto3").iterdir() if p.name.endswith(".dist-info")}
    assert installed == {f"{name.replace('-', '_')}-{version}.dist-info" for name, (version, _) in _pins().items()}


@needs_pypi
def test_a_wheel_that_is_not_the_pinned_one_is_refused(aws, tmp_path):
    """A mirror (or anyone between) serving other bytes under a pinned name and version: pip's
    hash check refuses it, the task stops with one message, nothing is installed."""
    import subprocess
    import sys
    import zipfile

    wheels = tmp_path / "wheels"
    pins = [f"{name}=={version}" for name, (version, _) in _pins().items()]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d",
                    str(wheels), *pins], check=True, capture_output=True, timeout=600)
    six = next(wheels.glob("six-*.whl"))
    with zipfile.ZipFile(six, "a") as wheel:
        wheel.writestr("six_extra.py", "print('not the tested bytes')\n")
    python = _venv_without_boto3(tmp_path)
    cache = tmp_path / "cache"
    done = _bootstrap(python, tmp_path, cache, {"PIP_CONFIG_FILE": "/dev/null", "PIP_NO_INDEX": "1",
                                                "PIP_FIND_LINKS": str(wheels)})
    assert done.returncode != 0
    assert "pip could not install the pinned, hash-checked boto3" in done.stderr, done.stderr
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in done.stderr
    assert not (cache / "boto3").exists()
