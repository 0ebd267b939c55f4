"""Flow parameters at launch: ``--param NAME=VALUE`` / ``--NAME VALUE``, parsed and type-checked
against the flow's declared parameters, then completed as Metaflow's launcher does.

Everything is checked before a run starts: an unknown name, a value that is
not of the declared type or a missing required parameter is one clear line.
The result is the execution input's ``parameters`` object (JSON values;
contract §5). With the flow file at hand (``run``, ``trigger``), as Metaflow:

* a default given by a function is evaluated here, in the launching process,
  with a ``ParameterContext`` (the flow module is imported for that, only when
  such a default exists);
* an ``IncludeFile`` (given, or its default, or its default's function's
  result) is read here and its bytes stored in the datastore; the execution
  input carries a reference (``sfncompile_runtime.parameters.INCLUDE_KEY``),
  so a file of any size passes and a path never silently becomes the content.

Other parameters left out are not sent: the start step applies the literal
defaults, as it does for runs started on AWS.
"""

from __future__ import annotations

import contextlib
import os
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
    """The values of defaults given by functions, for the parameters not given, evaluated here
    with a ``ParameterContext`` as Metaflow's launcher does (the flow module is imported)."""
    pending = [p for p in graph.parameters if getattr(p, "default_is_function", False) and p.name not in given]
    # IncludeFiles are read here too: the flow module's top-level code may write the file or set
    # METAFLOW_RUN_<NAME> (Metaflow's launcher imports the module before reading them).
    includes = [p for p in graph.parameters if p.type == "file" and p.name not in given]
    if not pending and not includes:
        return {}
    from sfncompile_runtime.parameters import env_value

    with _flow_imported(graph, flow_path) as cls:
        values = _evaluate_defaults(graph, cls, pending, root)
        for spec in includes:
            path = env_value(spec)  # one rule for METAFLOW_RUN_<NAME>, the runtime's
            if path and spec.name not in values:
                values[spec.name] = path
        return values


def _evaluate_defaults(graph, cls, pending, root) -> dict[str, Any]:
    from sfncompile_runtime.datastore import default_user
    from sfncompile_runtime.parameters import Parameter, ParameterContext

    declared = {}
    for klass in reversed(cls.__mro__):
        for value in vars(klass).values():
            if isinstance(value, Parameter):
                declared[value.name] = value
    ds_type = "s3" if str(root or "").startswith("s3://") else "local"
    out = {}
    for spec in pending:
        param = declared.get(spec.name)
        if param is None:
            continue
        from sfncompile_runtime.configs import namespace_for_context
        from sfncompile_runtime.parameters import env_value

        if env_value(param) is not None and not param.IS_INCLUDE_FILE:
            out[spec.name] = env_value(param)  # METAFLOW_RUN_<NAME> (may be set by the flow module itself)
            continue
        context = ParameterContext(graph.name, default_user(), spec.name, _log, ds_type, namespace_for_context())
        try:
            value = param.resolve_default(context)
        except Exception as exc:
            raise UserError(f"{_where(spec)}the default of parameter '{spec.name}' raised "
                            f"{type(exc).__name__}: {exc}") from None
        if value is None:
            continue
        if isinstance(value, (bytes, bytearray)) and spec.type != "file":
            value = bytes(value).decode()
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise UserError(f"{_where(spec)}the default of parameter '{spec.name}' returned a "
                            f"{type(value).__name__}, which cannot be a parameter value (use str, int, "
                            "float, bool, or JSON-compatible lists and dicts)") from None
        out[spec.name] = value
    return out


def _log(message, *args, **kwargs):
    import sys

    print(message, file=sys.stderr)


def _where(spec) -> str:
    span = getattr(spec, "span", None)
    if span is None:
        return ""
    return f"{span.file}:{span.line}: " if getattr(span, "file", None) else f"line {span.line}: "


@contextlib.contextmanager
def _flow_imported(graph, flow_path):
    """Import the flow file here (Metaflow's launcher does) and yield its flow class; while
    inside, the flow's ``from metaflow import ...`` resolves to our names (as in a task)."""
    import importlib.util
    import sys

    from sfncompile_runtime import api

    path = Path(flow_path).resolve()
    from sfncompile_runtime.current import current, project_fields
    from sfncompile_runtime.datastore import default_user
    from sfncompile_runtime.shims import install_metaflow_submodules

    saved = sys.modules.get("metaflow")
    sys.modules["metaflow"] = api
    install_metaflow_submodules()  # ``import metaflow.exception`` in the flow module
    # A ``Parameter(default=function)`` may read ``current`` (Metaflow fills the run-level fields).
    project = next((d.args.get("name") for d in graph.decorators if d.name == "project"), None)
    current._bind(flow_name=graph.name, username=default_user(),
                  **project_fields(project, graph.name, default_user(), branch=os.environ.get("METAFLOW_BRANCH")))
    from sfncompile_runtime import configs

    # ``ctx.configs.<name>`` in a default, and ``config_expr`` defaults: the compiled values.
    configs.set_values({c.name: (c.value, c.plain) for c in graph.configs})
    sys.path.insert(0, str(path.parent))
    environment = dict(os.environ)  # the module's top level may set variables; they stay its own
    try:
        try:
            spec = importlib.util.spec_from_file_location(f"_sfncompile_launch_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        except Exception as exc:
            raise UserError(f"{path}: importing the flow to evaluate its parameter defaults failed: "
                            f"{type(exc).__name__}: {exc}") from None
        cls = getattr(module, graph.name, None)
        if cls is None:
            raise UserError(f"{path} defines no class {graph.name}")
        yield cls
    finally:
        current.__init__()  # this process runs no task: ``current`` is empty again
        if dict(os.environ) != environment:
            os.environ.clear()
            os.environ.update(environment)
        sys.path.remove(str(path.parent))
        if saved is None:
            sys.modules.pop("metaflow", None)
        else:
            sys.modules["metaflow"] = saved


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
