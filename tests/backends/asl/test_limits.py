"""Platform limits checked at compile time, each naming the step at fault."""

from __future__ import annotations

import pytest

from sfncompile.backends.asl import CompileOptions, compile_definition, diagnose
from sfncompile.diagnostics import ERROR, WARNING, UserError

from .shapes import deco, make_flow


def linear_flow(count: int, name_length: int = 8):
    names = ["start"] + [f"s{i:0{name_length - 1}d}" for i in range(count)] + ["end"]
    spec = {n: ("linear", [names[i + 1]]) for i, n in enumerate(names[:-1])}
    spec["end"] = ("end",)
    return make_flow("BigFlow", spec)


def test_definition_over_one_megabyte():
    graph = linear_flow(1800)
    with pytest.raises(UserError) as caught:
        compile_definition(graph)
    (diag,) = [d for d in caught.value.diagnostics if d.rule == "SFN901"]
    assert "1 MB" in diag.message and diag.severity == ERROR


def test_a_thousand_steps_fit():
    definition, diags = diagnose(linear_flow(1000))
    assert not [d for d in diags if d.severity == ERROR]
    assert len(definition["States"]) == 1002


def test_container_overrides_over_8k():
    graph = make_flow("EnvFlow", {"start": ("linear", ["big"]), "big": ("linear", ["end"]), "end": ("end",)},
                      decorators={"big": [deco("environment", vars={"BLOB": "x" * 8200})]})
    with pytest.raises(UserError) as caught:
        compile_definition(graph)
    (diag,) = caught.value.diagnostics
    assert diag.rule == "SFN902" and "'big'" in diag.message and "8,192" in diag.message
    assert diag.span == graph["big"].span


def test_environment_value_that_looks_like_a_placeholder():
    graph = make_flow("EnvFlow", {"start": ("linear", ["end"]), "end": ("end",)},
                      decorators={"start": [deco("environment", vars={"P": "${HOME}/x"})]})
    with pytest.raises(UserError) as caught:
        compile_definition(graph)
    (diag,) = caught.value.diagnostics
    assert diag.rule == "SFN906" and "'start'" in diag.message


def test_overrides_just_under_the_limit_pass():
    graph = make_flow("EnvFlow", {"start": ("linear", ["big"]), "big": ("linear", ["end"]), "end": ("end",)},
                      decorators={"big": [deco("environment", vars={"BLOB": "x" * 7000})]})
    compile_definition(graph)


def test_state_name_too_long():
    long_name = "a" * 81
    graph = make_flow("NameFlow", {"start": ("linear", [long_name]), long_name: ("linear", ["end"]),
                                   "end": ("end",)})
    with pytest.raises(UserError) as caught:
        compile_definition(graph)
    assert any(d.rule == "SFN903" and long_name in d.message for d in caught.value.diagnostics)


def test_role_suffix_pushes_a_name_over_80():
    name = "f" * 76  # "<name>.read" is 81 characters
    graph = make_flow("NameFlow", {"start": ("foreach", [name], "join"), name: ("linear", ["join"]),
                                   "join": ("linear", ["end"]), "end": ("end",)})
    graph.steps["start"], graph.steps[name]  # noqa: B018 - both exist
    graph = make_flow("NameFlow", {"start": ("linear", [name]), name: ("foreach", ["body"], "join"),
                                   "body": ("linear", ["join"]), "join": ("linear", ["end"]), "end": ("end",)})
    with pytest.raises(UserError) as caught:
        compile_definition(graph)
    assert any(d.rule == "SFN903" and f"{name}.read" in d.message for d in caught.value.diagnostics)


def test_flow_name_as_state_machine_name():
    graph = linear_flow(1)
    graph.name = "F" * 81
    with pytest.raises(UserError) as caught:
        compile_definition(graph)
    assert any(d.rule == "SFN903" and "state machine name" in d.message for d in caught.value.diagnostics)


def test_inline_map_history_warning():
    body = [f"b{i}" for i in range(6)]
    spec = {"start": ("foreach", [body[0]], "join")}
    for i, step in enumerate(body):
        spec[step] = ("linear", [body[i + 1] if i + 1 < len(body) else "join"])
    spec["join"] = ("linear", ["end"])
    spec["end"] = ("end",)
    graph = make_flow("WideFlow", spec)
    _, diags = diagnose(graph, CompileOptions(foreach_mode="inline"))
    (warning,) = [d for d in diags if d.rule == "SFN904"]
    assert warning.severity == WARNING and "'start'" in warning.message and "25,000" in warning.message
    # auto mode takes care of it: the inline limit shrinks instead
    definition, diags = diagnose(graph, CompileOptions(foreach_mode="auto"))
    assert not [d for d in diags if d.rule == "SFN904"]
    env = {e["Name"]: e.get("Value") for e in definition["States"]["start"]["Parameters"]
           ["ContainerOverrides"]["Environment"]}
    limit = int(env["SFNCOMPILE_FOREACH"].split(":")[1])
    assert limit == 20_000 // (2 + 6 * 6)


def test_foreach_in_a_switch_loop_warns():
    graph = make_flow("LoopFlow", {
        "start": ("linear", ["fan"]), "fan": ("foreach", ["work"], "gather"), "work": ("linear", ["gather"]),
        "gather": ("switch", {"again": "fan", "done": "end"}), "end": ("end",)})
    definition, diags = diagnose(graph)
    assert [d.rule for d in diags] == ["SFN905"]
    assert definition["States"]["gather.choice"]["Choices"][0]["Next"] == "fan"


def test_parameters_too_large_for_the_start_task_or_the_widest_split_are_refused():
    from sfncompile.backends.asl.limits import check_execution_parameters

    from .shapes import SHAPES

    graph = SHAPES["split"]()
    check_execution_parameters(graph, {"x": "a" * 1000})  # fits both limits
    with pytest.raises(UserError, match="container overrides"):
        check_execution_parameters(graph, {"x": "a" * 8000})
    wide = SHAPES["split"]()
    start = wide.steps["start"]
    start.out_funcs = start.out_funcs * 20  # 40 branches
    with pytest.raises(UserError, match="branches of the widest split"):
        check_execution_parameters(wide, {"x": "a" * 6000})
