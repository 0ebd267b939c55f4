"""Metaflow's mutators (``FlowMutator``, ``StepMutator``, 2.16+), found where a flow applies one.

A mutator is user code that Metaflow runs when it loads the flow: it adds or removes
decorators and parameters (``mutable_flow.add_parameter``, ``mutable_step.add_decorator``).
The state machine and the job definitions are compiled from the source, without running
it, so the flow sfncompile would run is not the one Metaflow runs: applying a mutator is
refused at the decorator (SFN016), with what to write instead. User *step decorators*
(``@user_step_decorator``, ``UserStepDecorator``) are not mutators: they run inside the
task around the step, as under Metaflow, and are allowed.

A decorator counts as a mutator when it names a class of the flow file, or of a module
beside it (read, never imported), that derives from ``FlowMutator``/``StepMutator``,
directly or through other such classes. The runtime's classes refuse being applied too,
for a mutator the compiler could not see (one from an installed package).
"""

from __future__ import annotations

import os

import libcst as cst

from .module_scope import API_ROOTS
from .state import ReadState
from .steps import decorator_target

MUTATOR_BASES = ("FlowMutator", "StepMutator")


def applied_mutators(state: ReadState, cls: cst.ClassDef, lineage: list[cst.ClassDef]):
    """``(decorator node, mutator kind, decorator text, where)`` for every mutator the flow applies."""
    kinds = _mutator_classes(state)
    found = []
    targets = [(dec, "the flow") for dec in cls.decorators]
    for klass in lineage:
        for statement in klass.body.body:
            if isinstance(statement, cst.FunctionDef):
                targets += [(dec, f"step '{statement.name.value}'") for dec in statement.decorators]
    for dec, where in targets:
        target = decorator_target(dec.decorator)
        kind = _kind_of(state, target, kinds)
        if kind is not None:
            found.append((dec, kind, state.code(target), where))
    return found


def message(kind: str, name: str, where: str) -> str:
    what = ("adds or removes parameters and decorators of the flow and its steps" if kind == "FlowMutator"
            else "adds or removes decorators of the step")
    return (f"{where} applies @{name}, a {kind}: it {what} by running code when Metaflow loads the flow, and "
            "sfncompile compiles the flow from its source without running it, so the state machine would not "
            "have them; write the parameters and decorators it adds in the flow itself (or attach step "
            "decorators with --with), or use a user step decorator (@user_step_decorator) for code around a step")


def _kind_of(state: ReadState, target: cst.BaseExpression, kinds: dict[str, str]) -> str | None:
    ref = state.resolve(target)
    if ref is not None and ref[0] in API_ROOTS and ref[1] in MUTATOR_BASES:
        return ref[1]  # the base class itself, applied
    if not isinstance(target, cst.Name):
        return None
    name = target.value
    if name in kinds:
        return kinds[name]
    imported = state.module_scope.imported.get(name)
    if imported is not None:
        return _sibling_kind(state.file, *imported)
    return None


def _mutator_classes(state: ReadState) -> dict[str, str]:
    """Classes of the flow file deriving from a mutator base: name → base."""
    classes = {s.name.value: s for s in state.module_node.body if isinstance(s, cst.ClassDef)}

    def base_kind(base: cst.BaseExpression):
        ref = state.resolve(base)
        if ref is not None and ref[0] in API_ROOTS and ref[1] in MUTATOR_BASES:
            return ref[1]
        return None

    return _close_over(classes, base_kind)


def _close_over(classes: dict[str, cst.ClassDef], base_kind) -> dict[str, str]:
    kinds: dict[str, str] = {}
    changed = True
    while changed:  # a mutator's subclass is one too, in any order of definition
        changed = False
        for name, node in classes.items():
            if name in kinds:
                continue
            for arg in node.bases:
                kind = base_kind(arg.value)
                if kind is None and isinstance(arg.value, cst.Name):
                    kind = kinds.get(arg.value.value)
                if kind is not None:
                    kinds[name] = kind
                    changed = True
                    break
    return kinds


def _sibling_kind(flow_file: str, module: str, name: str, level: int) -> str | None:
    """The mutator base of class ``name`` in the module beside the flow file, or None."""
    base = os.path.dirname(os.path.abspath(flow_file))
    for _ in range(max(level - 1, 0)):
        base = os.path.dirname(base)
    path = os.path.join(base, *module.split(".")) + ".py"
    try:
        with open(path, encoding="utf-8") as src:
            tree = cst.parse_module(src.read())
    except (OSError, UnicodeDecodeError, cst.ParserSyntaxError):
        return None
    classes = {s.name.value: s for s in tree.body if isinstance(s, cst.ClassDef)}

    def base_kind(node: cst.BaseExpression):
        # That module's imports are not resolved: a base spelled FlowMutator/StepMutator
        # (or x.FlowMutator) is taken as Metaflow's.
        last = node.attr.value if isinstance(node, cst.Attribute) else getattr(node, "value", None)
        return last if last in MUTATOR_BASES else None

    return _close_over(classes, base_kind).get(name)
