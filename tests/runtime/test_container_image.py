"""The shipped image definition pins what tasks run: the runtime's dependencies exactly, the base
image by digest when one is given; the bootstrap's pip fallback installs the same pins."""

from __future__ import annotations

import re
from pathlib import Path

from sfncompile_runtime.bootstrap import BOOTSTRAP_SOURCE

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"


def _pins() -> dict[str, str]:
    pins = {}
    for line in (RUNTIME / "sfncompile_runtime" / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version and re.fullmatch(r"[0-9][0-9A-Za-z.]*", version), f"not pinned exactly: {line}"
            pins[name] = version
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
    pinned = dict(item.split("==") for item in re.search(r"B='([^']+)'", BOOTSTRAP_SOURCE).group(1).split())
    assert pinned == _pins()
    assert "'boto3'])" not in BOOTSTRAP_SOURCE  # no unpinned install left
