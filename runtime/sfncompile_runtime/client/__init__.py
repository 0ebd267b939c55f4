"""The client API: read runs, steps, tasks and artifacts back (Metaflow's shape).

``Flow("Name").latest_run``, ``Run("Name/<run_id>")["step"].task.data.x``,
``run.data.x`` (the end step's), ``run.successful``, ``task.stdout``,
``task.metadata_dict``, ``task.parent_tasks``, ``run.add_tag(...)``,
``namespace("user:alice")`` / ``namespace(None)``. It reads the datastore the
runtime writes (docs/datastore.md): the root comes from
``SFNCOMPILE_DATASTORE`` (a directory or ``s3://bucket/prefix``), default
``./.sfncompile``. Artifacts are loaded only when read.

Modules, one idea each: ``records`` (every datastore read), ``namespaces``,
``tags`` (mutation rules), ``metadata`` (events from attempt records),
``lineage`` (parents, children, foreach paths), ``artifacts`` (stored and
derived artifacts), ``code`` (code packages), ``objects`` (the classes).
"""

from ..exceptions import (MetaflowInvalidPathspec, MetaflowNamespaceMismatch, MetaflowNotFound,
                          MetaflowTaggingError)
from .code import MetaflowCode
from .metadata import Metadata
from .namespaces import default_namespace, get_namespace, namespace
from .objects import DataArtifact, Flow, Metaflow, MetaflowObject, Run, Step, Task
from .records import datastore_root

__all__ = ["Metaflow", "Flow", "Run", "Step", "Task", "DataArtifact", "MetaflowObject", "MetaflowCode", "Metadata",
           "namespace", "get_namespace", "default_namespace", "datastore_root", "MetaflowNotFound",
           "MetaflowNamespaceMismatch", "MetaflowInvalidPathspec", "MetaflowTaggingError"]


def reset() -> None:
    """Forget cached datastores and the namespace (tests, or after changing SFNCOMPILE_DATASTORE)."""
    from . import namespaces, records

    records.forget_stores()
    namespaces.reset()
