"""pipeline.parse / load_graph: files, errors as UserError with diagnostics."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sfncompile.diagnostics import UserError
from sfncompile.pipeline import load_graph, parse

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_parse_and_load_an_example():
    path = EXAMPLES / "train_evaluate.py"
    graph, diagnostics = parse(path)
    assert diagnostics == []
    assert graph.file == str(path)
    loaded = load_graph(str(path))
    assert loaded.to_dict() == graph.to_dict()


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.py"
    for call in (parse, load_graph):
        with pytest.raises(UserError) as info:
            call(missing)
        assert str(missing) in info.value.message and "not found" in info.value.message


def test_directory_and_unreadable(tmp_path):
    with pytest.raises(UserError, match="directory"):
        parse(tmp_path)
    locked = tmp_path / "locked.py"
    locked.write_text("x = 1\n")
    locked.chmod(0)
    try:
        if not os.access(locked, os.R_OK):  # as root, permissions do not apply: nothing to check then
            with pytest.raises(UserError, match="permission denied"):
                parse(locked)
    finally:
        locked.chmod(0o644)


def test_load_graph_raises_with_every_diagnostic(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text(
        "import os\nfrom sfncompile import FlowSpec, step, retry\n"
        "class F(FlowSpec):\n"
        "    @retry(times=os.cpu_count())\n    @step\n    def start(self):\n        self.next(self.end)\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    graph, diagnostics = parse(path)
    assert graph is not None and [d.rule for d in diagnostics] == ["SFN005"]
    with pytest.raises(UserError) as info:
        load_graph(path)
    assert info.value.message == f"1 error in {path}"
    assert [d.rule for d in info.value.diagnostics] == ["SFN005"]


def test_warnings_alone_do_not_stop_load_graph(tmp_path):
    path = tmp_path / "warn.py"
    path.write_text(
        "from sfncompile import FlowSpec, Parameter, step\n"
        "class F(FlowSpec):\n    x = Parameter('x', default=1, colour=2)\n"
        "    @step\n    def start(self):\n        self.next(self.end)\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    graph = load_graph(path)
    assert graph.name == "F"
