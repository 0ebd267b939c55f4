"""Golden ASL: every shape, compile-option variant and example, byte for byte.

Regenerate after an intended change with
``SFNCOMPILE_REGEN_GOLDEN=1 pytest tests/backends/asl/test_golden.py`` and
review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sfncompile.backends.asl import render

from .conftest import case_names

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "asl"
REGEN = os.environ.get("SFNCOMPILE_REGEN_GOLDEN") == "1"


@pytest.mark.parametrize("name", case_names())
def test_golden(compiled, name):
    text = render(compiled[name][1])
    path = GOLDEN / f"{name}.json"
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {path}; run with SFNCOMPILE_REGEN_GOLDEN=1"
    assert text == path.read_text(), f"{name} differs from {path}; regenerate if intended"


def test_no_stale_golden_files():
    expected = {f"{name}.json" for name in case_names()}
    present = {p.name for p in GOLDEN.glob("*.json")}
    assert present <= expected, f"golden files without a case: {sorted(present - expected)}"
