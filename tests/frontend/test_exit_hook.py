"""``@exit_hook(on_success=[f], on_error=[g])``: bare names of module-level functions."""

from __future__ import annotations

import pytest

from .helpers import line_of, parse, parse_ok, rules_of

HOOK_FLOW = '''
from metaflow import FlowSpec, exit_hook, step

def notify_ok(run=None):
    print("ok", run.pathspec)

notify_lambda = lambda: None

def notify_failed(run=None):
    print("failed", run)

@exit_hook(on_success=[notify_ok, notify_lambda], on_error=[notify_failed, "notify_ok"])
class HookFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_function_names_evaluate_to_their_names():
    graph = parse_ok(HOOK_FLOW)
    hook = graph.decorator("exit_hook")
    assert hook.args == {"on_success": ["notify_ok", "notify_lambda"], "on_error": ["notify_failed", "notify_ok"]}
    assert graph.module_functions == ["notify_failed", "notify_lambda", "notify_ok"]


def test_module_functions_survive_the_json_round_trip():
    from sfncompile.ir import FlowGraph

    graph = parse_ok(HOOK_FLOW)
    assert FlowGraph.from_json(graph.to_json()).module_functions == graph.module_functions


@pytest.mark.parametrize("expression, needle", [
    ("[undefined_name]", "undefined_name"),
    ("[print]", "print"),
    ("[notify_ok()]", "notify_ok()"),
    ("[lambda run: None]", "lambda"),
    ("[HookFlow]", "HookFlow"),
])
def test_anything_else_keeps_the_positioned_error(expression, needle):
    source = HOOK_FLOW.replace("on_success=[notify_ok, notify_lambda]", f"on_success={expression}")
    graph, diagnostics = parse(source)
    assert rules_of(diagnostics) == ["SFN005"], [d.format() for d in diagnostics]
    assert diagnostics[0].span.line == line_of(source, "@exit_hook")
    assert "on_success=" in diagnostics[0].message


def test_function_names_are_not_values_in_other_decorators():
    source = HOOK_FLOW.replace("class HookFlow", "@project(name=notify_ok)\nclass HookFlow").replace(
        "exit_hook, step", "exit_hook, project, step")
    _, diagnostics = parse(source)
    assert rules_of(diagnostics) == ["SFN005"]
    assert "is a function" in diagnostics[0].message
