"""Every file under flows/ is a malformed flow whose lines carry
``# expect: SFN1xx`` markers: lint must report exactly those errors there."""

from __future__ import annotations

import pytest

from .conftest import HERE, errors_of, expected_markers, parse

FLOWS = sorted((HERE / "flows").glob("*.py"))


def test_enough_malformed_flows():
    assert len(FLOWS) >= 45


@pytest.mark.parametrize("path", FLOWS, ids=[p.stem for p in FLOWS])
def test_malformed_flow(path):
    expected = expected_markers(path.read_text())
    assert expected, f"{path.name} has no '# expect:' marker"
    graph, diagnostics = parse(path)
    assert graph is not None, [d.format() for d in diagnostics]
    got = errors_of(diagnostics)
    assert got == expected, "\n".join(d.format() for d in diagnostics)
    for d in diagnostics:
        assert d.message and d.span is not None and d.span.file == str(path)


def test_every_rule_has_a_malformed_flow():
    from sfncompile.lint import RULES

    covered = set()
    for path in FLOWS:
        covered |= {rule for rule, _ in expected_markers(path.read_text())}
    assert set(RULES) <= covered
