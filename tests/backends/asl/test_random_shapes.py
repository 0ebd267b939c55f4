"""Randomly nested splits, foreaches and switches: every mode compiles to a
structurally sound, payload-bounded definition that both validators accept."""

from __future__ import annotations

import pytest

from sfncompile.backends.asl import CompileOptions, compile_definition, render

from .conftest import run_asl_validator
from .shapes import random_flow
from . import test_emitter as checks  # (module import: its tests are not collected again here)

SEEDS = range(16)
MODES = ("distributed", "auto", "inline")


@pytest.fixture(scope="module")
def random_definitions():
    cases = {}
    for seed in SEEDS:
        graph = random_flow(seed, depth=3, width=2)
        for mode in MODES:
            cases[f"random{seed}_{mode}"] = (graph, compile_definition(graph, CompileOptions(foreach_mode=mode)))
    return cases


def test_random_flows_are_sound(random_definitions):
    kinds = set()
    for name in random_definitions:
        checks.test_structure(random_definitions, name)
        checks.test_payload_bound(random_definitions, name)
        kinds.update(s.kind for s in random_definitions[name][0])
    assert {"split", "foreach", "switch"} <= kinds


def test_random_flows_pass_both_validators(random_definitions, tmp_path):
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    files = []
    # auto mode holds both Map kinds and every other state kind: validating it
    # covers the other modes' constructs at a third of the validators' time.
    for name, (_, definition) in random_definitions.items():
        if not name.endswith("_auto"):
            continue
        text = render(definition)
        AmazonStateLanguageParser.parse(text)
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        files.append(path)
    results = run_asl_validator(files)
    bad = {k: v for k, v in results.items() if v}
    assert not bad, bad
