"""--config / --config-value on our commands, on ``python flow.py`` and in ``Runner(...)`` (issue 9),
run end to end: the value reaches the decorators and the steps, the flow module's own
os.environ[...] assignment counts, a changed config file is read again (no stale cached graph)."""

from __future__ import annotations

import pytest

from sfncompile.frontend.configs import CLI_OPTIONS
from tests.executor.conftest import LocalRuns

FLOW = '''
import os
from metaflow import Config, FlowSpec, Parameter, environment, step
{header}
def from_configs(ctx):
    return ctx.configs.cfg.a + 100


class CfgOptFlow(FlowSpec):
    cfg = Config("cfg", default_value={{"a": 1}})
    other = Config("other", default="other.json")
    p = Parameter("p", default=from_configs, type=int)  # evaluated at launch, with ctx.configs

    @environment(vars={{"A": str(cfg.a)}})
    @step
    def start(self):
        self.seen = (os.environ["A"], self.cfg.a, dict(self.other))
        assert self.p == self.cfg.a + 100
        self.next(self.end)

    @step
    def end(self):
        pass
'''


@pytest.fixture
def flow(tmp_path, monkeypatch):
    for name in ("METAFLOW_FLOW_CONFIG", "METAFLOW_FLOW_CONFIG_VALUE", CLI_OPTIONS, "SFNCOMPILE_NO_GRAPH_CACHE"):
        monkeypatch.setenv(name, "")  # recorded, so restored whatever the test sets
        monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "other.json").write_text('{"o": 0}')
    (tmp_path / "b.json").write_text('{"b": 2}')
    path = tmp_path / "cfg_opt_flow.py"
    path.write_text(FLOW.format(header=""))
    return path


def seen(runs, run_id):
    return runs.artifacts("CfgOptFlow", run_id, "start")["seen"]


def test_run_with_config_and_config_value(flow, tmp_path):
    runs = LocalRuns(tmp_path / "store")
    run_id, _ = runs.run(flow, extra=["--config-value", "cfg", '{"a": 5}', "--config", "other", "b.json"])
    assert seen(runs, run_id) == ("5", 5, {"b": 2})
    assert CLI_OPTIONS not in __import__("os").environ  # restored after the command


def test_resume_refuses_them_as_metaflow(flow, tmp_path):
    runs = LocalRuns(tmp_path / "store")
    result = runs.cli("resume", str(flow), "--config-value", "cfg", "{}", expect_exit=None)
    assert result.exit_code != 0
    assert "cannot specify --config or --config-value with 'resume'" in result.output


def test_the_flow_module_sets_the_variables(flow, tmp_path):
    flow.write_text(FLOW.format(header="""
os.environ["METAFLOW_FLOW_CONFIG_VALUE"] = '{"cfg": {"a": 3}}'
os.environ["METAFLOW_FLOW_CONFIG"] = '{"other": "b.json"}'
"""))
    runs = LocalRuns(tmp_path / "store")
    run_id, _ = runs.run(flow)
    assert seen(runs, run_id) == ("3", 3, {"b": 2})
    # the launcher imported the module (for the parameter's default): its assignments stayed its own
    assert "METAFLOW_FLOW_CONFIG_VALUE" not in __import__("os").environ


def test_a_changed_config_file_is_read_again(flow, tmp_path, monkeypatch):
    runs = LocalRuns(tmp_path / "store")
    first, _ = runs.run(flow)
    assert seen(runs, first) == ("1", 1, {"o": 0})
    (tmp_path / "other.json").write_text('{"o": 1}')
    monkeypatch.setenv("METAFLOW_FLOW_CONFIG_VALUE", '{"cfg": {"a": 2}}')
    second, _ = runs.run(flow)
    assert seen(runs, second) == ("2", 2, {"o": 1})


def test_python_flow_py_forwards_them(flow, tmp_path, monkeypatch):
    from sfncompile.cli import main as cli_main

    calls = []
    monkeypatch.setattr(cli_main, "main", lambda argv: calls.append(argv) or 0)
    assert cli_main.flow_file_main(str(flow), ["--quiet", "--config", "other", "b.json",
                                               "--config-value=cfg", '{"a": 4}', "run", "--max-workers", "2"]) == 0
    assert calls == [["run", str(flow), "--max-workers", "2", "--config", "other", "b.json",
                      "--config-value", "cfg", '{"a": 4}']]
    assert cli_main.flow_file_main(str(flow), ["--config", "other"]) == 2


def test_runner_takes_metaflow_config_arguments():
    from sfncompile_runtime.runner import _top_level_configs

    options = {"config": [("other", "b.json")], "config_value": [("cfg", {"a": 6}), ("x", '{"y": 1}')],
               "quiet": True}
    assert _top_level_configs(options) == ["--config", "other", "b.json", "--config-value", "cfg", '{"a": 6}',
                                           "--config-value", "x", '{"y": 1}']
    assert options == {"quiet": True}
    with pytest.raises(TypeError):
        _top_level_configs({"config": ["just-a-name"]})


def test_runner_runs_with_a_config_value(flow, tmp_path, monkeypatch):
    from sfncompile_runtime.runner import Runner

    monkeypatch.setenv("SFNCOMPILE_DATASTORE", str(tmp_path / "store"))
    with Runner(str(flow), show_output=False, config_value=[("cfg", {"a": 8})]).run() as running:
        assert running.status == "successful", running.stderr
        assert running.run["start"].task.data.seen == ("8", 8, {"o": 0})


USER_CODE_FLOW = '''
import os
from metaflow import Config, FlowSpec, Parameter, config_expr, environment, step

def colon_parser(text):
    key, value = text.split(":")
    return {key.strip(): value.strip()}

def computed(ctx):
    return {"n": 21}

def from_configs(ctx):
    return ctx.configs.calc.n + 1


class UserCfgFlow(FlowSpec):
    pair = Config("pair", default_value="k: v", parser=colon_parser)
    calc = Config("calc", default_value=computed)
    p = Parameter("p", default=from_configs, type=int)

    @environment(vars={"K": pair.k, "N": config_expr("str(calc.n * 2)")})
    @step
    def start(self):
        self.seen = (os.environ["K"], os.environ["N"], dict(self.pair), self.calc.n, self.p)
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_configs_of_the_flows_own_code_run_at_launch(flow, tmp_path):
    path = tmp_path / "user_cfg_flow.py"
    path.write_text(USER_CODE_FLOW)
    runs = LocalRuns(tmp_path / "store")
    run_id, _ = runs.run(path)
    assert runs.artifacts("UserCfgFlow", run_id, "start")["seen"] == ("v", "42", {"k": "v"}, 21, 22)
    # a --config-value goes through the user's parser too, as in Metaflow
    run_id, _ = runs.run(path, extra=["--config-value", "pair", "k: given"])
    assert runs.artifacts("UserCfgFlow", run_id, "start")["seen"][:3] == ("given", "42", {"k": "given"})
    # the configs are the run's artifacts (Metaflow stores them too)
    assert runs.artifacts("UserCfgFlow", run_id, "end")["calc"] == {"n": 21}


def test_an_error_in_the_users_parser_is_one_message_and_exit_1(flow, tmp_path):
    from click.testing import CliRunner

    from sfncompile.cli.main import cli

    path = tmp_path / "user_cfg_flow.py"
    path.write_text(USER_CODE_FLOW)
    bad = ["--config-value", "pair", "no colon"]
    for args in (["run", str(path), "--datastore", str(tmp_path / "store"), *bad], ["check", str(path), *bad],
                 ["compile", str(path), *bad]):
        result = CliRunner().invoke(cli, args)
        output = result.output + (result.stderr or "")
        assert result.exit_code == 1, (args[0], output)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "user_cfg_flow.py:17:" in output and "Config 'pair'" in output, (args[0], output)
        assert "parser colon_parser raised ValueError" in output
        assert "in colon_parser" in output  # the user's frame
        assert "Traceback (most recent call last)" not in output and "sfncompile_runtime" not in output


RESUME_FLOW = '''
import os
from metaflow import Config, FlowSpec, environment, step

def from_environment(ctx):
    return {"n": int(os.environ.get("CFG_N", "1"))}


class CfgResumeFlow(FlowSpec):
    other = Config("other", default="other.json")
    computed = Config("computed", default_value=from_environment)

    @step
    def start(self):
        self.next(self.end)

    @environment(vars={"O": str(other.o)})
    @step
    def end(self):
        if os.path.exists("fail_once"):
            os.remove("fail_once")
            raise RuntimeError("failing once")
        self.seen = (os.environ.get("O"), dict(self.other), self.computed.n)
'''


@pytest.mark.parametrize("recorded", [True, False], ids=["run-record", "start-artifacts"])
def test_resume_keeps_the_origin_runs_configs(flow, tmp_path, monkeypatch, recorded):
    """Metaflow 2.19: resume evaluates nothing new into the run; the tasks (and the decorators)
    see the origin run's config values, whatever the files and functions give now. From the run
    record, or (a run recorded before it kept them) from the origin's start task's artifacts."""
    path = tmp_path / "cfg_resume_flow.py"
    path.write_text(RESUME_FLOW)
    (tmp_path / "fail_once").write_text("")
    runs = LocalRuns(tmp_path / "store")
    origin, _ = runs.run(path, expect_exit=1)
    if not recorded:
        store = runs.store("CfgResumeFlow")
        record = store.read_run(origin)
        del record["configs"]
        store.write_run(origin, record)
    (tmp_path / "other.json").write_text('{"o": 99}')
    monkeypatch.setenv("CFG_N", "7")
    result = runs.cli("resume", str(path), "--origin-run-id", origin)
    resumed = result.stdout.strip().splitlines()[-1]
    assert runs.artifacts("CfgResumeFlow", resumed, "end")["seen"] == ("0", {"o": 0}, 1)
    assert runs.store("CfgResumeFlow").read_run(resumed)["configs"] == {"other": {"o": 0}, "computed": {"n": 1}}
    # a new run reads them again
    run_id, _ = runs.run(path)
    assert runs.artifacts("CfgResumeFlow", run_id, "end")["seen"] == ("99", {"o": 99}, 7)
