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
