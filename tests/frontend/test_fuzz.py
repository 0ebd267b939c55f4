"""Mutated flows (lines deleted/duplicated/swapped, tokens swapped, random bytes):
the front end and the lint only ever return diagnostics, never raise.

Seeds are the repository's examples plus flows written here for the odd
forms (switch loops, nested foreach, num_parallel, aliases). Each mutated
input must yield a list of Diagnostics and, when a graph comes back, one
that survives a JSON round trip. An internal-error diagnostic (front end
SFN099, lint SFN199) is a failure too: it means something raised inside.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfncompile.diagnostics import Diagnostic
from sfncompile.ir import FlowGraph
from sfncompile.pipeline import parse_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

EXTRA_SEEDS = [
    '''
import metaflow as mf
from metaflow import FlowSpec as FS, step, retry

LIMIT = 3 * 2

@mf.schedule(cron="0 3 * * ? *")
class LoopFlow(FS):
    n = mf.Parameter("n", default=LIMIT, help="rounds")
    @retry(times=LIMIT - 4)
    @step
    def start(self):
        self.items = list(range(self.n))
        self.next(self.each, foreach="items")
    @step
    def each(self):
        self.x = self.input
        self.next(self.inner, num_parallel=2)
    @step
    def inner(self):
        self.next(self.join_inner)
    @step
    def join_inner(self, inputs):
        self.merge_artifacts(inputs)
        self.next(self.join)
    @step
    def join(self, inputs):
        self.total = sum(i.x for i in inputs)
        self.next(self.decide)
    @step
    def decide(self):
        if self.total > 3:
            self.route = "stop"
        else:
            self.route = "again"
        self.next({"again": self.decide, "stop": self.end}, condition="route")
    @step(end=True)
    def end(self):
        """Done."""
''',
    '''
from sfncompile import FlowSpec, Parameter, step, resources

class SplitFlow(FlowSpec):
    a = Parameter("a", default=lambda ctx: 1)
    @resources(cpu=2, memory=4096)
    @step
    def start(self):
        self.next(self.left, self.right)
    @step
    def left(self):
        try:
            self.v = 1
        except Exception:
            raise
        self.next(self.merge)
    @step
    def right(self):
        while True:
            self.next(self.merge)
            break
    @step
    def merge(self, inputs):
        self.next(self.end)
    @step
    def end(self):
        pass
''',
]


def _seeds() -> list[str]:
    seeds = [p.read_text() for p in sorted(EXAMPLES.glob("*.py"))]
    return seeds + [s.lstrip("\n") for s in EXTRA_SEEDS]


SEEDS = _seeds()
TOKEN = re.compile(r"\w+|[^\w\s]")


@st.composite
def mutated(draw) -> bytes | str:
    source = draw(st.sampled_from(SEEDS))
    lines = source.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap_lines", "swap_tokens", "bytes", "indent", "truncate"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap_lines":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "swap_tokens":
            tokens = [m for m in TOKEN.finditer(lines[i])]
            j = draw(st.integers(0, len(lines) - 1))
            others = [m for m in TOKEN.finditer(lines[j])]
            if tokens and others:
                a = draw(st.sampled_from(tokens))
                b = draw(st.sampled_from(others))
                lines[i] = lines[i][: a.start()] + b.group() + lines[i][a.end():]
        elif op == "indent":
            lines[i] = draw(st.sampled_from(["    ", "\t", " "])) + lines[i]
        elif op == "truncate":
            cut = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:cut]
        elif op == "bytes":
            text = "".join(lines).encode("utf-8")
            at = draw(st.integers(0, len(text)))
            noise = draw(st.binary(min_size=1, max_size=8))
            return text[:at] + noise + text[at:]
    return "".join(lines)


# Fragments that keep the source parseable more often than random edits do, so
# the mutants reach the flow reader, the graph passes and the lint.
FRAGMENTS = [
    "self.next(self.end)", "self.next(self.a, self.b)", "self.next(self.x, foreach='items')",
    "self.next({'a': self.start, 'b': self.end}, condition='c')", "self.next(self.j, num_parallel=n)",
    "@step", "@step(start=True)", "@step(end=True)", "@retry(times=X)", "@batch(cpu=1+1)", "return",
    "raise ValueError()", "if x:", "else:", "try:", "except E:", "for i in y:", "while True:", "break",
    "self.name = 1", "self.x += 1", "p = Parameter('p', default=lambda c: 1)", "f = IncludeFile('f')", "X = 3",
    "import metaflow as mf", "from metaflow import *", "class G(FlowSpec):", "def s(self, inputs):",
    "match v:", "case _:", "pass", "self.next()", "self.next(other)", "with a as self.y:", "f'{X}'",
]


@st.composite
def with_fragments(draw) -> str:
    lines = draw(st.sampled_from(SEEDS)).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(lines) - 1))
        fragment = draw(st.sampled_from(FRAGMENTS))
        indent = draw(st.sampled_from(["", "    ", "        ", "            "]))
        if draw(st.booleans()):
            lines.insert(i, indent + fragment + "\n")
        else:
            lines[i] = indent + fragment + "\n"
    return "".join(lines)


def _check(source) -> None:
    graph, diagnostics = parse_text(source, "mutant.py")
    assert isinstance(diagnostics, list)
    assert all(isinstance(d, Diagnostic) for d in diagnostics)
    internal = [d for d in diagnostics if d.rule in ("SFN099", "SFN199")]  # front-end / lint crash
    assert not internal, [d.format() for d in internal]
    for d in diagnostics:
        assert d.span is None or d.span.line >= 1
    if graph is not None:
        assert FlowGraph.from_json(graph.to_json()).to_dict() == graph.to_dict()


def test_seeds_parse_cleanly_enough():
    for seed in SEEDS:
        graph, _ = parse_text(seed, "seed.py")
        assert graph is not None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_flows_only_produce_diagnostics(source):
    _check(source)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(with_fragments())
def test_flows_with_inserted_fragments_only_produce_diagnostics(source):
    _check(source)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_only_produce_diagnostics(data):
    _check(data)
