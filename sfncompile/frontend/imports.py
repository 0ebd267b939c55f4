"""Every ``metaflow``/``sfncompile`` name the flow file imports or uses, resolved
against what the runtime provides.

One table decides (``sfncompile_runtime.shims``: the modules ``install_shims``
serves inside a task, and their names), so a name ``check`` accepts is one
the task can import, and a name it refuses would have failed every task with
``ImportError``. Imports anywhere in the file count (a step's body imports
``from metaflow import current`` at run time), and so does
``metaflow.<name>`` after ``import metaflow``.
"""

from __future__ import annotations

from typing import Callable

import libcst as cst

from ..diagnostics import Diagnostic
from ..ir import Span
from . import rules
from .body import walk

API_ROOTS = ("sfncompile", "metaflow")


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None


class _Collector(cst.CSTVisitor):
    def __init__(self):
        self.imports: list[tuple[str, str | None, cst.CSTNode]] = []  # (module, name or None, where)
        self.aliases: dict[str, str] = {}  # local name -> "metaflow" for ``import metaflow [as mf]``
        self.attributes: list[cst.Attribute] = []
        self.decorator_names: set[str] = set()  # names used as decorators (the lint judges those)

    def visit_Decorator(self, node: cst.Decorator) -> None:
        target = node.decorator.func if isinstance(node.decorator, cst.Call) else node.decorator
        if isinstance(target, cst.Name):
            self.decorator_names.add(target.value)
        elif isinstance(target, cst.Attribute):
            self.decorator_names.add(target.attr.value)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            dotted = _dotted(alias.name)
            if not dotted or dotted.split(".")[0] not in API_ROOTS:
                continue
            if dotted.startswith("sfncompile."):
                continue  # the compiler's own modules, not the authoring surface
            self.imports.append((dotted, None, alias.name))
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                if dotted in API_ROOTS:
                    self.aliases[alias.asname.name.value] = dotted
            elif dotted in API_ROOTS or "." in dotted:
                self.aliases[dotted.split(".")[0]] = dotted.split(".")[0]

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        dotted = _dotted(node.module)
        if not dotted or dotted.split(".")[0] not in API_ROOTS or dotted.startswith("sfncompile."):
            return
        if isinstance(node.names, cst.ImportStar):
            self.imports.append((dotted, None, node.module))
            return
        for alias in node.names:
            if isinstance(alias.name, cst.Name):
                self.imports.append((dotted, alias.name.value, alias.name))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.attributes.append(node)


def check_imports(module: cst.Module, span: Callable[[cst.CSTNode], Span]) -> list[Diagnostic]:
    from sfncompile_runtime.shims import lookup

    collector = _Collector()
    visits = {name[len("visit_"):]: getattr(collector, name) for name in vars(_Collector) if name.startswith("visit_")}
    for node in walk(module):  # read-only: libcst's module.visit() would rebuild every node
        visit = visits.get(type(node).__name__)
        if visit is not None:
            visit(node)
    out: list[Diagnostic] = []

    def report(module_name: str, name: str | None, where: cst.CSTNode, usage: str) -> None:
        if name in collector.decorator_names and module_name in API_ROOTS:
            return  # used as a decorator: the lint reports it there, with the decorator's own reason
        problem = lookup(module_name, name)
        if problem is None:
            return
        out.append(Diagnostic(rules.UNKNOWN_IMPORT, f"{usage}: {problem}; a task would fail with ImportError",
                              span(where)))

    for module_name, name, where in collector.imports:
        usage = f"from {module_name} import {name}" if name else f"import {module_name}"
        report(module_name, name, where, usage)
    for node in collector.attributes:
        # ``metaflow.card`` after ``import metaflow``: the outermost attribute on the alias.
        if not (isinstance(node.value, cst.Name) and node.value.value in collector.aliases):
            continue
        root = collector.aliases[node.value.value]
        report(root, node.attr.value, node.attr, f"{node.value.value}.{node.attr.value}")
    return out
