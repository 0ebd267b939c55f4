"""``@exit_hook``: the flow's machine wrapped so that hooks run after it ends.

Only a flow with ``@exit_hook`` gets this shape (docs/state-machine.md §7)::

    exit_hook.run      Parallel, one branch = the flow's own machine, ResultPath null
      ├─ ok  → exit_hook.success  Task (mode exit-hook, step success) → End
      └─ Catch States.ALL, ResultPath $.caught
               → exit_hook.error  Task (mode exit-hook, step error)
               → exit_hook.failed Fail, ErrorPath $.caught.Error / CausePath $.caught.Cause

so the run keeps the outcome (and the error) of the flow itself. A hook Task
catches its own failure (``ResultPath $.hook_error``, so ``$.caught`` survives)
and goes on: a failing hook is logged, never the run's outcome. The hook
Tasks are Batch jobs on the default job definition, like a step without
``@batch``/``@resources``; the runtime's ``exit-hook`` mode calls the hooks.
"""

from __future__ import annotations

from typing import Any

from sfncompile_runtime import envnames

from ...ir import FlowGraph
from .states import INFRA_RETRIER, TaskState, batch_job_name, emit_task_state

RUN = "exit_hook.run"
SUCCESS = "exit_hook.success"
ERROR = "exit_hook.error"
FAILED = "exit_hook.failed"
DONE = "exit_hook.done"
HOOK_MODE = "exit-hook"
HOOK_JOB_DEFINITION = "JobDefinitionDefault"  # jobdefs.job_definitions adds it for such flows
HOOK_ERROR_PATH = "$.hook_error"  # where a hook's own failure lands (kept apart from $.caught)


def has_exit_hook(graph: FlowGraph) -> bool:
    return graph.decorator("exit_hook") is not None


def _hook_task(graph: FlowGraph, kind: str, next_state: str | None, on_failure: str) -> dict[str, Any]:
    environment = [{"Name": envnames.RUN_ID, "Value.$": "$$.Execution.Name"},
                   {"Name": envnames.INDEX_PATH, "Value": ""},
                   {"Name": envnames.RETRY_COUNT, "Value.$": "States.Format('{}', $$.State.RetryCount)"}]
    if kind == "error":
        environment.append({"Name": envnames.CAUGHT_ERROR, "Value.$": "$.caught.Error"})
    state = emit_task_state(TaskState(
        step=kind, job_name=batch_job_name(graph.name, f"exit-hook-{kind}"), job_queue="${JobQueue}",
        job_definition=HOOK_JOB_DEFINITION, environment=environment, mode=HOOK_MODE,
        retriers=[INFRA_RETRIER], next_state=next_state))
    state["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": HOOK_ERROR_PATH, "Next": on_failure}]
    return state


def wrap(graph: FlowGraph, machine: dict[str, Any]) -> dict[str, Any]:
    """``{"StartAt", "States"}`` of the flow → the same inside the hook wrapper.

    A kind without hooks gets no Task (no Batch job that would call nothing):
    without ``on_success`` the Parallel ends the run, without ``on_error`` its
    Catch goes straight to the re-raising Fail.
    """
    args = graph.decorator("exit_hook").args
    on_success, on_error = bool(args.get("on_success")), bool(args.get("on_error"))
    run: dict[str, Any] = {"Type": "Parallel", "Branches": [machine], "ResultPath": None,
                           "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught",
                                      "Next": ERROR if on_error else FAILED}]}
    if on_success:
        run["Next"] = SUCCESS
    else:
        run["End"] = True
    states: dict[str, Any] = {RUN: run}
    if on_success:
        states[SUCCESS] = _hook_task(graph, "success", None, DONE)
        states[DONE] = {"Type": "Succeed"}
    if on_error:
        states[ERROR] = _hook_task(graph, "error", FAILED, FAILED)
    states[FAILED] = {"Type": "Fail", "ErrorPath": "$.caught.Error", "CausePath": "$.caught.Cause"}
    return {"StartAt": RUN, "States": states}
