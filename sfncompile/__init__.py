"""sfncompile: the authoring API and client API under Metaflow's names.

Importing this package must stay fast and standard-library only: the same
names are what a flow imports inside a container. The compiler lives in
submodules (``sfncompile.frontend`` ...) and is never imported from here.
Names resolve on first use from ``sfncompile_runtime.api``.
"""

__version__ = "0.1.0"

__all__ = ["FlowSpec", "step", "Parameter", "current", "batch", "resources", "retry", "catch", "timeout",
           "environment", "schedule", "project", "trigger", "trigger_on_finish", "pypi", "pypi_base", "conda",
           "conda_base", "exit_hook", "parallel", "JSONType", "IncludeFile", "Flow", "Run", "Step", "Task",
           "DataArtifact", "namespace", "get_namespace", "default_namespace", "MergeArtifactsException",
           "ExceptionWrapper", "TimeoutException", "ParameterContext"]


def __getattr__(name):
    if name in __all__:
        from sfncompile_runtime import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sfncompile' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
