"""Platform limits checked at compile time, each naming the step at fault.

Rule ids (shown as ``error[SFN9xx]``):

* SFN901 definition larger than 1 MB (minified, as deployed);
* SFN902 a Task's Batch container overrides can exceed 8,192 characters;
* SFN903 a state or state machine name breaks the 80-character / character rules;
* SFN904 an inline Map can exceed 25,000 history events (warning);
* SFN905 a foreach inside a switch loop multiplies history events (warning);
* SFN906 an ``@environment`` value holds ``${``, which CloudFormation's
  DefinitionSubstitutions would take for a placeholder.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from sfncompile_runtime import envnames

from ...diagnostics import ERROR, WARNING, Diagnostic, UserError
from ...ir import SPLIT, FlowGraph
from .cost import DEFINITION_LIMIT, HISTORY_LIMIT, iter_states, step_of
from .render import render
from .states import BATCH_SUBMIT_SYNC

OVERRIDES_LIMIT = 8192
NAME_LIMIT = 80
# Characters Step Functions refuses in state and state machine names.
BAD_NAME_CHARS = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
# Longest values the dynamic environment can take at run time.
RUN_ID_MAX = 80  # an execution name
INDEX_PART_MAX = 6  # digits of one foreach index (up to 999,999) plus the dot
RETRY_COUNT_MAX = 2


def _span(graph: FlowGraph, step: str):
    node = graph.steps.get(step)
    return node.span if node else graph.span


def override_chars(state: Mapping[str, Any], depth: int, parameters_chars: int) -> int:
    """Worst-case size of the ContainerOverrides Batch receives for this Task."""
    env = []
    for entry in state["Parameters"]["ContainerOverrides"]["Environment"]:
        if "Value" in entry:
            value = entry["Value"]
        else:
            value = {envnames.RUN_ID: "r" * RUN_ID_MAX,
                     envnames.INDEX_PATH: "9" * (INDEX_PART_MAX * max(depth, 1)),
                     envnames.RETRY_COUNT: "9" * RETRY_COUNT_MAX,
                     envnames.PARAMETERS: "p" * parameters_chars,
                     envnames.CAUGHT_ERROR: "e" * 256}.get(entry["Name"], "v" * 256)
        env.append({"name": entry["Name"], "value": value})
    return len(json.dumps({"environment": env}, separators=(",", ":")))


def parameters_chars(graph: FlowGraph) -> int:
    defaults = {p.name: p.default for p in graph.parameters}
    return len(json.dumps(defaults, separators=(",", ":")))


# A Parallel branch hands back the execution's parameters when it is not inside a
# foreach (builder.END_OUTPUT_TOP_LEVEL); the branches' results together must fit
# the 256 KB state payload, with room for the rest of the state's data.
PARALLEL_RESULTS_BUDGET = 200_000
START_ENV_HEADROOM = 1024  # the start task's other container-override variables


def check_execution_parameters(graph: FlowGraph, parameters: Mapping[str, Any]) -> None:
    """Refuse, before a run starts, parameters the state machine could not carry."""
    for name, value in parameters.items():
        _check_utf8(name, value)
    size = len(json.dumps(dict(parameters), separators=(",", ":")))
    if size > OVERRIDES_LIMIT - START_ENV_HEADROOM:
        raise UserError(f"the parameters take {size:,} characters as JSON; the start step receives them "
                        f"through Batch container overrides, limited to {OVERRIDES_LIMIT:,} characters "
                        f"(keep them under {OVERRIDES_LIMIT - START_ENV_HEADROOM:,}); pass large inputs "
                        "as a path or an IncludeFile instead")
    widest = max((len(s.out_funcs) for s in graph.steps.values()
                  if s.kind == SPLIT and not s.foreach_stack), default=0)
    if widest and widest * size > PARALLEL_RESULTS_BUDGET:
        raise UserError(f"the parameters ({size:,} characters) times the {widest} branches of the widest "
                        f"split exceed the {PARALLEL_RESULTS_BUDGET:,} characters a Parallel state's "
                        "results may take; make the parameters smaller")


def _check_utf8(name: str, value: Any) -> None:
    """Parameters travel as JSON text (execution input, run record, container overrides): a string
    holding bytes that are not UTF-8 (a shell's ``$'\\xff'``, a JSON ``"\\udcff"``) cannot."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = value[exc.start]
            shown = f"byte 0x{ord(bad) - 0xDC00:02x}" if 0xDC80 <= ord(bad) <= 0xDCFF else f"U+{ord(bad):04X}"
            raise UserError(f"parameter '{name}' is not valid UTF-8 text ({shown} at character {exc.start}); "
                            "parameters travel as JSON text: pass UTF-8, or encode binary data (e.g. base64)"
                            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_utf8(name, key)
            _check_utf8(name, item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_utf8(name, item)


def check_limits(graph: FlowGraph, definition: Mapping[str, Any], state_machine_name: str | None = None
                 ) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    size = len(render(definition, pretty=False).encode())
    if size > DEFINITION_LIMIT:
        found.append(Diagnostic("SFN901", f"the state machine definition is {size:,} bytes, over Step Functions' "
                                f"1 MB limit ({DEFINITION_LIMIT:,}); split the flow or use fewer steps", graph.span))
    params = parameters_chars(graph)
    sm_name = state_machine_name or graph.name
    if len(sm_name) > NAME_LIMIT or BAD_NAME_CHARS.search(sm_name):
        found.append(Diagnostic("SFN903", f"state machine name {sm_name!r} must be at most {NAME_LIMIT} characters "
                                "without spaces or any of <>{}[]?*\"#%\\^|~`$&,;:/", graph.span))
    for name, state in iter_states(definition):
        step = step_of(name)
        if len(name) > NAME_LIMIT or BAD_NAME_CHARS.search(name):
            found.append(Diagnostic("SFN903", f"step {step!r}: state name {name!r} is longer than {NAME_LIMIT} "
                                    "characters (or uses a character Step Functions refuses); rename the step",
                                    _span(graph, step)))
        if state.get("Resource") == BATCH_SUBMIT_SYNC:
            node = graph.steps.get(state["Parameters"]["Parameters"]["step"])
            depth = len(node.foreach_stack) if node else 0
            chars = override_chars(state, depth, params)
            if chars > OVERRIDES_LIMIT:
                found.append(Diagnostic(
                    "SFN902", f"step {step!r}: its Batch container overrides can reach {chars:,} characters, over "
                    f"the {OVERRIDES_LIMIT:,} AWS Batch allows; move large @environment values into the image "
                    "or an artifact" + (" (flow parameters travel here too: keep their values small)"
                                        if step == graph.start else ""), _span(graph, step)))
    for node in graph:
        deco = node.decorator("environment")
        for name, value in sorted(((deco.args.get("vars") or {}) if deco else {}).items()):
            if "${" in str(value):
                found.append(Diagnostic(
                    "SFN906", f"step {node.name!r}: @environment value of {name} contains '${{', which the "
                    "deployment would read as a placeholder of the state machine; build the value at run time "
                    "instead (e.g. os.path.expandvars in the step)", deco.span or node.span))
    found.extend(history_warnings(graph, definition))
    return found


def history_warnings(graph: FlowGraph, definition: Mapping[str, Any]) -> list[Diagnostic]:
    from . import cost

    found = []
    modes = cost.foreach_modes(definition)
    for step, mode in sorted(modes.items()):
        node = graph.steps.get(step)
        if mode.startswith("inline:"):
            # What does one item cost in this execution's history?
            limit = _inline_history_limit(definition, step)
            if limit is not None and limit < int(mode.split(":")[1]):
                found.append(Diagnostic(
                    "SFN904", f"step {step!r}: an inline Map over more than {limit:,} items can exceed the "
                    f"{HISTORY_LIMIT:,}-event execution history; use --foreach-mode {step}=auto "
                    "(or distributed) unless its width stays small", node.span if node else graph.span, WARNING))
        if node is not None and node.in_loop:
            found.append(Diagnostic(
                "SFN905", f"step {step!r}: this foreach is inside a switch loop, so each pass adds its Map's "
                "history events to the same execution; keep the loop short or the foreach distributed",
                node.span, WARNING))
    return found


def _inline_history_limit(definition: Mapping[str, Any], step: str) -> int | None:
    from . import cost

    for name, state in iter_states(definition):
        if state["Type"] == "Map" and step_of(name) == step and state["ItemProcessor"]["ProcessorConfig"]["Mode"] == "INLINE":
            ctx = cost.CostContext(foreach_modes=cost.foreach_modes(definition), default_width=1)
            per_item = cost.branch_tally(state["ItemProcessor"], ctx).events + cost.EVENTS_MAP_ITERATION
            from .builder import INLINE_EVENT_BUDGET  # the same budget auto mode uses

            return INLINE_EVENT_BUDGET // per_item
    return None


def errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == ERROR]
