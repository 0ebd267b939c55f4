"""The graph cache: an unchanged flow skips the front end, in its directory or copied elsewhere."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sfncompile.executor import graph_cache
from sfncompile.pipeline import load_graph
from tests.conftest import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("SFNCOMPILE_NO_GRAPH_CACHE", raising=False)
    return home


def _copy(flow: Path, directory: Path, siblings=()) -> Path:
    directory.mkdir(parents=True)
    for path in (flow, *siblings):
        shutil.copy(path, directory / path.name)
    return directory / flow.name


@pytest.mark.parametrize("name", ["train_evaluate.py", "nested_foreach.py", "route_by_size.py"])
def test_a_copied_flow_reads_the_graph_its_own_parse_would_give(cache_home, tmp_path, name):
    first = _copy(EXAMPLES / name, tmp_path / "a")
    second = _copy(EXAMPLES / name, tmp_path / "b")
    graph_cache.load_graph_cached(first)
    cached = graph_cache.load_graph_cached(second)
    assert list(cache_home.rglob("moved-*.json")), "the directory-independent entry was written"
    # every span names the copy, exactly as parsing the copy gives
    assert cached.to_json() == load_graph(second).to_json()
    assert str(first) not in cached.to_json()


def test_a_copied_flow_skips_the_front_end(cache_home, tmp_path):
    first = _copy(EXAMPLES / "train_evaluate.py", tmp_path / "a")
    second = _copy(EXAMPLES / "train_evaluate.py", tmp_path / "b")
    script = ("import sys; from sfncompile.executor.graph_cache import load_graph_cached; "
              "load_graph_cached(sys.argv[1]); print('libcst' in sys.modules)")
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home),
               PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "runtime")]))
    env.pop("SFNCOMPILE_NO_GRAPH_CACHE", None)

    def parsed(path):
        out = subprocess.run([sys.executable, "-c", script, str(path)], env=env, capture_output=True, text=True,
                             check=True).stdout
        return json.loads(out.strip().lower())

    assert parsed(first) is True  # a cold cache: the front end ran
    assert parsed(second) is False  # the copy: read from the cache, libcst never imported


def test_a_different_file_beside_the_flow_means_a_new_parse(cache_home, tmp_path):
    """The flow may evaluate a sibling module's constants: a copy whose neighbours differ
    is parsed again, and gets its own neighbours' values."""
    flow_text = ("from metaflow import FlowSpec, step, resources\nfrom settings import CPUS\n\n\n"
                 "class SiblingFlow(FlowSpec):\n    @resources(cpu=CPUS)\n    @step\n    def start(self):\n"
                 "        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n")
    paths = []
    for name, cpus in (("a", 2), ("b", 8)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "flow.py").write_text(flow_text)
        (tmp_path / name / "settings.py").write_text(f"CPUS = {cpus}\n")
        paths.append(tmp_path / name / "flow.py")
    first = graph_cache.load_graph_cached(paths[0])
    second = graph_cache.load_graph_cached(paths[1])
    assert first.steps["start"].decorators[0].args["cpu"] == 2
    assert second.steps["start"].decorators[0].args["cpu"] == 8


def test_a_flow_that_can_read_beyond_its_directory_is_not_reused_elsewhere(tmp_path):
    source = b"from metaflow import FlowSpec, Config\n"
    assert graph_cache._moved_key(tmp_path / "flow.py", source, None) is None


# What a run whose graph is cached must not import: the front end (libcst alone is ~0.1 s of every
# run), the lint, and what only other commands need.
NOT_ON_THE_CACHED_PATH = ("libcst", "sfncompile.frontend.extract", "sfncompile.frontend.configs", "sfncompile.lint",
                          "jinja2", "boto3")


def test_a_cached_run_imports_no_front_end(cache_home, tmp_path):
    flow = _copy(EXAMPLES / "train_evaluate.py", tmp_path / "flow")
    report = tmp_path / "modules.json"
    script = ("import atexit, json, sys\n"
              "atexit.register(lambda: open(sys.argv[1], 'w').write(json.dumps(sorted(sys.modules))))\n"
              "from sfncompile.cli.main import main\n"
              "main(['run', sys.argv[2], '--datastore', sys.argv[3], '-q'])\n")
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home),
               PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "runtime")]))
    env.pop("SFNCOMPILE_NO_GRAPH_CACHE", None)

    def imported():
        subprocess.run([sys.executable, "-c", script, str(report), str(flow), str(tmp_path / "ds")], env=env,
                       cwd=tmp_path, capture_output=True, text=True, check=True)
        return set(json.loads(report.read_text()))

    assert "libcst" in imported()  # the first run parses the flow
    loaded = imported()
    assert "sfncompile.executor.local_run" in loaded  # (the report saw the run)
    assert not [name for name in NOT_ON_THE_CACHED_PATH if name in loaded]


def test_a_damaged_entry_that_still_parses_is_not_the_flows_graph(cache_home, tmp_path):
    """A flipped bit that leaves valid JSON (here: a step renamed) is refused by the entry's
    sha256: the flow is parsed again and the entry rewritten."""
    flow = _copy(EXAMPLES / "train_evaluate.py", tmp_path / "a")
    right = graph_cache.load_graph_cached(flow).to_json()
    for entry in cache_home.rglob("*.json"):
        text = entry.read_text()
        assert '"train"' in text
        entry.write_text(text.replace('"train"', '"trbin"'))
    assert graph_cache.load_graph_cached(flow).to_json() == right
    assert graph_cache.load_graph_cached(flow).to_json() == right  # from the rewritten entry
