"""Every example flow runs task by task through the runner (local datastore)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import FlowDriver

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(example, local_backend, client_root):
    driver = FlowDriver(example, local_backend.datastore, local_backend.side_channel, local_backend.cache_dir)
    run_id = driver.run_flow()
    client = client_root(local_backend)
    run = client.Run(f"{driver.name}/{run_id}")
    assert run.successful
    assert all(code == 0 for _, _, code in driver.calls)
