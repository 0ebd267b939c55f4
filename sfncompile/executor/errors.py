"""Errors raised while interpreting a state machine, named as AWS names them.

A ``StatesError`` is what a state "throws" in the ASL sense: it carries the
error name (``States.Runtime``, ``States.TaskFailed``, a user's ``Fail``
error...) and the cause text, and is what ``Retry``/``Catch`` match on.
"""

from __future__ import annotations


ALL = "States.ALL"
RUNTIME = "States.Runtime"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
ITEM_READER_FAILED = "States.ItemReaderFailed"
EXCEEDED_TOLERATED_FAILURE = "States.ExceedToleratedFailureThreshold"
BRANCH_FAILED = "States.BranchFailed"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
PERMISSIONS = "States.Permissions"

# Errors that States.ALL does not catch or retry (AWS: "States.ALL ... does
# not match States.Runtime" and DataLimitExceeded is terminal).
TERMINAL = frozenset({RUNTIME, DATA_LIMIT_EXCEEDED})


class StatesError(Exception):
    """An ASL error: ``error`` is matched by Retry/Catch ``ErrorEquals``."""

    def __init__(self, error: str | None, cause: str | None = None):
        super().__init__(f"{error}: {cause}" if cause else str(error))
        self.error = error
        self.cause = cause


class PathError(Exception):
    """A JSONPath that found nothing (or was malformed); the caller words the AWS message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DefinitionError(Exception):
    """The definition itself is invalid (what CreateStateMachine would reject)."""
