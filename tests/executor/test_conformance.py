"""Every execution AWS Step Functions recorded in the shared conformance corpus, replayed.

The corpus is vendored in ``tests/executor/conformance/sfn`` (a copy of the
project's shared corpus, so a fresh clone tests it too); see its README for
provenance and licence (Apache-2.0, derived from LocalStack's AWS recordings). All cases run once, concurrently (several wait or retry
for real seconds), then each case is its own test comparing status and output
(or error and cause) exactly, and the history's event types.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
from pathlib import Path

import pytest

from sfncompile.executor import Interpreter

CORPUS = Path(__file__).resolve().parent / "conformance" / "sfn"

# Cases whose status and output we do not reproduce, with the reason.
KNOWN_DIVERGENCES: dict[str, str] = {}

# Cases whose result we reproduce but whose recorded event list we do not.
_RESORTED_PARALLEL = (
    "the test re-sorted the events of this successful Parallel state and the re-sort dropped "
    "events: no ParallelStateSucceeded appears (AWS emits it after the branches succeed, as "
    "LocalStack's AWS-validated interpreter does and as we do)"
)
KNOWN_EVENT_DIVERGENCES: dict[str, str] = {
    "scenario-parallel-state-nested": _RESORTED_PARALLEL + "; the inner ParallelStateExited is missing too",
    "scenario-parallel-state-order": _RESORTED_PARALLEL,
    "scenario-parallel-state-parameters": _RESORTED_PARALLEL,
    "scenario-parallel-state": _RESORTED_PARALLEL,
    "assign-base-parallel-cases-base-scope-parallel": _RESORTED_PARALLEL,
}


def _case_files() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*.json") if p.name != "MOTO-RESULTS.json")


CASE_FILES = _case_files()


def _typed(value):
    """JSON value with types made explicit: 1, 1.0 and True must not compare equal."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


def _events_ordered(case) -> bool:
    """Whether the recorded order is meaningful: no concurrent branches or iterations."""
    if any("re-sorted" in note for note in case.get("notes", [])):
        return False

    def walk(program):
        for state in program.get("States", {}).values():
            if state["Type"] == "Parallel" and len(state.get("Branches", [])) > 1:
                return False
            if state["Type"] == "Map":
                if state.get("MaxConcurrency") != 1:
                    return False
                if not walk(state.get("ItemProcessor") or state.get("Iterator") or {}):
                    return False
            if state["Type"] == "Parallel":
                if not all(walk(b) for b in state.get("Branches", [])):
                    return False
        return True

    return walk(case["definition"])


@pytest.fixture(scope="module")
def outcomes():
    cases = [json.loads(p.read_text()) for p in CASE_FILES]

    def run(case):
        return case["id"], Interpreter(case["definition"]).run(case["input"], name=case["id"])

    with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
        return dict(pool.map(run, cases))


def _param(path: Path):
    case_id = path.stem
    marks = []
    if case_id in KNOWN_DIVERGENCES:
        marks.append(pytest.mark.xfail(reason=KNOWN_DIVERGENCES[case_id], strict=True))
    return pytest.param(path, id=case_id, marks=marks)


@pytest.mark.parametrize("path", [_param(p) for p in CASE_FILES])
def test_case(path, outcomes):
    case = json.loads(path.read_text())
    result = outcomes[case["id"]]
    expected = case["expected"]
    assert result.status == expected["status"], (result.error, result.cause)
    if expected["status"] == "SUCCEEDED":
        assert _typed(result.output) == _typed(expected["output"])
    else:
        assert result.error == expected.get("error")
        assert result.cause == expected.get("cause")
    if "events" in case and case["id"] not in KNOWN_EVENT_DIVERGENCES:
        got = result.history.types()
        if _events_ordered(case):
            assert got == case["events"]
        else:
            assert collections.Counter(got) == collections.Counter(case["events"])


def test_agreement_rate():
    """The issue's goal: at least 95% exact agreement (divergences are listed above)."""
    assert 1 - len(KNOWN_DIVERGENCES) / len(CASE_FILES) >= 0.95
    assert len(CASE_FILES) >= 700


def test_event_divergences_still_diverge(outcomes):
    for case_id in KNOWN_EVENT_DIVERGENCES:
        case = json.loads((CORPUS / f"{case_id}.json").read_text())
        assert collections.Counter(outcomes[case_id].history.types()) != collections.Counter(case["events"])
