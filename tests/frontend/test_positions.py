"""The front end's own position pass agrees with libcst's PositionProvider."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from sfncompile.frontend.positions import _State

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(ROOT.glob("examples/*.py")) + sorted((ROOT / "tests" / "frontend").glob("test_*.py"))

TRICKY = '''
x = (  # comment
    (1 + 2)
    * 3)
def f(a, /, b=(4), *c, **d):
    return [i for i in (a, b)]
s = """multi
line""" + 'tail'
if x: y = 1; z = (y)
class K(object): pass
'''


def compare(text: str) -> int:
    module = cst.parse_module(text)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    state = _State(module)
    module._codegen(state)  # directly: a failure here must not hide behind the fallback
    checked = 0
    for node, rng in expected.items():
        if isinstance(node, (cst.BaseExpression, cst.Arg, cst.Param)):
            assert state.ranges[node][:2] == (rng.start.line, rng.start.column), (type(node).__name__, rng)
            if isinstance(node, cst.BaseExpression):
                assert state.ranges[node][2:] == (rng.end.line, rng.end.column), (type(node).__name__, rng)
            checked += 1
    return checked


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_positions_match_libcst(path):
    assert compare(path.read_text()) > 0


def test_tricky_source():
    assert compare(TRICKY.lstrip()) > 20
    assert compare(TRICKY.lstrip().replace("\n", "\r\n")) > 20
