"""Every public name a flow (or a notebook) imports, in one module.

Inside a task this module *is* ``metaflow`` and ``sfncompile`` (the runner
installs it under both names), so ``from metaflow import FlowSpec, step``
runs unchanged. The client API is imported on first use only.
"""

from .current import current
from .decorators import (batch, card, catch, conda, conda_base, environment, exit_hook, parallel, project, pypi,
                         pypi_base, resources, retry, schedule, secrets, step, timeout, trigger, trigger_on_finish)
from .exceptions import ExceptionWrapper, TimeoutException
from .flowspec import FlowSpec, MergeArtifactsException
from .parameters import IncludeFile, JSONType, Parameter, ParameterContext

CLIENT_NAMES = ("Flow", "Run", "Step", "Task", "DataArtifact", "namespace", "get_namespace", "default_namespace",
                "MetaflowNotFound", "MetaflowNamespaceMismatch", "MetaflowTaggingError", "MetaflowCode", "Metadata")

RUNNER_NAMES = ("Runner", "ExecutingRun")

__all__ = ["FlowSpec", "step", "Parameter", "current", "batch", "resources", "retry", "catch", "timeout",
           "environment", "schedule", "project", "trigger", "trigger_on_finish", "pypi", "pypi_base", "conda",
           "conda_base", "exit_hook", "parallel", "card", "secrets", "JSONType", "IncludeFile", "ParameterContext",
           "MergeArtifactsException", "ExceptionWrapper", "TimeoutException", *CLIENT_NAMES, *RUNNER_NAMES]


def __getattr__(name):
    if name in RUNNER_NAMES:  # imported on first use: nothing of it in a task's start-up
        from . import runner

        return getattr(runner, name)
    if name in CLIENT_NAMES:
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
