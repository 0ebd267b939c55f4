"""A large flow is parsed piece by piece (frontend/pieces.py) and the result is the same.

libcst's parser slows down super-linearly with the size of one parse, so the
front end parses a big file one top-level statement (and one flow-class body
statement) at a time. These tests guard both halves of that: every parse call
on a 300-step flow stays small (so the cost per step cannot grow with the
flow), and the pieces give exactly the IR and diagnostics of one whole parse,
on every flow file of the repository and on odd layouts (comments between and
after methods, CRLF, no trailing newline, a class body on its header line).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import libcst as cst
import pytest

import sfncompile.frontend.pieces as pieces
from sfncompile.pipeline import parse_text

ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted(ROOT.glob("examples/*.py")) + sorted((ROOT / "tests").rglob("*_flow.py"))


def generated_flow(steps: int, comments: bool = False) -> str:
    names = ["start"] + [f"s{i}" for i in range(steps - 2)] + ["end"]
    lines = ["# a generated flow", "from metaflow import FlowSpec, step, retry", "", "",
             f"class Generated{steps}Flow(FlowSpec):", '    """Docstring."""', ""]
    for i, name in enumerate(names):
        if comments and i % 3 == 0:
            lines += ["# a comment at column 0", "        # a deeper comment"]
        lines += ["    @retry(times=1)" if i % 2 else "    @step", "    @step" if i % 2 else "    # (no retry)",
                  f"    def {name}(self):", f"        self.x = {i}  # trailing",
                  '        """not a docstring:\n    indented text in a string\n"""']
        lines += [f"        self.next(self.{names[i + 1]})", ""] if name != "end" else ["        pass", ""]
    lines += ["    # after the last method", "", "if __name__ == '__main__':", f"    Generated{steps}Flow()",
              "# the end", ""]
    return "\n".join(lines)


def snapshot(text: str, file: str = "flow.py"):
    graph, diagnostics = parse_text(text, file)
    as_json = json.dumps(dataclasses.asdict(graph), sort_keys=True, default=str) if graph else None
    return as_json, [d.format() for d in diagnostics]


def both_ways(text: str, monkeypatch):
    """(one whole parse, pieces forced even for a small file)"""
    monkeypatch.setattr(pieces, "PIECES_FROM_LINES", 10 ** 9)
    whole = snapshot(text)
    monkeypatch.setattr(pieces, "PIECES_FROM_LINES", 0)
    monkeypatch.setattr(pieces, "CLASS_PIECES_FROM", 2)
    return whole, snapshot(text)


@pytest.fixture
def parse_calls(monkeypatch):
    """The line counts of every libcst parse call made while the test runs."""
    calls: list[int] = []
    real = cst.parse_module

    def counting(source, *args, **kwargs):
        calls.append(source.count("\n"))
        return real(source, *args, **kwargs)

    monkeypatch.setattr(pieces.cst, "parse_module", counting)
    return calls


def test_a_big_flow_is_parsed_in_small_pieces(parse_calls):
    text = generated_flow(300, comments=True)
    graph, diagnostics = parse_text(text, "big.py")
    assert not [d for d in diagnostics if d.severity == "error"], [d.format() for d in diagnostics][:3]
    assert len(graph.steps) == 300
    # One call per method (+ the few top-level statements), none of them growing with the flow:
    # this is what keeps the front end linear.
    assert len(parse_calls) >= 300
    assert max(parse_calls) <= 20, max(parse_calls)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_pieces_give_the_same_ir_and_diagnostics(path, monkeypatch, parse_calls):
    whole, split = both_ways(path.read_text(), monkeypatch)
    assert split == whole


@pytest.mark.parametrize("variant", ["plain", "crlf", "no-final-newline", "comments"])
def test_odd_layouts(variant, monkeypatch, parse_calls):
    text = generated_flow(40, comments=variant == "comments")
    if variant == "crlf":
        text = text.replace("\n", "\r\n")
    elif variant == "no-final-newline":
        text = text.rstrip("\n")
    whole, split = both_ways(text, monkeypatch)
    assert split == whole
    assert len(parse_calls) > 40  # it did go piece by piece (then once whole for the comparison)


def test_positions_point_into_the_right_piece(monkeypatch):
    text = generated_flow(60).replace("        self.next(self.s30)", "        self.next(self.nowhere)")
    monkeypatch.setattr(pieces, "PIECES_FROM_LINES", 0)
    _, diagnostics = parse_text(text, "big.py")
    [error] = [d for d in diagnostics if d.severity == "error"]
    line = text.splitlines().index("        self.next(self.nowhere)") + 1
    assert (error.span.line, error.span.col) == (line, 9)


def test_what_does_not_fit_falls_back_to_one_parse(monkeypatch, parse_calls):
    # The class body starts on its header line: not splittable; a tab-indented
    # function before the class gives the module another default indentation.
    text = "def helper():\n\tpass\n" + generated_flow(30).replace(
        '    """Docstring."""\n', '    """Docstring."""; X = 1\n')
    whole, split = both_ways(text, monkeypatch)
    assert split == whole
