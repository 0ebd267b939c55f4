"""The flow graph: the intermediate representation every back end reads.

Plain dataclasses only; nothing from libcst leaks in here, so the IR can be
written to JSON (the code package carries it as ``graph.json`` for the
runtime, which must not depend on the compiler) and read back unchanged.

The front end fills the *facts* (what the source says: transitions as
written, decorator arguments, spans, source-level observations the lint needs)
and then derives the *structure* (kinds, predecessors, matching joins,
foreach stacks) in a few passes; lint reads both and never re-parses source.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

IR_VERSION = 1

# Step kinds, named as the issue and Metaflow name them. A join whose own
# transition is a split keeps the split kind and has ``is_join`` set.
START = "start"
LINEAR = "linear"
SPLIT = "split"
FOREACH = "foreach"
SWITCH = "switch"
JOIN = "join"
END = "end"
STEP_KINDS = (START, LINEAR, SPLIT, FOREACH, SWITCH, JOIN, END)


@dataclass(frozen=True)
class Span:
    """A source range; lines are 1-based, columns 1-based as editors show."""

    file: str
    line: int
    col: int = 1
    end_line: int = 0
    end_col: int = 0

    def where(self) -> str:
        if self.line <= 0:  # not a place in a file: a command-line option (``--with``)
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


@dataclass
class Decorator:
    """A decorator as written, its arguments evaluated statically.

    ``args`` holds only the arguments the user passed (JSON values); defaults
    are applied by ``StepNode.decorator_args`` / the back ends, so golden IR
    shows what the user wrote.
    """

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    span: Span | None = None
    # Positional arguments, kept only so lint can refuse them with a position.
    positional: list[Any] = field(default_factory=list)


@dataclass
class Transition:
    """A ``self.next(...)`` call as written in a step body."""

    targets: list[str] = field(default_factory=list)  # attribute names, in order
    foreach: str | None = None  # value of foreach= (must be a string literal)
    foreach_is_literal: bool = True
    num_parallel: Any = None  # value of num_parallel= (int or a parameter name)
    condition: str | None = None  # value of condition= for switches
    condition_is_literal: bool = True  # condition= was a string literal (lint refuses anything else)
    switch_cases: dict[str, str] | None = None  # case value -> step name
    unknown_keywords: list[str] = field(default_factory=list)
    malformed: str | None = None  # why the call could not be read, if so
    span: Span | None = None


@dataclass
class ParameterSpec:
    """A ``Parameter(...)`` (or ``IncludeFile``) class attribute."""

    attr: str  # class attribute name, e.g. ``alpha = Parameter("alpha")``
    name: str  # the parameter's name on the command line / execution input
    type: str  # "str" | "int" | "float" | "bool" | "json" | "file"
    default: Any = None  # JSON value; None with has_default False means none
    has_default: bool = False
    default_is_function: bool = False  # default=lambda ctx: ... (resolved at run time)
    required: bool = False
    help: str | None = None
    separator: str | None = None
    kind: str = "Parameter"  # "Parameter" | "IncludeFile"
    span: Span | None = None


@dataclass
class ConfigSpec:
    """A ``Config(...)`` class attribute, with the value the compiler resolved for it."""

    attr: str  # class attribute name
    name: str  # the config's name (--config-value NAME / METAFLOW_FLOW_CONFIG_VALUE key)
    value: Any = None  # the JSON value the steps and the decorators see (None: no value)
    source: str | None = None  # where it came from: a file path, "default_value" or the environment variable
    plain: bool = False  # Config(plain=True): the steps get the value as is, not a ConfigValue
    required: bool = False
    span: Span | None = None


@dataclass
class StepNode:
    name: str
    span: Span  # the ``def`` line
    kind: str = LINEAR
    is_join: bool = False  # takes ``inputs`` (more than one positional arg after self)
    num_args: int = 1  # positional args including self
    docstring: str | None = None
    decorators: list[Decorator] = field(default_factory=list)
    # The user's own decorators (a function defined in the flow file or imported from a
    # module other than metaflow/sfncompile), as written (``timed``, ``mylib.timed``).
    # They run inside the step's process when the runtime imports the flow; the compiler
    # never interprets them, so they are kept apart from ``decorators`` (a user's
    # ``@tenacity.retry`` must not read as our ``@retry``).
    user_decorators: list[str] = field(default_factory=list)
    transition: Transition | None = None  # the tail self.next(...), if any
    # Facts gathered for lint (source-level, not structure):
    next_calls: list[Span] = field(default_factory=list)  # every self.next call seen
    next_not_last: bool = False  # a self.next is followed by more statements
    next_missing_on_some_path: bool = False  # some path through the body ends without self.next
    next_missing_at: Span | None = None  # where the first such path ends (a return, or the last statement)
    assigned_attrs: dict[str, Span] = field(default_factory=dict)  # self.<x> = ... (first assignment)
    # Of those, the ones assigned inside a ``try`` that catches AttributeError: the step
    # expects the assignment to fail (a parameter is read-only), so lint does not refuse it.
    guarded_attrs: list[str] = field(default_factory=list)
    step_annotation: dict[str, bool] = field(default_factory=dict)  # @step(start=True/end=True)
    # Structure derived by the front end's graph passes:
    out_funcs: list[str] = field(default_factory=list)  # successors, in order (switch: case order)
    in_funcs: list[str] = field(default_factory=list)  # predecessors, sorted by name
    matching_join: str | None = None  # for split/foreach steps
    split_parents: list[str] = field(default_factory=list)  # enclosing split/foreach steps, outermost first
    foreach_stack: list[str] = field(default_factory=list)  # enclosing foreach steps, outermost first
    in_loop: bool = False  # reachable again from itself through a switch

    def decorator(self, name: str) -> Decorator | None:
        for deco in self.decorators:
            if deco.name == name:
                return deco
        return None


@dataclass
class FlowGraph:
    name: str  # the flow class name
    file: str  # path of the flow file as given to the compiler
    span: Span
    steps: dict[str, StepNode] = field(default_factory=dict)  # in source order
    start: str | None = None
    end: str | None = None
    parameters: list[ParameterSpec] = field(default_factory=list)
    decorators: list[Decorator] = field(default_factory=list)  # flow-level
    user_decorators: list[str] = field(default_factory=list)  # flow-level; see StepNode.user_decorators
    docstring: str | None = None
    imported_from: str = "sfncompile"  # "sfncompile" | "metaflow"
    class_attrs: dict[str, Span] = field(default_factory=dict)  # non-step, non-parameter class attributes
    constants: dict[str, Any] = field(default_factory=dict)  # module-level constants that were resolvable
    # Names of the functions defined at module level in the flow file (``def f`` or
    # ``f = lambda ...``), sorted: what ``@exit_hook(on_success=[f])`` may name
    # (lint SFN147); the runtime looks hooks up by these names in the flow module.
    module_functions: list[str] = field(default_factory=list)
    configs: list[ConfigSpec] = field(default_factory=list)  # resolved at compile time (frontend.configs)
    version: int = IR_VERSION

    def __getitem__(self, name: str) -> StepNode:
        return self.steps[name]

    def __iter__(self):
        return iter(self.steps.values())

    def decorator(self, name: str) -> Decorator | None:
        for deco in self.decorators:
            if deco.name == name:
                return deco
        return None

    # -- JSON round trip -------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False) + ("\n" if indent else "")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FlowGraph":
        def span(d):
            return Span(**d) if d else None

        def deco(d):
            return Decorator(name=d["name"], args=d.get("args", {}), span=span(d.get("span")),
                             positional=d.get("positional", []))

        def transition(d):
            if d is None:
                return None
            d = dict(d)
            d["span"] = span(d.get("span"))
            return Transition(**d)

        steps = {}
        for name, s in data["steps"].items():
            s = dict(s)
            s["span"] = span(s["span"])
            s["decorators"] = [deco(x) for x in s.get("decorators", [])]
            s["transition"] = transition(s.get("transition"))
            s["next_calls"] = [span(x) for x in s.get("next_calls", [])]
            s["assigned_attrs"] = {k: span(v) for k, v in s.get("assigned_attrs", {}).items()}
            s["next_missing_at"] = span(s.get("next_missing_at"))
            steps[name] = StepNode(**s)
        params = []
        for p in data.get("parameters", []):
            p = dict(p)
            p["span"] = span(p.get("span"))
            params.append(ParameterSpec(**p))
        configs = []
        for c in data.get("configs", []):
            c = dict(c)
            c["span"] = span(c.get("span"))
            configs.append(ConfigSpec(**c))
        d = dict(data)
        d["span"] = span(d["span"])
        d["steps"] = steps
        d["parameters"] = params
        d["configs"] = configs
        d["decorators"] = [deco(x) for x in d.get("decorators", [])]
        d["class_attrs"] = {k: span(v) for k, v in d.get("class_attrs", {}).items()}
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> "FlowGraph":
        return cls.from_dict(json.loads(text))
