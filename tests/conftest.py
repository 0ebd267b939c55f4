"""Session-wide fixtures shared by every test package.

* ``moto`` — one moto server for the whole session (state reset per test that
  asks for ``aws``), with the AWS environment pointing at it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# The `core` marker: what also runs on the other supported Pythons (tests/test_python_versions.py).
# The code whose behaviour depends on the interpreter (parsing flows, lint, configuration, the
# authoring API, the ASL interpreter, the CLI) and a few whole local runs; no AWS endpoint, no CDK.
CORE_PATHS = ("tests/frontend", "tests/lint", "tests/cli", "tests/test_config.py", "tests/test_runinfo.py",
              "tests/runtime/test_authoring.py", "tests/executor/test_interpreter.py",
              "tests/executor/test_progress_and_parameters.py")


def _needs_aws(item) -> bool:
    if {"moto", "aws"} & set(getattr(item, "fixturenames", ())):
        return True
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "s3" in callspec.params.values()


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.path)).resolve().relative_to(ROOT).as_posix()
        if any(path == p or path.startswith(p + "/") for p in CORE_PATHS) and not _needs_aws(item):
            item.add_marker(pytest.mark.core)


@pytest.fixture(scope="session")
def moto():
    from tests.support.moto_server import start_moto_server

    server = start_moto_server()
    saved = {k: os.environ.get(k) for k in server.env()}
    os.environ.update(server.env())
    try:
        yield server
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def aws(moto):
    """A clean moto server for one test."""
    moto.reset()
    yield moto


def pytest_addoption(parser):
    parser.addoption("--metaflow-core-full", action="store_true", default=False,
                     help="run the whole matrix of Metaflow's core suite (tests/metaflow_core, see its README), "
                          "not only the CI subset")
