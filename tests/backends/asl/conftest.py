"""Fixtures of the ASL tests: every shape and every example, compiled once."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sfncompile.backends.asl import CompileOptions, compile_definition, render

from .shapes import SHAPES

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
NODE_DIR = ROOT / "tests" / "node"

# Extra compile options exercised on top of the defaults.
VARIANTS = {
    "foreach_inline": ("foreach", CompileOptions(foreach_mode="inline")),
    "foreach_auto": ("foreach", CompileOptions(foreach_mode="auto")),
    "nested_foreach_auto": ("nested_foreach", CompileOptions(foreach_mode="auto")),
    "foreach_split_switch_auto": ("foreach_split_switch", CompileOptions(foreach_mode="auto")),
    "foreach_distributed": ("foreach", CompileOptions(foreach_mode="distributed", max_workers=50)),
    "nested_foreach_inline": ("nested_foreach", CompileOptions(foreach_mode="inline", max_workers=8)),
    "nested_foreach_mixed": ("nested_foreach", CompileOptions(foreach_modes={"outer": "distributed"})),
}


def case_names() -> list[str]:
    return sorted(SHAPES) + sorted(VARIANTS) + ["example_" + p.stem for p in EXAMPLES]


def build_case(name: str):
    """(graph, definition) for a case name."""
    if name.startswith("example_"):
        from sfncompile.pipeline import load_graph

        graph = load_graph(str(ROOT / "examples" / (name[len("example_"):] + ".py")))
        return graph, compile_definition(graph)
    if name in VARIANTS:
        shape, options = VARIANTS[name]
        graph = SHAPES[shape]()
        return graph, compile_definition(graph, options)
    graph = SHAPES[name]()
    return graph, compile_definition(graph)


@pytest.fixture(scope="session")
def compiled():
    return {name: build_case(name) for name in case_names()}


def _npx_ready() -> Path:
    binary = NODE_DIR / "node_modules" / ".bin" / "asl-validator"
    if not binary.exists():
        # CI installs it with `npm ci --prefix tests/node`; do the same here.
        subprocess.run(["npm", "ci", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund"], check=True,
                       capture_output=True)
    return binary


def run_asl_validator(files: list[Path]) -> dict[str, str]:
    """One asl-validator process for many files: {path: "" if valid else the error text}."""
    binary = _npx_ready()
    args = [str(binary)]
    for f in files:
        args += ["--json-path", str(f)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    results = {}
    for f in files:
        ok = re.search(r'✓ State machine definition "' + re.escape(str(f)) + '" is valid', out)
        if ok:
            results[str(f)] = ""
        else:
            m = re.search(r'"' + re.escape(str(f)) + r'" is invalid:\n(.*?)(?:\n[✓✕]|\Z)', out, re.S)
            results[str(f)] = m.group(1) if m else out
    return results


@pytest.fixture(scope="session")
def asl_validation(compiled, tmp_path_factory):
    folder = tmp_path_factory.mktemp("asl")
    files = {}
    for name, (_, definition) in compiled.items():
        path = folder / f"{name}.json"
        path.write_text(render(definition))
        files[name] = path
    results = run_asl_validator(list(files.values()))
    return {name: results[str(path)] for name, path in files.items()}
