"""What a bare name in the flow means statically: the lookups behind ``state.evaluate``.

A name is looked up as Python would at the place the flow uses it: a config
(``Config(...)``'s value), then the class body being read (``CPUS = 4`` before
``@resources(cpu=CPUS)``), then the module's single plain assignments, then a
constant of a sibling module (``from settings import CPU``, read, never
imported). The few calls allowed are here too: ``json.dumps``, conversions in a
``config_expr``, the deploying Python's version, and parameterless module
functions that only bind static values and return one. Anything else raises
``NotStatic`` with the reason, which the caller reports at its own rule.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import libcst as cst

from .evaluate import ALLOWED, Evaluator, NotStatic, UnresolvedConfig
from .module_scope import API_ROOTS, KNOWN_MODULES, scan_module
from .pieces import parse_with_positions
from .source import decode
from .state import UNRESOLVED_CONFIG, ReadState

_KNOWN_HELPERS = {("platform", "python_version"): lambda: __import__("platform").python_version(),
                  ("platform", "python_version_tuple"): lambda: list(__import__("platform").python_version_tuple())}
# Sibling modules already read (path -> their state), and the ones being read (cycles).
_SIBLINGS: dict[tuple, ReadState] = {}
_READING: set[str] = set()
# Conversions a config expression may apply (``config_expr("str(config.value)")``).
_PURE_BUILTINS = {"str": str, "int": int, "float": float, "bool": bool}


def constant(state: ReadState, node: cst.Name) -> Any:
    """The static value of a bare name where the flow uses it: a config, a constant of the class
    body being read, of the module, or of a sibling module; NotStatic with the reason otherwise."""
    info = state.module_scope
    name = node.value
    if name in state.configs:
        from .configs import as_config_value

        value = state.configs[name]
        if value is UNRESOLVED_CONFIG:
            raise UnresolvedConfig(node, f"the config `{name}` has no value the compiler could read (see the error "
                                  "at its Config(...))")
        return as_config_value(value)
    class_node = state.class_scope.constants.get(name)
    if class_node is not None and name not in state.evaluating:
        # ``CPUS = 4`` in the class body, then ``@resources(cpu=CPUS)``: Python
        # evaluates a method's decorators in the class namespace.
        state.evaluating.add(name)
        try:
            return state.evaluate(class_node)
        except NotStatic as exc:
            raise NotStatic(node, f"the class constant `{name}` cannot be evaluated statically "
                                  f"({exc.reason})") from None
        finally:
            state.evaluating.discard(name)
    if class_node is None and name in state.class_scope.binding_counts:
        # Bound in the class body, so that binding (not a module constant) is what
        # Python would use here; it just is not a single plain constant.
        if state.class_scope.binding_counts[name] > 1:
            why = "is assigned more than once in the class body"
        else:
            why = "is not assigned a static value in the class body (methods, classes and imports are not constants)"
        raise NotStatic(node, f"`{name}` {why}; allowed: {ALLOWED}")
    if name in info.constants:
        return info.constants[name]
    value_node = info.constant_nodes.get(name)
    if value_node is None and name in info.imported and info.binding_counts.get(name, 0) == 1:
        return _sibling_constant(state, node, *info.imported[name])
    if value_node is None or name in state.evaluating:
        if name in info.functions:
            why = "is a function"
        elif info.binding_counts.get(name, 0) > 1:
            why = "is assigned more than once at module level"
        elif info.binding_counts.get(name, 0) == 1:
            why = "is not assigned a static value at module level (imports and definitions are not constants)"
        else:
            why = "is not defined at module level"
        raise NotStatic(node, f"`{name}` {why}; allowed: {ALLOWED}")
    state.evaluating.add(name)
    try:
        value = state.evaluate(value_node)
    except NotStatic as exc:
        raise NotStatic(node, f"the module constant `{name}` cannot be evaluated statically "
                              f"({exc.reason})") from None
    finally:
        state.evaluating.discard(name)
    info.constants[name] = value
    return value


def _sibling_constant(state: ReadState, node: cst.Name, module: str, name: str, level: int) -> Any:
    """``from settings import CPU`` where settings.py sits beside the flow file: its
    constant, read from its source (never imported) by the same rules as ours."""
    import os

    base = os.path.dirname(os.path.abspath(state.file))
    for _ in range(max(level - 1, 0)):
        base = os.path.dirname(base)
    path = os.path.join(base, *module.split(".")) + ".py"
    if not os.path.isfile(path):
        raise NotStatic(node, f"`{node.value}` comes from `{module}`, which is not a module beside the flow file "
                              f"(the compiler reads sibling modules' constants, never imports code); allowed: "
                              f"{ALLOWED}")
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size)
    sibling = _SIBLINGS.get(key)
    if sibling is None:
        if path in _READING:
            raise NotStatic(node, f"`{module}` imports itself through the flow's modules")
        _READING.add(path)
        try:
            with open(path, "rb") as src:
                text, _ = decode(src.read(), path)
            sibling = ReadState(text or "", path)
            parsed, sibling.positions = parse_with_positions(text or "")
            sibling.module_node = parsed
            sibling.module_scope = scan_module(parsed, sibling.code)
        except (OSError, cst.ParserSyntaxError) as exc:
            raise NotStatic(node, f"`{module}` cannot be read: {exc}") from None
        finally:
            _READING.discard(path)
        _SIBLINGS[key] = sibling
    try:
        return constant(sibling, cst.Name(name))
    except NotStatic as exc:
        raise NotStatic(node, f"`{node.value}` (from {module}.py): {exc.reason}") from None


def _call_function(state: ReadState, node: cst.Call) -> Any:
    """A call of a module-level function without parameters whose body only binds static
    values and returns one (``def get_python_version(): versions = {...}; return
    versions[platform.python_version_tuple()[0]]``): its value, evaluated here."""
    func = state.module_scope.function_nodes.get(node.func.value)
    short = state.evaluate._short(node)
    params = func.params if func is not None else None
    if func is None or node.args or params.params or isinstance(params.star_arg, cst.Param) \
            or params.kwonly_params or params.star_kwarg is not None or params.posonly_params or func.decorators:
        raise NotStatic(node, f"`{short}` is a call, which cannot be evaluated statically; allowed: {ALLOWED}")
    local: dict[str, Any] = {}
    statements = [small for line in func.body.body
                  for small in (line.body if isinstance(line, cst.SimpleStatementLine) else [line])]

    def local_or_constant(name_node: cst.Name):
        if name_node.value in local:
            return local[name_node.value]
        return constant(state, name_node)

    evaluate = Evaluator(local_or_constant, state.code, partial(pure_call, state))
    for index, statement in enumerate(statements):
        if index == 0 and isinstance(statement, cst.Expr) and isinstance(statement.value, (cst.SimpleString,
                                                                                            cst.ConcatenatedString)):
            continue  # docstring
        if isinstance(statement, cst.Import) and all(state.code(a.name) in KNOWN_MODULES and a.asname is None
                                                      for a in statement.names):
            for alias in statement.names:
                state.module_scope.modules.setdefault(state.code(alias.name), state.code(alias.name))
            continue
        if isinstance(statement, cst.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0].target, cst.Name):
            local[statement.targets[0].target.value] = evaluate(statement.value)
            continue
        if isinstance(statement, cst.Return) and statement.value is not None:
            return evaluate(statement.value)
        break
    raise NotStatic(node, f"`{short}` calls a function whose body is not only static assignments and a return, "
                          f"so it cannot be evaluated without running it; allowed: {ALLOWED}")


def hook_name(state: ReadState, node: cst.Name) -> Any:
    """As ``constant``, but a module-level function's bare name stands for its name (``@exit_hook``)."""
    info = state.module_scope
    if node.value in info.functions and node.value not in state.class_scope.constants:
        return node.value
    return constant(state, node)


def pure_call(state: ReadState, node: cst.Call) -> Any:
    """``json.dumps(<static value>)`` (optionally sort_keys=/indent=); nothing else."""
    ref = state.resolve(node.func)
    if ref is not None and ref[1] == "config_expr" and ref[0] in API_ROOTS:
        return _config_expr(state, node)
    if (isinstance(node.func, cst.Name) and node.func.value in _PURE_BUILTINS
            and state.module_scope.binding_counts.get(node.func.value, 0) == 0 and len(node.args) == 1
            and node.args[0].keyword is None and not node.args[0].star):
        # ``config_expr("str(config.value)")``: a conversion of a static value.
        from .configs import plain

        value = plain(state.evaluate(node.args[0].value))
        try:
            return _PURE_BUILTINS[node.func.value](value)
        except (TypeError, ValueError) as exc:
            raise NotStatic(node, f"`{state.evaluate._short(node)}` fails: {exc}") from None
    if ref is not None and ref[0] in KNOWN_MODULES and (ref[0], ref[1]) in _KNOWN_HELPERS and not node.args:
        return _KNOWN_HELPERS[(ref[0], ref[1])]()
    if isinstance(node.func, cst.Name) and node.func.value in state.module_scope.function_nodes \
            and state.module_scope.binding_counts.get(node.func.value, 0) == 1:
        return _call_function(state, node)
    if ref == ("json", "dumps"):
        positional = [a for a in node.args if a.keyword is None]
        keywords = {a.keyword.value: a for a in node.args if a.keyword is not None}
        if len(positional) == 1 and not any(a.star for a in node.args) and set(keywords) <= {"sort_keys", "indent"}:
            value = state.evaluate(positional[0].value)
            options = {k: state.evaluate(a.value) for k, a in keywords.items()}
            try:
                return json.dumps(value, **options)
            except (TypeError, ValueError) as exc:
                raise NotStatic(node, f"json.dumps fails here: {exc}") from None
    raise NotStatic(node, f"`{state.evaluate._short(node)}` is a call, which cannot be evaluated statically; "
                          f"allowed: {ALLOWED}")


def _config_expr(state: ReadState, node: cst.Call) -> Any:
    """``config_expr("cfg.a + 1")``: the expression text, parsed and evaluated here."""
    if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
        raise NotStatic(node, "config_expr() takes one string: the expression over the configs")
    text = state.evaluate(node.args[0].value)
    if not isinstance(text, str):
        raise NotStatic(node.args[0], "config_expr() takes a string")
    try:
        expression = cst.parse_expression(text)
    except cst.ParserSyntaxError:
        raise NotStatic(node.args[0], f"config_expr({text!r}) is not a Python expression") from None
    try:
        return state.evaluate(expression)
    except NotStatic as exc:
        problem = exc
    if isinstance(problem, UnresolvedConfig) or state.flow_class_name is None:
        raise NotStatic(node, f"config_expr({text!r}) cannot be evaluated statically: {problem.reason}")
    # An expression over the configs that calls the flow's own code (``config_expr("helper(cfg)")``):
    # Metaflow evaluates it in the flow module's globals; so does the launch process.
    from .configs import as_config_value
    from .launch import LaunchFailure

    try:
        value = state.launch_values().expression(text, {c.name: (c.value, c.plain) for c in state.config_specs})
    except LaunchFailure as failure:
        raise NotStatic(node, f"config_expr({text!r}), evaluated at launch (it is not static: "
                              f"{problem.reason}): {failure.describe()}") from None
    return as_config_value(value)
