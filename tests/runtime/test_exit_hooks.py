"""The runner's exit-hook mode in isolation (the end-to-end runs are in tests/executor/test_exit_hook.py)."""

from __future__ import annotations

import pytest

from sfncompile_runtime import decorator_specs
from sfncompile_runtime.exit_hooks import hook_names, run_hooks, wants_run
from sfncompile_runtime.main import main


def test_run_is_passed_only_to_hooks_that_take_it():
    def with_run(run=None):
        pass

    def with_kwargs(**kwargs):
        pass

    def bare():
        pass

    def other(flow=None):
        pass

    assert wants_run(with_run) and wants_run(with_kwargs)
    assert not wants_run(bare) and not wants_run(other)


def test_hook_names_come_from_graph_json():
    graph = {"decorators": [{"name": "project", "args": {}},
                            {"name": "exit_hook", "args": {"on_success": ["a", "b"], "on_error": ["c"]}}]}
    assert hook_names(graph, "success") == ["a", "b"]
    assert hook_names(graph, "error") == ["c"]
    assert hook_names({"decorators": []}, "error") == []


def test_bad_kind_and_missing_package_are_setup_errors(tmp_path, capsys):
    assert run_hooks("finally", str(tmp_path)) == 2
    assert run_hooks("success", str(tmp_path)) == 2
    assert "incomplete" in capsys.readouterr().err
    assert main(["exit-hook"]) == 2  # no kind


def test_authoring_api_accepts_functions_and_names():
    def notify(run=None):
        pass

    assert decorator_specs.validate("exit_hook", {"on_success": [notify], "on_error": ["notify"],
                                                  "options": {}, "image": "python:3.11"}, decorator_specs.FLOW) == []


@pytest.mark.parametrize("value", ["notify", ["not an identifier"], [3], None])
def test_authoring_api_refuses_anything_else(value):
    problems = decorator_specs.validate("exit_hook", {"on_success": value}, decorator_specs.FLOW)
    assert problems and "functions defined at module level" in problems[0][1]
