"""The flow class: which class of the file is the flow, its lineage, and its body.

A flow is a class deriving from ``FlowSpec`` (imported from metaflow or
sfncompile), directly or through other flow classes of the same file; the base
classes are read first and the flow's own body last, so an override wins as in
Python. While a class body is read, ``state.class_scope`` holds its constants:
Python evaluates a method's decorators in the class namespace.
"""

from __future__ import annotations

import libcst as cst

from ..diagnostics import WARNING
from ..ir import FlowGraph, ParameterSpec, Span
from . import rules
from .module_scope import API_ROOTS, target_name_nodes, target_names
from .parameters import read_parameter
from .state import ClassScope, ReadState
from .steps import read_step, step_decorator_index


class NoFlowChosen(Exception):
    """Stops extraction: no flow class could be chosen; the diagnostic is already recorded."""


def pick_flow(state: ReadState, module: cst.Module, wanted: str | None) -> tuple[cst.ClassDef, list[cst.ClassDef], str]:
    """The flow class (``wanted``, or the one flow no other flow derives from), its
    lineage in the file (base classes first, the flow last) and the package its
    FlowSpec comes from."""
    flows: dict[str, cst.ClassDef] = {}
    bases_of: dict[str, list[str]] = {}
    roots: dict[str, str] = {}
    all_classes: dict[str, cst.ClassDef] = {}
    for statement in module.body:
        if not isinstance(statement, cst.ClassDef):
            continue
        all_classes[statement.name.value] = statement
        in_file_bases = []
        is_flow = False
        for arg in statement.bases:
            if arg.keyword is not None:
                continue
            ref = state.resolve(arg.value)
            if ref is not None and ref[1] == "FlowSpec":
                is_flow = True
                roots[statement.name.value] = ref[0] or "sfncompile"
            elif isinstance(arg.value, cst.Name) and arg.value.value in flows:
                is_flow = True
                in_file_bases.append(arg.value.value)
                roots.setdefault(statement.name.value, roots.get(arg.value.value, "sfncompile"))
        if is_flow:
            flows[statement.name.value] = statement
            bases_of[statement.name.value] = in_file_bases
    if wanted is not None:
        if wanted not in flows:
            found = ", ".join(flows) or "none"
            if wanted in all_classes:
                msg = f"class `{wanted}` is not a flow (it does not subclass FlowSpec); flows in this file: {found}"
            else:
                msg = f"no flow class named `{wanted}` in this file; flows in this file: {found}"
            state.error(rules.FLOW_NOT_FOUND, msg, Span(state.file, 1, 1))
            raise NoFlowChosen
        chosen = wanted
    else:
        used_as_base = {b for bases in bases_of.values() for b in bases}
        leaves = [name for name in flows if name not in used_as_base]
        if not leaves:
            message = ("no flow found: define a class that subclasses FlowSpec "
                       "(imported from sfncompile or metaflow) with @step methods")
            where = Span(state.file, 1, 1)
            foreign = _foreign_base(state, all_classes)
            if foreign is not None:
                cls_node, base = foreign
                message += (f"; class {cls_node.name.value} derives from `{state.code(base)}`, which is not "
                            "defined in this file and the compiler never imports code: define the base flow "
                            "class in this file or subclass FlowSpec directly")
                where = state.span(base)
            state.error(rules.NO_FLOW, message, where)
            raise NoFlowChosen
        if len(leaves) > 1:
            state.error(rules.SEVERAL_FLOWS,
                        f"this file defines {len(leaves)} flows ({', '.join(leaves)}); choose one with "
                        f"--flow NAME (flow=NAME)", flows[leaves[1]].name)
            raise NoFlowChosen
        chosen = leaves[0]
    lineage: list[cst.ClassDef] = []  # base classes first, the chosen flow last
    seen: set[str] = set()

    def add(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for base in bases_of.get(name, []):
            add(base)
        lineage.append(flows[name])

    add(chosen)
    return flows[chosen], lineage, roots.get(chosen, "sfncompile")


def _foreign_base(state: ReadState, classes: dict[str, cst.ClassDef]):
    """A class whose base comes from another module and could be a flow (for the hint)."""
    for cls_node in classes.values():
        has_steps = any(isinstance(stmt, cst.FunctionDef) and step_decorator_index(state, stmt) is not None
                        for stmt in class_statements(cls_node))
        if not has_steps:
            continue
        for arg in cls_node.bases:
            if arg.keyword is None and not (isinstance(arg.value, cst.Name) and arg.value.value in classes):
                return cls_node, arg.value
    return None


def read_members(state: ReadState, lineage: list[cst.ClassDef], graph: FlowGraph) -> list[ParameterSpec]:
    """The class bodies, base classes first: steps into ``graph.steps``, other attributes
    into ``graph.class_attrs``; the flow's parameters, returned. A later definition
    replaces an earlier one, as Python's class namespaces do."""
    params: dict[str, ParameterSpec] = {}
    for klass in lineage:
        state.class_scope = ClassScope(_class_constants(klass), _class_binding_counts(klass))
        defined_here: set[str] = set()
        for statement in class_statements(klass):
            bound = _class_bound_names(statement)
            if isinstance(statement, cst.FunctionDef):
                name = statement.name.value
                if name in defined_here:
                    state.error(rules.DUPLICATE_DEFINITION,
                                f"`{name}` is defined twice in class {klass.name.value}; Python keeps only "
                                "this later definition: rename or remove one", statement.name, severity=WARNING)
                defined_here.add(name)
                step = read_step(state, statement)
                if step is None:
                    graph.steps.pop(name, None)
                    graph.class_attrs[name] = state.span(statement.name)
                else:
                    graph.steps.pop(name, None)  # an override keeps the override's position
                    graph.steps[name] = step
                    graph.class_attrs.pop(name, None)
            elif isinstance(statement, (cst.Assign, cst.AnnAssign)) and any(
                    c.attr in bound for c in graph.configs) and len(bound) == 1:
                params.pop(bound[0], None)
                graph.class_attrs.pop(bound[0], None)
            elif isinstance(statement, (cst.Assign, cst.AnnAssign)):
                param = read_parameter(state, statement)
                if param is not None:
                    params[param.attr] = param
                    graph.class_attrs.pop(param.attr, None)
                    state.class_scope.bound_so_far.update(bound)
                    continue
                targets = statement.targets if isinstance(statement, cst.Assign) else [statement]
                for target in targets:
                    for name_node in target_name_nodes(target.target):
                        graph.class_attrs.setdefault(name_node.value, state.span(name_node))
                        params.pop(name_node.value, None)
            elif isinstance(statement, cst.ClassDef):
                graph.class_attrs.setdefault(statement.name.value, state.span(statement.name))
            state.class_scope.bound_so_far.update(bound)
    state.class_scope = ClassScope()
    return list(params.values())


def class_statements(cls: cst.ClassDef):
    """The statements of a class body, one per small statement (``a = 1; b = 2`` is two)."""
    body = cls.body
    if isinstance(body, cst.SimpleStatementSuite):
        yield from body.body
        return
    for statement in body.body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body
        else:
            yield statement


def _class_bound_names(statement) -> list[str]:
    """Names a class-body statement binds in the class namespace."""
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return [statement.name.value]
    if isinstance(statement, cst.Assign):
        return [name for target in statement.targets for name in target_names(target.target)]
    if isinstance(statement, (cst.AnnAssign, cst.AugAssign)):
        return target_names(statement.target)
    if isinstance(statement, cst.ImportFrom) and statement.module is not None and not statement.relative:
        root = statement.module
        while isinstance(root, cst.Attribute):
            root = root.value
        if isinstance(root, cst.Name) and root.value in API_ROOTS:
            return []  # the API, not the user's code
    if isinstance(statement, (cst.Import, cst.ImportFrom)) and not isinstance(statement.names, cst.ImportStar):
        out = []
        for alias in statement.names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                out.append(alias.asname.name.value)
            elif isinstance(alias.name, cst.Name):
                out.append(alias.name.value)
            elif isinstance(alias.name, cst.Attribute):  # import a.b binds a
                root = alias.name
                while isinstance(root, cst.Attribute):
                    root = root.value
                if isinstance(root, cst.Name):
                    out.append(root.value)
        return out
    return []


def _class_binding_counts(cls: cst.ClassDef) -> dict[str, int]:
    """How often the class body binds each name (an augmented assignment counts twice:
    it reads an earlier binding)."""
    counts: dict[str, int] = {}
    for statement in class_statements(cls):
        weight = 2 if isinstance(statement, cst.AugAssign) else 1
        for name in _class_bound_names(statement):
            counts[name] = counts.get(name, 0) + weight
    return counts


def _class_constants(cls: cst.ClassDef) -> dict[str, cst.BaseExpression]:
    """Names bound exactly once in the class body by a plain ``NAME = value``."""
    counts: dict[str, int] = {}
    values: dict[str, cst.BaseExpression] = {}
    for statement in class_statements(cls):
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            counts[statement.name.value] = counts.get(statement.name.value, 0) + 1
        elif isinstance(statement, cst.Assign):
            for target in statement.targets:
                for name in target_names(target.target):
                    counts[name] = counts.get(name, 0) + 1
            if len(statement.targets) == 1 and isinstance(statement.targets[0].target, cst.Name):
                values[statement.targets[0].target.value] = statement.value
        elif isinstance(statement, (cst.AnnAssign, cst.AugAssign)):
            for name in target_names(statement.target):
                counts[name] = counts.get(name, 0) + (1 if isinstance(statement, cst.AnnAssign) else 2)
            if isinstance(statement, cst.AnnAssign) and isinstance(statement.target, cst.Name) and statement.value:
                values[statement.target.value] = statement.value
    return {name: value for name, value in values.items() if counts.get(name) == 1}
