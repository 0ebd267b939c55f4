"""Real front end + lint on mutated examples: whatever the damage (lines
deleted, duplicated or swapped, tokens replaced), the result is a list of
diagnostics, and no lint rule ever crashes (no SFN199) on what the front end
hands over."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfncompile.lint import INTERNAL_RULE
from sfncompile.pipeline import parse_text

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))
SOURCES = [p.read_text() for p in EXAMPLES]
TOKENS = ["self.next(self.end)", "self.next(self.start)", "inputs", "self", "@step", "foreach=\"x\"",
          "condition=3", "{}", "self.name = 1", "return", "pass", "@retry(times=9)", "(self, a, b)",
          "@step(start=True)", "@step(end=True)", "def end(self, inputs):", "@parallel", "num_parallel=2"]


@st.composite
def mutated(draw):
    lines = draw(st.sampled_from(SOURCES)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "token", "replace"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "token":
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            lines.insert(i, indent + draw(st.sampled_from(TOKENS)))
        else:
            words = lines[i].split(" ")
            k = draw(st.integers(0, len(words) - 1))
            words[k] = draw(st.sampled_from(TOKENS))
            lines[i] = " ".join(words)
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_examples_give_diagnostics_not_crashes(source):
    graph, diagnostics = parse_text(source, "mutant.py")
    assert all(d.rule != INTERNAL_RULE for d in diagnostics), [d.format() for d in diagnostics]
    assert all(d.rule != "SFN099" for d in diagnostics), [d.format() for d in diagnostics]
    for d in diagnostics:
        assert d.message and d.rule.startswith("SFN")
