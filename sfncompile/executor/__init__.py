"""The local executor: an ASL interpreter and the local equivalents of its task resources."""

from .errors import DefinitionError, StatesError
from .interpreter import ABORTED, FAILED, SUCCEEDED, ExecutionResult, Interpreter, TaskCall

__all__ = ["Interpreter", "ExecutionResult", "TaskCall", "StatesError", "DefinitionError",
           "SUCCEEDED", "FAILED", "ABORTED"]
