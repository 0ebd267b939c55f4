"""Every lint rule is documented in docs/lint-rules.md, and nothing else is."""

from __future__ import annotations

import re
from pathlib import Path

from sfncompile.lint import INTERNAL_RULE, RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "lint-rules.md"

# Metaflow's lint.py checks, each covered by at least one of ours.
METAFLOW_CHECKS = {
    "check_reserved_words": ["SFN101"], "check_basic_steps": ["SFN103", "SFN104"],
    "check_annotation_name_conflict": ["SFN105"], "check_start_end_degree": ["SFN106", "SFN107"],
    "check_that_end_is_end": ["SFN107", "SFN108"], "check_step_names": ["SFN102"],
    "check_num_args": ["SFN109", "SFN110", "SFN111"], "check_static_transitions": ["SFN112"],
    "check_valid_transitions": ["SFN113"], "check_unknown_transitions": ["SFN114"],
    "check_for_acyclicity": ["SFN115"], "check_for_orphans": ["SFN116"],
    "check_split_join_balance": ["SFN117", "SFN118", "SFN119", "SFN120"],
    "check_switch_splits": ["SFN121", "SFN122", "SFN123"], "check_empty_foreaches": ["SFN124"],
    "check_parallel_step_after_next": ["SFN125"], "check_join_followed_by_parallel_step": ["SFN126"],
    "check_parallel_foreach_calls_parallel_step": ["SFN127"], "check_ambiguous_joins": ["SFN128"],
}


def documented_ids():
    return set(re.findall(r"^\| (SFN\d{3}) \|", DOC.read_text(), flags=re.M))


def test_every_rule_is_documented():
    assert set(RULES) | {INTERNAL_RULE} == documented_ids()


def test_every_metaflow_check_is_covered_and_documented():
    text = DOC.read_text()
    for check, ids in METAFLOW_CHECKS.items():
        assert check in text
        assert all(i in RULES for i in ids), check


def test_rule_names_are_unique():
    names = [r.name for r in RULES.values()]
    assert len(names) == len(set(names))
