"""The Metaflow import surface: which ``metaflow.*`` modules and names we
provide, installed into a process by ``install_shims()``.

One table serves both sides: the runtime (``install_shims`` makes
``import metaflow.exception`` load the module named here) and ``sfncompile
check`` (``lookup`` reports, at its line, an imported name that is not here).
A name counts as provided when the module we map it to has it, so a module that
gains a name (the client, cards, Runner) is seen by both sides at once.

``install_shims()`` can be called from any process, not only a task: Metaflow's
test checker runs ``from metaflow.client import Flow`` in a plain process, and a
notebook may want ``from metaflow import Flow`` without Metaflow installed.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types

# The names the runtime answers to: a flow imports one of them.
SHADOWED_MODULES = ("metaflow", "sfncompile")

# ``metaflow.<sub>`` → the module of ours that provides its names; ``None`` is
# a package with nothing of its own (it only holds the submodules below it).
SUBMODULES: dict[str, str | None] = {
    "metaflow": "sfncompile_runtime.api",
    "metaflow.exception": "sfncompile_runtime.exceptions",
    "metaflow.metaflow_current": "sfncompile_runtime.current",
    "metaflow.client": "sfncompile_runtime.client",
    "metaflow.util": "sfncompile_runtime.util",
    "metaflow.parameters": "sfncompile_runtime.parameters",
    "metaflow.includefile": "sfncompile_runtime.parameters",
    "metaflow.decorators": "sfncompile_runtime.decorators",
    "metaflow.flowspec": "sfncompile_runtime.flowspec",
    "metaflow.cards": "sfncompile_runtime.cards",
    "metaflow.plugins.cards.card_client": "sfncompile_runtime.cards.client",
    "metaflow.plugins.cards.card_modules": None,
    "metaflow.plugins.cards.card_modules.card": "sfncompile_runtime.cards.card",
    "metaflow.plugins.cards.card_modules.components": "sfncompile_runtime.cards.components",
    "metaflow.plugins.cards.card_modules.basic": "sfncompile_runtime.cards.card",
    "metaflow.plugins.cards.card_modules.test_cards": "sfncompile_runtime.cards.test_cards",
    "metaflow.multicore_utils": "sfncompile_runtime.multicore",
    "metaflow.runner": None,
    "metaflow.runner.metaflow_runner": "sfncompile_runtime.runner",
    "metaflow.runner.deployer": "sfncompile_runtime.deployer",
    "metaflow.user_configs": None,
    "metaflow.user_configs.config_parameters": "sfncompile_runtime.configs",
    "metaflow.user_decorators": None,
    "metaflow.user_decorators.mutable_flow": "sfncompile_runtime.mutators",
    "metaflow.user_decorators.mutable_step": "sfncompile_runtime.mutators",
    "metaflow.user_decorators.user_flow_decorator": "sfncompile_runtime.mutators",
    "metaflow.user_decorators.user_step_decorator": "sfncompile_runtime.mutators",
    "metaflow.plugins": None,
    "metaflow.plugins.cards": None,
    "metaflow.plugins.cards.exception": "sfncompile_runtime.cards.exception",
    "metaflow.plugins.catch_decorator": "sfncompile_runtime.exceptions",
    "metaflow.plugins.timeout_decorator": "sfncompile_runtime.exceptions",
    "metaflow.plugins.datatools": "sfncompile_runtime.s3",
    "metaflow.plugins.datatools.s3": "sfncompile_runtime.s3",
}

# Metaflow names we refuse, with the reason ``check`` gives at the line that
# imports or uses them. A name that one of our modules provides is never
# refused, whatever this table says (so a feature landing elsewhere wins).
_SCHEDULERS = "sfncompile deploys to AWS Step Functions + Batch"
UNSUPPORTED: dict[str, str] = {
    "R": "Metaflow's R interface is not supported",
    "kubernetes": f"@kubernetes is not supported: {_SCHEDULERS}; use @batch or @resources",
    "airflow_s3_key_sensor": "Airflow sensors are not supported on Step Functions; use @trigger",
    "airflow_external_task_sensor": "Airflow sensors are not supported on Step Functions; use @trigger_on_finish",
    "airflow_internal": f"Airflow is not supported: {_SCHEDULERS}",
    "argo_workflows_internal": f"Argo Workflows is not supported: {_SCHEDULERS}",
    "step_functions_internal": "Metaflow's own Step Functions plumbing is not part of sfncompile",
    "unbounded_foreach": "unbounded foreach is not supported on Step Functions; use a foreach",
    "unbounded_test_foreach_internal": "unbounded foreach is not supported on Step Functions; use a foreach",
    "pytorch_parallel": "@pytorch_parallel (multi-node) is not supported on Step Functions; use a foreach",
    "slurm": f"@slurm is not supported: {_SCHEDULERS}",
    "checkpoint": "@checkpoint is not supported: store progress as artifacts and use resume",
    "model": "@model is not supported: store models as artifacts",
    "secrets": "@secrets is not provided yet: pass settings with @environment(vars=...)",
    "NBRunner": "NBRunner (notebooks) is not provided: use Runner(flow_file)",
    "NBDeployer": "NBDeployer (notebooks) is not provided: use Deployer(flow_file)",
    "Metaflow": "the Metaflow() client object is not provided yet: use Flow(name)",
}


def _target(name: str):
    """Our module for ``metaflow.<...>`` (imported now), or None for a bare package."""
    target = SUBMODULES[name]
    return importlib.import_module(target) if target is not None else None


def lookup(module: str, name: str | None = None) -> str | None:
    """None if we provide ``module`` (and ``name`` in it); otherwise why not.

    ``module`` is a dotted ``metaflow...`` or ``sfncompile`` name; ``name`` is
    what ``from module import name`` asks for (a submodule counts).
    """
    if module == "sfncompile":
        module = "metaflow"  # the same surface under our own name
    if module not in SUBMODULES:
        return (f"`{module}` is not a module sfncompile provides (it is Metaflow-internal or a feature sfncompile "
                "does not have)")
    if name is None:
        return None
    if f"{module}.{name}" in SUBMODULES:
        return None
    target = _target(module)
    if target is not None and (name in getattr(target, "__all__", ()) or hasattr(target, name)):
        return None
    if module == "metaflow" and name in UNSUPPORTED:
        return UNSUPPORTED[name]
    return f"`{module}` has no name `{name}` in sfncompile (a Metaflow-internal name or a feature sfncompile does not have)"


class _ShimLoader(importlib.abc.Loader):
    """Hands out our existing module for a ``metaflow.<...>`` name."""

    def __init__(self, name: str):
        self.name = name
        self._saved = None

    def create_module(self, spec):
        target = _target(self.name)
        if target is None:
            module = types.ModuleType(self.name, f"sfncompile's stand-in for the package {self.name}")
            module.__path__ = []
            module.__sfncompile_shim__ = True
            return module
        # The import system overwrites ``__spec__``; ours is put back in exec_module.
        self._saved = target.__dict__.get("__spec__")
        return target

    def exec_module(self, module):
        if self._saved is not None:
            module.__spec__ = self._saved


class _ShimFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname == "metaflow" or fullname not in SUBMODULES:
            return None
        is_package = any(other.startswith(fullname + ".") for other in SUBMODULES)
        return importlib.util.spec_from_loader(fullname, _ShimLoader(fullname), is_package=is_package)


_FINDER = _ShimFinder()


def install_shims() -> None:
    """Make ``metaflow`` (and its submodules in ``SUBMODULES``) and ``sfncompile``
    resolve to the runtime's API in this process. Idempotent.

    Inside a task the runner calls it before importing the flow. Outside one
    (a test checker, a notebook) call it before the first ``import metaflow``;
    a real Metaflow imported earlier in the process is replaced.
    """
    from . import api, decorators

    decorators.VALIDATE = False
    if not hasattr(api, "__path__"):
        api.__path__ = []  # a package, so that ``import metaflow.exception`` is looked up (by _FINDER)
    for name in [n for n in sys.modules if n.startswith("metaflow.")]:
        module = sys.modules[name]
        if not (getattr(module, "__name__", "").startswith("sfncompile_runtime")
                or getattr(module, "__sfncompile_shim__", False)):
            del sys.modules[name]  # a real Metaflow's submodule, imported before us
    for name in SHADOWED_MODULES:
        if sys.modules.get(name) is not api:
            sys.modules[name] = api
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def install_metaflow_submodules() -> None:
    """Only the ``metaflow.*`` submodule finder (and ``metaflow`` as a package), for a
    process that puts the API in ``sys.modules["metaflow"]`` itself (the launcher)."""
    from . import api

    if not hasattr(api, "__path__"):
        api.__path__ = []
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
