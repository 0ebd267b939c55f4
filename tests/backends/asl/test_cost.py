"""The counting model on hand-computed cases (docs/state-machine.md §8)."""

from __future__ import annotations

import pytest

from sfncompile.backends.asl import CompileOptions, compile_definition
from sfncompile.backends.asl.cost import estimate

from .shapes import SHAPES

TASK, READ, CHOICE, EXEC = 6, 5, 2, 2


def test_linear():
    report = estimate(compile_definition(SHAPES["linear"]()))
    assert (report.transitions, report.parent_events, report.child_executions) == (4, 4 * TASK + EXEC, 0)
    assert report.dollars == pytest.approx(4 * 0.025 / 1000)


def test_split():
    report = estimate(compile_definition(SHAPES["split"]()))
    # start, Parallel, a, b, join, end
    assert report.transitions == 6
    assert report.parent_events == 5 * TASK + 4 + EXEC


AUTO = CompileOptions(foreach_mode="auto")


def test_foreach_default_distributed():
    report = estimate(compile_definition(SHAPES["foreach"]()), widths={"start": 3})
    # start, read, dmap, 3 x body (children), join, end: Metaflow's count for the same flow
    assert report.transitions == 8
    assert report.child_executions == 3 and report.child_events_max == EXEC + TASK
    assert report.parent_events == TASK + READ + 6 + 2 * TASK + EXEC


def test_foreach_inline_width():
    report = estimate(compile_definition(SHAPES["foreach"](), AUTO), widths={"start": 3})
    # start, read, choice, map, 3 x body, join, end
    assert report.transitions == 9
    assert report.parent_events == TASK + READ + CHOICE + (4 + 3 * (2 + TASK)) + 2 * TASK + EXEC
    assert report.assumed_widths == {}


def test_foreach_auto_goes_distributed_above_the_limit():
    report = estimate(compile_definition(SHAPES["foreach"](), AUTO), widths={"start": 100_000})
    assert report.transitions == 4 + 100_000 + 2
    assert report.parent_events == TASK + READ + CHOICE + 6 + 2 * TASK + EXEC
    assert report.child_executions == 100_000
    assert report.child_events_max == EXEC + TASK
    assert report.child_transitions == 100_000
    assert report.warnings == []


def test_forced_inline_over_the_history_limit_is_flagged():
    report = estimate(compile_definition(SHAPES["foreach"](), CompileOptions(foreach_mode="inline")),
                      widths={"start": 5000})
    assert report.parent_events > 25_000
    assert any("history events" in w for w in report.warnings)
    # no Choice in inline mode: one transition fewer than auto
    assert report.transitions == 3 + 5000 + 2


def test_nested_distributed_children():
    definition = compile_definition(SHAPES["nested_foreach"](), CompileOptions(foreach_mode="distributed"))
    report = estimate(definition, widths={"start": 3, "outer": 4})
    # parent: start, read, dmap, outer_join, end; per outer child: outer, read, dmap, inner_join;
    # per inner grandchild: inner
    assert report.transitions == 5 + 3 * (4 + 4 * 1)
    assert report.child_executions == 3 + 3 * 4
    assert report.child_events_max == EXEC + TASK + READ + 6 + TASK
    assert report.parent_events == TASK + READ + 6 + 2 * TASK + EXEC


def test_switch_takes_the_costliest_case_or_the_named_one():
    definition = compile_definition(SHAPES["foreach_switch_exit"](), AUTO)
    worst = estimate(definition, widths={"start": 2})
    skip = estimate(definition, widths={"start": 2}, branches={"decide": "skip"})
    # per item: decide, read, choice + (work | exit)
    assert worst.transitions == 4 + 2 * 4 + 2
    assert skip.transitions == worst.transitions
    assert worst.parent_events - skip.parent_events == 2 * (TASK - CHOICE)


def test_loop_is_counted_once():
    report = estimate(compile_definition(SHAPES["switch_loop"]()))
    assert report.transitions == 6  # start, train, check, read, choice, end


def test_loop_rounds():
    definition = compile_definition(SHAPES["switch_loop"]())
    once = estimate(definition)
    six = estimate(definition, rounds={"check": 6})
    # each extra round: train, check, check.read, check.choice
    assert six.transitions == once.transitions + 5 * 4
    assert six.parent_events == once.parent_events + 5 * (TASK + TASK + READ + CHOICE)


def test_default_width_is_reported():
    report = estimate(compile_definition(SHAPES["foreach"]()))
    assert report.assumed_widths == {"start": 10}


def test_exit_hook_wrapper_adds_the_parallel_and_the_success_hook():
    plain = estimate(compile_definition(SHAPES["foreach"]()), widths={"start": 3})
    hooked = estimate(compile_definition(SHAPES["exit_hook"]()), widths={"start": 3})
    # exit_hook.run (Parallel: 4 events) and exit_hook.success (a Batch Task) on a successful run
    assert hooked.transitions == plain.transitions + 2
    assert hooked.parent_events == plain.parent_events + 4 + TASK
    assert hooked.child_executions == plain.child_executions
