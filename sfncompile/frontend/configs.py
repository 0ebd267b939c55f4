"""``Config`` at compile time: each config's value, read as Metaflow reads it at
launch, so decorator arguments that use it (``@resources(cpu=config.cpu)``,
``@project(name=config_expr("cfg").name)``, ``@environment(**cfg)``) compile
into the state machine and job definitions, and the steps see the same value
(``graph.json`` carries it).

The value, in Metaflow's order: the launch's ``--config-value NAME JSON`` /
``--config NAME PATH`` options (``LaunchInputs``); each option, when not
given, from its environment variable, ``METAFLOW_FLOW_CONFIG_VALUE`` (JSON:
name → value) or ``METAFLOW_FLOW_CONFIG`` (JSON: name → file), as set by the
flow module itself at import (a literal top-level ``os.environ[...] = ...`` read
from the source, any other form by importing the module at launch; Metaflow's
launcher imports it before it reads them) or else by the launching
environment; else the ``default=`` file (relative to the working directory,
then to the flow file's folder), parsed as JSON; else ``default_value=`` (a
static dict or JSON text). What needs the flow's own code (a ``parser=``
function, a function default, an expression only running the module gives,
the variables set by the module in a form the source does not settle) is
evaluated at launch in a child process that imports the flow
(``frontend.launch``), as Metaflow's launcher evaluates it; this process never
runs it.

``read_configs`` reads every ``Config(...)`` of the flow's classes before any
other part of the flow is read: a config's value is a name's value
(``frontend.names``) for the decorators, parameters and steps that use it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from ..ir import ConfigSpec, FlowGraph
from . import rules
from .evaluate import NotStatic
from .flow_class import class_statements
from .launch import LaunchFailure
from .launch_options import CLI_OPTIONS
from .module_scope import module_level_statements
from .state import UNRESOLVED_CONFIG, ReadState

CONFIG_KEYWORDS = ("name", "default", "default_value", "help", "required", "parser", "plain")
ENV_VALUES = "METAFLOW_FLOW_CONFIG_VALUE"
ENV_FILES = "METAFLOW_FLOW_CONFIG"


class ConfigDict(dict):
    """A config's (nested) mapping during static evaluation: ``cfg.a`` and ``cfg["a"]`` both read it."""


def as_config_value(value: Any) -> Any:
    if isinstance(value, dict) and not isinstance(value, ConfigDict):
        return ConfigDict({k: as_config_value(v) for k, v in value.items()})
    if isinstance(value, list):
        return [as_config_value(v) for v in value]
    return value


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@dataclass
class LaunchInputs:
    """The configs' values and files this launch gives (name → JSON text / path), and where each
    map came from (an option, an environment variable, the flow module's assignment)."""

    values: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    value_origin: str = ENV_VALUES
    file_origin: str = ENV_FILES
    nodes: dict[str, Any] = field(default_factory=dict)  # origin -> the module statement that set it
    # Values already resolved by an earlier launch (a resume keeps its origin run's configs, as
    # Metaflow's does): name -> value, used as is, before anything else (no file, parser or default).
    resolved: dict[str, Any] = field(default_factory=dict)


def _as_texts(mapping: dict) -> dict[str, str]:
    # Metaflow reads a non-string value of the environment map as its JSON text.
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in mapping.items()}


def _json_map(text: str, origin: str, node) -> dict[str, str]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise NotStatic(node, f"{origin} is not JSON ({exc}); it must map config names to values") from None
    if not isinstance(value, dict):
        raise NotStatic(node, f"{origin} must be a JSON object: config name -> value")
    return _as_texts(value)


def _cli_options() -> dict:
    text = os.environ.get(CLI_OPTIONS)
    return json.loads(text) if text else {}


def launch_inputs(state: ReadState, module: cst.Module) -> LaunchInputs:
    """Metaflow's resolution of ``--config-value``/``--config``: an option given on the command line
    replaces its environment variable entirely (click's ``envvar``); the flow module's own
    assignment replaces the launching environment's value. Raises NotStatic."""
    cli = _cli_options()
    try:
        assigned = module_environment(state, module)
    except NotStatic as exc:
        assigned = _imported_environment(state, exc)
    inputs = LaunchInputs(resolved=dict(cli.get("resolved") or {}))
    for key, env_name, option in (("config_value", ENV_VALUES, "--config-value"), ("config", ENV_FILES, "--config")):
        pairs = cli.get(key) or []
        if pairs:
            mapping, origin, node = {name: text for name, text in pairs}, option, None
        elif env_name in assigned:
            text, node = assigned[env_name]
            origin = f"os.environ[{env_name!r}] (set by the flow module at line {state.span(node).line})"
            mapping = _json_map(text, origin, node)
        elif os.environ.get(env_name):
            node, origin = None, env_name
            mapping = _json_map(os.environ[env_name], origin, None)
        else:
            continue
        if key == "config_value":
            inputs.values, inputs.value_origin = mapping, origin
        else:
            inputs.files, inputs.file_origin = mapping, origin
        if node is not None:
            inputs.nodes[origin] = node
    both = sorted(set(inputs.values) & set(inputs.files))
    if both:
        raise NotStatic(inputs.nodes.get(inputs.value_origin) or inputs.nodes.get(inputs.file_origin),
                        f"cannot give both a value ({inputs.value_origin}) and a file ({inputs.file_origin}) for "
                        f"the same configuration: {', '.join(both)} (Metaflow refuses it too)")
    return inputs


def _imported_environment(state: ReadState, problem: NotStatic) -> dict[str, tuple[str, Any]]:
    """The variables as the flow module sets them when imported (``problem``: why the source
    alone does not say), read from the launch process that imports it, as Metaflow's launcher
    reads them after importing the module. A value the module did not change is the launching
    environment's, read as such by the caller."""
    try:
        found = state.launch_values().environ((ENV_VALUES, ENV_FILES))
    except LaunchFailure as failure:
        raise NotStatic(problem.node, f"{problem.reason.split(';')[0]}; reading it by importing the flow at launch "
                                      f"failed: {failure.describe()}") from None
    return {name: (text, problem.node) for name, text in found.items()
            if text is not None and text != os.environ.get(name)}


def module_environment(state: ReadState, module: cst.Module) -> dict[str, tuple[str, Any]]:
    """``os.environ["METAFLOW_FLOW_CONFIG_VALUE"] = <static text>`` at the top of the flow module
    (Metaflow's launcher imports the module, so it sees them): name → (text, statement).

    Only an unconditional top-level assignment of a value the compiler can evaluate is read; any
    other mention of these names in the module's own code (an assignment under ``if``, a
    computed value, ``os.environ.update(...)``, ...) raises NotStatic at its position rather than
    being ignored, which would compile the flow with other configs than Metaflow's;
    ``launch_inputs`` then reads them by importing the module (``_imported_environment``)."""
    names = (ENV_VALUES, ENV_FILES)
    top_level = {id(small) for line in module.body if isinstance(line, cst.SimpleStatementLine)
                 for small in line.body}
    found: dict[str, tuple[str, Any]] = {}
    keys_read: set[int] = set()
    for statement in module_level_statements(module.body):
        if not (isinstance(statement, cst.Assign) and len(statement.targets) == 1):
            continue
        target = statement.targets[0].target
        if not (isinstance(target, cst.Subscript) and _is_environ(state, target.value)
                and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index)):
            continue
        key_node = target.slice[0].slice.value
        try:
            key = state.evaluate(key_node)
        except NotStatic:
            continue
        if key not in names:
            continue
        if id(statement) not in top_level:
            raise NotStatic(statement, f"the flow module sets {key} conditionally (in a block); the compiler "
                                       "reads only an unconditional top-level `os.environ[...] = ...`: move it "
                                       f"to the top level, or pass --config-value/--config instead")
        if key in found:
            raise NotStatic(statement, f"the flow module sets {key} twice; set it once (the compiler reads it "
                                       "without running the module)")
        try:
            value = state.evaluate(statement.value)
        except NotStatic as exc:
            raise NotStatic(exc.node, f"the flow module sets {key} to a value the compiler cannot evaluate "
                                      f"({exc.reason}); give it as a literal (JSON text or "
                                      "json.dumps({...})), or pass --config-value/--config instead") from None
        if not isinstance(value, str):
            raise NotStatic(statement.value, f"os.environ[{key!r}] must be a string (JSON text)")
        found[key] = (value, statement)
        keys_read.add(id(key_node))
    for node in _mentions(module, names):
        if id(node) not in keys_read:
            raise NotStatic(node, f"the flow module uses {state.evaluate(node)} in a way the compiler cannot "
                                  "read (it reads only an unconditional top-level `os.environ[...] = <literal>`); "
                                  "set it that way, or pass --config-value/--config instead")
    return found


def _is_environ(state: ReadState, node) -> bool:
    code = state.code(node)
    if code == "os.environ":
        return state.module_scope.binding_counts.get("os", 0) >= 1
    return code == "environ"


def _mentions(module: cst.Module, names: tuple[str, ...]) -> list[cst.SimpleString]:
    """String literals equal to one of ``names`` in the module's own code (not the flow class's
    steps, which run in tasks after the configs are fixed)."""

    class Finder(cst.CSTVisitor):
        def __init__(self):
            self.found = []

        def visit_ClassDef(self, node):
            return False

        def visit_SimpleString(self, node):
            try:
                if node.evaluated_value in names:
                    self.found.append(node)
            except Exception:
                pass

    finder = Finder()
    module.visit(finder)
    return finder.found


def _read_file(path: str, flow_file: str) -> str | None:
    for candidate in (path, os.path.join(os.path.dirname(os.path.abspath(flow_file)), path)):
        if os.path.isfile(candidate):
            with open(candidate, encoding="utf-8") as src:
                return src.read()
    return None


def _parse_json(text: str, what: str, node) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise NotStatic(node, f"{what} is not JSON ({exc}); give JSON, or a parser= that reads "
                              "this format") from None


def read_config(state: ReadState, attr_node: cst.Name, call: cst.Call, inputs: LaunchInputs | None = None) -> ConfigSpec:
    """The ``ConfigSpec`` of ``attr = Config(...)``; its value resolved now. Raises NotStatic.

    What the compiler can read from the source it reads (literals, files, a library's parser);
    what only the flow's code gives (its parser function, a function default) is asked of the
    launch process that imports the flow (``frontend.launch``), as Metaflow's launcher runs it."""
    inputs = inputs or LaunchInputs()
    given: dict[str, cst.Arg] = {}
    for index, arg in enumerate(call.args):
        if arg.star:
            raise NotStatic(arg, "Config(): *args/**kwargs cannot be read statically; write them out")
        if arg.keyword is not None:
            given[arg.keyword.value] = arg
        elif index < len(CONFIG_KEYWORDS):
            given[CONFIG_KEYWORDS[index]] = arg
    if "name" not in given:
        raise NotStatic(call, f'Config() needs a name: Config("{attr_node.value}", ...)')
    name = state.evaluate(given["name"].value)
    if not isinstance(name, str):
        raise NotStatic(given["name"].value, "Config() name must be a string")
    spec = ConfigSpec(attr=attr_node.value, name=name, span=state.span(attr_node))
    if "plain" in given:
        spec.plain = bool(state.evaluate(given["plain"].value))
    if "required" in given:
        spec.required = bool(state.evaluate(given["required"].value))
    parser = given.get("parser")
    user_parser, library_parser = False, None
    if parser is not None and not (isinstance(parser.value, cst.Name) and parser.value.value == "None"):
        library_parser = library_parser_path(state, parser.value)
        user_parser = library_parser is None

    def at_launch(node, what: str, **question) -> Any:
        try:
            return state.launch_values().config(name, **question)
        except LaunchFailure as failure:
            raise NotStatic(node, f"Config '{name}': {what}: {failure.describe()}") from None

    def parsed(text: str, what: str, node) -> Any:
        if user_parser:
            return at_launch(parser.value, f"{what}, parsed by parser={state.code(parser.value)} at launch",
                             text=text)
        if library_parser is not None:
            return run_library_parser(library_parser, text, what, parser.value, spec.plain)
        if spec.plain:
            return text  # Metaflow: a plain config without a parser is the text itself
        return _parse_json(text, what, node)

    if name in inputs.resolved:
        spec.value, spec.source = inputs.resolved[name], "origin run"
        return spec
    where_values = inputs.nodes.get(inputs.value_origin) or call
    if name in inputs.values:
        spec.value = parsed(inputs.values[name], f"the value of config '{name}' ({inputs.value_origin})", where_values)
        spec.source = inputs.value_origin
        return spec
    path, path_node, default_file = inputs.files.get(name), inputs.nodes.get(inputs.file_origin) or call, False
    if path is None and "default" in given:
        path_node, default_file = given["default"].value, True
        try:
            path = _static_default(state, path_node)
        except NotStatic:
            # ``default=a_function`` (or an expression of the flow's code): Metaflow calls it at launch.
            spec.value = at_launch(path_node, f"default={state.code(path_node)} (evaluated at launch)",
                                   use_default=True)
            spec.source = "default"
            return spec
        if path is not None and not isinstance(path, str):
            raise NotStatic(path_node, f"Config '{name}': default= is the path of a file; got {path!r}")
    if path is not None:
        text = _read_file(path, state.file)
        if text is None:
            # Metaflow refuses a missing file, the default one too (required or not).
            what = "default configuration file" if default_file else f"configuration file ({inputs.file_origin})"
            raise NotStatic(path_node, f"Config '{name}': the {what} {path} does not exist"
                                       + (" (the config is required)" if spec.required else ""))
        spec.value, spec.source = parsed(text, f"the file {path} of config '{name}'", path_node), path
        return spec
    if "default_value" in given:
        node = given["default_value"].value
        try:
            value = _static_default(state, node)
        except NotStatic:
            # ``default_value=a_function`` (called with a context) or a value only the flow's code
            # computes: Metaflow evaluates it in the launching process.
            spec.value = at_launch(node, f"default_value={state.code(node)} (evaluated at launch)",
                                   use_default=True)
            spec.source = "default_value"
            return spec
        if isinstance(value, str) or user_parser:  # Metaflow hands a dict to the parser as its JSON text
            text = value if isinstance(value, str) else json.dumps(plain(value))
            value = parsed(text, f"default_value of config '{name}'", node)
        spec.value, spec.source = plain(value), "default_value"
        return spec
    if spec.required:
        raise NotStatic(call, f"Config '{name}' is required: give it with --config-value {name} JSON, "
                              f"--config {name} FILE, {ENV_VALUES}='{{\"{name}\": ...}}' or "
                              f"{ENV_FILES}='{{\"{name}\": \"file.json\"}}'")
    return spec


def _static_default(state: ReadState, node) -> Any:
    """A default's value read from the source; NotStatic for a function (a lambda, a function of
    the flow's module) or anything else only running the code gives."""
    if isinstance(node, cst.Lambda) or (isinstance(node, cst.Name) and node.value in state.module_scope.functions):
        raise NotStatic(node, "a function")
    return state.evaluate(node)


def no_configs_inputs() -> LaunchInputs:
    """A flow without configs: Metaflow has no --config options for it (its environment variables
    are ignored); options given on our command line are refused by ``check_names``."""
    cli = _cli_options()
    return LaunchInputs(values={n: t for n, t in cli.get("config_value") or []},
                        files={n: p for n, p in cli.get("config") or []},
                        value_origin="--config-value", file_origin="--config")


def library_parser_path(state: ReadState, node) -> str | None:
    """``"module.function"`` when ``parser=`` names a library's function (``"tomllib.loads"``,
    ``tomllib.loads`` or ``loads`` imported from an installed module); None when it is the flow's own
    code (a function of the flow file, of a module beside it, a lambda)."""
    path = None
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        try:
            path = state.evaluate(node)
        except NotStatic:
            return None
        if not isinstance(path, str) or path.startswith(".") or "." not in path:
            return None  # ".x" is a parser of Metaflow's own package: not ours to import
    else:
        imports = _module_imports(state.module_node)
        dotted = state.code(node)
        root = dotted.split(".")[0]
        if isinstance(node, cst.Attribute) and root in imports["modules"]:
            path = imports["modules"][root] + dotted[len(root):]
        elif isinstance(node, cst.Name) and node.value in imports["names"]:
            path = imports["names"][node.value]
    if path is None or "." not in path:
        return None
    top = path.split(".")[0]
    flow_dir = os.path.dirname(os.path.abspath(state.file))
    for folder in {flow_dir, os.getcwd()}:
        if os.path.exists(os.path.join(folder, top + ".py")) or os.path.isdir(os.path.join(folder, top)):
            return None  # the flow's own module: user code
    return path


def _module_imports(module: cst.Module) -> dict[str, dict[str, str]]:
    """Top-level ``import a.b [as c]`` (local → module) and ``from a import f [as g]`` (local → a.f)."""
    modules: dict[str, str] = {}
    names: dict[str, str] = {}
    for line in module.body:
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for small in line.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    dotted = cst.Module([]).code_for_node(alias.name)
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        modules[alias.asname.name.value] = dotted
                    else:
                        modules[dotted.split(".")[0]] = dotted.split(".")[0]
            elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative \
                    and not isinstance(small.names, cst.ImportStar):
                source = cst.Module([]).code_for_node(small.module)
                for alias in small.names:
                    if isinstance(alias.name, cst.Name):
                        local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) \
                            else alias.name.value
                        names[local] = f"{source}.{alias.name.value}"
    return {"modules": modules, "names": names}


def run_library_parser(path: str, text: str, what: str, node, is_plain: bool) -> Any:
    """Metaflow's ``_call_parser`` for a library's parser, run here (it is not the flow's code)."""
    import importlib
    import collections.abc

    module_name, _, function = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise NotStatic(node, f"{what}: the parser's module {module_name} cannot be imported where sfncompile runs "
                              f"({exc}); Metaflow imports it at launch too: install it here") from None
    func = getattr(module, function, None)
    if not callable(func):
        raise NotStatic(node, f"{what}: parser {function} is either not part of {module_name} or not a callable")
    try:
        value = func(text)
    except Exception as exc:
        raise NotStatic(node, f"{what}: parser {path} failed: {type(exc).__name__}: {exc}") from None
    if not is_plain and not isinstance(value, collections.abc.Mapping):
        raise NotStatic(node, f"{what}: parser {path} returned a {type(value).__name__}, not a mapping")
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise NotStatic(node, f"{what}: parser {path} returned a value that is not JSON-compatible ({exc}); "
                              "sfncompile carries configs as JSON") from None


def check_names(inputs: LaunchInputs, specs) -> tuple[Any, str] | None:
    """(node or None, message) when the launch names a config the flow does not declare."""
    declared = sorted(spec.name for spec in specs)
    for mapping, origin in ((inputs.values, inputs.value_origin), (inputs.files, inputs.file_origin)):
        unknown = sorted(set(mapping) - set(declared))
        if unknown:
            return inputs.nodes.get(origin), (f"{origin} names config(s) the flow does not declare: "
                                              f"{', '.join(unknown)} (its configs: {', '.join(declared) or 'none'})")
    return None


def read_configs(state: ReadState, lineage: list[cst.ClassDef], graph: FlowGraph) -> None:
    """Every ``attr = Config(...)`` of the flow's classes, resolved before anything uses them."""
    inputs, failed = None, False
    for klass in lineage:
        for statement in class_statements(klass):
            if not (isinstance(statement, cst.Assign) and len(statement.targets) == 1
                    and isinstance(statement.targets[0].target, cst.Name)
                    and isinstance(statement.value, cst.Call)):
                continue
            ref = state.resolve(statement.value.func)
            if ref is None or ref[1] != "Config":
                continue
            attr = statement.targets[0].target
            if inputs is None:  # read once, and only for a flow with configs (as Metaflow's options)
                try:
                    inputs = launch_inputs(state, state.module_node)
                except NotStatic as exc:
                    state.error(rules.CONFIG, exc.reason, exc.node if exc.node is not None else attr)
                    inputs = LaunchInputs()
            try:
                spec = read_config(state, attr, statement.value, inputs)
            except NotStatic as exc:
                state.error(rules.CONFIG, exc.reason, exc.node if exc.node is not None else attr)
                state.configs[attr.value] = UNRESOLVED_CONFIG
                failed = True
                continue
            graph.configs = [c for c in graph.configs if c.attr != spec.attr] + [spec]
            state.config_specs = graph.configs
            state.configs[spec.attr] = spec.value
            state.configs[spec.name] = spec.value
    if inputs is None:
        inputs = no_configs_inputs()
    problem = check_names(inputs, graph.configs) if not failed else None
    if problem is not None:
        state.error(rules.CONFIG, problem[1], problem[0] if problem[0] is not None else graph.span)
