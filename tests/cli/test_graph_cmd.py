"""``sfncompile graph``: every format on an example, errors as one clean failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sfncompile.cli.main import cli
from sfncompile.ir import FlowGraph

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("fmt, opening", [("text", "TrainEvaluateFlow (5 steps)"), ("mermaid", "flowchart TD"),
                                          ("dot", 'digraph "TrainEvaluateFlow" {'), ("json", "{")])
def test_formats(fmt, opening):
    result = run("graph", str(EXAMPLES / "train_evaluate.py"), "--format", fmt)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == opening


def test_default_is_text_and_json_is_the_ir():
    text = run("graph", str(EXAMPLES / "route_by_size.py"))
    assert text.exit_code == 0
    assert "start" in text.output and "switch" in text.output
    as_json = run("graph", str(EXAMPLES / "route_by_size.py"), "--format", "json")
    graph = FlowGraph.from_json(as_json.output)
    assert graph.name == "RouteBySizeFlow" and graph["start"].kind == "switch"


def test_invalid_flow_fails_cleanly(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("from sfncompile import FlowSpec\nclass F(FlowSpec):\n    x = (\n")
    result = CliRunner().invoke(cli, ["graph", str(path)])
    assert result.exit_code == 1
    assert "error[SFN001]" in result.output
    assert "error: 1 error in" in result.output


def test_unknown_format_is_a_usage_error():
    result = CliRunner().invoke(cli, ["graph", str(EXAMPLES / "train_evaluate.py"), "--format", "png"])
    assert result.exit_code == 2
    assert json.dumps("png") in result.output or "png" in result.output


def test_user_decorators_show_in_text_and_survive_json(tmp_path):
    path = tmp_path / "flow.py"
    path.write_text(
        "from sfncompile import FlowSpec, retry, step\n"
        "from mytools import traced\n"
        "def timed(f):\n"
        "    return f\n"
        "@traced\n"
        "class F(FlowSpec):\n"
        "    @retry(times=1)\n"
        "    @step\n"
        "    @timed\n"
        "    def start(self):\n"
        "        self.next(self.end)\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n")
    text = run("graph", str(path))
    assert text.exit_code == 0, text.output
    assert "flow decorators: @traced" in text.output
    assert "(@retry @timed)" in text.output
    graph = FlowGraph.from_json(run("graph", str(path), "--format", "json").output)
    assert graph["start"].user_decorators == ["timed"] and graph.user_decorators == ["traced"]
    assert [d.name for d in graph["start"].decorators] == ["retry"]
