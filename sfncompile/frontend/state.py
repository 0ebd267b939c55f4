"""What the readers of one flow file share: the file, its positions, the diagnostics, the scopes.

The front end reads a flow in passes (``extract``), each a set of plain functions
taking this state: it holds the parsed module and each node's position (for
spans), the diagnostics found so far, the module scope, the class body being
read (Python evaluates a method's decorators in the class namespace) and the
configs read so far (a config's value is a name's value). ``evaluate`` turns an
expression into its static value through those scopes (``frontend.names``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import libcst as cst

from ..diagnostics import Diagnostic
from ..ir import Span
from .evaluate import Evaluator
from .module_scope import ModuleScope, resolve

UNRESOLVED_CONFIG = object()  # a config whose value could not be read (already reported)


@dataclass
class ClassScope:
    """The class body being read (empty between classes)."""

    constants: dict[str, cst.BaseExpression] = field(default_factory=dict)  # bound once by NAME = value
    binding_counts: dict[str, int] = field(default_factory=dict)  # how often the body binds each name
    bound_so_far: set[str] = field(default_factory=set)  # names bound above the statement being read


@dataclass
class ReadState:
    text: str
    file: str
    module_node: cst.Module | None = None
    positions: dict = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    module_scope: ModuleScope = field(default_factory=ModuleScope)
    class_scope: ClassScope = field(default_factory=ClassScope)
    configs: dict[str, Any] = field(default_factory=dict)  # config attr and name -> its value (frontend.configs)
    config_specs: list = field(default_factory=list)  # the flow's ConfigSpecs read so far (names, plain flags)
    flow_class_name: str | None = None
    launch: Any = None  # frontend.launch.LaunchValues, started on the first question only
    lines: list[str] | None = None  # the source's lines, split on first use (steps' statement spans)
    evaluating: set[str] = field(default_factory=set)  # names being evaluated (a constant defined by itself)

    def __post_init__(self):
        # Imported here: the lookups in ``names`` read sibling modules into a ReadState of their own.
        from .names import constant, hook_name, pure_call

        self.evaluate = Evaluator(partial(constant, self), self.code, partial(pure_call, self))
        # ``@exit_hook(on_success=[notify])``: there a bare name of a module-level
        # function is allowed and stands for its name (the runtime imports the
        # flow module and looks the hook up by name).
        self.evaluate_hooks = Evaluator(partial(hook_name, self), self.code, partial(pure_call, self))

    def span(self, node: cst.CSTNode) -> Span:
        rng = self.positions.get(node)
        if rng is None:
            return Span(self.file, 1, 1)
        line, col, end_line, end_col = rng
        return Span(self.file, line, col + 1, end_line, end_col + 1)

    def code(self, node: cst.CSTNode) -> str:
        try:
            return self.module_node.code_for_node(node)
        except Exception:  # code generation of a detached node: never worth failing for
            return type(node).__name__

    def error(self, rule: str, message: str, node_or_span, severity: str = "error") -> None:
        span = node_or_span if isinstance(node_or_span, Span) else self.span(node_or_span)
        self.diagnostics.append(Diagnostic(rule, message, span, severity))

    def resolve(self, expr: cst.BaseExpression) -> tuple[str | None, str] | None:
        """``(root package or None if unknown, API name)`` for a Name/Attribute reference."""
        return resolve(self.module_scope, expr)

    def launch_values(self):
        """The child process that imports the flow to answer what only its code can
        (``frontend.launch``); one per compile, started on first use."""
        if self.launch is None:
            from .launch import LaunchValues

            self.launch = LaunchValues(self.file, self.flow_class_name or "")
        return self.launch
