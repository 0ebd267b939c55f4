"""``Config``, ``ConfigValue`` and ``config_expr`` (Metaflow 2.13+ semantics).

A config's value is fixed before the run starts: the compiler resolves it
(from ``--config``/``--config-value``, ``METAFLOW_FLOW_CONFIG[_VALUE]``, the
default file or ``default_value``) and writes it into ``graph.json``, so the
decorators compiled into the state machine and the values the steps read are
the same. Inside a task ``self.<config>`` is a read-only ``ConfigValue``
(attribute and item access, nested); the start step stores it as an artifact.

In the class body a config is not a value yet: ``config.x``, ``config["x"]``,
``config_expr("config.x + 1")`` and ``**config`` build ``DelayedConfig``
expressions, evaluated against the values when asked (a parameter default, a
step decorator imported outside a task). The compiler evaluates the same
expressions statically from the source.
"""

from __future__ import annotations

import collections.abc
import copy
import json
import re

from .exceptions import MetaflowException

_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
UNPACK_KEY = "_sfncompile_unpacked_config_"

# name -> (value, plain) for the flow being run in this process; set by the runner
# (from graph.json) before any expression is evaluated.
_VALUES: dict[str, tuple[object, bool]] = {}


class ConfigValue(collections.abc.Mapping, dict):
    """An immutable nested mapping, readable as ``cfg.a.b`` or ``cfg["a"]["b"]``."""

    def __init__(self, data):
        object.__setattr__(self, "_data", {k: self._construct(v) for k, v in dict(data).items()})
        dict.__init__(self, self._data)

    @classmethod
    def _construct(cls, obj):
        if isinstance(obj, ConfigValue):
            return obj
        if isinstance(obj, collections.abc.Mapping):
            return ConfigValue(obj)
        if isinstance(obj, (list, tuple, set)):
            return type(obj)(cls._construct(x) for x in obj)
        return obj

    @classmethod
    def _to_dict(cls, obj):
        if isinstance(obj, collections.abc.Mapping):
            return {k: cls._to_dict(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple, set)):
            return type(obj)(cls._to_dict(x) for x in obj)
        return obj

    def to_dict(self) -> dict:
        return self._to_dict(self._data)

    def __getattr__(self, key):
        if key == "_data":
            raise AttributeError(key)  # while unpickling
        if key in self._data:
            return self._data[key]
        raise AttributeError(key)

    def __getitem__(self, key):
        return self._data[key]

    def __len__(self):
        return len(self._data)

    def __iter__(self):
        return iter(self._data)

    def __contains__(self, key):
        return key in self._data

    def keys(self):
        return self._data.keys()

    def __eq__(self, other):
        if isinstance(other, ConfigValue):
            return self._data == other._data
        return isinstance(other, dict) and self._data == other

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = None

    def _immutable(self, *args, **kwargs):
        raise TypeError("ConfigValue is immutable")

    __setattr__ = __setitem__ = __delattr__ = __delitem__ = _immutable
    clear = update = setdefault = pop = popitem = _immutable

    def copy(self):
        return ConfigValue(self.to_dict())

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return ConfigValue(copy.deepcopy(self.to_dict(), memo))

    def __repr__(self):
        return repr(self._data)

    __str__ = __repr__

    def __reduce__(self):
        return (ConfigValue, (self.to_dict(),))


def wrap(value, plain: bool = False):
    """What a step sees for a config's value."""
    if plain or value is None or not isinstance(value, collections.abc.Mapping):
        return value
    return ConfigValue(value)


class DelayedConfig(collections.abc.Mapping):
    """An expression over the configs, evaluated when the values are known
    (Metaflow's ``DelayEvaluator``)."""

    def __init__(self, expression: str, namespace: dict | None = None, access: list | None = None):
        self._expression = expression
        self._namespace = namespace
        self._access = list(access) if access is not None else ([] if _ID.match(expression) else None)

    def _extend(self, key):
        if self._access is None:
            raise AttributeError(key)
        return DelayedConfig(self._expression, self._namespace, self._access + [key])

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._extend(name)

    def __getitem__(self, key):
        if isinstance(key, str) and key == f"{UNPACK_KEY}{id(self)}":
            return self
        if self._access is None:
            raise KeyError(key)
        return self._extend(key)

    # ``**config`` in a decorator call: one placeholder key standing for the whole mapping.
    def __iter__(self):
        yield f"{UNPACK_KEY}{id(self)}"

    def __len__(self):
        return 1

    def text(self) -> str:
        """The expression as Python text (``config.a.b``)."""
        out = self._expression
        for key in self._access or []:
            out += f".{key}" if isinstance(key, str) and _ID.match(key) else f"[{key!r}]"
        return out

    def __call__(self, values: dict | None = None):
        values = _VALUES if values is None else values
        if not values:
            raise MetaflowException("Config object can only be used directly in the FlowSpec defining them "
                                    "(or their flow decorators).")
        local = {name: wrap(value, plain) for name, (value, plain) in values.items()}
        try:
            return eval(self.text(), dict(self._namespace or {}), local)  # noqa: S307 (the user's own expression)
        except NameError as exc:
            raise MetaflowException(f"Config expression '{self.text()}' could not be evaluated: {exc}") from exc

    def __repr__(self):
        return f"config_expr({self.text()!r})"


def config_expr(expression: str) -> DelayedConfig:
    """An expression over the flow's configs, usable in decorators:
    ``@project(name=config_expr("config").project)``."""
    import sys

    caller = sys._getframe(1).f_globals
    return DelayedConfig(expression, caller)


def resolve(value, values: dict | None = None):
    """``value`` with every ``DelayedConfig`` inside it evaluated (dicts, lists, tuples)."""
    if isinstance(value, DelayedConfig):
        return value(values)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str) and key.startswith(UNPACK_KEY):
                out.update(ConfigValue._to_dict(resolve(item, values)))
            else:
                out[resolve(key, values)] = resolve(item, values)
        return out
    if isinstance(value, (list, tuple)):
        return type(value)(resolve(v, values) for v in value)
    return value


class Config(collections.abc.Mapping):
    """A flow configuration (``config = Config("config", default="config.json")``).

    ``default`` is a file path (read as JSON unless ``parser=`` says otherwise);
    ``default_value`` a value (a dict, or JSON text). Only one of the two.
    """

    IS_CONFIG_PARAMETER = True

    def __init__(self, name, default=None, default_value=None, help=None, required=None, parser=None,
                 plain=False, **kwargs):
        if default is not None and default_value is not None:
            raise MetaflowException(f"For config '{name}', you can only specify default or default_value, not both")
        self.name = name
        self.default = default
        self.default_value = default_value
        self.help = help
        self.required = bool(required)
        self.parser = parser
        self.plain = plain
        self.kwargs = kwargs
        self.attr = None

    def __set_name__(self, owner, attr):
        self.attr = attr

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return wrap(instance._sfn_artifact(self.attr), self.plain)

    def __set__(self, instance, value):
        raise AttributeError(f"Config '{self.name}' is read-only: a config is fixed before the run starts")

    # ``config.x`` / ``config["x"]`` / ``**config`` in the class body: delayed.
    def __getattr__(self, name):
        # Probes of the flow's class attributes (``is_step``, private names) are not config keys.
        if name.startswith("_") or name in ("attr", "name", "is_step", "decorators"):
            raise AttributeError(name)
        return getattr(DelayedConfig(self.name), name)

    def __getitem__(self, key):
        if isinstance(key, str) and key.startswith(UNPACK_KEY):
            return DelayedConfig(self.name)
        return DelayedConfig(self.name)[key]

    def __iter__(self):
        yield f"{UNPACK_KEY}{id(self)}"

    def __len__(self):
        return 1

    def __repr__(self):
        return f"Config({self.name!r})"


def parse_text(text: str, parser=None):
    """A config file's text → its value (JSON unless a parser callable is given)."""
    if parser is not None:
        if callable(parser):
            return parser(text)
        raise MetaflowException(f"parser={parser!r}: only a function is supported as a config parser")
    return json.loads(text)


def set_values(values: dict[str, tuple[object, bool]]) -> None:
    """The resolved configs of the flow this process runs (from graph.json)."""
    _VALUES.clear()
    _VALUES.update(values)


def namespace_for_context() -> object:
    """``ctx.configs`` for a ``Parameter(default=function)``: ``ctx.configs.<name>``."""
    import types

    return types.SimpleNamespace(**{name: wrap(value, plain) for name, (value, plain) in _VALUES.items()})
