"""Flow parameters at launch: ``--param NAME=VALUE`` / ``--NAME VALUE``, parsed and type-checked
against the flow's declared parameters, then completed as Metaflow's launcher does.

Everything is checked before a run starts: an unknown name, a value that is
not of the declared type or a missing required parameter is one clear line.
The result is the execution input's ``parameters`` object (JSON values;
contract §5). With the flow file at hand (``run``, ``trigger``), as Metaflow:

* a default given by a function is evaluated at launch with a
  ``ParameterContext``, in a child process that imports the flow module (only
  when such a default exists; ``frontend.launch``: this process never runs the
  user's code);
* an ``IncludeFile`` (given, or its default, or its default's function's
  result) is read here and its bytes stored in the datastore; the execution
  input carries a reference (``sfncompile_runtime.parameters.INCLUDE_KEY``),
  so a file of any size passes and a path never silently becomes the content.

Other parameters left out are not sent: the start step applies the literal
defaults, as it does for runs started on AWS.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from sfncompile_runtime.parameters import FALSE_WORDS, TRUE_WORDS

from ..backends.asl.limits import check_execution_parameters
from ..diagnostics import UserError


def _convert(spec, text: str) -> Any:
    kind = spec.type
    name = spec.name
    if spec.separator and kind not in ("json", "file"):
        # The runtime splits on the separator and converts each piece; check them here.
        for piece in text.split(spec.separator):
            _convert_one(kind, name, piece.strip())
        return text
    return _convert_one(kind, name, text)


def _convert_one(kind: str, name: str, text: str) -> Any:
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise UserError(f"parameter '{name}' expects an integer, got {text!r}") from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise UserError(f"parameter '{name}' expects a number, got {text!r}") from None
    if kind == "bool":
        low = text.strip().lower()
        if low in TRUE_WORDS:
            return True
        if low and low in FALSE_WORDS:  # --param flag= is a mistake on the command line
            return False
        raise UserError(f"parameter '{name}' expects true or false, got {text!r}")
    if kind == "json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise UserError(f"parameter '{name}' expects JSON: {exc.msg} in {text!r}") from None
    return text  # str, and "file": the path (read by include_files)


def parameter_options(graph, args: Iterable[str]) -> list[str]:
    """Metaflow's parameter options (``--NAME VALUE``, ``--NAME=VALUE``) as ``NAME=VALUE``."""
    args = list(args)
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or arg == "--":
            raise UserError(f"unexpected argument {arg!r}")
        key, eq, value = arg[2:].partition("=")
        spec = _spec(graph, key) or _spec(graph, key.replace("-", "_"))
        if spec is None:
            known = ", ".join(f"--{p.name}" for p in graph.parameters) or "none"
            raise UserError(f"no such option: --{key} (flow {graph.name}'s parameters: {known})")
        if not eq:
            if i + 1 >= len(args):
                raise UserError(f"option --{key} needs a value")
            value = args[i + 1]
            i += 2
        else:
            i += 1
        out.append(f"{spec.name}={value}")
    return out


def _spec(graph, name: str):
    return next((p for p in graph.parameters if p.name == name), None) or \
        next((p for p in graph.parameters if p.attr == name), None)


def parse_parameters(graph, assignments: Iterable[str], *, flow_path=None, root: str | None = None) -> dict[str, Any]:
    """``["alpha=0.1", ...]`` → ``{"alpha": 0.1}`` for ``graph``'s parameters.

    With ``flow_path`` and the datastore ``root``: function defaults are evaluated and
    IncludeFiles read and stored (module docstring)."""
    specs = {p.name: p for p in graph.parameters}
    values: dict[str, Any] = {}
    for item in assignments:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UserError(f"--param expects NAME=VALUE, got {item!r}")
        spec = specs.get(name) or next((p for p in graph.parameters if p.attr == name), None)
        if spec is None:
            known = ", ".join(sorted(specs)) or "none"
            raise UserError(f"flow {graph.name} has no parameter '{name}' (parameters: {known})")
        if spec.name in values:
            raise UserError(f"parameter '{spec.name}' is given twice")
        values[spec.name] = _convert(spec, text)
    if flow_path is not None:
        values.update(function_defaults(graph, flow_path, values, root))
    missing = [p.name for p in graph.parameters
               if p.required and p.name not in values and not p.has_default]
    if missing:
        raise UserError(f"missing required parameter(s): {', '.join(missing)} (pass --param NAME=VALUE)")
    include_files(graph, values, root)
    check_execution_parameters(graph, values)
    return values


def function_defaults(graph, flow_path, given: dict, root: str | None) -> dict[str, Any]:
    """The values of defaults given by functions, for the parameters not given, evaluated as
    Metaflow's launcher does: with the flow module imported and a ``ParameterContext`` — in a
    child process (``frontend.launch``), so that none of the user's code runs in this one."""
    pending = [p for p in graph.parameters if getattr(p, "default_is_function", False) and p.name not in given]
    # IncludeFiles are read here too: the flow module's top-level code may write the file or set
    # METAFLOW_RUN_<NAME> (Metaflow's launcher imports the module before reading them).
    includes = [p for p in graph.parameters if p.type == "file" and p.name not in given]
    if not pending and not includes:
        return {}
    from ..frontend.launch import LaunchFailure, LaunchValues

    project = next((d.args.get("name") for d in graph.decorators if d.name == "project"), None)
    launch = LaunchValues(str(flow_path), graph.name)
    try:
        answer = launch.parameters([p.name for p in pending], [p.name for p in includes],
                                   {c.name: (c.value, c.plain) for c in graph.configs}, project,
                                   "s3" if str(root or "").startswith("s3://") else "local")
    except LaunchFailure as failure:
        raise UserError(f"{flow_path}: importing the flow to evaluate its parameter defaults failed: "
                        f"{failure.describe()}") from None
    finally:
        launch.close()
    specs = {p.name: p for p in graph.parameters}
    for name, error in answer["errors"].items():
        trace = f"\n{error['traceback']}" if error.get("traceback") else ""
        raise UserError(f"{_where(specs[name])}{error['error']}{trace}")
    values = {name: value for name, value in answer["values"].items() if value is not None}
    for name, path in answer["includes"].items():
        values.setdefault(name, path)
    return values


def _where(spec) -> str:
    span = getattr(spec, "span", None)
    if span is None:
        return ""
    return f"{span.file}:{span.line}: " if getattr(span, "file", None) else f"line {span.line}: "


def include_files(graph, values: dict[str, Any], root: str | None) -> None:
    """Read every IncludeFile (given, or its default path) here and store its bytes in the
    datastore under ``root``; the value becomes a reference. Without a root: the text."""
    from sfncompile_runtime.parameters import INCLUDE_KEY

    for spec in graph.parameters:
        if spec.type != "file":
            continue
        path = values.get(spec.name)
        if path is None and spec.has_default and not getattr(spec, "default_is_function", False):
            path = spec.default
        if path is None:
            continue
        if isinstance(path, dict) and INCLUDE_KEY in path:
            continue
        if not isinstance(path, str):
            raise UserError(f"{_where(spec)}IncludeFile '{spec.name}' needs a path, got {type(path).__name__}")
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise UserError(f"parameter '{spec.name}' names a file that cannot be read: {path}: {exc.strerror}") from None
        if root is None:
            try:
                values[spec.name] = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UserError(f"parameter '{spec.name}' names a file that is not UTF-8 text: {path} (byte "
                                f"{exc.start}: {exc.reason})") from None
            continue
        from sfncompile_runtime.datastore import Datastore

        try:
            ref = Datastore(root, graph.name).put_artifact(data)
        except Exception as exc:
            raise UserError(f"IncludeFile '{spec.name}': cannot store {path} under {root}: {exc}") from None
        values[spec.name] = {INCLUDE_KEY: ref, "path": path}
