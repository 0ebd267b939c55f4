"""`check` refuses applying a FlowMutator/StepMutator at the decorator (SFN016): Metaflow runs
them to change the flow when it loads it; we compile from the source (issue 9)."""

from __future__ import annotations

from .helpers import col_of, line_of, parse, parse_ok

FLOW = """
from metaflow import FlowSpec, FlowMutator, StepMutator, Parameter, step, user_step_decorator
import metaflow

class AddParam(FlowMutator):
    def pre_mutate(self, mutable_flow):
        mutable_flow.add_parameter("extra", Parameter("extra", default=7))

class Base(StepMutator):
    pass

class AddRetry(Base):
    def mutate(self, mutable_step):
        mutable_step.add_decorator("retry", deco_kwargs={"times": 2})

@user_step_decorator
def timed(step_name, flow, inputs=None):
    yield

@AddParam
class F(FlowSpec):
    @timed
    @AddRetry(times=2)
    @step
    def start(self):
        self.next(self.end)

    @metaflow.StepMutator
    @step
    def end(self):
        pass
"""


def test_mutators_are_refused_at_their_decorator():
    graph, diagnostics = parse(FLOW)
    found = sorted((d.rule, d.span.line, d.span.col) for d in diagnostics)
    assert found == [
        ("SFN016", line_of(FLOW, "@AddParam"), col_of(FLOW, "AddParam", "@AddParam")),
        ("SFN016", line_of(FLOW, "@AddRetry"), col_of(FLOW, "AddRetry", "@AddRetry")),
        ("SFN016", line_of(FLOW, "@metaflow.StepMutator"), col_of(FLOW, "metaflow", "@metaflow.StepMutator")),
    ], [d.format() for d in diagnostics]
    messages = {d.span.line: d.message for d in diagnostics}
    assert "the flow applies @AddParam, a FlowMutator" in messages[line_of(FLOW, "@AddParam")]
    assert "step 'start' applies @AddRetry, a StepMutator" in messages[line_of(FLOW, "@AddRetry")]
    assert "write the parameters and decorators it adds in the flow itself" in messages[line_of(FLOW, "@AddRetry")]


def test_user_step_decorators_are_not_mutators():
    parse_ok(FLOW.replace("@AddParam\n", "").replace("    @AddRetry(times=2)\n", "")
             .replace("    @metaflow.StepMutator\n", ""))


def test_a_mutator_from_a_module_beside_the_flow(tmp_path):
    (tmp_path / "mymutators.py").write_text(
        "from metaflow.user_decorators.mutable_flow import FlowMutator\n"
        "class Outer(FlowMutator):\n    pass\n"
        "class Inner(Outer):\n    pass\n"
        "def plain(cls):\n    return cls\n")
    source = """from metaflow import FlowSpec, step
from mymutators import Inner, plain

@plain
@Inner
class G(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""
    from sfncompile.frontend import parse_source

    graph, diagnostics = parse_source(source, str(tmp_path / "flow.py"))
    assert [(d.rule, d.span.line) for d in diagnostics] == [("SFN016", 5)], [d.format() for d in diagnostics]
