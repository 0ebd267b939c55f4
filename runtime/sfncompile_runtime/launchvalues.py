"""The user code a launch runs before the flow is compiled, in a process of its own.

Metaflow's launcher imports the flow module and, from it, evaluates what only
the user's code can give: a ``Config``'s ``parser=`` function, a function
``default_value=``/``default=``, a ``config_expr`` that calls the flow's own
helpers. sfncompile's front end never imports the flow (it reads the source
with libcst), so when — and only when — a flow needs one of these, the front
end starts this module as a child process (``python -m
sfncompile_runtime.launchvalues FLOW_FILE CLASS``) and asks it, one JSON line
per question on stdin, one JSON line per answer on fd 1. The compiling
process never runs the user's code; this process imports the flow with the
runtime's ``metaflow`` (as a task does), answers, and exits when stdin closes.

Anything the user's code prints goes to stderr (fd 1 is the answers' channel).
An exception in the user's code is an answer, ``{"error": ..., "traceback":
...}`` with the traceback trimmed to the user's own frames; the front end
turns it into a positioned diagnostic.
"""

from __future__ import annotations

import collections.abc
import importlib
import importlib.util
import json
import os
import sys
import traceback

_OWN_DIR = os.path.dirname(os.path.abspath(__file__))


class Failure(Exception):
    """An answer that is an error: ``message`` says what failed, ``trace`` the user's frames."""

    def __init__(self, message: str, trace: str = ""):
        super().__init__(message)
        self.message = message
        self.trace = trace


def user_trace(exc: BaseException) -> str:
    """The traceback of ``exc`` without the frames of this package or Python's import machinery."""
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__)
              if not os.path.abspath(frame.filename).startswith(_OWN_DIR + os.sep)
              and not frame.filename.startswith("<frozen ")]
    return "".join(traceback.format_list(frames)).rstrip("\n")


def _raised(what: str, exc: BaseException) -> Failure:
    return Failure(f"{what} raised {type(exc).__name__}: {exc}", user_trace(exc))


class Launch:
    def __init__(self, flow_file: str, class_name: str):
        self.flow_file = os.path.abspath(flow_file)
        self.class_name = class_name
        self._cls = None
        self._module = None
        self._import_failure: Failure | None = None

    # -- the flow ----------------------------------------------------------------
    def flow_class(self):
        if self._import_failure is not None:
            raise self._import_failure
        if self._cls is None:
            try:
                self._cls = self._import()
            except Failure as failure:
                self._import_failure = failure
                raise
        return self._cls

    def _import(self):
        from .shims import install_shims

        install_shims()  # ``from metaflow import ...`` in the flow resolves to the runtime's API
        folder = os.path.dirname(self.flow_file)
        if sys.path[:1] != [folder]:
            sys.path.insert(0, folder)  # as ``python flow.py`` has it: the flow's own modules import
        name = os.path.splitext(os.path.basename(self.flow_file))[0]
        try:
            spec = importlib.util.spec_from_file_location(name, self.flow_file)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        except BaseException as exc:  # noqa: BLE001 (SystemExit at import is the user's too)
            raise _raised(f"importing {os.path.basename(self.flow_file)}", exc) from None
        cls = getattr(module, self.class_name, None)
        if not isinstance(cls, type):
            raise Failure(f"{os.path.basename(self.flow_file)} defines no class {self.class_name} when imported")
        self._module = module
        return cls

    def _config(self, name: str):
        from .configs import Config

        for klass in self.flow_class().__mro__:
            for value in vars(klass).values():
                if isinstance(value, Config) and value.name == name:
                    return value
        raise Failure(f"the imported flow class has no Config named {name!r}")

    # -- questions -------------------------------------------------------------------
    def config(self, name: str, text: str | None, use_default: bool) -> object:
        """The value of config ``name``: ``text`` (given, or read by the front end) parsed by its
        parser, or with ``use_default`` its default evaluated first (Metaflow's order)."""
        config = self._config(name)
        if use_default:
            text = self._default_text(config)
            if text is None:
                return None
        return self._parse(config, text)

    def _default_text(self, config) -> str | None:
        from .datastore import default_user
        from .parameters import ParameterContext

        is_file = config.default is not None
        value = config.default if is_file else config.default_value
        if callable(value):
            what = f"{'default' if is_file else 'default_value'} {_name_of(value)}"
            # Metaflow passes configs=None: a config's default cannot read other configs.
            context = ParameterContext(self.class_name, default_user(), config.name,
                                       lambda *a, **k: print(*a, file=sys.stderr), "local", None)
            try:
                value = value(context)
            except Exception as exc:
                raise _raised(what, exc) from None
        if value is None:
            return None
        if is_file:
            if not isinstance(value, str):
                raise Failure(f"default= gave {type(value).__name__} {value!r}, not the path of a file")
            try:
                with open(value, encoding="utf-8") as source:
                    return source.read()
            except OSError as exc:
                raise Failure(f"default configuration file {value!r} could not be read ({exc.strerror})") from None
        if isinstance(value, collections.abc.Mapping):
            return json.dumps(_plain(value))
        if not isinstance(value, str):
            raise Failure(f"default_value gave a {type(value).__name__}; a config's default is a dict or a string")
        return value

    def _parse(self, config, text: str) -> object:
        parser = config.parser
        if parser is None:
            if config.plain:
                return text
            try:
                return json.loads(text)
            except ValueError as exc:
                raise Failure(f"the value is not valid JSON: {exc}") from None
        if isinstance(parser, str):
            module_name, _, function = parser.rpartition(".")
            try:
                parser = getattr(importlib.import_module(module_name), function, None)
            except Exception as exc:
                raise _raised(f"importing the parser's module {module_name}", exc) from None
            if not callable(parser):
                raise Failure(f"parser {function} is either not part of {module_name} or not a callable")
        try:
            value = parser(text)
        except Exception as exc:
            raise _raised(f"parser {_name_of(parser)}", exc) from None
        if not config.plain and not isinstance(value, collections.abc.Mapping):
            raise Failure(f"parser {_name_of(parser)} returned a {type(value).__name__}, not a mapping "
                          "(Metaflow requires one unless the config is plain=True)")
        return value

    def expression(self, text: str, values: dict) -> object:
        """``config_expr(text)`` evaluated in the flow module's globals, the configs as locals
        (Metaflow's ``DelayEvaluator``)."""
        from .configs import wrap

        self.flow_class()
        local = {name: wrap(value, plain) for name, (value, plain) in values.items()}
        try:
            return eval(text, vars(self._module), local)  # noqa: S307 (the user's own expression)
        except Exception as exc:
            raise _raised(f"config_expr({text!r})", exc) from None

    def parameters(self, names: list[str], includes: list[str], configs: dict, project: str | None,
                   ds_type: str) -> dict:
        """The defaults of parameters ``names`` (functions, ``config_expr``), evaluated as Metaflow's
        launcher does: ``METAFLOW_RUN_<NAME>`` first (the module may set it), else the default called
        with a ``ParameterContext`` whose ``configs`` are the compiled values, ``current`` holding the
        run-level fields. And the ``METAFLOW_RUN_<NAME>`` paths of the IncludeFiles ``includes``."""
        from . import configs as config_values
        from .current import current, project_fields
        from .datastore import default_user
        from .parameters import Parameter, ParameterContext, env_value

        config_values.set_values({name: (value, plain) for name, (value, plain) in configs.items()})
        user = default_user()
        current._bind(flow_name=self.class_name, username=user,
                      **project_fields(project, self.class_name, user, branch=os.environ.get("METAFLOW_BRANCH")))
        declared = {}
        for klass in reversed(self.flow_class().__mro__):
            for value in vars(klass).values():
                if isinstance(value, Parameter):
                    declared[value.name] = value
        values, errors = {}, {}
        for name in names:
            param = declared.get(name)
            if param is None:
                continue
            if env_value(param) is not None and not param.IS_INCLUDE_FILE:
                values[name] = env_value(param)
                continue
            context = ParameterContext(self.class_name, user, name, lambda *a, **k: print(*a, file=sys.stderr),
                                       ds_type, config_values.namespace_for_context())
            try:
                value = param.resolve_default(context)
            except Exception as exc:
                failure = _raised(f"the default of parameter '{name}'", exc)
                errors[name] = {"error": failure.message, "traceback": failure.trace}
                continue
            if isinstance(value, (bytes, bytearray)) and not param.IS_INCLUDE_FILE:
                value = bytes(value).decode()
            try:
                values[name] = json.loads(json.dumps(_plain(value)))
            except (TypeError, ValueError):
                errors[name] = {"error": f"the default of parameter '{name}' returned a {type(value).__name__}, "
                                         "which cannot be a parameter value (use str, int, float, bool, or "
                                         "JSON-compatible lists and dicts)", "traceback": ""}
        paths = {}
        for name in includes:
            param = declared.get(name)
            if param is not None and env_value(param):
                paths[name] = env_value(param)
        return {"values": values, "errors": errors, "includes": paths}

    def answer(self, question: dict) -> dict:
        try:
            if question["op"] == "config":
                value = self.config(question["name"], question.get("text"), bool(question.get("default")))
            elif question["op"] == "expr":
                value = self.expression(question["text"], question.get("configs") or {})
            elif question["op"] == "environ":
                # The variables as the imported module left them (its own assignments, whatever
                # their form, over the launching environment's), as Metaflow's launcher reads them.
                self.flow_class()
                value = {name: os.environ.get(name) for name in question["names"]}
            elif question["op"] == "parameters":
                return {"value": self.parameters(question["names"], question.get("includes") or [],
                                                 question.get("configs") or {}, question.get("project"),
                                                 question.get("ds_type") or "local")}
            else:
                raise Failure(f"unknown question {question['op']!r}")
            try:
                return {"value": json.loads(json.dumps(_plain(value)))}
            except (TypeError, ValueError) as exc:
                raise Failure(f"the value is not JSON-compatible ({exc}); sfncompile carries configs as JSON") \
                    from None
        except Failure as failure:
            return {"error": failure.message, "traceback": failure.trace}


def _name_of(func) -> str:
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


def _plain(value):
    if isinstance(value, collections.abc.Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def main(argv: list[str]) -> int:
    flow_file, class_name = argv
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the user's prints go to stderr; fd 1's copy carries the answers only
    launch = Launch(flow_file, class_name)
    for line in sys.stdin:
        if not line.strip():
            continue
        answers.write(json.dumps(launch.answer(json.loads(line))) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
