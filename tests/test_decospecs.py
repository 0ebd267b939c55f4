"""``--with DECORATOR[:k=v,...]``: parsing, Metaflow's attach rule, and every command that takes it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sfncompile.decospecs import attach, parse_with, parse_with_options
from sfncompile.diagnostics import UserError
from sfncompile.pipeline import load_graph
from tests.conftest import EXAMPLES

SWEEP = EXAMPLES / "hyperparameter_sweep.py"
TRAIN = EXAMPLES / "train_evaluate.py"  # `train` carries @retry(times=2)


def test_values_are_json_then_numbers_then_text():
    spec = parse_with('batch:memory=16000,cpu=0.5,image=python:3.12-slim,use_tmpfs=true,'
                      'aws_batch_tags={"team": "ml", "cost": "a,b"}')
    assert spec.name == "batch"
    assert spec.args == {"memory": 16000, "cpu": 0.5, "image": "python:3.12-slim", "use_tmpfs": True,
                         "aws_batch_tags": {"team": "ml", "cost": "a,b"}}
    assert parse_with("retry").args == {}


@pytest.mark.parametrize("text, expected", [
    ("nosuch", "unknown step decorator @nosuch"),
    ("schedule:daily=true", "@schedule is not allowed on a step"),
    ("retry:times=9", "@retry(times=...)"),
    ("retry:attempts=2", "@retry has no argument 'attempts'"),
    ("retry:times", "'times' is not name=value"),
    ("resources:cpu=abc", "@resources(cpu=...)"),
    ("9retry", "expected DECORATOR[:name=value,...]"),
])
def test_bad_specs_are_one_clear_message(text, expected):
    with pytest.raises(UserError) as err:
        parse_with(text)
    assert err.value.message.startswith(f"--with {text}: ")
    assert expected in err.value.message


def test_same_decorator_twice_is_refused():
    with pytest.raises(UserError, match="more than once"):
        parse_with_options(["retry", "retry:times=1"])


def test_source_decorators_win_and_others_gain_it():
    graph = attach(load_graph(TRAIN), [parse_with("retry:times=4"), parse_with("environment:vars={}")])
    assert graph.steps["train"].decorator("retry").args == {"times": 2}  # as written in the source
    for name, step in graph.steps.items():
        assert step.decorator("environment").args == {"vars": {}}, name
        if name != "train":
            assert step.decorator("retry").args == {"times": 4}, name


def test_compile_with_retry_adds_retriers_to_every_task_state():
    from sfncompile.cli.main import cli

    plain = CliRunner().invoke(cli, ["compile", str(SWEEP)])
    added = CliRunner().invoke(cli, ["compile", str(SWEEP), "--with", "retry:times=1"])
    assert plain.exit_code == 0 and added.exit_code == 0, added.output

    def user_retriers(text):
        states = json.loads(text)["States"]
        return {name for name, state in states.items()
                if any("States.TaskFailed" in r.get("ErrorEquals", []) for r in state.get("Retry", []))}

    assert user_retriers(added.stdout) > user_retriers(plain.stdout)
    assert "start" in user_retriers(added.stdout) and "start" not in user_retriers(plain.stdout)


def test_run_with_environment_reaches_every_task(tmp_path, monkeypatch):
    from sfncompile.cli.main import cli
    from sfncompile_runtime.datastore import Datastore

    flow = tmp_path / "envflow.py"
    flow.write_text(
        "import os\nfrom sfncompile import FlowSpec, step\n\n"
        "class EnvFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.a = os.environ.get('GREETING')\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        self.b = os.environ.get('GREETING')\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["run", str(flow), "--datastore", str(tmp_path / "ds"),
                                      "--with", 'environment:vars={"GREETING": "hi"}'])
    assert result.exit_code == 0, result.output
    run_id = result.stdout.strip().splitlines()[-1]
    store = Datastore(str(tmp_path / "ds"), "EnvFlow")
    for step_name, task_id, artifact in (("start", "1", "a"), ("end", "2", "b")):
        record = store.latest_record(run_id, step_name, task_id)
        assert store.load_artifact(record["artifacts"][artifact]) == "hi"


def test_bad_with_on_the_command_line_exits_1_without_traceback(tmp_path):
    from sfncompile.cli.main import cli

    for command in (["compile", str(SWEEP)], ["run", str(SWEEP), "--datastore", str(tmp_path)],
                    ["synth", str(SWEEP), "-o", str(tmp_path / "out")]):
        result = CliRunner().invoke(cli, [*command, "--with", "retry:times=nope"])
        assert result.exit_code == 1, result.output
        assert "--with retry:times=nope: @retry(times=...)" in result.output
        assert "Traceback" not in result.output
