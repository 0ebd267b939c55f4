"""``@step`` and the step/flow decorators, validated by ``decorator_specs``.

Decorators only *record* themselves (``func.decorators`` / ``cls._flow_decorators``,
as ``(name, args)`` pairs): what they mean at run time is read from
``graph.json``, the same source the state machine was compiled from, so the
local run and the deployed one cannot disagree. Invalid arguments raise at
import time with the same message the compiler's lint gives.
"""

from __future__ import annotations

# Inside a task the runner turns this off: graph.json was linted at compile time
# against the same table (decorator_specs), and importing it costs start-up time.
VALIDATE = True


class InvalidDecoratorError(TypeError):
    pass


def step(f=None, *, start=False, end=False):
    """Mark a method as a step; ``@step(start=True)``/``@step(end=True)`` name the ends."""
    def mark(func):
        func.is_step = True
        func.name = func.__name__
        func._sfn_annotation = {"start": bool(start), "end": bool(end)}
        if not hasattr(func, "decorators"):
            func.decorators = []
        return func

    if f is None:
        return mark
    if not callable(f):
        raise InvalidDecoratorError("@step takes no positional arguments; use @step or @step(start=True)")
    return mark(f)


def _record(name: str, target, args: dict):
    is_flow = isinstance(target, type)
    problems = []
    if VALIDATE:
        from . import decorator_specs

        problems = decorator_specs.validate(name, args, decorator_specs.FLOW if is_flow else decorator_specs.STEP)
    if problems:
        where = getattr(target, "__qualname__", getattr(target, "__name__", "?"))
        raise InvalidDecoratorError(f"{where}: " + "; ".join(message for _, message in problems))
    if is_flow:
        own = list(target.__dict__.get("_flow_decorators", []))
        own.append((name, dict(args)))
        target._flow_decorators = own
    else:
        if not hasattr(target, "decorators"):
            target.decorators = []
        target.decorators.append((name, dict(args)))
    return target


def _decorator(name: str):
    def decorator(target=None, **args):
        if target is not None:
            if args or not callable(target):
                raise InvalidDecoratorError(f"@{name} takes keyword arguments only, e.g. @{name}(...)")
            return _record(name, target, {})
        return lambda t: _record(name, t, args)

    decorator.__name__ = decorator.__qualname__ = name
    decorator.__doc__ = f"The @{name} decorator (Metaflow's semantics; see docs/runtime.md)."
    return decorator


batch = _decorator("batch")
resources = _decorator("resources")
retry = _decorator("retry")
catch = _decorator("catch")
timeout = _decorator("timeout")
environment = _decorator("environment")
pypi = _decorator("pypi")
pypi_base = _decorator("pypi_base")
conda = _decorator("conda")
conda_base = _decorator("conda_base")
schedule = _decorator("schedule")
project = _decorator("project")
trigger = _decorator("trigger")
trigger_on_finish = _decorator("trigger_on_finish")
exit_hook = _decorator("exit_hook")
parallel = _decorator("parallel")
card = _decorator("card")
secrets = _decorator("secrets")
