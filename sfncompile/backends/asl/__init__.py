"""Amazon States Language back end: the flow graph as a Step Functions state machine.

``compile_definition(graph, options)`` is a pure function of the IR and the
compile options: no network, no credentials, no settings. Account-specific
values stay ``${Name}`` placeholders (CloudFormation DefinitionSubstitutions):
``JobQueue`` (``JobQueueGpu``), ``JobDefinition<Key>`` (see
``sfncompile.backends.jobdefs``), ``SideChannelTable`` and ``MapResultBucket``.
The contract with the runtime is docs/state-machine.md.
"""

from __future__ import annotations

from typing import Any, Mapping

from ...diagnostics import UserError
from ...ir import FlowGraph
from .builder import Builder
from .limits import check_limits, errors
from .options import FOREACH_MODES, CompileOptions
from .render import render, substitute, substitutions_needed

__all__ = ["compile_definition", "render", "substitutions_needed", "substitute", "check_limits",
           "CompileOptions", "FOREACH_MODES", "diagnose"]


def compile_definition(graph: FlowGraph, options: CompileOptions | Mapping[str, Any] | None = None) -> dict:
    """The ASL definition (a dict). Raises ``UserError`` when a platform limit is broken."""
    definition = Builder(graph, CompileOptions.coerce(options)).build()
    broken = errors(check_limits(graph, definition))
    if broken:
        raise UserError(broken[0].message if len(broken) == 1 else
                        f"{len(broken)} platform limits are exceeded", diagnostics=broken)
    return definition


def diagnose(graph: FlowGraph, options: CompileOptions | Mapping[str, Any] | None = None):
    """(definition, diagnostics) without raising on limit errors; for reports."""
    definition = Builder(graph, CompileOptions.coerce(options)).build()
    return definition, check_limits(graph, definition)
