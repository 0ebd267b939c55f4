"""Valid but tricky flows (switch loops, nested foreach, join-then-split,
every decorator): lint reports nothing at all."""

from __future__ import annotations

import pytest

from .conftest import HERE, parse

FLOWS = sorted((HERE / "clean").glob("*.py"))


@pytest.mark.parametrize("path", FLOWS, ids=[p.stem for p in FLOWS])
def test_clean_flow(path):
    graph, diagnostics = parse(path)
    assert graph is not None
    assert [d.format() for d in diagnostics] == []
