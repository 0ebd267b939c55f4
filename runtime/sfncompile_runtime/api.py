"""Every public name a flow (or a notebook) imports, in one module.

Inside a task this module *is* ``metaflow`` and ``sfncompile`` (the runner
installs it under both names, with Metaflow's submodules: ``shims.py``), so
``from metaflow import FlowSpec, step`` runs unchanged. Names that need more
than the authoring API (the client, S3, the helpers of ``metaflow.util``...)
are imported on first use only, so a task starts fast.

``sfncompile check`` resolves every imported name against this module (and
``shims.SUBMODULES``): a name not here is reported at its line.
"""

from .configs import Config, ConfigValue, config_expr
from .current import current
from .decorators import (batch, card, catch, conda, conda_base, environment, exit_hook, parallel, project, pypi,
                         pypi_base, resources, retry, schedule, secrets, step, timeout, trigger, trigger_on_finish)
from .exceptions import ExceptionWrapper, TimeoutException
from .flowspec import FlowSpec, MergeArtifactsException
from .mutators import USER_SKIP_STEP, FlowMutator, StepMutator, UserStepDecorator, user_step_decorator
from .parameters import IncludeFile, JSONType, JSONTypeClass, Parameter, ParameterContext

# name -> the module (of this package) that defines it, imported when first asked for.
LAZY = {
    **{name: "client" for name in ("Flow", "Run", "Step", "Task", "DataArtifact", "namespace", "get_namespace",
                                   "default_namespace", "MetaflowCode", "Metadata", "Metaflow")},
    "MetaflowNotFound": "exceptions", "MetaflowNamespaceMismatch": "exceptions",
    "MetaflowTaggingError": "exceptions", "MetaflowException": "exceptions",
    "metadata": "metadata", "get_metadata": "metadata", "default_metadata": "metadata", "profile": "metadata",
    "parallel_map": "multicore", "parallel_imap_unordered": "multicore",
    "S3": "s3",
    "Runner": "runner", "ExecutingRun": "runner",
    "Deployer": "deployer", "DeployedFlow": "deployer",
}
CLIENT_NAMES = tuple(name for name, module in LAZY.items() if module in ("client", "exceptions"))


__all__ = ["FlowSpec", "step", "Parameter", "current", "batch", "resources", "retry", "catch", "timeout",
           "environment", "schedule", "project", "trigger", "trigger_on_finish", "pypi", "pypi_base", "conda",
           "conda_base", "exit_hook", "parallel", "card", "secrets", "JSONType", "JSONTypeClass", "IncludeFile",
           "ParameterContext", "MergeArtifactsException", "ExceptionWrapper", "TimeoutException", "Config",
           "ConfigValue", "config_expr", "FlowMutator", "StepMutator", "UserStepDecorator", "user_step_decorator",
           "USER_SKIP_STEP", *LAZY]


def __getattr__(name):
    module = LAZY.get(name)
    if module is not None:
        import importlib

        value = getattr(importlib.import_module(f"{__package__}.{module}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
