"""What ``@catch(var=...)`` stores, and the in-process timeout."""

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


class MetaflowNotFound(MetaflowException):
    headline = "Object not found"


class MetaflowNamespaceMismatch(MetaflowException):
    headline = "Object not in the current namespace"

    def __init__(self, namespace):
        super().__init__(f"Object not in namespace '{namespace}'")


class MetaflowInvalidPathspec(MetaflowException):
    headline = "Invalid pathspec"


class MetaflowTaggingError(MetaflowException):
    headline = "Tagging error"


class TimeoutException(Exception):
    """Raised inside a step that ran longer than its ``@timeout``."""


class ExceptionWrapper:
    """A failure as data: picklable whatever the original exception was.

    ``type`` is the exception's qualified class name, ``message`` its text,
    ``traceback`` the formatted stack (Metaflow calls it ``stacktrace``).
    """

    def __init__(self, type: str, message: str, traceback: str = ""):
        self.type = type
        self.message = message
        self.traceback = traceback

    @classmethod
    def from_exception(cls, exc: BaseException) -> "ExceptionWrapper":
        import traceback as _traceback

        kind = type(exc)
        name = kind.__qualname__ if kind.__module__ in ("builtins", "__main__") else f"{kind.__module__}.{kind.__qualname__}"
        return cls(name, str(exc), "".join(_traceback.format_exception(kind, exc, exc.__traceback__)))

    @property
    def exception(self) -> str:
        return self.message

    @property
    def stacktrace(self) -> str:
        return self.traceback

    def to_dict(self) -> dict:
        return {"type": self.type, "message": self.message, "traceback": self.traceback}

    def __str__(self) -> str:
        return f"{self.type}: {self.message}"

    def __repr__(self) -> str:
        return f"ExceptionWrapper({self.type!r}, {self.message!r})"
