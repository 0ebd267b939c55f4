"""``Config`` at compile time: each config's value, read as Metaflow reads it at
launch, so decorator arguments that use it (``@resources(cpu=config.cpu)``,
``@project(name=config_expr("cfg").name)``, ``@environment(**cfg)``) compile
into the state machine and job definitions, and the steps see the same value
(``graph.json`` carries it).

The value, in Metaflow's order: ``METAFLOW_FLOW_CONFIG_VALUE`` (JSON: name →
value) or ``METAFLOW_FLOW_CONFIG`` (JSON: name → file) from the environment
(what Metaflow's ``--config-value``/``--config`` default to); else the
``default=`` file (relative to the working directory, then to the flow file's
folder), parsed as JSON; else ``default_value=`` (a static dict or JSON text).
What needs user code (a ``parser=`` function, a function default) cannot be
read without running the flow: that is a positioned error.
"""

from __future__ import annotations

import json
import os
from typing import Any

import libcst as cst

from ..ir import ConfigSpec
from .evaluate import NotStatic

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


def _environment_map(name: str) -> dict:
    text = os.environ.get(name)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise NotStatic(None, f"{name} is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise NotStatic(None, f"{name} must be a JSON object: config name -> value")
    return value


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
        raise NotStatic(node, f"{what} is not JSON ({exc}); give JSON, or a parser= the compiler can run "
                              "(none: parser functions are user code)") from None


def read_config(extractor, attr_node: cst.Name, call: cst.Call) -> ConfigSpec:
    """The ``ConfigSpec`` of ``attr = Config(...)``; its value resolved now. Raises NotStatic."""
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
    name = extractor.evaluate(given["name"].value)
    if not isinstance(name, str):
        raise NotStatic(given["name"].value, "Config() name must be a string")
    spec = ConfigSpec(attr=attr_node.value, name=name, span=extractor.span(attr_node))
    if "plain" in given:
        spec.plain = bool(extractor.evaluate(given["plain"].value))
    if "required" in given:
        spec.required = bool(extractor.evaluate(given["required"].value))
    parser = given.get("parser")
    if parser is not None and not (isinstance(parser.value, cst.Name) and parser.value.value == "None"):
        what = extractor._code(parser.value)
        parser_problem = (f"Config '{name}' uses parser={what}, a function the compiler cannot run (it never runs "
                          "the flow's code); give the config as JSON (a .json file, default_value=, or "
                          f"{ENV_VALUES})")
    else:
        parser_problem = None

    values = _environment_map(ENV_VALUES)
    if name in values:
        spec.value, spec.source = values[name], ENV_VALUES
        return spec
    files = _environment_map(ENV_FILES)
    path = files.get(name)
    path_node = call
    if path is None and "default" in given:
        path_node = given["default"].value
        path = extractor.evaluate(path_node)
        if path is not None and not isinstance(path, str):
            raise NotStatic(path_node, f"Config '{name}': default= is the path of a file; got {path!r}")
    if path is not None:
        text = _read_file(path, extractor.file)
        if text is not None:
            if parser_problem:
                raise NotStatic(parser or call, parser_problem)
            spec.value, spec.source = _parse_json(text, f"the file {path} of config '{name}'", path_node), path
            return spec
        if name in files:
            raise NotStatic(call, f"Config '{name}': the file {path} ({ENV_FILES}) does not exist")
    if "default_value" in given:
        node = given["default_value"].value
        value_node = node
        if isinstance(node, (cst.Lambda,)) or (isinstance(node, cst.Name)
                                                 and node.value in extractor.module_info.functions):
            raise NotStatic(node, f"Config '{name}': default_value={extractor._code(node)} is a function, which the "
                                  "compiler cannot run; give the value itself (a dict or JSON text)")
        value = extractor.evaluate(value_node)
        if isinstance(value, str):
            if parser_problem:
                raise NotStatic(parser or call, parser_problem)
            value = _parse_json(value, f"default_value of config '{name}'", node)
        spec.value, spec.source = plain(value), "default_value"
        return spec
    if path is not None:
        if spec.required:
            raise NotStatic(path_node, f"Config '{name}' is required, and its default file {path} does not exist")
        return spec  # Metaflow: a missing default file leaves the config None
    if spec.required:
        raise NotStatic(call, f"Config '{name}' is required: give it with {ENV_VALUES}='{{\"{name}\": ...}}' or "
                              f"{ENV_FILES}='{{\"{name}\": \"file.json\"}}'")
    return spec
