"""Metaflow's exception types (``metaflow.exception`` inside a task), what
``@catch(var=...)`` stores, and the in-process timeout.

The classes carry Metaflow's names, headlines and messages; a caught
exception's ``type`` is reported under the module a Metaflow user imports it
from (``metaflow.exception.ExternalCommandFailed``,
``metaflow.plugins.catch_decorator.FailureHandledByCatch``), as Metaflow does.
"""

from __future__ import annotations


class MetaflowException(Exception):
    headline = "Flow failed"

    def __init__(self, msg="", lineno=None, source_file=None):
        self.message = msg
        self.line_no = lineno
        self.source_file = source_file
        super().__init__(msg)

    def __str__(self):
        prefix = ""
        if self.source_file:
            prefix = f"{self.source_file}:"
        if self.line_no:
            prefix = f"line {self.line_no}:"
        return f"{prefix} {self.message}" if prefix else str(self.message)


class ParameterFieldFailed(MetaflowException):
    headline = "Parameter field failed"

    def __init__(self, name, field):
        import traceback

        super().__init__(f"When evaluating the field *{field}* for the Parameter *{name}*, the following exception "
                         f"occurred:\n\n{traceback.format_exc()}")


class ParameterFieldTypeMismatch(MetaflowException):
    headline = "Parameter field with a mismatching type"


class ExternalCommandFailed(MetaflowException):
    headline = "External command failed"


class MetaflowNotFound(MetaflowException):
    headline = "Object not found"


class MetaflowNamespaceMismatch(MetaflowException):
    headline = "Object not in the current namespace"

    def __init__(self, namespace):
        super().__init__(f"Object not in namespace '{namespace}'")


class MetaflowInvalidPathspec(MetaflowException):
    headline = "Invalid pathspec"


class MetaflowInternalError(MetaflowException):
    headline = "Internal error"


class MetaflowTaggingError(MetaflowException):
    headline = "Tagging error"


class MetaflowUnknownUser(MetaflowException):
    headline = "Unknown user"

    def __init__(self):
        super().__init__("Metaflow could not determine your user name based on environment variables ($USERNAME etc.)")


class InvalidDecoratorAttribute(MetaflowException):
    headline = "Unknown decorator attribute"

    def __init__(self, deconame, attr, defaults):
        super().__init__(f"Decorator '{deconame}' does not support the attribute '{attr}'. "
                         f"These attributes are supported: {', '.join(defaults)}.")


class CommandException(MetaflowException):
    headline = "Invalid command"


class MetaflowDataMissing(MetaflowException):
    headline = "Data missing"


class UnhandledInMergeArtifactsException(MetaflowException):
    headline = "Unhandled artifacts in merge"

    def __init__(self, msg, unhandled):
        super().__init__(msg)
        self.artifact_names = unhandled


class MissingInMergeArtifactsException(MetaflowException):
    headline = "Missing artifacts in merge"

    def __init__(self, msg, unhandled):
        super().__init__(msg)
        self.artifact_names = unhandled


class TimeoutException(MetaflowException):
    """Raised inside a step that ran longer than its ``@timeout``."""

    headline = "@timeout"


class FailureHandledByCatch(MetaflowException):
    """What ``@catch`` stores when the task's process died without a Python exception."""

    headline = "Task execution failed but @catch handled it"

    def __init__(self, retry_count):
        super().__init__(f"Task execution kept failing over {retry_count} attempts. Your code did not raise an "
                         "exception. Something in the execution environment caused the failure.")


class CardNotPresentException(MetaflowException):
    """``get_cards`` found no card (``metaflow.plugins.cards.exception``)."""

    headline = "Card not present"


# The module a Metaflow user imports each of our classes from (reported as the
# caught exception's ``type``, as Metaflow reports it).
PUBLIC_MODULES = {
    "TimeoutException": "metaflow.plugins.timeout_decorator",
    "FailureHandledByCatch": "metaflow.plugins.catch_decorator",
    "CardNotPresentException": "metaflow.plugins.cards.exception",
}


def public_type_name(kind: type) -> str:
    """Metaflow's ``type`` text for an exception class: ``module.Name``."""
    module = kind.__module__
    if module == __name__:
        module = PUBLIC_MODULES.get(kind.__name__, "metaflow.exception")
    return f"{module}.{kind.__name__}"


class ExceptionWrapper(Exception):
    """A failure as data: picklable whatever the original exception was
    (Metaflow's ``MetaflowExceptionWrapper``, an ``Exception`` as Metaflow's is).

    ``type`` is the exception's ``module.Name`` as Metaflow writes it
    (``builtins.KeyError``), ``message`` (Metaflow: ``exception``) its text,
    ``traceback`` (Metaflow: ``stacktrace``) the formatted stack. ``str()`` and
    ``repr()`` are the stack, as Metaflow's. ``ExceptionWrapper(exc)`` wraps an
    exception being handled, as ``MetaflowExceptionWrapper(exc)`` does.
    """

    def __init__(self, type=None, message: str = "", traceback: str = ""):
        if isinstance(type, BaseException):
            import traceback as _traceback

            exc = type
            kind = exc.__class__
            type = public_type_name(kind)
            message = str(exc)
            traceback = "".join(_traceback.format_exception(kind, exc, exc.__traceback__))
        super().__init__(type, message, traceback)
        self.type = type
        self.message = message
        self.traceback = traceback

    @classmethod
    def from_exception(cls, exc: BaseException) -> "ExceptionWrapper":
        return cls(exc)

    @property
    def exception(self) -> str:
        return self.message

    @property
    def stacktrace(self) -> str:
        return self.traceback

    def to_dict(self) -> dict:
        return {"type": self.type, "message": self.message, "traceback": self.traceback}

    # Exception's own pickling keeps only ``args``; the state is the three fields.
    def __reduce__(self):
        return ExceptionWrapper, (self.type, self.message, self.traceback)

    def __setstate__(self, state):
        # a wrapper pickled before it was an Exception (a plain object's __dict__)
        self.__dict__.update(state or {})

    def __str__(self) -> str:
        return self.traceback or f"[no stacktrace]\n{self.type}: {self.message}"

    def __repr__(self) -> str:
        return str(self)


MetaflowExceptionWrapper = ExceptionWrapper
