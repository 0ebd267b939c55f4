"""Without the [cdk] extra, synth and deploy name the extra to install and exit 1 (no traceback)."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from click.testing import CliRunner

from sfncompile.cli.main import cli
from tests.conftest import EXAMPLES

FLOW = str(EXAMPLES / "train_evaluate.py")


@pytest.fixture
def no_cdk(monkeypatch):
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name.split(".")[0] in ("aws_cdk", "constructs", "jsii") else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    for name in ("aws_cdk", "constructs", "jsii"):
        monkeypatch.setitem(sys.modules, name, None)  # `import aws_cdk` raises ModuleNotFoundError


@pytest.mark.parametrize("command", [["synth", FLOW, "-o", "out"], ["deploy", FLOW, "--region", "us-east-1"]])
def test_synth_and_deploy_name_the_extra(no_cdk, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 1
    assert f"'sfncompile {command[0]}' needs the [cdk] extra" in result.output
    assert "pip install 'sfncompile[cdk]'" in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "out").exists()


def test_a_cdk_import_deep_in_a_command_names_the_extra_too(no_cdk, tmp_path, monkeypatch):
    # The check up front passes (say, a stale find_spec); the import inside synth still fails cleanly.
    monkeypatch.setattr("sfncompile.extras.require_cdk", lambda command: None)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["synth", FLOW, "-o", "out"])
    assert result.exit_code == 1
    assert "'sfncompile synth' needs the [cdk] extra" in result.output


def test_missing_node_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr("shutil.which", lambda name, *a, **k: None)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["synth", FLOW])
    assert result.exit_code == 1
    assert "needs Node.js" in result.output
