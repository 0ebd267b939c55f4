"""Read a flow's source into the IR's *facts*, without importing it.

Steps: decode the bytes → ``compile()`` for Python's own syntax errors (exact
messages and positions) → libcst parse with positions → scan the module
(imports, module-level constants, classes) → pick the flow class → read its
parameters, steps, decorators, transitions and docstrings. The structure
(kinds, joins, foreach stacks) is derived afterwards by ``graph_passes``.

Every problem becomes a ``Diagnostic`` (rule ids in ``frontend.rules``);
nothing here raises on bad input.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
import warnings
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from ..diagnostics import WARNING, Diagnostic
from ..ir import Decorator, FlowGraph, ParameterSpec, Span, StepNode, Transition
from . import rules
from .body import analyse_body
from .evaluate import ALLOWED, Evaluator, NotStatic, UnresolvedConfig
from .pieces import parse_with_positions

# Packages whose API we recognise; submodules (``metaflow.decorators``) count too.
API_ROOTS = ("sfncompile", "metaflow")
PARAMETER_CALLS = ("Parameter", "IncludeFile")
TYPE_NAMES = {"str": "str", "int": "int", "float": "float", "bool": "bool", "JSONType": "json"}
PARAMETER_KEYWORDS = {
    "Parameter": ("name", "default", "type", "help", "required", "show_default"),
    "IncludeFile": ("name", "required", "is_text", "encoding", "help", "parser", "default"),
}
KNOWN_PARAMETER_KEYWORDS = {"separator", "is_text", "encoding", "parser", "show_default"}
# Step decorators recognised by name even when their import is not visible.
KNOWN_STEP_DECORATORS = ("batch", "resources", "retry", "catch", "timeout", "environment", "pypi", "conda",
                         "card", "kubernetes", "parallel", "secrets", "exit_hook")
# ``@exit_hook`` arguments whose bare function names evaluate to the names.
HOOK_ARGUMENTS = ("on_success", "on_error")
TRANSITION_KEYWORDS = ("foreach", "num_parallel", "condition")


class _Fatal(Exception):
    """Stops extraction; the diagnostic is already recorded."""


@dataclass
class _Module:
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


def decode(data: bytes | str, file: str) -> tuple[str | None, list[Diagnostic]]:
    if isinstance(data, str):
        return data, []
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        return None, [Diagnostic(rules.UNREADABLE, f"cannot read the source: {exc}; save the file as UTF-8",
                                 Span(file, 1, 1))]
    try:
        return data.decode(encoding), []
    except (UnicodeDecodeError, LookupError) as exc:
        start = getattr(exc, "start", 0)
        line = data[:start].count(b"\n") + 1
        col = start - (data.rfind(b"\n", 0, start) + 1) + 1
        return None, [Diagnostic(rules.UNREADABLE,
                                 f"the file is not valid {encoding} text ({exc.reason if hasattr(exc, 'reason') else exc}); "
                                 "save it as UTF-8", Span(file, line, col))]


def python_syntax_errors(text: str, file: str) -> list[Diagnostic]:
    """Python's own verdict: a SyntaxError (or null byte) as a positioned diagnostic."""
    index = text.find("\0")
    if index >= 0:
        line = text.count("\n", 0, index) + 1
        col = index - (text.rfind("\n", 0, index) + 1) + 1
        return [Diagnostic(rules.SYNTAX, "Python syntax error: the source contains a null byte; remove it",
                           Span(file, line, col))]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # A full compile (not just the AST) also catches what the compiler
            # rejects after parsing: ``return`` outside a function and the like.
            compile(text, file, "exec", dont_inherit=True)
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = exc.offset or 1
        msg = exc.msg or "invalid syntax"
        end_line = getattr(exc, "end_lineno", None) or 0
        end_col = getattr(exc, "end_offset", None) or 0
        return [Diagnostic(rules.SYNTAX, f"Python syntax error: {msg}; fix the syntax",
                           Span(file, line, max(col, 1), end_line, end_col))]
    except ValueError as exc:
        return [Diagnostic(rules.SYNTAX, f"Python syntax error: {exc}", Span(file, 1, 1))]
    except (RecursionError, MemoryError):
        return [Diagnostic(rules.SYNTAX, "the source is too deeply nested for Python to compile; simplify it",
                           Span(file, 1, 1))]
    return []


class Extractor:
    def __init__(self, text: str, file: str):
        self.text = text
        self.file = file
        self.diagnostics: list[Diagnostic] = []
        self.module_info = _Module()
        self._positions = {}
        self._lines: list[str] | None = None  # the source's lines, for _statement_span
        self._evaluating: set[str] = set()
        self._module_node: cst.Module | None = None
        self._class_scope: dict[str, cst.BaseExpression] = {}  # constants of the class being read
        self._class_names: set[str] = set()  # names the class body being read has bound so far
        self._class_counts: dict[str, int] = {}  # how often the class body being read binds each name
        self._configs: dict[str, Any] = {}  # config attr and name -> its value (frontend.configs)
        self._config_specs: list = []  # the flow's ConfigSpecs read so far (names, plain flags)
        self._launch = None  # frontend.launch.LaunchValues, started on the first question only
        self._flow_class_name: str | None = None
        self.evaluate = Evaluator(self._constant, self._code, self._pure_call)
        # ``@exit_hook(on_success=[notify])``: there a bare name of a module-level
        # function is allowed and stands for its name (the runtime imports the
        # flow module and looks the hook up by name).
        self.evaluate_hooks = Evaluator(self._hook_name, self._code, self._pure_call)

    # -- positions ---------------------------------------------------------
    def span(self, node: cst.CSTNode) -> Span:
        rng = self._positions.get(node)
        if rng is None:
            return Span(self.file, 1, 1)
        line, col, end_line, end_col = rng
        return Span(self.file, line, col + 1, end_line, end_col + 1)

    def _code(self, node: cst.CSTNode) -> str:
        try:
            return self._module_node.code_for_node(node)
        except Exception:  # code generation of a detached node: never worth failing for
            return type(node).__name__

    def error(self, rule: str, message: str, node_or_span, severity: str = "error") -> None:
        span = node_or_span if isinstance(node_or_span, Span) else self.span(node_or_span)
        self.diagnostics.append(Diagnostic(rule, message, span, severity))

    # -- entry ---------------------------------------------------------------
    def run(self, flow: str | None) -> FlowGraph | None:
        try:
            module, self._positions = parse_with_positions(self.text)
        except cst.ParserSyntaxError as exc:
            self.error(rules.SYNTAX, f"syntax error: {exc.message}; fix the syntax",
                       Span(self.file, max(exc.raw_line, 1), exc.raw_column + 1))
            return None
        self._module_node = module
        from .imports import check_imports

        self.diagnostics.extend(check_imports(module, self.span))
        self._scan_module(module)
        try:
            cls, lineage = self._pick_flow(module, flow)
            return self._read_flow(cls, lineage)
        except _Fatal:
            return None
        finally:
            if self._launch is not None:
                self._launch.close()

    def launch_values(self):
        """The child process that imports the flow to answer what only its code can
        (``frontend.launch``); one per compile, started on first use."""
        if self._launch is None:
            from .launch import LaunchValues

            self._launch = LaunchValues(self.file, self._flow_class_name or "")
        return self._launch

    # -- module scan ---------------------------------------------------------
    def _scan_module(self, module: cst.Module) -> None:
        info = self.module_info
        # Only plain top-level assignments can be constants; one under an ``if``
        # or in a loop is not a single, unconditional binding.
        top_level = {id(small) for line in module.body if isinstance(line, cst.SimpleStatementLine)
                     for small in line.body}
        for statement in _module_level_statements(module.body):
            if isinstance(statement, cst.Import):
                for alias in statement.names:
                    dotted = self._code(alias.name)
                    root = dotted.split(".")[0]
                    local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else root
                    self._bind(local)
                    if root in API_ROOTS:
                        # ``import metaflow.plugins as p`` still names the package for our purposes.
                        info.modules[local] = root
                    elif dotted in ("json",) + _KNOWN_MODULES:
                        info.modules[local] = dotted
            elif isinstance(statement, cst.ImportFrom):
                if statement.module is None or statement.relative:
                    self._bind_import_names(statement, None)
                    continue
                root = self._code(statement.module).split(".")[0]
                dotted = self._code(statement.module)
                self._bind_import_names(statement, root if root in API_ROOTS else ("json" if dotted == "json" else None))
            elif isinstance(statement, cst.Assign):
                for target in statement.targets:
                    for name in _target_names(target.target):
                        self._bind(name)
                if (len(statement.targets) == 1 and isinstance(statement.targets[0].target, cst.Name)
                        and id(statement) in top_level):
                    info.constant_nodes[statement.targets[0].target.value] = statement.value
                    if isinstance(statement.value, cst.Lambda):
                        info.functions.add(statement.targets[0].target.value)
            elif isinstance(statement, cst.AnnAssign):
                for name in _target_names(statement.target):
                    self._bind(name)
                if isinstance(statement.target, cst.Name) and statement.value is not None and id(statement) in top_level:
                    info.constant_nodes[statement.target.value] = statement.value
            elif isinstance(statement, cst.AugAssign):
                for name in _target_names(statement.target):
                    self._bind(name, 2)
            elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                self._bind(statement.name.value)
                if isinstance(statement, cst.FunctionDef):
                    info.functions.add(statement.name.value)
                    info.function_nodes[statement.name.value] = statement
            elif isinstance(statement, cst.For):
                for name in _target_names(statement.target):
                    self._bind(name, 2)
            elif isinstance(statement, cst.WithItem) and statement.asname is not None:
                for name in _target_names(statement.asname.name):
                    self._bind(name, 2)
            elif isinstance(statement, cst.NamedExpr):
                for name in _target_names(statement.target):
                    self._bind(name, 2)
        for name, count in info.binding_counts.items():
            if count != 1:
                info.constant_nodes.pop(name, None)

    def _bind(self, name: str, count: int = 1) -> None:
        self.module_info.binding_counts[name] = self.module_info.binding_counts.get(name, 0) + count

    def _bind_import_names(self, statement: cst.ImportFrom, root: str | None) -> None:
        info = self.module_info
        if isinstance(statement.names, cst.ImportStar):
            if root is not None:
                info.star_roots.append(root)
            return
        for alias in statement.names:
            if not isinstance(alias.name, cst.Name):
                continue
            original = alias.name.value
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else original
            self._bind(local)
            if root is not None:
                info.names[local] = (root, original)
            elif statement.module is not None:
                level = len(statement.relative) if statement.relative else 0
                info.imported[local] = (self._code(statement.module), original, level)

    def _constant(self, node: cst.Name) -> Any:
        info = self.module_info
        name = node.value
        if name in self._configs:
            from .configs import as_config_value

            value = self._configs[name]
            if value is _UNRESOLVED:
                raise UnresolvedConfig(node, f"the config `{name}` has no value the compiler could read (see the error "
                                      "at its Config(...))")
            return as_config_value(value)
        class_node = self._class_scope.get(name)
        if class_node is not None and name not in self._evaluating:
            # ``CPUS = 4`` in the class body, then ``@resources(cpu=CPUS)``: Python
            # evaluates a method's decorators in the class namespace.
            self._evaluating.add(name)
            try:
                return self.evaluate(class_node)
            except NotStatic as exc:
                raise NotStatic(node, f"the class constant `{name}` cannot be evaluated statically "
                                      f"({exc.reason})") from None
            finally:
                self._evaluating.discard(name)
        if class_node is None and name in self._class_counts:
            # Bound in the class body, so that binding (not a module constant) is what
            # Python would use here; it just is not a single plain constant.
            if self._class_counts[name] > 1:
                why = "is assigned more than once in the class body"
            else:
                why = "is not assigned a static value in the class body (methods, classes and imports are not constants)"
            raise NotStatic(node, f"`{name}` {why}; allowed: {ALLOWED}")
        if name in info.constants:
            return info.constants[name]
        value_node = info.constant_nodes.get(name)
        if value_node is None and name in info.imported and info.binding_counts.get(name, 0) == 1:
            return self._sibling_constant(node, *info.imported[name])
        if value_node is None or name in self._evaluating:
            if name in info.functions:
                why = "is a function"
            elif info.binding_counts.get(name, 0) > 1:
                why = "is assigned more than once at module level"
            elif info.binding_counts.get(name, 0) == 1:
                why = "is not assigned a static value at module level (imports and definitions are not constants)"
            else:
                why = "is not defined at module level"
            raise NotStatic(node, f"`{name}` {why}; allowed: {ALLOWED}")
        self._evaluating.add(name)
        try:
            value = self.evaluate(value_node)
        except NotStatic as exc:
            raise NotStatic(node, f"the module constant `{name}` cannot be evaluated statically "
                                  f"({exc.reason})") from None
        finally:
            self._evaluating.discard(name)
        info.constants[name] = value
        return value

    def _sibling_constant(self, node: cst.Name, module: str, name: str, level: int) -> Any:
        """``from settings import CPU`` where settings.py sits beside the flow file: its
        constant, read from its source (never imported) by the same rules as ours."""
        import os

        base = os.path.dirname(os.path.abspath(self.file))
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
                sibling = Extractor(text or "", path)
                parsed, sibling._positions = parse_with_positions(text or "")
                sibling._module_node = parsed
                sibling._scan_module(parsed)
            except (OSError, cst.ParserSyntaxError) as exc:
                raise NotStatic(node, f"`{module}` cannot be read: {exc}") from None
            finally:
                _READING.discard(path)
            _SIBLINGS[key] = sibling
        try:
            return sibling._constant(cst.Name(name))
        except NotStatic as exc:
            raise NotStatic(node, f"`{node.value}` (from {module}.py): {exc.reason}") from None

    def _call_function(self, node: cst.Call) -> Any:
        """A call of a module-level function without parameters whose body only binds static
        values and returns one (``def get_python_version(): versions = {...}; return
        versions[platform.python_version_tuple()[0]]``): its value, evaluated here."""
        func = self.module_info.function_nodes.get(node.func.value)
        short = self.evaluate._short(node)
        params = func.params if func is not None else None
        if func is None or node.args or params.params or isinstance(params.star_arg, cst.Param) \
                or params.kwonly_params or params.star_kwarg is not None or params.posonly_params or func.decorators:
            raise NotStatic(node, f"`{short}` is a call, which cannot be evaluated statically; allowed: {ALLOWED}")
        local: dict[str, Any] = {}
        statements = [small for line in func.body.body
                      for small in (line.body if isinstance(line, cst.SimpleStatementLine) else [line])]

        def constant(name_node: cst.Name):
            if name_node.value in local:
                return local[name_node.value]
            return self._constant(name_node)

        evaluate = Evaluator(constant, self._code, self._pure_call)
        for index, statement in enumerate(statements):
            if index == 0 and isinstance(statement, cst.Expr) and isinstance(statement.value, (cst.SimpleString,
                                                                                                cst.ConcatenatedString)):
                continue  # docstring
            if isinstance(statement, cst.Import) and all(self._code(a.name) in _KNOWN_MODULES and a.asname is None
                                                          for a in statement.names):
                for alias in statement.names:
                    self.module_info.modules.setdefault(self._code(alias.name), self._code(alias.name))
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

    def _hook_name(self, node: cst.Name) -> Any:
        info = self.module_info
        if node.value in info.functions and node.value not in self._class_scope:
            return node.value
        return self._constant(node)

    def _pure_call(self, node: cst.Call) -> Any:
        """``json.dumps(<static value>)`` (optionally sort_keys=/indent=); nothing else."""
        ref = self.resolve(node.func)
        if ref is not None and ref[1] == "config_expr" and ref[0] in API_ROOTS:
            return self._config_expr(node)
        if (isinstance(node.func, cst.Name) and node.func.value in _PURE_BUILTINS
                and self.module_info.binding_counts.get(node.func.value, 0) == 0 and len(node.args) == 1
                and node.args[0].keyword is None and not node.args[0].star):
            # ``config_expr("str(config.value)")``: a conversion of a static value.
            from .configs import plain

            value = plain(self.evaluate(node.args[0].value))
            try:
                return _PURE_BUILTINS[node.func.value](value)
            except (TypeError, ValueError) as exc:
                raise NotStatic(node, f"`{self.evaluate._short(node)}` fails: {exc}") from None
        if ref is not None and ref[0] in _KNOWN_MODULES and (ref[0], ref[1]) in _KNOWN_HELPERS and not node.args:
            return _KNOWN_HELPERS[(ref[0], ref[1])]()
        if isinstance(node.func, cst.Name) and node.func.value in self.module_info.function_nodes \
                and self.module_info.binding_counts.get(node.func.value, 0) == 1:
            return self._call_function(node)
        if ref == ("json", "dumps"):
            positional = [a for a in node.args if a.keyword is None]
            keywords = {a.keyword.value: a for a in node.args if a.keyword is not None}
            if len(positional) == 1 and not any(a.star for a in node.args) and set(keywords) <= {"sort_keys", "indent"}:
                value = self.evaluate(positional[0].value)
                options = {k: self.evaluate(a.value) for k, a in keywords.items()}
                try:
                    return json.dumps(value, **options)
                except (TypeError, ValueError) as exc:
                    raise NotStatic(node, f"json.dumps fails here: {exc}") from None
        raise NotStatic(node, f"`{self.evaluate._short(node)}` is a call, which cannot be evaluated statically; "
                              f"allowed: {ALLOWED}")

    def _config_expr(self, node: cst.Call) -> Any:
        """``config_expr("cfg.a + 1")``: the expression text, parsed and evaluated here."""
        if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
            raise NotStatic(node, "config_expr() takes one string: the expression over the configs")
        text = self.evaluate(node.args[0].value)
        if not isinstance(text, str):
            raise NotStatic(node.args[0], "config_expr() takes a string")
        try:
            expression = cst.parse_expression(text)
        except cst.ParserSyntaxError:
            raise NotStatic(node.args[0], f"config_expr({text!r}) is not a Python expression") from None
        try:
            return self.evaluate(expression)
        except NotStatic as exc:
            problem = exc
        if isinstance(problem, UnresolvedConfig) or self._flow_class_name is None:
            raise NotStatic(node, f"config_expr({text!r}) cannot be evaluated statically: {problem.reason}")
        # An expression over the configs that calls the flow's own code (``config_expr("helper(cfg)")``):
        # Metaflow evaluates it in the flow module's globals; so does the launch process.
        from .configs import as_config_value
        from .launch import LaunchFailure

        try:
            value = self.launch_values().expression(text, {c.name: (c.value, c.plain) for c in self._config_specs})
        except LaunchFailure as failure:
            raise NotStatic(node, f"config_expr({text!r}), evaluated at launch (it is not static: "
                                  f"{problem.reason}): {failure.describe()}") from None
        return as_config_value(value)

    def _read_configs(self, lineage: list[cst.ClassDef], graph: FlowGraph) -> None:
        """Every ``attr = Config(...)`` of the flow's classes, resolved before anything uses them."""
        from .configs import LaunchInputs, check_names, launch_inputs, no_configs_inputs, read_config

        inputs, failed = None, False
        for klass in lineage:
            for statement in _class_statements(klass):
                if not (isinstance(statement, cst.Assign) and len(statement.targets) == 1
                        and isinstance(statement.targets[0].target, cst.Name)
                        and isinstance(statement.value, cst.Call)):
                    continue
                ref = self.resolve(statement.value.func)
                if ref is None or ref[1] != "Config":
                    continue
                attr = statement.targets[0].target
                if inputs is None:  # read once, and only for a flow with configs (as Metaflow's options)
                    try:
                        inputs = launch_inputs(self, self._module_node)
                    except NotStatic as exc:
                        self.error(rules.CONFIG, exc.reason, exc.node if exc.node is not None else attr)
                        inputs = LaunchInputs()
                try:
                    spec = read_config(self, attr, statement.value, inputs)
                except NotStatic as exc:
                    self.error(rules.CONFIG, exc.reason, exc.node if exc.node is not None else attr)
                    self._configs[attr.value] = _UNRESOLVED
                    failed = True
                    continue
                graph.configs = [c for c in graph.configs if c.attr != spec.attr] + [spec]
                self._config_specs = graph.configs
                self._configs[spec.attr] = spec.value
                self._configs[spec.name] = spec.value
        if inputs is None:
            inputs = no_configs_inputs()
        problem = check_names(inputs, graph.configs) if not failed else None
        if problem is not None:
            self.error(rules.CONFIG, problem[1], problem[0] if problem[0] is not None else graph.span)

    # -- references to the API ------------------------------------------------
    def resolve(self, expr: cst.BaseExpression) -> tuple[str | None, str] | None:
        """``(root package or None if unknown, API name)`` for a Name/Attribute reference."""
        info = self.module_info
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

    def _is_api(self, expr: cst.BaseExpression, name: str) -> bool:
        ref = self.resolve(expr)
        return ref is not None and ref[1] == name

    # -- the flow class -------------------------------------------------------
    def _pick_flow(self, module: cst.Module, wanted: str | None):
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
                ref = self.resolve(arg.value)
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
                self.error(rules.FLOW_NOT_FOUND, msg, Span(self.file, 1, 1))
                raise _Fatal
            chosen = wanted
        else:
            used_as_base = {b for bases in bases_of.values() for b in bases}
            leaves = [name for name in flows if name not in used_as_base]
            if not leaves:
                message = ("no flow found: define a class that subclasses FlowSpec "
                           "(imported from sfncompile or metaflow) with @step methods")
                where = Span(self.file, 1, 1)
                foreign = self._foreign_base(all_classes)
                if foreign is not None:
                    cls_node, base = foreign
                    message += (f"; class {cls_node.name.value} derives from `{self._code(base)}`, which is not "
                                "defined in this file and the compiler never imports code: define the base flow "
                                "class in this file or subclass FlowSpec directly")
                    where = self.span(base)
                self.error(rules.NO_FLOW, message, where)
                raise _Fatal
            if len(leaves) > 1:
                self.error(rules.SEVERAL_FLOWS,
                           f"this file defines {len(leaves)} flows ({', '.join(leaves)}); choose one with "
                           f"--flow NAME (flow=NAME)", flows[leaves[1]].name)
                raise _Fatal
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
        self._imported_from = roots.get(chosen, "sfncompile")
        return flows[chosen], lineage

    def _foreign_base(self, classes: dict[str, cst.ClassDef]):
        """A class whose base comes from another module and could be a flow (for the hint)."""
        for cls_node in classes.values():
            has_steps = any(isinstance(stmt, cst.FunctionDef) and self._step_decorator_index(stmt) is not None
                            for stmt in _class_statements(cls_node))
            if not has_steps:
                continue
            for arg in cls_node.bases:
                if arg.keyword is None and not (isinstance(arg.value, cst.Name) and arg.value.value in classes):
                    return cls_node, arg.value
        return None

    def _step_decorator_index(self, func: cst.FunctionDef) -> int | None:
        for index, dec in enumerate(func.decorators):
            expr = dec.decorator
            target = expr.func if isinstance(expr, cst.Call) else expr
            if self._is_api(target, "step"):
                return index
        return None

    def _read_flow(self, cls: cst.ClassDef, lineage: list[cst.ClassDef]) -> FlowGraph:
        graph = FlowGraph(name=cls.name.value, file=self.file, span=self.span(cls.name),
                          imported_from=self._imported_from)
        graph.docstring = _docstring(cls)
        self._flow_class_name = cls.name.value
        self._read_configs(lineage, graph)
        for dec in cls.decorators:
            if self._is_user_code(dec.decorator):
                graph.user_decorators.append(self._code(_decorator_target(dec.decorator)))
            else:
                deco = self._decorator(dec)
                if deco is not None:
                    graph.decorators.append(deco)
        params: dict[str, ParameterSpec] = {}
        for klass in lineage:
            self._class_scope = _class_constants(klass)
            self._class_counts = _class_binding_counts(klass)
            self._class_names = set()
            defined_here: set[str] = set()
            for statement in _class_statements(klass):
                bound = _class_bound_names(statement)
                if isinstance(statement, cst.FunctionDef):
                    name = statement.name.value
                    if name in defined_here:
                        self.error(rules.DUPLICATE_DEFINITION,
                                   f"`{name}` is defined twice in class {klass.name.value}; Python keeps only "
                                   "this later definition: rename or remove one", statement.name, severity=WARNING)
                    defined_here.add(name)
                    step = self._step(statement)
                    if step is None:
                        graph.steps.pop(name, None)
                        graph.class_attrs[name] = self.span(statement.name)
                    else:
                        graph.steps.pop(name, None)  # an override keeps the override's position
                        graph.steps[name] = step
                        graph.class_attrs.pop(name, None)
                elif isinstance(statement, (cst.Assign, cst.AnnAssign)) and any(
                        c.attr in bound for c in graph.configs) and len(bound) == 1:
                    params.pop(bound[0], None)
                    graph.class_attrs.pop(bound[0], None)
                elif isinstance(statement, (cst.Assign, cst.AnnAssign)):
                    param = self._parameter(statement)
                    if param is not None:
                        params[param.attr] = param
                        graph.class_attrs.pop(param.attr, None)
                        self._class_names.update(bound)
                        continue
                    targets = statement.targets if isinstance(statement, cst.Assign) else [statement]
                    for target in targets:
                        for name_node in _target_name_nodes(target.target):
                            graph.class_attrs.setdefault(name_node.value, self.span(name_node))
                            params.pop(name_node.value, None)
                elif isinstance(statement, cst.ClassDef):
                    graph.class_attrs.setdefault(statement.name.value, self.span(statement.name))
                self._class_names.update(bound)
        self._class_scope = {}
        self._class_counts = {}
        self._class_names = set()
        graph.parameters = list(params.values())
        from .mutators import applied_mutators, message

        for dec, kind, name, where in applied_mutators(self, cls, lineage):
            self.error(rules.MUTATOR, message(kind, name, where), dec.decorator)
        graph.constants = dict(self.module_info.constants)
        graph.module_functions = sorted(self.module_info.functions)
        return graph

    # -- steps ----------------------------------------------------------------
    def _step(self, func: cst.FunctionDef) -> StepNode | None:
        step_index = self._step_decorator_index(func)
        if step_index is None:
            return None
        annotation: dict[str, bool] = {}
        step_expr = func.decorators[step_index].decorator
        if isinstance(step_expr, cst.Call):
            annotation = self._step_annotation(step_expr)
        params = list(func.params.posonly_params) + list(func.params.params)
        receiver = params[0].name.value if params else "self"
        node = StepNode(name=func.name.value, span=self.span(func.name), num_args=len(params))
        node.is_join = node.num_args > 1
        node.docstring = _docstring(func)
        node.step_annotation = annotation
        for index, dec in enumerate(func.decorators):
            if index == step_index:
                continue
            if self._is_user_code(dec.decorator):
                # Runs when the runtime imports the flow, as under Metaflow; not ours to read.
                node.user_decorators.append(self._code(_decorator_target(dec.decorator)))
                continue
            deco = self._decorator(dec)
            if deco is None:
                continue
            if index > step_index and self._is_step_decorator(dec.decorator):
                self.error(rules.DECORATOR_BELOW_STEP,
                           f"@{deco.name} is below @step; step decorators must be placed above @step",
                           dec.decorator)
            node.decorators.append(deco)
        facts = analyse_body(func, receiver, self.span)
        node.next_calls = [self.span(call) for call in facts.next_calls]
        node.next_not_last = facts.next_not_last
        node.next_missing_on_some_path = facts.next_missing_on_some_path
        if facts.next_missing_at is not None:
            node.next_missing_at = self._statement_span(facts.next_missing_at)
        node.assigned_attrs = facts.assigned_attrs
        node.guarded_attrs = sorted(facts.guarded_attrs)
        if facts.transition_call is not None:
            node.transition = self._transition(facts.transition_call, receiver)
        return node

    def _statement_span(self, node: cst.CSTNode) -> Span:
        """A statement's span starting at its first token: a compound statement's
        own range starts with the comments and blank lines above it and its indentation."""
        span = self.span(node)
        if not hasattr(node, "leading_lines"):
            return span  # a small statement (``return``) starts where its range does
        line = span.line + len(node.leading_lines)
        if self._lines is None:  # split once per file, not once per call
            self._lines = re.split(r"\r\n?|\n", self.text)  # as libcst counts lines (not str.splitlines)
        lines = self._lines
        text = lines[line - 1] if line <= len(lines) else ""
        return Span(self.file, line, len(text) - len(text.lstrip()) + 1, span.end_line, span.end_col)

    def _is_user_code(self, expr: cst.BaseExpression) -> bool:
        """The decorator is the user's own: its root name is bound in the flow file
        (a def, an assignment, an import from a module other than metaflow/sfncompile)
        or earlier in the class body. Names imported from metaflow/sfncompile, and
        names bound nowhere, are not: the lint judges those by name."""
        root = _decorator_target(expr)
        while True:
            if isinstance(root, (cst.Attribute, cst.Subscript)):
                root = root.value
            elif isinstance(root, cst.Call):
                root = root.func
            else:
                break
        if not isinstance(root, cst.Name):
            return False
        name = root.value
        info = self.module_info
        if name in self._class_names:
            return True
        if name in info.names or name in info.modules:
            return False
        return info.binding_counts.get(name, 0) > 0

    def _is_step_decorator(self, expr: cst.BaseExpression) -> bool:
        """One of Metaflow's/our step decorators (not the user's own function decorator)."""
        target = expr.func if isinstance(expr, cst.Call) else expr
        ref = self.resolve(target)
        if ref is None:
            return False
        root, name = ref
        return root in API_ROOTS or (root is None and name in KNOWN_STEP_DECORATORS)

    def _step_annotation(self, call: cst.Call) -> dict[str, bool]:
        out: dict[str, bool] = {}
        for arg in call.args:
            if arg.keyword is None or arg.keyword.value not in ("start", "end"):
                self.error(rules.DECORATOR_ARGUMENT,
                           "@step takes only start=True and/or end=True", arg)
                continue
            try:
                value = self.evaluate(arg.value)
            except NotStatic as exc:
                self.error(rules.DECORATOR_ARGUMENT, f"@step({arg.keyword.value}=...): {exc.reason}", exc.node)
                continue
            out[arg.keyword.value] = bool(value)
        return out

    def _decorator(self, dec: cst.Decorator) -> Decorator | None:
        expr = dec.decorator
        call = expr if isinstance(expr, cst.Call) else None
        target = call.func if call is not None else expr
        if isinstance(target, cst.Name):
            name = target.value
        elif isinstance(target, cst.Attribute):
            name = target.attr.value
        else:
            self.error(rules.DECORATOR_FORM,
                       "a decorator must be a name or a call such as @retry or @retry(times=2)", expr)
            return None
        ref = self.resolve(target)
        if ref is not None:
            name = ref[1]  # ``from metaflow import retry as r`` → "retry"
        deco = Decorator(name=name, span=self.span(expr))
        if call is None:
            return deco
        for arg in call.args:
            if arg.star == "**":
                # ``@environment(**config)``: a dict (a config's, or a constant's) spread into keywords.
                try:
                    spread = self.evaluate(arg.value)
                except NotStatic as exc:
                    self.error(rules.DECORATOR_ARGUMENT, f"@{name}(**...): {exc.reason}", exc.node)
                    continue
                if not isinstance(spread, dict):
                    self.error(rules.DECORATOR_ARGUMENT, f"@{name}(**...) needs a dict of arguments", arg)
                    continue
                from .configs import plain

                deco.args.update(plain(spread))
                continue
            if arg.star:
                self.error(rules.DECORATOR_ARGUMENT,
                           f"@{name}: *args/**kwargs cannot be evaluated statically; write the arguments out", arg)
                continue
            hooks = name == "exit_hook" and arg.keyword is not None and arg.keyword.value in HOOK_ARGUMENTS
            try:
                value = (self.evaluate_hooks if hooks else self.evaluate)(arg.value)
            except NotStatic as exc:
                label = f"{arg.keyword.value}=" if arg.keyword is not None else "argument "
                self.error(rules.DECORATOR_ARGUMENT, f"@{name}({label}...): {exc.reason}", exc.node)
                continue
            if arg.keyword is None:
                deco.positional.append(value)
            else:
                from .configs import plain

                deco.args[arg.keyword.value] = plain(value)
        return deco

    def _transition(self, call: cst.Call, receiver: str) -> Transition:
        t = Transition(span=self.span(call))
        problems: list[str] = []
        positional = [a for a in call.args if a.keyword is None]
        for arg in call.args:
            if arg.star:
                problems.append("*args/**kwargs are not allowed in self.next()")
        keywords = {a.keyword.value: a for a in call.args if a.keyword is not None}
        t.unknown_keywords = [k for k in keywords if k not in TRANSITION_KEYWORDS]
        if positional and isinstance(positional[0].value, cst.Dict):
            t.switch_cases = {}
            dict_node = positional[0].value
            for element in dict_node.elements:
                if isinstance(element, cst.StarredDictElement):
                    problems.append("switch cases cannot be unpacked with **")
                    continue
                try:
                    key = self.evaluate(element.key)
                except NotStatic:
                    problems.append(f"switch case key `{self._code(element.key)}` must be a string or number literal")
                    continue
                if isinstance(key, (list, dict)) or key is None:
                    problems.append(f"switch case key `{self._code(element.key)}` must be a string or number literal")
                    continue
                target = _self_attr(element.value, receiver)
                if target is None:
                    problems.append(f"switch case value `{self._code(element.value)}` must be a step, e.g. self.{'a'}")
                    continue
                t.switch_cases[str(key) if not isinstance(key, str) else key] = target
            t.targets = list(t.switch_cases.values())
            if len(positional) > 1:
                problems.append("a switch takes one dict of cases")
            if "condition" not in keywords:
                problems.append('a switch needs condition="attribute" naming the artifact to switch on')
        else:
            for arg in positional:
                target = _self_attr(arg.value, receiver)
                if target is None:
                    problems.append(f"`{self._code(arg.value)}` is not a step; transitions are written self.step_name")
                else:
                    t.targets.append(target)
            if not positional:
                problems.append("self.next() needs at least one step")
            if "condition" in keywords:
                problems.append("condition= is only for a switch: self.next({\"case\": self.a, ...}, condition=\"attr\")")
        if "foreach" in keywords:
            value = keywords["foreach"].value
            if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
                try:
                    t.foreach = self.evaluate(value)
                except NotStatic:
                    t.foreach_is_literal = False
                    t.foreach = self._code(value)
            else:
                t.foreach_is_literal = False
                t.foreach = self._code(value)
        if "num_parallel" in keywords:
            value = keywords["num_parallel"].value
            attr = _self_attr(value, receiver)
            if attr is not None:
                t.num_parallel = attr
            else:
                try:
                    t.num_parallel = self.evaluate(value)
                except NotStatic:
                    t.num_parallel = self._code(value)
                    problems.append("num_parallel= must be an integer or self.<parameter>")
        if "condition" in keywords:
            value = keywords["condition"].value
            try:
                cond = self.evaluate(value)
            except NotStatic:
                cond = None
            if isinstance(cond, str) and isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
                t.condition = cond
            else:
                # Not malformed (the call is readable): lint refuses it by this field.
                t.condition_is_literal = False
                t.condition = self._code(value)
        if "foreach" in keywords and "num_parallel" in keywords:
            problems.append("foreach= and num_parallel= cannot be combined")
        if ("foreach" in keywords or "num_parallel" in keywords) and len(t.targets) != 1:
            problems.append("a foreach or num_parallel transition goes to exactly one step")
        if t.unknown_keywords:
            problems.append("unknown keyword(s) " + ", ".join(f"{k}=" for k in t.unknown_keywords)
                            + "; self.next accepts foreach=, num_parallel= and condition=")
        if problems:
            t.malformed = "; ".join(dict.fromkeys(problems))
        return t

    # -- parameters -----------------------------------------------------------
    def _parameter(self, statement) -> ParameterSpec | None:
        if isinstance(statement, cst.Assign):
            if len(statement.targets) != 1 or not isinstance(statement.targets[0].target, cst.Name):
                return None
            attr_node, value = statement.targets[0].target, statement.value
        else:
            if not isinstance(statement.target, cst.Name) or statement.value is None:
                return None
            attr_node, value = statement.target, statement.value
        if not isinstance(value, cst.Call):
            return None
        ref = self.resolve(value.func)
        if ref is None or ref[1] not in PARAMETER_CALLS:
            return None
        kind = ref[1]
        spec = ParameterSpec(attr=attr_node.value, name=attr_node.value, type="file" if kind == "IncludeFile" else "str",
                             kind=kind, span=self.span(attr_node))
        order = PARAMETER_KEYWORDS[kind]
        given: dict[str, cst.Arg] = {}
        for index, arg in enumerate(value.args):
            if arg.star:
                self.error(rules.PARAMETER, f"{kind}(): *args/**kwargs cannot be read statically; write them out", arg)
                continue
            if arg.keyword is not None:
                given[arg.keyword.value] = arg
            elif index < len(order):
                given[order[index]] = arg
            else:
                self.error(rules.PARAMETER, f"{kind}() takes at most {len(order)} positional arguments", arg)
        name_arg = given.get("name")
        if name_arg is None:
            self.error(rules.PARAMETER, f'{kind}() needs a name: {kind}("{attr_node.value}", ...)', value)
        else:
            name = self._static(name_arg.value, f"{kind}(name=...)")
            if isinstance(name, str):
                spec.name = name
            elif name is not _NOT_STATIC:
                self.error(rules.PARAMETER, f"{kind}() name must be a string", name_arg.value)
        explicit_type = None
        if "type" in given:
            explicit_type = self._parameter_type(given["type"].value)
        if "default" in given:
            default_node = given["default"].value
            if isinstance(default_node, cst.Lambda) or (
                isinstance(default_node, cst.Name) and default_node.value in self.module_info.functions
            ):
                spec.default_is_function = True
                spec.has_default = True
            else:
                try:
                    default = self.evaluate(default_node)
                except NotStatic:
                    # e.g. default=script_path("movies.csv") (Metaflow's tutorial):
                    # the runtime imports the flow module and evaluates it there,
                    # exactly when Metaflow would; the compiler only cannot see it.
                    spec.default_is_function = True
                    spec.has_default = True
                    if kind == "Parameter" and "type" not in given:
                        self.error(rules.RUNTIME_DEFAULT,
                                   f"the default `{self._code(default_node)}` of parameter '{spec.name}' is computed "
                                   "when the flow module is imported at run time, so its type is taken as str; "
                                   "add type=int/float/bool/JSONType if it is not a string",
                                   default_node, severity=WARNING)
                else:
                    spec.default = default
                    spec.has_default = default is not None
        for key, target in (("help", "help"), ("separator", "separator")):
            if key in given:
                try:
                    value_ = self.evaluate(given[key].value)
                except NotStatic as exc:
                    # Only shown in help texts: not worth failing the build for.
                    self.error(rules.PARAMETER_KEYWORD, f"{kind}({key}=...) is ignored: {exc.reason}", exc.node,
                               severity=WARNING)
                    continue
                if value_ is not None:
                    setattr(spec, target, str(value_))
        if "required" in given:
            required = self._static(given["required"].value, f"{kind}(required=...)")
            if required is not _NOT_STATIC:
                spec.required = bool(required)
        for key in given:
            if key not in order and key not in KNOWN_PARAMETER_KEYWORDS:
                self.error(rules.PARAMETER_KEYWORD, f"{kind}(): unknown keyword {key}= is ignored", given[key],
                           severity=WARNING)
        if kind == "IncludeFile":
            spec.type = "file"
        elif explicit_type is not None:
            spec.type = explicit_type
        elif spec.has_default and not spec.default_is_function:
            spec.type = _type_of(spec.default)
        return spec

    def _parameter_type(self, node: cst.BaseExpression) -> str | None:
        ref = self.resolve(node)
        name = None
        if isinstance(node, cst.Name) and node.value in ("str", "int", "float", "bool"):
            name = node.value
        elif ref is not None and ref[1] == "JSONType":
            name = "JSONType"
        if name is None:
            self.error(rules.PARAMETER, f"Parameter type `{self._code(node)}` is not supported; "
                                        "use str, int, float, bool or JSONType", node)
            return None
        return TYPE_NAMES[name]

    def _static(self, node: cst.BaseExpression, what: str, hint: str = ""):
        try:
            return self.evaluate(node)
        except NotStatic as exc:
            self.error(rules.PARAMETER, f"{what}: {exc.reason}{hint}", exc.node)
            return _NOT_STATIC


_NOT_STATIC = object()
# Helpers whose value the compiler may compute: the deploying Python's version, as Metaflow
# evaluates such decorator arguments in the deploying process.
_KNOWN_MODULES = ("platform", "sys")
_KNOWN_HELPERS = {("platform", "python_version"): lambda: __import__("platform").python_version(),
                  ("platform", "python_version_tuple"): lambda: list(__import__("platform").python_version_tuple())}
# Sibling modules already read (path -> their Extractor), and the ones being read (cycles).
_SIBLINGS: dict[tuple, "Extractor"] = {}
_READING: set[str] = set()
_UNRESOLVED = object()  # a config whose value could not be read (already reported)
# Conversions a config expression may apply (``config_expr("str(config.value)")``).
_PURE_BUILTINS = {"str": str, "int": int, "float": float, "bool": bool}


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, (dict, list)):
        return "json"
    return "str"


def _docstring(node) -> str | None:
    try:
        doc = node.get_docstring(clean=True)
    except Exception:  # an odd literal (bytes, f-string) is simply not a docstring
        return None
    return doc or None


def _self_attr(node: cst.BaseExpression, receiver: str) -> str | None:
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == receiver:
        return node.attr.value
    return None


def _class_statements(cls: cst.ClassDef):
    body = cls.body
    if isinstance(body, cst.SimpleStatementSuite):
        yield from body.body
        return
    for statement in body.body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body
        else:
            yield statement


def _decorator_target(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``timed`` for ``@timed`` and ``@timed(label="x")``."""
    return expr.func if isinstance(expr, cst.Call) else expr


def _class_bound_names(statement) -> list[str]:
    """Names a class-body statement binds in the class namespace."""
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return [statement.name.value]
    if isinstance(statement, cst.Assign):
        return [name for target in statement.targets for name in _target_names(target.target)]
    if isinstance(statement, (cst.AnnAssign, cst.AugAssign)):
        return _target_names(statement.target)
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
    for statement in _class_statements(cls):
        weight = 2 if isinstance(statement, cst.AugAssign) else 1
        for name in _class_bound_names(statement):
            counts[name] = counts.get(name, 0) + weight
    return counts


def _class_constants(cls: cst.ClassDef) -> dict[str, cst.BaseExpression]:
    """Names bound exactly once in the class body by a plain ``NAME = value``."""
    counts: dict[str, int] = {}
    values: dict[str, cst.BaseExpression] = {}
    for statement in _class_statements(cls):
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            counts[statement.name.value] = counts.get(statement.name.value, 0) + 1
        elif isinstance(statement, cst.Assign):
            for target in statement.targets:
                for name in _target_names(target.target):
                    counts[name] = counts.get(name, 0) + 1
            if len(statement.targets) == 1 and isinstance(statement.targets[0].target, cst.Name):
                values[statement.targets[0].target.value] = statement.value
        elif isinstance(statement, (cst.AnnAssign, cst.AugAssign)):
            for name in _target_names(statement.target):
                counts[name] = counts.get(name, 0) + (1 if isinstance(statement, cst.AnnAssign) else 2)
            if isinstance(statement, cst.AnnAssign) and isinstance(statement.target, cst.Name) and statement.value:
                values[statement.target.value] = statement.value
    return {name: value for name, value in values.items() if counts.get(name) == 1}


def _module_level_statements(body):
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


def _target_name_nodes(target) -> list[cst.Name]:
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


def _target_names(target) -> list[str]:
    return [n.value for n in _target_name_nodes(target)]
