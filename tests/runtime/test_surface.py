"""Metaflow 2.19's public surface in our runtime (issue 9): what a flow imports,
in a plain process (install_shims) and inside tasks (a real local run)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.executor.conftest import LocalRuns

FLOWS = Path(__file__).resolve().parent / "flows"


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


def test_install_shims_serves_metaflow_submodules_in_a_plain_process():
    proc = _python("""
        from sfncompile_runtime.shims import install_shims
        install_shims()
        import metaflow.exception
        from metaflow import (Config, ConfigValue, FlowMutator, FlowSpec, JSONTypeClass, StepMutator,
                              UserStepDecorator, USER_SKIP_STEP, config_expr, current, user_step_decorator,
                              get_metadata, profile, parallel_map, S3)
        from metaflow.client import Flow, namespace, get_namespace, default_namespace
        from metaflow.exception import MetaflowException, MetaflowNotFound, MetaflowNamespaceMismatch
        from metaflow.metaflow_current import current as same
        from metaflow.cards import get_cards
        from metaflow.plugins.cards.exception import CardNotPresentException
        from metaflow.plugins.catch_decorator import FailureHandledByCatch
        from metaflow.plugins.timeout_decorator import TimeoutException
        from metaflow.util import is_stringish
        from metaflow.includefile import IncludedFile
        from metaflow.user_configs.config_parameters import ConfigValue as CV
        import sfncompile_runtime.exceptions as ours
        assert metaflow.exception is ours and same is current and CV is ConfigValue
        assert issubclass(MetaflowNotFound, MetaflowException) and issubclass(TimeoutException, MetaflowException)
        assert is_stringish("x") and not is_stringish(1)
        try:
            import metaflow.plugins.kubernetes
        except ImportError:
            print("refused")
        print("ok")
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["refused", "ok"]


def test_flowspec_without_cli_iterates_its_steps(tmp_path):
    flow = tmp_path / "iter_flow.py"
    flow.write_text(textwrap.dedent("""
        from metaflow import FlowSpec, step

        class IterFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.b)
            @step
            def a(self):
                self.next(self.join)
            @step
            def b(self):
                self.next(self.join)
            @step
            def join(self, inputs):
                self.next(self.end)
            @step
            def end(self):
                pass
    """))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import sys
        from sfncompile_runtime.shims import install_shims
        install_shims()
        sys.path.insert(0, sys.argv[1])
        from iter_flow import IterFlow
        flow = IterFlow(use_cli=False)
        print(flow.name, [s.name for s in flow], flow._graph["join"].type, flow._graph["start"].type,
              flow._graph["a"].parallel_step, flow._graph["a"].num_parallel)
    """), str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["IterFlow", "['start',", "'a',", "'b',", "'join',", "'end']", "join", "split", "False", "0"]
    # Metaflow: a splitting start is a split; checks read parallel_step (no step of ours is one)


def test_surface_inside_tasks(tmp_path, monkeypatch):
    monkeypatch.setenv("METAFLOW_RUN_FROM_ENV", "from the environment")
    monkeypatch.setenv("METAFLOW_USER", "tester")
    runs = LocalRuns(tmp_path / "store")
    run_id, _ = runs.run(FLOWS / "surface_flow.py")
    start = runs.artifacts("SurfaceFlow", run_id, "start")
    end = runs.artifacts("SurfaceFlow", run_id, "end")
    # METAFLOW_RUN_<PARAM> is the parameter's value; parameters and constants are read-only
    assert start["from_env"] == "from the environment"
    assert start["param_assignment"].startswith("refused") and start["constant_assignment"] == "refused"
    # class constants are artifacts of every step (Metaflow's _set_constants)
    assert end["LIMIT"] == 3 and end["NAMES"] == ["a", "b"]
    # `current` is filled while a parameter default runs
    assert start["computed"] == "computed:SurfaceFlow:SurfaceFlow:surface"
    assert start["same_current"] is True and start["stringish"] is True and start["cards"] == "none"
    assert start["squares"] == [1, 4, 9]
    assert start["before"] == "before start" and start["after"] == "after start"
    fields = start["fields"]
    assert fields["project_name"] == "surface" and fields["branch_name"] == "user.tester"
    assert fields["project_flow_name"] == "surface.user.tester.SurfaceFlow" and fields["is_production"] is False
    assert fields["pathspec"] == f"SurfaceFlow/{run_id}/start/1" and fields["task_pathspec"] == fields["pathspec"]
    assert fields["run_id_matches"] is True
    # Metaflow: current.tags are the run's user tags; @project's system tags are on the run (and its
    # steps, tasks and artifacts) in the client
    assert fields["tags"] == []
    run = runs.client_run("SurfaceFlow", run_id)
    assert {"project:surface", "project_branch:user.tester", "user:tester"} <= run.system_tags
    assert "project:surface" in run["start"].task.tags and "project_branch:user.tester" in run["end"].tags
    # a caught failure carries Metaflow's type name
    assert end["failure_type"] == "metaflow.exception.ExternalCommandFailed"
    assert end["failure_text"] == "catch me!" and end["is_metaflow_exception"] is True


def test_config_values_reach_decorators_parameters_and_steps(tmp_path):
    runs = LocalRuns(tmp_path / "store")
    run_id, _ = runs.run(FLOWS / "config_flow.py")
    start = runs.artifacts("CfgFlow", run_id, "start")
    end = runs.artifacts("CfgFlow", run_id, "end")
    # (@resources cpu from the file, nested reads, @environment from default_value and config_expr(str(...)),
    #  a parameter defaulting to config_expr(...))
    assert start["seen"] == (2, 43, 43, "hi", "42", 42) and start["immutable"] is True
    assert end["mode"] == "fast" and end["project"] == "cfgdemo"  # @environment(**cfg.env), @project(config_expr)
    assert end["settings"] == {"cpu": 2, "env": {"vars": {"MODE": "fast"}}, "project": "cfgdemo",
                               "nested": {"value": 43}}
    assert end["extra"] == {"greeting": "hi", "value": 42}


def test_config_values_are_compiled_into_the_job_definitions():
    from sfncompile.pipeline import load_graph

    graph = load_graph(FLOWS / "config_flow.py")
    start, end = graph.steps["start"], graph.steps["end"]
    assert start.decorator("resources").args == {"cpu": 2}
    assert start.decorator("environment").args == {"vars": {"GREETING": "hi", "STR": "42"}}
    assert end.decorator("environment").args == {"vars": {"MODE": "fast"}}
    assert graph.decorator("project").args == {"name": "cfgdemo"}
    assert graph.parameters[0].default == 42


def test_config_value_from_the_environment_overrides_the_file(monkeypatch):
    from sfncompile.pipeline import load_graph

    monkeypatch.setenv("METAFLOW_FLOW_CONFIG_VALUE", '{"settings": {"cpu": 8, "env": {"vars": {}}, "project": "p"}}')
    graph = load_graph(FLOWS / "config_flow.py")
    assert graph.steps["start"].decorator("resources").args == {"cpu": 8}


def test_metaflow_top_level_options_before_the_command():
    from sfncompile_runtime.flowspec import split_top_level_options

    assert split_top_level_options(["--quiet", "--metadata=local", "--datastore", "local", "--no-pylint",
                                     "--event-logger=nullSidecarLogger", "--environment=local", "run",
                                     "--max-workers", "4"]) == ([], ["run", "--max-workers", "4"], None)
    assert split_top_level_options(["--with", "retry", "run"]) == (["--with", "retry"], ["run"], None)
    assert split_top_level_options(["--datastore-root=/tmp/x", "run"]) == (["--datastore", "/tmp/x"], ["run"], None)
    assert "not supported" in split_top_level_options(["--datastore=s3", "run"])[2]
    assert "not supported" in split_top_level_options(["--metadata=service", "run"])[2]
