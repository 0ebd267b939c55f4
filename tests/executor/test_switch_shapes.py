"""A switch inside a static branch or a foreach (cases meeting at the join), and the other
switch shapes of Metaflow's core suite graphs: each runs and gives Metaflow's results
(values recorded with Metaflow 2.19 on the same flows)."""

from __future__ import annotations

import pytest

from tests.executor.conftest import FLOWS

SHAPES = FLOWS / "switch_shapes"

# flow file -> [(params, end's xs)]
CASES = {
    "switch_in_branch": ("SwitchInBranch", [((), ["b", "c"])]),
    "switch_in_foreach": ("SwitchInForeach", [((), ["ha0", "hb1", "ha2"])]),
    "branch_in_switch": ("BranchInSwitch", [((), ["p1", "p2"]), (("mode=skip",), ["skipped"])]),
    "foreach_in_switch": ("ForeachInSwitch", [((), ["I1", "I2"]), (("mode=skip",), ["skipped"])]),
    "switch_nested": ("SwitchNested", [((), ["d"]), (("second=case2_1",), ["c"]), (("first=case2",), ["b"])]),
    "recursive_switch_inside_foreach": ("RecursiveSwitchInsideForeach", [((), ["2:2", "3:3"])]),
}


@pytest.mark.parametrize("shape", sorted(CASES))
def test_switch_shape_runs_like_metaflow(local_runs, shape):
    flow, cases = CASES[shape]
    for params, expected in cases:
        run_id, _ = local_runs.run(SHAPES / f"{shape}.py", *params)
        assert local_runs.artifacts(flow, run_id)["xs"] == expected, (shape, params)

