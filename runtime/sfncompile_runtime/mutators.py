"""User step decorators and mutators (Metaflow 2.16+ names).

``user_step_decorator`` and ``UserStepDecorator`` wrap a step's execution:
code before the ``yield`` (``pre_step``) runs before the step, code after it
(``post_step``) after; an exception of the step is thrown into the generator
at the ``yield`` (the decorator may swallow it); yielding a dict (or
``USER_SKIP_STEP``) skips the step's body. They run inside the task, as under
Metaflow, so they work on every executor.

``FlowMutator`` and ``StepMutator`` change the flow's decorators and
parameters *before* it is compiled: ``sfncompile check`` refuses them (the
state machine is compiled from the source, which they would contradict). The
classes exist so that a flow file importing them still imports.
"""

from __future__ import annotations

import functools
import inspect

from .exceptions import MetaflowException

# Yielded by a user step decorator: skip the step's body (Metaflow's marker).
USER_SKIP_STEP: dict = {}


def _wrap_step(step_func, enter, leave):
    """The step method run between ``enter`` (→ skip?) and ``leave`` (→ swallow the exception?)."""

    @functools.wraps(step_func)
    def run(flow, *args):
        inputs = args[0] if args else None
        skip = enter(step_func.__name__, flow, inputs)
        if skip is USER_SKIP_STEP or isinstance(skip, dict) or skip is True:
            # Skipped: the transitions are the state machine's anyway.
            leave(step_func.__name__, flow, None)
            return None
        try:
            step_func(flow, *args)
        except Exception as exc:
            if not leave(step_func.__name__, flow, exc):
                raise
            return None
        leave(step_func.__name__, flow, None)
        return None

    for attr in ("is_step", "name", "decorators", "_sfn_annotation"):
        if hasattr(step_func, attr):
            setattr(run, attr, getattr(step_func, attr))
    run.__wrapped__ = step_func
    return run


def user_step_decorator(*args, **kwargs):
    """Turn a generator function ``def deco(step_name, flow, inputs=None, attributes=None)``
    into a step decorator usable as ``@deco`` or ``@deco(key=value)`` above ``@step``."""

    def make(generator_func):
        params = inspect.signature(generator_func).parameters

        class _Generated(UserStepDecorator):
            def init(self, *a, **kw):
                self.attributes = dict(kw)

            def pre_step(self, step_name, flow, inputs=None):
                call = {"step_name": step_name, "flow": flow, "inputs": inputs}
                if "attributes" in params:
                    call["attributes"] = self.attributes
                self._gen = generator_func(**{k: v for k, v in call.items() if k in params})
                try:
                    skip = next(self._gen)
                except StopIteration:
                    self._gen = None
                    return USER_SKIP_STEP  # no yield: the step does not run
                return skip

            def post_step(self, step_name, flow, exception=None):
                gen, self._gen = self._gen, None
                if gen is None:
                    return False
                try:
                    if exception is None:
                        next(gen)
                    else:
                        gen.throw(exception)
                except StopIteration:
                    return exception is not None  # reached the end: an exception thrown in was swallowed
                raise MetaflowException(f" {generator_func.__name__} should only yield once")

        _Generated.__name__ = _Generated.__qualname__ = generator_func.__name__
        _Generated.__doc__ = generator_func.__doc__
        return _Generated

    if args and callable(args[0]) and not kwargs and len(args) == 1:
        return make(args[0])
    return make


class UserStepDecorator:
    """Subclass and override ``pre_step``/``post_step`` (and ``init`` for arguments)."""

    def __new__(cls, *args, **kwargs):
        # ``@Deco`` directly on a step function: decorate it now.
        if len(args) == 1 and not kwargs and callable(args[0]) and getattr(args[0], "is_step", False):
            instance = super().__new__(cls)
            instance.init()
            return instance._apply(args[0])
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        self.init(*args, **kwargs)

    def init(self, *args, **kwargs):
        pass

    def __call__(self, step_func):
        return self._apply(step_func)

    def _apply(self, step_func):
        def enter(step_name, flow, inputs):
            return self.pre_step(step_name, flow, inputs)

        def leave(step_name, flow, exception):
            result = self.post_step(step_name, flow, exception)
            return bool(result) if exception is not None else False

        return _wrap_step(step_func, enter, leave)

    def pre_step(self, step_name, flow, inputs=None):
        return None

    def post_step(self, step_name, flow, exception=None):
        return None

    @property
    def skip_step(self):
        return getattr(self, "_skip", False)

    @skip_step.setter
    def skip_step(self, value):
        self._skip = value


class _Mutator:
    """Base of the mutators: applying one records it; nothing is changed at run time
    (``check`` refuses mutators, so a compiled flow never carries one)."""

    def __init__(self, *args, **kwargs):
        self._args = args
        self._kwargs = kwargs
        self.init(*args, **kwargs)

    def init(self, *args, **kwargs):
        pass

    def __call__(self, target):
        return target

    def pre_mutate(self, mutable):
        pass

    def mutate(self, mutable):
        pass


class FlowMutator(_Mutator):
    """Changes a flow's decorators/parameters before it is compiled: refused by ``check``."""

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and isinstance(args[0], type):
            return args[0]  # ``@Mutator`` directly on the class
        return super().__new__(cls)


class StepMutator(_Mutator):
    """Changes a step's decorators before it is compiled: refused by ``check``."""

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]) and getattr(args[0], "is_step", False):
            return args[0]
        return super().__new__(cls)


UserStepDecoratorBase = UserStepDecorator  # Metaflow's name for the common base
