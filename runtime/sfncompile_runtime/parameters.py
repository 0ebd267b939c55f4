"""``Parameter``, ``JSONType`` and ``IncludeFile`` (Metaflow's names and rules).

A parameter's type comes from ``type=``, else from its default's type (bool,
int, float; anything else is str). Values arrive from the execution input as
JSON and are converted by the start step, which stores them as artifacts;
every later step (joins included) sees them as ``self.<attribute>``.
"""

from __future__ import annotations

import json
import os


class ParameterContext:
    """What a callable ``default=`` receives (Metaflow's fields)."""

    __slots__ = ("flow_name", "user_name", "parameter_name", "logger", "ds_type", "configs")

    def __init__(self, flow_name, user_name, parameter_name, logger, ds_type, configs):
        self.flow_name = flow_name
        self.user_name = user_name
        self.parameter_name = parameter_name
        self.logger = logger
        self.ds_type = ds_type
        self.configs = configs


class JSONTypeClass:
    name = "JSON"

    def __repr__(self) -> str:
        return "JSONType"

    def convert(self, value):
        if isinstance(value, str):
            return json.loads(value)
        return value


_JSONType = JSONTypeClass
JSONType = JSONTypeClass()

# Text a bool parameter accepts (lower-cased); an empty value is false, as in Metaflow.
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "on", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "off", "f", ""})


class ParameterError(ValueError):
    pass


def env_value(param) -> str | None:
    """``METAFLOW_RUN_<NAME>`` (name upper-cased, ``-`` → ``_``): a value for the parameter
    when none is given, as Metaflow's ``run`` reads it before the default."""
    return os.environ.get("METAFLOW_RUN_" + param.name.upper().replace("-", "_"))


class Parameter:
    """A flow parameter; ``self.<attribute>`` is its value inside every step."""

    IS_INCLUDE_FILE = False

    def __init__(self, name, default=None, type=None, help=None, required=None, show_default=True,
                 separator=None, **kwargs):
        if not isinstance(name, str) or not name:
            raise ParameterError("Parameter needs a name, e.g. Parameter('alpha', default=0.1)")
        self.name = name
        self.default = default
        self.help = help
        self.required = bool(required)
        self.show_default = show_default
        self.separator = separator
        self.kwargs = kwargs
        if type is None:
            if isinstance(default, bool):
                type = bool
            elif isinstance(default, (int, float)):
                type = default.__class__
            else:
                type = str
        self.type = type
        self.attr = None

    def __set_name__(self, owner, attr):
        self.attr = attr

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        # Inside a task the value is an artifact: the instance loads it (lazily).
        return instance._sfn_artifact(self.attr)

    def __set__(self, instance, value):
        raise AttributeError(f"property '{self.attr}' of '{type(instance).__name__}' object has no setter "
                             f"(parameter '{self.name}' is read-only: store the value under another name)")

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, type={getattr(self.type, '__name__', self.type)!r})"

    def has_default(self) -> bool:
        return self.default is not None

    def resolve_default(self, context: ParameterContext):
        default = self.default
        from .configs import DelayedConfig, resolve

        if isinstance(default, DelayedConfig):
            return resolve(default)
        if callable(default) and not isinstance(default, type):
            default = default(context)
        return default

    def convert(self, value):
        """The declared type's value for ``value`` (JSON from the execution input)."""
        if value is None:
            return None
        if self.separator and isinstance(value, str) and self.type is not JSONType:
            return [self._convert_one(v.strip()) for v in value.split(self.separator)]
        return self._convert_one(value)

    def _convert_one(self, value):
        kind = self.type
        try:
            if kind is JSONType or isinstance(kind, _JSONType):
                return JSONType.convert(value)
            if kind is bool:
                if isinstance(value, bool):
                    return value
                if isinstance(value, (int, float)):
                    return bool(value)
                text = str(value).strip().lower()
                if text in TRUE_WORDS:
                    return True
                if text in FALSE_WORDS:
                    return False
                raise ValueError(f"{value!r} is not a boolean")
            if kind is int:
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError(f"{value!r} is not an integer")
                if isinstance(value, bool):
                    raise ValueError(f"{value!r} is not an integer")
                return int(value)
            if kind is float:
                if isinstance(value, bool):
                    raise ValueError(f"{value!r} is not a number")
                return float(value)
            if kind is str:
                return value if isinstance(value, str) else json.dumps(value)
            if callable(kind):
                return kind(value)
        except (ValueError, TypeError) as exc:
            raise ParameterError(f"parameter '{self.name}': cannot convert {value!r} to "
                                 f"{getattr(kind, '__name__', kind)}: {exc}") from None
        return value


# An IncludeFile's value in the execution input: {INCLUDE_KEY: <artifact ref of the file's bytes>,
# "path": <the path it was read from>}. The launching process (run, trigger) reads the file and
# stores it in the datastore, as Metaflow does, so the content never travels through the state
# machine's payload or a container's environment.
INCLUDE_KEY = "sfncompile_include_file"


class IncludeFile(Parameter):
    """A parameter whose value is the content of a file (text by default).

    The execution input carries a reference to the file's bytes in the datastore
    (``INCLUDE_KEY``; the start step resolves it), or the content itself, or,
    locally, a path to a readable file.
    """

    IS_INCLUDE_FILE = True

    def __init__(self, name, required=None, is_text=True, encoding="utf-8", help=None, default=None, **kwargs):
        super().__init__(name, default=default, type=str, help=help, required=required, **kwargs)
        self.is_text = is_text
        self.encoding = encoding

    def convert(self, value):
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray)):  # the stored file
            return bytes(value).decode(self.encoding) if self.is_text else bytes(value)
        if isinstance(value, str) and len(value) < 4096 and "\n" not in value and os.path.isfile(value):
            with open(value, "rb") as src:
                data = src.read()
            return data.decode(self.encoding) if self.is_text else data
        if not self.is_text and isinstance(value, str):
            return value.encode(self.encoding)
        return value


class IncludedFile:
    """A reference to an included file's stored content (``metaflow.includefile.IncludedFile``):
    ``descriptor`` is the JSON-able dict that says where the content is."""

    def __init__(self, descriptor: dict):
        self._descriptor = descriptor

    @property
    def descriptor(self) -> dict:
        return self._descriptor

    @property
    def size(self):
        return self._descriptor.get("size")

    def __repr__(self) -> str:
        return f"IncludedFile({self._descriptor!r})"
