"""Read a flow's source into the IR's *facts*, without importing it: the passes, in order.

1. ``source``: decode the bytes, then ``compile()`` for Python's own syntax
   errors (exact messages and positions);
2. libcst parse with positions (``pieces``), the imports' checks (``imports``);
3. ``module_scope``: the module's imports, bindings and constant assignments;
4. ``flow_class``: pick the flow class and its lineage;
5. ``configs``: every ``Config(...)`` of the lineage, before anything uses a config's value;
6. the flow class's decorators (``steps.read_decorator``);
7. the class bodies (``flow_class.read_members``): steps with their decorators and
   transitions (``steps``, ``transitions``), parameters (``parameters``), other attributes;
8. ``mutators``: mutators the flow applies, refused.

The passes share one ``state.ReadState`` (the file, the positions, the diagnostics,
the scopes); a name's static value is looked up by ``names``. The structure
(kinds, joins, foreach stacks) is derived afterwards by ``graph_passes``.
Every problem becomes a ``Diagnostic`` (rule ids in ``frontend.rules``);
nothing here raises on bad input.
"""

from __future__ import annotations

import libcst as cst

from ..diagnostics import Diagnostic
from ..ir import FlowGraph, Span
from . import rules
from .configs import read_configs
from .flow_class import NoFlowChosen, pick_flow, read_members
from .imports import check_imports
from .module_scope import scan_module
from .mutators import applied_mutators, message
from .pieces import parse_with_positions
from .source import decode, python_syntax_errors
from .state import ReadState
from .steps import decorator_target, docstring, is_user_code, read_decorator

__all__ = ["decode", "extract", "python_syntax_errors"]


def extract(text: str, file: str, flow: str | None) -> tuple[FlowGraph | None, list[Diagnostic]]:
    """The flow's facts from its decoded, compilable source (``flow``: the class to read, if
    the file has several), and every diagnostic found; no graph if no flow could be read."""
    state = ReadState(text, file)
    try:
        module, state.positions = parse_with_positions(text)
    except cst.ParserSyntaxError as exc:
        state.error(rules.SYNTAX, f"syntax error: {exc.message}; fix the syntax",
                    Span(file, max(exc.raw_line, 1), exc.raw_column + 1))
        return None, state.diagnostics
    state.module_node = module
    state.diagnostics.extend(check_imports(module, state.span))
    state.module_scope = scan_module(module, state.code)
    try:
        cls, lineage, imported_from = pick_flow(state, module, flow)
        return _read_flow(state, cls, lineage, imported_from), state.diagnostics
    except NoFlowChosen:
        return None, state.diagnostics
    finally:
        if state.launch is not None:
            state.launch.close()


def _read_flow(state: ReadState, cls: cst.ClassDef, lineage: list[cst.ClassDef], imported_from: str) -> FlowGraph:
    graph = FlowGraph(name=cls.name.value, file=state.file, span=state.span(cls.name), imported_from=imported_from)
    graph.docstring = docstring(cls)
    state.flow_class_name = cls.name.value
    read_configs(state, lineage, graph)
    for dec in cls.decorators:
        if is_user_code(state, dec.decorator):
            graph.user_decorators.append(state.code(decorator_target(dec.decorator)))
        else:
            deco = read_decorator(state, dec)
            if deco is not None:
                graph.decorators.append(deco)
    graph.parameters = read_members(state, lineage, graph)
    for dec, kind, name, where in applied_mutators(state, cls, lineage):
        state.error(rules.MUTATOR, message(kind, name, where), dec.decorator)
    graph.constants = dict(state.module_scope.constants)
    graph.module_functions = sorted(state.module_scope.functions)
    return graph
