"""User step decorators and mutators (Metaflow 2.16+ names).

``user_step_decorator`` and ``UserStepDecorator`` wrap a step's execution,
by Metaflow's protocol (``_wrap_step``): code before the ``yield``
(``pre_step``) runs before the step, code after it (``post_step``) after; an
exception of the step is thrown into the generator at the ``yield`` (the
decorator may swallow it: the step then succeeds and goes on); yielding a
dict (or ``USER_SKIP_STEP``) skips the step's body, yielding a callable
replaces it. They run inside the task, as under Metaflow, so they work on
every executor.

``FlowMutator`` and ``StepMutator`` change the flow's decorators and
parameters *before* it is compiled: ``sfncompile check`` refuses applying
them (SFN016; the state machine is compiled from the source, which they would
contradict). The classes exist so that a flow file importing them still
imports; applying one (one ``check`` could not see) raises at import.
"""

from __future__ import annotations

import functools
import inspect

from .exceptions import MetaflowException

# Yielded by a user step decorator: skip the step's body (Metaflow's marker).
USER_SKIP_STEP: dict = {}


def _wrap_step(step_func, decorator):
    """The step method run under one user step decorator, by Metaflow's protocol (its task
    runs a stack of them; nesting one wrapper per decorator gives the same order):

    * ``pre_step`` returns None, or a callable run instead of what it wraps (its return:
      arguments for ``self.next``, or True for the step's usual ones); setting ``skip_step``
      (True, or a dict of ``self.next`` arguments) skips what it wraps;
    * ``post_step`` gets the exception (or None) and returns None (success: an exception is
      swallowed), an exception (raised), ``(exception, next_arguments)``, or a 3-tuple whose
      last item is raised;
    * when the step was skipped, replaced or its exception swallowed, ``self.next`` is called
      for it with the step's own transition (``_fake_next``).
    """

    @functools.wraps(step_func)
    def run(flow, *args):
        name = getattr(step_func, "name", None) or step_func.__name__
        inputs = args[0] if args else None
        next_args, raised, had_raised = None, None, False
        replacement = decorator.pre_step(name, flow, inputs)
        if decorator.skip_step:
            next_args = decorator.skip_step
        else:
            try:
                if callable(replacement):
                    next_args = replacement(flow, *args) or None
                else:
                    step_func(flow, *args)
            except Exception as exc:
                raised, had_raised = exc, True
        try:
            outcome = decorator.post_step(name, flow, raised)
        except Exception as exc:
            outcome = exc
        if outcome is None:
            raised = None
        elif isinstance(outcome, Exception):
            raised = outcome
        elif isinstance(outcome, tuple):
            if len(outcome) == 2:
                raised, next_args = outcome
            else:
                raise outcome[2]
        else:
            raise RuntimeError("Invalid return value from a UserStepDecorator. Expected an exception or an "
                               f"exception and arguments for self.next, got: {outcome}")
        if raised is not None:
            raise raised
        if (next_args is not None and next_args is not False) or had_raised:
            _fake_next(flow, name, next_args, had_raised)
        return None

    for attr in ("is_step", "name", "decorators", "_sfn_annotation"):
        if hasattr(step_func, attr):
            setattr(run, attr, getattr(step_func, attr))
    run.__wrapped__ = step_func
    return run


def _fake_next(flow, step_name: str, next_args, had_raised: bool) -> None:
    """``self.next(...)`` on behalf of a skipped, replaced or rescued step, as Metaflow's task does.

    The transitions are compiled into the state machine from the source, so arguments that
    differ from the step's own (another foreach variable, say) cannot be followed: that is a
    loud failure, never a silently different flow."""
    node = flow._graph[step_name]
    if not node.out_funcs:
        return
    targets = [getattr(flow, name) for name in node.out_funcs]
    own = {key: value for key, value in (("foreach", node.foreach_param), ("condition", node.condition)) if value}
    flow.__dict__.pop("_sfn_next", None)  # Metaflow resets the transition first
    if isinstance(next_args, dict) and next_args:
        if next_args != own:
            raise MetaflowException(
                f"a user step decorator of step '{step_name}' calls self.next() with {next_args!r}, not the "
                f"step's own arguments ({own or 'none'}): sfncompile compiles each transition from the flow's "
                "source into the state machine, so it cannot change one at run time; change the step's "
                "self.next() instead")
        flow.next(*targets, **next_args)
    elif next_args is True or next_args == {} or had_raised:
        if node.condition:
            raise MetaflowException(f"a user step decorator skipped switch step '{step_name}' without the "
                                    "self.next() arguments that choose its case")
        flow.next(*targets, foreach=node.foreach_param)
    else:
        raise RuntimeError(f"Invalid value passed to self.next; expected bool or a dictionary; got: {next_args}")


def user_step_decorator(*args, **kwargs):
    """Turn a generator function ``def deco(step_name, flow, inputs=None, attributes=None)``
    into a step decorator usable as ``@deco`` or ``@deco(key=value)`` above ``@step``."""

    def make(generator_func, attributes_allowed: bool):
        if not inspect.isgeneratorfunction(generator_func):
            raise MetaflowException("@user_step_decorator can only decorate generator functions.")
        arg_count = len(inspect.signature(generator_func).parameters)
        if attributes_allowed and arg_count != 4:
            raise MetaflowException("@user_step_decorator(<kwargs>) can only decorate generator functions with 4 "
                                    "arguments (step_name, flow, inputs, attributes)")
        if arg_count not in (3, 4):
            raise MetaflowException("@user_step_decorator can only decorator generator functions with 3 or 4 "
                                    "arguments (step_name, flow, inputs [, attributes]).")

        class _Generated(UserStepDecorator):
            def init(self, *a, **kw):
                if a:
                    raise MetaflowException(f"{generator_func.__name__} does not allow arguments, only keyword "
                                            "arguments")
                self.attributes = dict(kw)

            def pre_step(self, step_name, flow, inputs=None):
                if arg_count == 4:
                    self._gen = generator_func(step_name, flow, inputs, self.attributes)
                else:
                    self._gen = generator_func(step_name, flow, inputs)
                value = self._gen.send(None)
                if isinstance(value, dict):  # skip the step; a non-empty dict: self.next's arguments
                    self.skip_step = value if value else True
                    return None
                return value

            def post_step(self, step_name, flow, exception=None):
                try:
                    if exception:
                        self._gen.throw(exception)
                    else:
                        self._gen.send(None)
                except StopIteration as stop:
                    return stop.value
                except Exception as exc:
                    return exc
                return None, None, MetaflowException(f" {generator_func.__name__} should only yield once")

        _Generated.__name__ = _Generated.__qualname__ = generator_func.__name__
        _Generated.__doc__ = generator_func.__doc__
        _Generated.__module__ = generator_func.__module__
        return _Generated

    if args:
        return make(args[0], bool(kwargs))
    return lambda func: make(func, bool(kwargs))


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
        return _wrap_step(step_func, self)

    def pre_step(self, step_name, flow, inputs=None):
        return None

    def post_step(self, step_name, flow, exception=None):
        # Metaflow's default: an exception stays raised, success stays success.
        return (exception, None) if exception else (None, None)

    @property
    def skip_step(self):
        return getattr(self, "_skip", False)

    @skip_step.setter
    def skip_step(self, value):
        self._skip = value


def _refuse(mutator, target) -> None:
    kind = "FlowMutator" if isinstance(mutator, FlowMutator) or (isinstance(mutator, type)
                                                                 and issubclass(mutator, FlowMutator)) else "StepMutator"
    name = mutator.__name__ if isinstance(mutator, type) else type(mutator).__name__
    where = getattr(target, "__name__", repr(target))
    raise MetaflowException(
        f"@{name} ({kind}) applied to {where}: mutators change the flow's parameters and decorators by running "
        "code when the flow is loaded, and sfncompile compiles the flow from its source without running it, so "
        "it cannot apply them (`sfncompile check` reports those it can see, SFN016); write what it adds in the "
        "flow itself, or use a user step decorator (@user_step_decorator) for code around a step")


class _Mutator:
    """Base of the mutators: defining and instantiating one works (so flow files and
    libraries import); applying one is refused loudly, never silently ignored."""

    def __init__(self, *args, **kwargs):
        self._args = args
        self._kwargs = kwargs
        self.init(*args, **kwargs)

    def init(self, *args, **kwargs):
        pass

    def __call__(self, target):
        _refuse(self, target)

    def pre_mutate(self, mutable):
        pass

    def mutate(self, mutable):
        pass


class FlowMutator(_Mutator):
    """Changes a flow's decorators/parameters when the flow is loaded: refused (see ``_refuse``)."""

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and isinstance(args[0], type):
            _refuse(cls, args[0])  # ``@Mutator`` directly on the class
        return super().__new__(cls)


class StepMutator(_Mutator):
    """Changes a step's decorators when the flow is loaded: refused (see ``_refuse``)."""

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]) and getattr(args[0], "is_step", False):
            _refuse(cls, args[0])
        return super().__new__(cls)


UserStepDecoratorBase = UserStepDecorator  # Metaflow's name for the common base
