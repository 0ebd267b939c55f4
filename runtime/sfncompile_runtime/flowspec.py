"""``FlowSpec``: the base class of a flow, with Metaflow's in-step behaviour.

Inside a task the runner binds a ``TaskView`` to the instance: artifacts the
parents produced are *references* (sha256 + encoding) and are fetched only
when the step reads them (``self.x`` → ``__getattr__`` → one blob load,
cached); what the step assigns lives in the instance ``__dict__`` and is
stored at the end. ``self.next(...)`` is a no-op at run time: the state
machine already encodes the transitions.
"""

from __future__ import annotations

import sys


from .exceptions import MetaflowException, MissingInMergeArtifactsException, UnhandledInMergeArtifactsException

# The name earlier versions raised; merge_artifacts now raises Metaflow's own classes
# (one class each, whatever module a flow imports it from).
MergeArtifactsException = MetaflowException


class ForeachFrame:
    """One level of the foreach stack; width and value are read only when asked for.

    ``record`` returns the foreach step's committed record (cached by the
    caller); ``load`` turns an artifact ref into its value.
    """

    def __init__(self, step: str, var: str, index: int, record: Callable[[], dict], load: Callable[[dict], Any]):
        self.step = step
        self.var = var
        self.index = index
        self._record = record
        self._load = load
        self._loaded = False
        self._value = None

    @property
    def num_splits(self) -> int:
        return int(self._record()["foreach"]["width"])

    @property
    def value(self):
        if not self._loaded:
            items = self._load(self._record()["artifacts"][self.var], self.var, self.step)
            self._value = items[self.index] if hasattr(items, "__getitem__") else list(items)[self.index]
            self._loaded = True
        return self._value


class TaskView:
    """What one task (or one join input) can see: artifact refs + foreach frames."""

    def __init__(self, step: str, refs: dict, loader: Callable[[dict], Any], frames: list[ForeachFrame] | None = None,
                 parameters: list[str] | None = None, is_join: bool = False, inputs=None,
                 not_stored: dict | None = None):
        self.step = step
        self.refs = dict(refs)  # name -> artifact ref, visible without loading
        self.loader = loader
        self.frames = frames or []
        self.parameters = list(parameters or [])
        self.is_join = is_join
        self.inputs = inputs
        self.loaded: dict[str, object] = {}  # name -> the object handed to the step
        self.not_stored = dict(not_stored or {})  # name -> why an earlier step's attribute is no artifact

    def load(self, name: str):
        ref = self.refs.get(name)
        if ref is None:
            if name in self.not_stored:
                raise AttributeError(f"step '{self.step}' has no artifact '{name}': {self.not_stored[name]}")
            raise AttributeError(f"step '{self.step}' has no artifact '{name}'")
        value = self.loader(ref, name, self.step)
        self.loaded[name] = value
        return value


_INTERNAL = "_sfn_task"
_NO_INPUT = ("self.input is only defined inside a foreach (the step after "
             "self.next(..., foreach='var') and the steps before its join)")


class FlowSpec:
    """Base class of a flow. Subclass it and add ``@step`` methods."""

    _flow_decorators: list = []

    # Class attributes that are neither parameters nor constants (Metaflow's list).
    _NON_PARAMETERS = frozenset({"cmd", "foreach_stack", "index", "input", "script_name", "name"})

    def __init__(self, use_cli: bool = True):
        # ``MyFlow()`` at the bottom of a flow file (Metaflow's idiom): run the
        # sfncompile command line on this file, e.g. ``python flow.py run``.
        # ``MyFlow(use_cli=False)`` only builds the object (Metaflow's test
        # checker iterates its steps).
        if use_cli:
            _run_cli(type(self))

    def __setattr__(self, name: str, value) -> None:
        # Parameters, configs and class constants are fixed for the run: Metaflow
        # makes them read-only properties of the task's flow object.
        if name in _read_only_names(type(self)):
            raise AttributeError(f"property '{name}' of '{type(self).__name__}' object has no setter "
                                 f"(parameters and class-level constants cannot be changed in a step; "
                                 f"store the value under another name)")
        object.__setattr__(self, name, value)

    # -- steps (Metaflow's legacy iteration: ``for step in flow``) ----------------
    def __iter__(self):
        """The flow's step methods (each with ``.name``), start first, in the graph's order."""
        return iter([getattr(self, name) for name in _step_names(type(self))])

    @property
    def _graph(self):
        from .graphview import graph_of

        return graph_of(self)

    # -- artifacts ---------------------------------------------------------
    def _sfn_artifact(self, name: str):
        values = self.__dict__
        if name in values:
            return values[name]
        task = values.get(_INTERNAL)
        if task is None:
            raise AttributeError(f"'{type(self).__name__}' has no attribute '{name}' (artifacts exist only inside a running step)")
        value = task.load(name)
        values[name] = value
        return value

    def __getattr__(self, name: str):
        if name.startswith("__") or name == _INTERNAL:
            raise AttributeError(name)
        if name == "input":  # the property raised: keep its message
            raise AttributeError(_NO_INPUT)
        return self._sfn_artifact(name)

    def __contains__(self, name: str) -> bool:
        task = self.__dict__.get(_INTERNAL)
        return name in self.__dict__ or (task is not None and name in task.refs)

    # -- transitions and foreach -------------------------------------------
    def next(self, *targets, foreach=None, condition=None, num_parallel=None):
        """Recorded only: the state machine already encodes every transition."""
        self.__dict__.setdefault("_sfn_next", (targets, foreach, condition))

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def script_name(self) -> str:
        module = sys.modules.get(type(self).__module__)
        return getattr(module, "__file__", "") or ""

    def _frames(self) -> list[ForeachFrame]:
        task = self.__dict__.get(_INTERNAL)
        return task.frames if task is not None else []

    @property
    def input(self):
        frames = self._frames()
        if not frames:
            raise AttributeError(_NO_INPUT)
        return frames[-1].value

    @property
    def index(self):
        frames = self._frames()
        return frames[-1].index if frames else None

    def __str__(self) -> str:
        # Metaflow's: "<flow F step s[0,1] (input: v)>" (the input cut at 20 characters)
        step = self._current_step
        if not step:
            return f"<flow {self.name}>"
        frames = self._frames()
        if not frames:
            return f"<flow {self.name} step {step}>"
        index = ",".join(str(frame.index) for frame in frames)
        value = frames[-1].value
        if value is None:
            return f"<flow {self.name} step {step}[{index}]>"
        text = str(value)
        text = text[:20] + "..." if len(text) > 20 else text
        return f"<flow {self.name} step {step}[{index}] (input: {text})>"

    @property
    def _current_step(self) -> str | None:
        """The running step's name (Metaflow's private attribute, used by flows for lineage)."""
        task = self.__dict__.get(_INTERNAL)
        return task.step if task is not None else None

    @property
    def _foreach_stack(self) -> list:
        """The enclosing foreach frames, outermost first (``.step``, ``.var``, ``.index``,
        ``.num_splits``, ``.value``), as Metaflow's private attribute."""
        return list(self._frames())

    def foreach_stack(self):
        """[(index, num_splits, value), ...] for the enclosing foreaches, outermost first."""
        return [(f.index, f.num_splits, f.value) for f in self._frames()]

    # -- joins ---------------------------------------------------------------
    def merge_artifacts(self, inputs, exclude=None, include=None):
        """Carry over artifacts from the join's inputs (Metaflow's rules).

        An artifact present in several inputs is merged only if every one
        holds the same value (same content hash); conflicting ones must be set
        on ``self`` before the call or excluded. ``include``/``exclude`` are
        mutually exclusive; a name in ``include`` must exist in some input.
        Parameters and names already set on ``self`` are left alone.
        """
        task = self.__dict__.get(_INTERNAL)
        step = task.step if task else "?"
        if task is None or not task.is_join:
            raise MetaflowException(f"merge_artifacts can only be called in a join and step *{step}* is not a join")
        exclude = list(exclude or [])
        include = list(include or [])
        if exclude and include:
            raise MetaflowException("`exclude` and `include` are mutually exclusive in merge_artifacts")
        here = set(self.__dict__) | set(task.refs)
        to_merge: dict[str, tuple[dict, str]] = {}
        conflicts: list[str] = []
        for inp in inputs:
            view = inp.__dict__[_INTERNAL]
            for var, ref in view.refs.items():
                if var.startswith("_") or var in view.parameters or var in here:
                    continue
                if (include and var not in include) or var in exclude:
                    continue
                previous = to_merge.setdefault(var, (ref, ref["sha"]))
                if previous[1] != ref["sha"] and var not in conflicts:
                    conflicts.append(var)
        if conflicts:
            raise UnhandledInMergeArtifactsException(
                f"Step *{step}* cannot merge the following artifacts due to them having conflicting values:\n"
                f"[{', '.join(sorted(conflicts))}].\nTo remedy this issue, be sure to explicitly set those "
                "artifacts (using self.<artifact_name> = ...) prior to calling merge_artifacts.", sorted(conflicts))
        missing = [v for v in include if v not in to_merge and v not in here]
        if missing:
            raise MissingInMergeArtifactsException(
                f"Step *{step}* specifies that [{', '.join(include)}] should be merged but "
                f"[{', '.join(missing)}] are not present.\nTo remedy this issue, please make sure that the "
                "values specified in include come from at least one branch", missing)
        for var, (ref, _) in to_merge.items():
            task.refs[var] = ref


class Inputs:
    """A join's ``inputs``: iterable in order, ``inputs[i]``, ``inputs.<step>`` for static joins."""

    def __init__(self, flows: list, names: list[str] | None = None):
        self._flows = list(flows)
        self._names = list(names or [])

    def __iter__(self):
        return iter(self._flows)

    def __len__(self) -> int:
        return len(self._flows)

    def __getitem__(self, key):
        if isinstance(key, str):
            return self._by_name(key)
        return self._flows[key]

    def _by_name(self, name: str):
        if name in self._names:
            return self._flows[self._names.index(name)]
        raise AttributeError(f"no input from step '{name}' (inputs come from: {', '.join(self._names) or 'a foreach'})")

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._by_name(name)


def _step_names(cls) -> list[str]:
    """Step method names in definition order (base classes first), start first."""
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            if getattr(value, "is_step", False) is True and callable(value) and attr not in names:
                names.append(attr)
    names = [n for n in names if getattr(getattr(cls, n, None), "is_step", False) is True]
    if "start" in names:
        names.remove("start")
        names.insert(0, "start")
    return names


def class_constants(cls) -> list[str]:
    """Class-level values stored as artifacts of every step (Metaflow's rule: public,
    not a parameter or config, not a method, property, class or module)."""
    import types

    cached = cls.__dict__.get("_sfn_constant_names")
    if cached is not None:
        return list(cached)
    out = []
    for var in dir(cls):
        if var[0] == "_" or var in FlowSpec._NON_PARAMETERS:
            continue
        try:
            raw = next(vars(k)[var] for k in cls.__mro__ if var in vars(k))
        except StopIteration:
            continue
        if _is_parameter_like(raw):
            continue
        if isinstance(raw, (types.FunctionType, types.MethodType, property, type, types.ModuleType,
                            staticmethod, classmethod)) or getattr(raw, "is_step", False) is True:
            continue
        out.append(var)
    type.__setattr__(cls, "_sfn_constant_names", tuple(out))
    return out


def _is_parameter_like(value) -> bool:
    from .configs import Config
    from .parameters import Parameter

    return isinstance(value, (Parameter, Config))


def _read_only_names(cls) -> frozenset:
    cached = cls.__dict__.get("_sfn_read_only")
    if cached is None:
        names = set(class_constants(cls))
        for klass in cls.__mro__:
            for var, raw in vars(klass).items():
                if _is_parameter_like(raw):
                    names.add(var)
        cached = frozenset(names)
        type.__setattr__(cls, "_sfn_read_only", cached)
    return cached


# Metaflow's top-level options (``python flow.py --quiet --metadata=local run``) that
# mean nothing different here: accepted and dropped. Value-taking ones with the only
# value that matches our behaviour.
_IGNORED_TOP_FLAGS = {"--quiet", "--no-pylint", "--pylint"}
_IGNORED_TOP_VALUES = {"--metadata": ("local",), "--datastore": ("local",), "--environment": ("local",),
                       "--event-logger": None, "--monitor": None}


def split_top_level_options(args: list[str]) -> tuple[list[str], list[str], str | None]:
    """``(options for the command, the rest from the command on, error)`` for Metaflow's
    ``python flow.py [TOP OPTIONS] COMMAND [OPTIONS]``."""
    extra: list[str] = []
    rest = list(args)
    while rest and rest[0].startswith("--"):
        word = rest.pop(0)
        name, has_value, value = word.partition("=")
        if name in _IGNORED_TOP_FLAGS:
            continue
        if name in _IGNORED_TOP_VALUES or name in ("--with", "--datastore-root"):
            if not has_value:
                if not rest:
                    return [], [], f"{name} needs a value"
                value = rest.pop(0)
            allowed = _IGNORED_TOP_VALUES.get(name)
            if name == "--with":
                extra += ["--with", value]
            elif name == "--datastore-root":
                extra += ["--datastore", value]
            elif allowed is not None and value not in allowed:
                return [], [], f"{name}={value} is not supported: sfncompile runs with its own {name[2:]} ({allowed[0]})"
            continue
        return [], [], f"the top-level option {name} is not supported here"
    return extra, rest, None


def _run_cli(flow_cls) -> None:
    module = sys.modules.get(flow_cls.__module__)
    if module is None or module.__name__ != "__main__":
        return
    try:
        from sfncompile.cli.main import flow_file_main  # the compiler, when installed
    except ImportError:
        sys.exit("sfncompile is not installed here: run flows with `sfncompile run FLOW.py`")
    sys.exit(flow_file_main(getattr(module, "__file__", None), sys.argv[1:]))
