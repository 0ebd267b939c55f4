"""``--with DECORATOR[:name=value,...]``: step decorators attached from the command line.

Metaflow's rules: the decorator goes on every step; a step that already
carries a decorator of that name keeps its own (what the source says wins);
argument values are JSON, else an int, a float or the text as written. The
decorators join the IR before lint, so they are checked exactly as the same
decorators written in the source would be, and every back end (ASL, job
definitions, CDK, the local executor) sees them without knowing where they
came from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from sfncompile_runtime import decorator_specs

from .diagnostics import UserError
from .ir import Decorator, FlowGraph, Span

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# An argument starts after a comma that is followed by ``name=``; other commas belong to the value.
_ARG_BOUNDARY = re.compile(r",(?=\s*[A-Za-z_][A-Za-z0-9_]*\s*=)")


@dataclass(frozen=True)
class WithSpec:
    """One ``--with`` value, parsed."""

    text: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)

    def decorator(self) -> Decorator:
        # line 0: the span names the option, not a place in the flow file (Span.where prints the file part).
        return Decorator(name=self.name, args=dict(self.args), span=Span(f"--with {self.text}", 0, 0))


def _value(text: str) -> Any:
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_with(text: str) -> WithSpec:
    """``retry``, ``retry:times=2``, ``batch:memory=16000,image=python:3.12``; UserError when malformed."""
    name, _, rest = text.strip().partition(":")
    name = name.strip()
    if not _NAME.match(name):
        raise UserError(f"--with {text}: expected DECORATOR[:name=value,...], e.g. --with retry:times=2")
    args: dict[str, Any] = {}
    if rest.strip():
        for part in _ARG_BOUNDARY.split(rest):
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep or not _NAME.match(key):
                raise UserError(f"--with {text}: '{part}' is not name=value "
                                "(arguments are comma-separated name=value pairs)")
            if key in args:
                raise UserError(f"--with {text}: argument '{key}' given twice")
            args[key] = _value(value)
    problems = decorator_specs.validate(name, args, decorator_specs.STEP)
    if problems:
        raise UserError(f"--with {text}: " + "; ".join(message for _, message in problems))
    return WithSpec(text=text, name=name, args=args)


def parse_with_options(values: Iterable[str]) -> tuple[WithSpec, ...]:
    specs = tuple(parse_with(v) for v in values)
    names = [s.name for s in specs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UserError(f"--with names @{twice[0]} more than once; give its arguments in one --with")
    return specs


def attach(graph: FlowGraph, specs: Iterable[WithSpec]) -> FlowGraph:
    """The graph with each spec's decorator on every step that does not already carry one of that name."""
    specs = tuple(specs)
    if not specs:
        return graph
    steps = {}
    for name, step in graph.steps.items():
        have = {d.name for d in step.decorators}
        added = [s.decorator() for s in specs if s.name not in have]
        steps[name] = replace(step, decorators=list(step.decorators) + added) if added else step
    return replace(graph, steps=steps)


def cache_text(specs: Iterable[WithSpec]) -> str:
    """What a cache key needs to know about the specs (their parsed form, order kept)."""
    return json.dumps([[s.name, s.args] for s in specs], sort_keys=True)


__all__ = ["WithSpec", "parse_with", "parse_with_options", "attach", "cache_text"]
