"""The authoring API in-process: decorators, parameters, merge rules, shims."""

from __future__ import annotations

import sys

import pytest

from sfncompile_runtime import api
from sfncompile_runtime.decorators import InvalidDecoratorError
from sfncompile_runtime.exceptions import (MetaflowException, MissingInMergeArtifactsException,
                                          UnhandledInMergeArtifactsException)
from sfncompile_runtime.flowspec import FlowSpec, Inputs, TaskView
from sfncompile_runtime.parameters import JSONType, Parameter, ParameterError


def test_decorators_record_and_validate():
    @api.retry(times=2)
    @api.catch(var="err")
    @api.step
    def train(self):
        pass

    assert train.is_step and ("retry", {"times": 2}) in train.decorators and ("catch", {"var": "err"}) in train.decorators

    @api.step(start=True)
    def begin(self):
        pass

    assert begin._sfn_annotation == {"start": True, "end": False}
    with pytest.raises(InvalidDecoratorError, match="times"):
        api.retry(times=9)(lambda self: None)
    with pytest.raises(InvalidDecoratorError, match="has no argument 'cpus'"):
        api.resources(cpus=2)(lambda self: None)
    with pytest.raises(InvalidDecoratorError, match="not allowed on a step"):
        api.schedule(daily=True)(lambda self: None)

    @api.schedule(cron="0 3 * * ? *")
    @api.project(name="demo")
    class Demo(FlowSpec):
        pass

    assert ("schedule", {"cron": "0 3 * * ? *"}) in Demo._flow_decorators


def test_parameter_types():
    assert Parameter("a", default=1).convert("3") == 3
    assert Parameter("a", default=1.5).convert("3") == 3.0
    assert Parameter("a", default=False).convert("yes") is True
    assert Parameter("a").convert(5) == "5"
    assert Parameter("a", type=JSONType).convert('{"x": [1]}') == {"x": [1]}
    assert Parameter("a", type=int, separator=",").convert("1, 2,3") == [1, 2, 3]
    with pytest.raises(ParameterError, match="cannot convert 'x' to int"):
        Parameter("a", default=1).convert("x")
    with pytest.raises(ParameterError):
        Parameter("a", default=1).convert(2.5)
    dynamic = Parameter("a", default=lambda ctx: f"{ctx.flow_name}-{ctx.parameter_name}")
    from sfncompile_runtime.parameters import ParameterContext

    assert dynamic.resolve_default(ParameterContext("F", "u", "a", print, "local", {})) == "F-a"


class _Flow(FlowSpec):
    pass


def _input(step, refs):
    view = TaskView(step, {k: {"sha": v} for k, v in refs.items()}, loader=lambda ref, *_: ref["sha"])
    flow = _Flow.__new__(_Flow)
    flow.__dict__["_sfn_task"] = view
    return flow


def _join(inputs):
    view = TaskView("join", {}, loader=lambda ref, *_: ref["sha"], is_join=True, inputs=Inputs(inputs, ["a", "b"]))
    flow = _Flow.__new__(_Flow)
    flow.__dict__["_sfn_task"] = view
    return flow, view


def test_merge_artifacts_rules():
    a = _input("a", {"same": "s1", "only_a": "x", "conflict": "c1", "_internal": "i1"})
    b = _input("b", {"same": "s1", "conflict": "c2", "_internal": "i2"})
    flow, view = _join([a, b])
    with pytest.raises(UnhandledInMergeArtifactsException) as err:
        flow.merge_artifacts([a, b])
    assert err.value.artifact_names == ["conflict"]
    flow.conflict = "resolved"
    flow.merge_artifacts([a, b])
    assert view.refs == {"same": {"sha": "s1"}, "only_a": {"sha": "x"}}
    assert flow.same == "s1" and flow.conflict == "resolved"
    flow, view = _join([a, b])
    flow.merge_artifacts([a, b], exclude=["conflict"])
    assert set(view.refs) == {"same", "only_a"}
    flow, view = _join([a, b])
    flow.merge_artifacts([a, b], include=["only_a"])
    assert set(view.refs) == {"only_a"}
    flow, view = _join([a, b])
    with pytest.raises(MissingInMergeArtifactsException, match="are not present"):
        flow.merge_artifacts([a, b], include=["missing"])
    with pytest.raises(MetaflowException, match="mutually exclusive"):
        flow.merge_artifacts([a, b], include=["same"], exclude=["x"])
    inputs = Inputs([a, b], ["a", "b"])
    assert inputs.a is a and inputs["b"] is b and list(inputs) == [a, b] and len(inputs) == 2
    with pytest.raises(MetaflowException, match="only be called in a join"):
        a.merge_artifacts([a, b])


def test_merge_errors_are_the_classes_metaflow_users_import():
    """``except MissingInMergeArtifactsException`` catches what merge_artifacts raises, whichever
    module the flow imported the class from (Metaflow's core suite imports metaflow.exception)."""
    import importlib

    from sfncompile_runtime.shims import SUBMODULES

    metaflow_exception = importlib.import_module(SUBMODULES["metaflow.exception"])
    a = _input("a", {"conflict": "c1"})
    b = _input("b", {"conflict": "c2"})
    flow, _ = _join([a, b])
    with pytest.raises(metaflow_exception.UnhandledInMergeArtifactsException):
        flow.merge_artifacts([a, b])
    with pytest.raises(metaflow_exception.MissingInMergeArtifactsException) as err:
        flow.merge_artifacts([a, b], include=["absent"])
    assert err.value.artifact_names == ["absent"]
    assert isinstance(err.value, metaflow_exception.MetaflowException)


def test_outside_a_task():
    flow = _Flow(use_cli=False)
    with pytest.raises(AttributeError, match="only defined inside a foreach"):
        flow.input
    assert flow.index is None and flow.foreach_stack() == []
    with pytest.raises(AttributeError, match="inside a running step"):
        flow.anything


def test_shims_make_metaflow_resolve_to_the_runtime(monkeypatch):
    from sfncompile_runtime import context

    monkeypatch.delitem(sys.modules, "metaflow", raising=False)
    monkeypatch.setitem(sys.modules, "sfncompile", sys.modules.get("sfncompile"))
    context.install_shims()
    try:
        import metaflow

        assert metaflow.FlowSpec is FlowSpec and metaflow.current is api.current
    finally:
        from sfncompile_runtime import decorators

        decorators.VALIDATE = True
        if sys.modules.get("metaflow") is api:
            del sys.modules["metaflow"]


def test_runtime_imports_fast():
    """The in-task imports stay small: no boto3, no compiler, no decorator table."""
    import subprocess
    from pathlib import Path

    runtime = str(Path(__file__).resolve().parents[2] / "runtime")
    code = ("import sys; sys.path.insert(0, %r)\n"
            "import sfncompile_runtime.main, sfncompile_runtime.context, sfncompile_runtime.logcapture\n"
            "from sfncompile_runtime import api\n"
            "bad = [m for m in ('boto3', 'botocore', 'sfncompile.frontend', 'libcst', 'subprocess', 'tarfile',"
            " 'sfncompile_runtime.decorator_specs') if m in sys.modules]\n"
            "print(','.join(bad))" % runtime)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_sfncompile_exports_the_runtime_api():
    """``from sfncompile import X`` works for every name a flow can import inside a task."""
    import subprocess

    code = ("import sys, sfncompile\n"
            "light = 'sfncompile_runtime.api' not in sys.modules\n"
            "from sfncompile import *\n"
            "from sfncompile import MetaflowNotFound, FlowSpec\n"
            "from sfncompile_runtime import api\n"
            "print(light, sorted(sfncompile.__all__) == sorted(api.__all__), FlowSpec is api.FlowSpec,\n"
            "      MetaflowNotFound is api.MetaflowNotFound, 'Run' in dir(sfncompile))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True"] * 5
