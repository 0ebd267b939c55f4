"""``Deployer``'s option handling (no AWS): Metaflow's names map to sfncompile's command
line, and the options sfncompile has no counterpart for are refused by name."""

from __future__ import annotations

import pytest

from sfncompile_runtime.deployer import Deployer, _create_arguments, _top_level_arguments


def test_top_level_options_become_every_commands_settings():
    aws, project, configs = _top_level_arguments({
        "branch": "exp", "production": False, "region": "eu-west-1", "datastore": "s3",
        "datastore_root": "s3://b/p", "metadata": "local", "config": [("c", "c.json")],
        "config_value": [("v", {"a": 1})]})
    assert aws == ["--datastore", "s3://b/p", "--region", "eu-west-1"]
    assert project == ["--branch", "exp"]
    assert configs == ["--config", "c", "c.json", "--config-value", "v", '{"a": 1}']
    assert _top_level_arguments({"production": True})[1] == ["--production"]


def test_unknown_top_level_option_fails_at_construction(tmp_path):
    with pytest.raises(TypeError, match="sfncompile does not know: colour"):
        Deployer(str(tmp_path / "flow.py"), colour="red")


def test_create_options():
    assert _create_arguments({"authorize": "tok", "compute": ["fargate", "spot"], "dry_run": True,
                              "with_": ["retry"]}) == \
        ["--authorize", "tok", "--compute", "fargate", "--compute", "spot", "--dry-run", "--with", "retry"]
    with pytest.raises(TypeError, match=r"create\(given_token=...\) is not supported by sfncompile"):
        _create_arguments({"given_token": "x"})
    with pytest.raises(TypeError, match="unknown option 'colour'"):
        _create_arguments({"colour": "red"})


def test_state_machine_name_is_refused(tmp_path):
    with pytest.raises(TypeError, match="names the state machine itself"):
        Deployer(str(tmp_path / "flow.py")).step_functions(name="mine")


def test_deployer_is_importable_where_metaflow_users_import_it():
    import importlib

    from sfncompile_runtime import api, deployer
    from sfncompile_runtime.shims import SUBMODULES, lookup

    assert api.Deployer is deployer.Deployer and api.DeployedFlow is deployer.DeployedFlow
    assert importlib.import_module(SUBMODULES["metaflow.runner.deployer"]).Deployer is deployer.Deployer
    assert lookup("metaflow", "Deployer") is None and lookup("metaflow", "DeployedFlow") is None
    assert lookup("metaflow", "Runner") is None
    # the notebook forms are refused, pointing at the ones we provide
    assert "use Deployer(flow_file)" in lookup("metaflow", "NBDeployer")
    assert "use Runner(flow_file)" in lookup("metaflow", "NBRunner")
