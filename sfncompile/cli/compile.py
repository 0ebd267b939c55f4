"""``sfncompile compile`` (the ASL) and ``sfncompile cost`` (what a run costs).

``compile`` prints the definition with ``${Name}`` placeholders (what the CDK
stack embeds with DefinitionSubstitutions). With ``--substitute NAME=VALUE``
it fills them for a standalone definition: values come from the flags, then
configuration (``job_queue`` → ``JobQueue``, ``side_channel_table`` →
``SideChannelTable``), and every placeholder must get one. No network, no
credentials.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .configopts import config_options

from ..diagnostics import ERROR, UserError
from ..ir import FOREACH, SWITCH

# configuration key -> placeholder it can fill in a standalone definition
CONFIG_PLACEHOLDERS = {"job_queue": "JobQueue", "side_channel_table": "SideChannelTable"}


def _pairs(values: tuple[str, ...], flag: str, what: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"{flag} expects {what}, got {item!r}")
        result[name.strip()] = value
    return result


def _widths(values: tuple[str, ...], flag: str = "--width") -> dict[str, int]:
    widths = {}
    for name, value in _pairs(values, flag, "STEP=N").items():
        try:
            widths[name] = int(value)
        except ValueError:
            raise UserError(f"{flag} {name}={value}: N must be a whole number") from None
        if widths[name] < 0:
            raise UserError(f"{flag} {name}={value}: N must be >= 0")
    return widths


def _options(foreach_mode: tuple[str, ...], max_workers: int | None):
    from ..backends.asl import CompileOptions

    default = "distributed"
    per_step: dict[str, str] = {}
    for item in foreach_mode:
        if "=" in item:
            per_step.update(_pairs((item,), "--foreach-mode", "MODE or STEP=MODE"))
        else:
            default = item
    return CompileOptions(max_workers=max_workers, foreach_mode=default, foreach_modes=per_step)


def _check_steps(graph, names, flag: str, kind: str | None = None) -> None:
    """Every name must be a step of ``graph`` (of ``kind``, when given: a width
    belongs to the foreach step that fans out, not to the body)."""
    candidates = [n for n, s in graph.steps.items() if kind is None or s.kind == kind]
    unknown = sorted(set(names) - set(candidates))
    if unknown:
        what = f"{kind} step" if kind else "step"
        raise UserError(f"{flag}: no {what} named {', '.join(unknown)} in {graph.name} "
                        f"({what}s: {', '.join(candidates) or 'none'})")


def _load(flow_file: str, flow_name: str | None, foreach_mode, max_workers, with_decorators=()):
    from ..backends.asl import diagnose
    from ..decospecs import parse_with_options
    from ..pipeline import load_graph

    options = _options(foreach_mode, max_workers)
    graph = load_graph(flow_file, flow_name, parse_with_options(with_decorators))
    _check_steps(graph, options.foreach_modes, "--foreach-mode", FOREACH)
    definition, diagnostics = diagnose(graph, options)
    return graph, definition, diagnostics


_COMMON = [
    click.argument("flow_file", metavar="FLOW"),
    click.option("--flow", "flow_name", default=None, metavar="NAME",
                 help="The flow class, when the file defines several."),
    click.option("--foreach-mode", multiple=True, metavar="MODE|STEP=MODE",
                 help="distributed (default: Distributed Map, any width), auto (inline Map when the width "
                      "fits, Distributed Map above) or inline; for every foreach or one step. Repeatable."),
    click.option("--max-workers", type=click.IntRange(min=1), default=None,
                 help="MaxConcurrency of every Map state."),
]


def _common(func):
    func = config_options(func)
    for decorator in reversed(_COMMON):
        func = decorator(func)
    return func


@click.command("compile")
@_common
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the definition here instead of standard output.")
@click.option("--substitute", multiple=True, metavar="NAME=VALUE",
              help="Fill the ${NAME} placeholder (repeatable); makes a standalone definition, so every "
                   "placeholder needs a value (from this flag or configuration).")
@click.option("--minify", is_flag=True, help="No whitespace (the bytes counted against the 1 MB limit).")
@click.option("--explain", is_flag=True,
              help="Print a report of states, job definitions, retries, fan-out and schedules instead.")
@click.option("--width", multiple=True, metavar="STEP=N", help="Foreach widths for the --explain cost line.")
@click.option("--with", "with_decorators", multiple=True, metavar="DECORATOR[:k=v,...]",
              help="Attach a step decorator to every step that lacks it, e.g. --with retry (repeatable).")
def compile_cmd(flow_file, flow_name, foreach_mode, max_workers, output, substitute, minify, explain, width,
                with_decorators):
    """Compile FLOW to an Amazon States Language definition (deterministic)."""
    from ..backends.asl import render, substitute as fill, substitutions_needed

    graph, definition, diagnostics = _load(flow_file, flow_name, foreach_mode, max_workers, with_decorators)
    errors = [d for d in diagnostics if d.severity == ERROR]
    if explain:
        from ..backends.asl.explain import explain as report

        widths = _widths(width)
        _check_steps(graph, widths, "--width", FOREACH)
        click.echo(report(graph, definition, diagnostics, widths), nl=False)
    else:
        for diag in diagnostics:
            click.echo(diag.format(), err=True)
    if errors:
        raise UserError(f"{graph.name} does not fit Step Functions' limits ({len(errors)} error"
                        f"{'s' if len(errors) > 1 else ''} above)")
    if substitute:
        values = _pairs(substitute, "--substitute", "NAME=VALUE")
        unknown = sorted(set(values) - substitutions_needed(definition))
        if unknown:
            raise UserError(f"--substitute: the definition has no placeholder {', '.join(unknown)} "
                            f"(it has: {', '.join(sorted(substitutions_needed(definition)))})")
        from ..config import Config

        config = Config.load(Path(flow_file).parent)
        for key, name in CONFIG_PLACEHOLDERS.items():
            if name not in values and config.get(key):
                values[name] = str(config.get(key))
        definition = fill(definition, values)
    text = render(definition, pretty=not minify)
    if output:
        Path(output).write_text(text if text.endswith("\n") else text + "\n")
    elif not explain:
        click.echo(text, nl=not text.endswith("\n"))


@click.command("cost")
@_common
@click.option("--width", multiple=True, metavar="STEP=N",
              help="Items of a foreach step (repeatable); unset widths default to 10.")
@click.option("--branch", multiple=True, metavar="STEP=VALUE",
              help="The case a switch step takes (default: its most expensive case).")
@click.option("--rounds", multiple=True, metavar="STEP=N",
              help="How many times a switch step in a loop runs (default 1: the loop is not taken).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def cost(flow_file, flow_name, foreach_mode, max_workers, width, branch, rounds, fmt):
    """Transitions, history events and dollars for one run of FLOW (exit 1 over a limit)."""
    from ..backends.asl.cost import HISTORY_LIMIT, PRICE_PER_TRANSITION, estimate

    graph, definition, diagnostics = _load(flow_file, flow_name, foreach_mode, max_workers)
    widths = _widths(width)
    branches = _pairs(branch, "--branch", "STEP=VALUE")
    loop_rounds = {k: max(1, v) for k, v in _widths(rounds, "--rounds").items()}
    _check_steps(graph, widths, "--width", FOREACH)
    _check_steps(graph, branches, "--branch", SWITCH)
    _check_steps(graph, loop_rounds, "--rounds", SWITCH)
    report = estimate(definition, widths=widths, branches=branches, rounds=loop_rounds)
    over = [d.format() for d in diagnostics if d.severity == ERROR] + report.warnings
    if fmt == "json":
        data = report.to_dict()
        data["flow"] = graph.name
        data["over_limits"] = over
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        flag = lambda bad: "  OVER LIMIT" if bad else ""  # noqa: E731
        click.echo(f"{graph.name}")
        click.echo(f"  states                      {report.states:>12,}")
        click.echo(f"  definition bytes (minified) {report.definition_bytes:>12,}  (limit 1,048,576)"
                   + flag(report.definition_bytes > 1_048_576))
        click.echo(f"  billable transitions / run  {report.transitions:>12,}")
        click.echo(f"  cost / run (USD)            {report.dollars:>12.6f}  (${PRICE_PER_TRANSITION * 1000:.3f} "
                   "per 1,000 transitions)")
        click.echo(f"  history events, parent      {report.parent_events:>12,}  (limit {HISTORY_LIMIT:,})"
                   + flag(report.parent_events > HISTORY_LIMIT))
        click.echo(f"  child executions            {report.child_executions:>12,}")
        click.echo(f"  history events, largest child {report.child_events_max:>10,}  (limit {HISTORY_LIMIT:,})"
                   + flag(report.child_events_max > HISTORY_LIMIT))
        if report.widths:
            click.echo("  widths: " + ", ".join(f"{k}={v}" for k, v in report.widths.items())
                       + (f"  (defaulted: {', '.join(report.assumed_widths)}; set with --width STEP=N)"
                          if report.assumed_widths else ""))
        loops = sorted(s.name for s in graph if s.in_loop and s.transition and s.transition.switch_cases)
        unset = [s for s in loops if s not in loop_rounds]
        if unset:
            click.echo(f"  loops counted once: {', '.join(unset)} (set with --rounds STEP=N)")
        for line in over:
            click.echo(f"  ! {line}")
    sys.exit(1 if over else 0)
