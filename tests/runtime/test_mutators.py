"""User step decorators run by Metaflow's protocol; mutators are refused, never silently
ignored (issue 9). Expected values recorded from Metaflow 2.19.39 on the same flow file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.executor.conftest import LocalRuns

FLOWS = Path(__file__).parent / "flows"

# `python user_step_decorator_flow.py run` under Metaflow 2.19.39, then end's `summary`.
METAFLOW_SUMMARY = [("start", {"k": 1}), "start", 3, "start", "boom", "skip", False, ["yes", "yes"]]


def test_user_step_decorators_behave_as_in_metaflow(tmp_path):
    runs = LocalRuns(tmp_path / "store")
    run_id, _ = runs.run(FLOWS / "user_step_decorator_flow.py")
    assert runs.artifacts("UsdFlow", run_id, "end")["summary"] == METAFLOW_SUMMARY


def test_applying_a_mutator_raises_where_check_could_not_see_it():
    from sfncompile_runtime.exceptions import MetaflowException
    from sfncompile_runtime.mutators import FlowMutator, StepMutator

    class AddThings(FlowMutator):
        def pre_mutate(self, mutable_flow):
            pass

    class AddRetry(StepMutator):
        pass

    def start(self):
        pass

    start.is_step = True
    with pytest.raises(MetaflowException, match="AddThings.*FlowMutator.*cannot apply"):
        AddThings(type("F", (), {}))
    with pytest.raises(MetaflowException, match="AddThings"):
        AddThings(x=1)(type("F", (), {}))
    with pytest.raises(MetaflowException, match="AddRetry.*StepMutator"):
        AddRetry(start)
    assert isinstance(AddRetry(times=2), StepMutator)  # defining and instantiating one still works
