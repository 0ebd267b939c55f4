"""[tool.sfncompile] in pyproject.toml: read on every supported Python (tomli on 3.10)."""

from __future__ import annotations

import pytest

from sfncompile.config import Config
from sfncompile.diagnostics import UserError


def _project(tmp_path, table: str):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.sfncompile]\n" + table)
    return tmp_path


def test_pyproject_settings_are_read(tmp_path):
    config = Config.load(_project(tmp_path, 'region = "eu-west-3"\nmax_workers = 3\n'), environ={})
    assert config.get("region") == "eu-west-3"
    assert config.get("max_workers") == 3


def test_flags_and_environment_win_over_pyproject(tmp_path):
    project = _project(tmp_path, 'region = "eu-west-3"\n')
    assert Config.load(project, environ={"AWS_REGION": "us-west-2"}).get("region") == "us-west-2"
    assert Config.load(project, flags={"region": "ap-south-1"}, environ={}).get("region") == "ap-south-1"


def test_a_misspelled_key_is_refused_naming_the_file_and_the_key(tmp_path):
    project = _project(tmp_path, 'regoin = "eu-west-3"\n')
    with pytest.raises(UserError) as info:
        Config.load(project, environ={})
    assert "regoin" in info.value.message and str(project / "pyproject.toml") in info.value.message


def test_malformed_toml_is_one_clear_error(tmp_path):
    project = _project(tmp_path, 'region = "unterminated\n')
    with pytest.raises(UserError, match="cannot read"):
        Config.load(project, environ={})
