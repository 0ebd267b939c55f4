"""The module scope of a flow file: what its top level imports, binds and assigns.

One pass over every statement Python executes at module level (inside ``if``,
``try``, loops and ``with`` too) records the import aliases of the API
(``from metaflow import step as s``), how often each name is bound, the plain
top-level assignments that can be constants, and the module-level functions.
``resolve`` then says which API name an expression refers to. Everything here is
a pure function of the parsed module; evaluating the constants is ``names``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import libcst as cst

# Packages whose API we recognise; submodules (``metaflow.decorators``) count too.
API_ROOTS = ("sfncompile", "metaflow")
# Modules whose helpers the compiler may call (``frontend.names``): the deploying Python's
# version, as Metaflow evaluates such decorator arguments in the deploying process.
KNOWN_MODULES = ("platform", "sys")


@dataclass
class ModuleScope:
    """What the module scan learned: import aliases, bindings, constants."""

    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # local -> (root package, API name)
    modules: dict[str, str] = field(default_factory=dict)  # local module alias -> root package
    star_roots: list[str] = field(default_factory=list)
    binding_counts: dict[str, int] = field(default_factory=dict)
    constant_nodes: dict[str, cst.BaseExpression] = field(default_factory=dict)
    functions: set[str] = field(default_factory=set)  # module-level def / lambda names
    function_nodes: dict[str, cst.FunctionDef] = field(default_factory=dict)
    # ``from settings import CPU`` (not the API): local -> (module, name, relative level)
    imported: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)  # evaluated, for the IR


def scan_module(module: cst.Module, code: Callable[[cst.CSTNode], str]) -> ModuleScope:
    """What the module binds, imports and assigns; ``code`` prints a node back to source."""
    info = ModuleScope()
    # Only plain top-level assignments can be constants; one under an ``if``
    # or in a loop is not a single, unconditional binding.
    top_level = {id(small) for line in module.body if isinstance(line, cst.SimpleStatementLine)
                 for small in line.body}
    for statement in module_level_statements(module.body):
        if isinstance(statement, cst.Import):
            for alias in statement.names:
                dotted = code(alias.name)
                root = dotted.split(".")[0]
                local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else root
                _bind(info, local)
                if root in API_ROOTS:
                    # ``import metaflow.plugins as p`` still names the package for our purposes.
                    info.modules[local] = root
                elif dotted in ("json",) + KNOWN_MODULES:
                    info.modules[local] = dotted
        elif isinstance(statement, cst.ImportFrom):
            if statement.module is None or statement.relative:
                _bind_import_names(info, code, statement, None)
                continue
            root = code(statement.module).split(".")[0]
            dotted = code(statement.module)
            _bind_import_names(info, code, statement, root if root in API_ROOTS else ("json" if dotted == "json" else None))
        elif isinstance(statement, cst.Assign):
            for target in statement.targets:
                for name in target_names(target.target):
                    _bind(info, name)
            if (len(statement.targets) == 1 and isinstance(statement.targets[0].target, cst.Name)
                    and id(statement) in top_level):
                info.constant_nodes[statement.targets[0].target.value] = statement.value
                if isinstance(statement.value, cst.Lambda):
                    info.functions.add(statement.targets[0].target.value)
        elif isinstance(statement, cst.AnnAssign):
            for name in target_names(statement.target):
                _bind(info, name)
            if isinstance(statement.target, cst.Name) and statement.value is not None and id(statement) in top_level:
                info.constant_nodes[statement.target.value] = statement.value
        elif isinstance(statement, cst.AugAssign):
            for name in target_names(statement.target):
                _bind(info, name, 2)
        elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            _bind(info, statement.name.value)
            if isinstance(statement, cst.FunctionDef):
                info.functions.add(statement.name.value)
                info.function_nodes[statement.name.value] = statement
        elif isinstance(statement, cst.For):
            for name in target_names(statement.target):
                _bind(info, name, 2)
        elif isinstance(statement, cst.WithItem) and statement.asname is not None:
            for name in target_names(statement.asname.name):
                _bind(info, name, 2)
        elif isinstance(statement, cst.NamedExpr):
            for name in target_names(statement.target):
                _bind(info, name, 2)
    for name, count in info.binding_counts.items():
        if count != 1:
            info.constant_nodes.pop(name, None)
    return info


def _bind(info: ModuleScope, name: str, count: int = 1) -> None:
    info.binding_counts[name] = info.binding_counts.get(name, 0) + count


def _bind_import_names(info: ModuleScope, code: Callable[[cst.CSTNode], str], statement: cst.ImportFrom,
                       root: str | None) -> None:
    if isinstance(statement.names, cst.ImportStar):
        if root is not None:
            info.star_roots.append(root)
        return
    for alias in statement.names:
        if not isinstance(alias.name, cst.Name):
            continue
        original = alias.name.value
        local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else original
        _bind(info, local)
        if root is not None:
            info.names[local] = (root, original)
        elif statement.module is not None:
            level = len(statement.relative) if statement.relative else 0
            info.imported[local] = (code(statement.module), original, level)


def resolve(info: ModuleScope, expr: cst.BaseExpression) -> tuple[str | None, str] | None:
    """``(root package or None if unknown, API name)`` for a Name/Attribute reference."""
    if isinstance(expr, cst.Name):
        if expr.value in info.names:
            return info.names[expr.value]
        if info.star_roots:
            return info.star_roots[0], expr.value
        if info.binding_counts.get(expr.value, 0) == 0:
            return None, expr.value  # not bound at all: lenient, e.g. a star import we cannot see
        return None
    if isinstance(expr, cst.Attribute):
        root = expr
        while isinstance(root, cst.Attribute):
            root = root.value
        if isinstance(root, cst.Name) and root.value in info.modules:
            return info.modules[root.value], expr.attr.value
    return None


def module_level_statements(body):
    """Statements executed at module level, including inside if/try/for/while/with blocks."""
    stack = list(reversed(body))
    while stack:
        statement = stack.pop()
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                yield small
                if isinstance(small, cst.Expr) and isinstance(small.value, cst.NamedExpr):
                    yield small.value
            continue
        yield statement
        if isinstance(statement, cst.With):
            yield from statement.items
        blocks = []
        if isinstance(statement, (cst.If, cst.For, cst.While, cst.With, cst.Try, cst.TryStar)):
            blocks.append(statement.body)
            orelse = getattr(statement, "orelse", None)
            while isinstance(orelse, cst.If):
                blocks.append(orelse.body)
                orelse = orelse.orelse
            if orelse is not None:
                blocks.append(orelse.body)
            for handler in getattr(statement, "handlers", ()):
                blocks.append(handler.body)
            if getattr(statement, "finalbody", None) is not None:
                blocks.append(statement.finalbody.body)
        inner = []
        for block in blocks:
            if isinstance(block, cst.SimpleStatementSuite):
                inner.append(cst.SimpleStatementLine(body=block.body))
            else:
                inner.extend(block.body)
        stack.extend(reversed(inner))


def target_name_nodes(target) -> list[cst.Name]:
    out = []
    stack = [target]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            out.append(node)
        elif isinstance(node, (cst.Tuple, cst.List)):
            stack.extend(e.value for e in node.elements)
        elif isinstance(node, cst.StarredElement):
            stack.append(node.value)
    return out


def target_names(target) -> list[str]:
    return [n.value for n in target_name_nodes(target)]
