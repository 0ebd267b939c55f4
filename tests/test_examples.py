"""Every example is clean under ``sfncompile check`` and its IR matches the
golden JSON in tests/golden/ir/. Regenerate the golden files after an
intended IR change with ``SFNCOMPILE_UPDATE_GOLDEN=1 pytest tests/test_examples.py``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from sfncompile.ir import FlowGraph
from sfncompile.pipeline import parse_text

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
GOLDEN = ROOT / "tests" / "golden" / "ir"
UPDATE = os.environ.get("SFNCOMPILE_UPDATE_GOLDEN") == "1"

# Shapes the examples must keep covering (kind -> at least one example has it).
REQUIRED_KINDS = {"start", "linear", "split", "foreach", "switch", "join", "end"}


def ids(paths):
    return [p.stem for p in paths]


def graph_of(path: Path) -> FlowGraph:
    # A repository-relative file name keeps the golden files independent of
    # where the checkout lives.
    graph, diagnostics = parse_text(path.read_bytes(), f"examples/{path.name}")
    assert graph is not None and diagnostics == [], [d.format() for d in diagnostics]
    return graph


def test_there_are_enough_examples():
    assert len(EXAMPLES) >= 7
    assert (ROOT / "examples" / "README.md").exists()
    readme = (ROOT / "examples" / "README.md").read_text()
    for path in EXAMPLES:
        assert path.name in readme, f"{path.name} is not listed in examples/README.md"


@pytest.mark.parametrize("path", EXAMPLES, ids=ids(EXAMPLES))
def test_example_is_clean_under_check(path):
    from sfncompile.cli.main import cli

    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert "error" not in result.output.lower()


@pytest.mark.parametrize("path", EXAMPLES, ids=ids(EXAMPLES))
def test_example_ir_matches_golden(path):
    graph = graph_of(path)
    text = graph.to_json()
    golden = GOLDEN / f"{path.stem}.json"
    if UPDATE or not golden.exists():
        if not UPDATE:
            pytest.fail(f"no golden IR for {path.name}; run with SFNCOMPILE_UPDATE_GOLDEN=1 to create it")
        golden.write_text(text)
    assert text == golden.read_text()
    # and the IR survives a JSON round trip unchanged
    assert FlowGraph.from_json(text).to_json() == text


def test_examples_cover_every_shape():
    kinds = set()
    flags = set()
    for path in EXAMPLES:
        graph = graph_of(path)
        kinds |= {step.kind for step in graph}
        if any(step.in_loop for step in graph):
            flags.add("switch loop")
        if any(len(step.foreach_stack) >= 2 for step in graph):
            flags.add("nested foreach")
        if graph.decorator("schedule") is not None:
            flags.add("schedule")
        if graph.imported_from == "metaflow":
            flags.add("metaflow import")
        for step in graph:
            if step.kind == "split" and step.foreach_stack:
                flags.add("split inside foreach")
    assert REQUIRED_KINDS <= kinds, REQUIRED_KINDS - kinds
    assert flags == {"switch loop", "nested foreach", "schedule", "metaflow import", "split inside foreach"}


def test_golden_files_have_no_orphans():
    stems = {p.stem for p in EXAMPLES}
    assert {p.stem for p in GOLDEN.glob("*.json")} <= stems
    for path in GOLDEN.glob("*.json"):
        json.loads(path.read_text())


# -- every example runs end to end, locally, through the real executor --------

import subprocess  # noqa: E402
import sys  # noqa: E402

# What each example's end step must hold after a local run.
EXPECTED_RESULTS = {
    "train_evaluate": lambda d: d.accepted and abs(d.coef["slope"] - 3.0) < 0.3,
    "hyperparameter_sweep": lambda d: d.best_alpha in (0.0, 0.1, 1.0, 10.0, 100.0)
                                    and len(d.leaderboard) == 5,
    "nested_foreach": lambda d: sorted(d.winners) == ["sales", "traffic", "weather"]
                                and all(len(v) == 3 for v in d.table.values()),
    "feature_branches": lambda d: len(d.features) == 4 and "spend_total" in d.features[1],
    "route_by_size": lambda d: len(d.top_words) == 3,
    "retrain_until_good": lambda d: d.converged and 1 < d.iteration <= 6,
    "nightly_report": lambda d: set(d.totals) == {"north", "south", "east"} and d.had_refunds,
    "ab_test_segments": lambda d: sorted(d.results) == ["new", "returning", "vip"],
    "churn_metaflow": lambda d: d.at_risk == ["c2", "c4"],
}


def test_every_example_has_an_expected_result():
    assert set(EXPECTED_RESULTS) == {p.stem for p in EXAMPLES}


@pytest.mark.parametrize("path", EXAMPLES, ids=ids(EXAMPLES))
def test_example_runs_locally(path, tmp_path, monkeypatch):
    datastore = tmp_path / "ds"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "runtime")]))
    proc = subprocess.run(
        [sys.executable, "-m", "sfncompile.cli.main", "run", str(path), "--datastore", str(datastore),
         "--max-workers", "2", "--timeout", "60"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=180)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    run_id = proc.stdout.strip().splitlines()[-1]

    from sfncompile import Flow, namespace

    monkeypatch.setenv("SFNCOMPILE_DATASTORE", str(datastore))
    namespace(None)
    graph = graph_of(path)
    run = Flow(graph.name)[run_id]
    assert run.successful
    assert EXPECTED_RESULTS[path.stem](run.data)
