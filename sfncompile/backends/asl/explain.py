"""``sfncompile compile --explain``: what the definition does, for a person.

Plain text built from the definition and the IR: the states each step
became, job definitions, retries and timeouts, how each foreach fans out,
flow-level schedule/trigger/project (carried for the infrastructure), the
placeholders still to fill, and the cost model at the given widths.
"""

from __future__ import annotations

from typing import Any, Mapping

from ...diagnostics import Diagnostic
from ...ir import FlowGraph
from ..jobdefs import job_definitions
from .cost import PRICE_PER_TRANSITION, estimate, foreach_modes, iter_states, step_of
from .render import substitutions_needed
from .states import BATCH_SUBMIT_SYNC

FLOW_DECORATORS = ("schedule", "trigger", "trigger_on_finish", "project")


def _args(args: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in args.items())


def explain(graph: FlowGraph, definition: Mapping[str, Any], diagnostics: list[Diagnostic] | None = None,
            widths: Mapping[str, int] | None = None) -> str:
    lines: list[str] = [f"Flow {graph.name} ({graph.file})", ""]
    states = list(iter_states(definition))
    lines.append(f"States ({len(states)}):")
    by_step: dict[str, list[str]] = {}
    for name, state in states:
        by_step.setdefault(step_of(name), []).append(f"{name} [{state['Type']}]")
    for step in graph.steps:
        lines.append(f"  {step}: " + ", ".join(by_step.get(step, [])))
    lines.append("")

    lines.append("Job definitions (placeholder → resources → steps):")
    for key, spec in job_definitions(graph).items():
        extra = f", gpu {spec.gpu}" if spec.gpu else ""
        extra += f", timeout {spec.timeout_seconds}s" if spec.timeout_seconds else ""
        extra += f", image {spec.image}" if graph_has_image(graph, spec.steps) else ""
        lines.append(f"  ${{{spec.placeholder}}}: cpu {spec.cpu:g}, memory {spec.memory} MiB{extra} → "
                     + ", ".join(spec.steps))
    queues = [(name, state["Parameters"]["JobQueue"]) for name, state in states
               if state.get("Resource") == BATCH_SUBMIT_SYNC and state["Parameters"]["JobQueue"] != "${JobQueue}"
               and "@" not in name]
    for name, queue in queues:
        lines.append(f"  {name} runs on job queue {queue}")
    lines.append("")

    lines.append("Retries, timeouts, catch:")
    any_policy = False
    for name, state in states:
        if state.get("Resource") != BATCH_SUBMIT_SYNC or "@" in name:
            continue
        parts = []
        for retrier in state.get("Retry", [])[1:]:
            parts.append(f"retry {retrier['MaxAttempts']}x every {retrier['IntervalSeconds']}s on "
                         + "/".join(retrier["ErrorEquals"]))
        timeout = state["Parameters"].get("Timeout")
        if timeout:
            parts.append(f"job timeout {timeout['AttemptDurationSeconds']}s, task backstop {state['TimeoutSeconds']}s")
        if state.get("Catch"):
            parts.append(f"on failure → {state['Catch'][0]['Next']} (fallback mode)")
        if parts:
            any_policy = True
            lines.append(f"  {name}: " + "; ".join(parts))
    if not any_policy:
        lines.append("  (none beyond the Batch infrastructure retries every task has)")
    lines.append("  every task: SubmitJob throttling/server errors retried 6x (5s, backoff 2); "
                 "host/Spot/image-pull failures retried by the Batch job definition")
    lines.append("")

    modes = foreach_modes(definition)
    if modes:
        lines.append("Foreach fan-out:")
        for step, mode in sorted(modes.items()):
            kind, _, limit = mode.partition(":")
            text = {"auto": f"inline Map up to {limit} items, Distributed Map above (Choice on the published items)",
                    "inline": f"inline Map only (the runtime refuses more than {limit} items)",
                    "distributed": "Distributed Map over the runtime's S3 manifest"}[kind]
            lines.append(f"  {step}: {text}")
        lines.append("")

    lines.append("Flow-level (for the infrastructure):")
    flow_decos = [d for d in graph.decorators if d.name in FLOW_DECORATORS]
    for deco in flow_decos:
        lines.append(f"  @{deco.name}({_args(deco.args)})")
    if not flow_decos:
        lines.append("  no @schedule, @trigger, @trigger_on_finish or @project")
    lines.append("")

    lines.append("Placeholders to fill (DefinitionSubstitutions or --substitute NAME=VALUE): "
                 + ", ".join(sorted(substitutions_needed(definition))))
    report = estimate(definition, widths=widths)
    lines.append("")
    lines.append(f"Cost per run (widths: {_args(report.widths) or 'no foreach'}"
                 + (", defaulted" if report.assumed_widths else "") + "):")
    lines.append(f"  {report.transitions:,} billable transitions = ${report.dollars:.6f} "
                 f"at ${PRICE_PER_TRANSITION * 1000:.3f}/1,000; {report.parent_events:,} history events; "
                 f"{report.child_executions:,} child executions; definition {report.definition_bytes:,} bytes")
    for diag in diagnostics or []:
        lines.append(diag.format())
    return "\n".join(lines) + "\n"


def graph_has_image(graph: FlowGraph, steps: list[str]) -> bool:
    for step in steps:
        deco = graph.steps[step].decorator("batch")
        if deco is not None and deco.args.get("image"):
            return True
    return False
