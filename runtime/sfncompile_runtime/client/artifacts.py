"""A task's artifacts: the stored ones (by reference in the attempt record) and
the ones Metaflow tasks always carry, derived from the records instead of
stored: ``name`` (the flow's name), and the private ``_current_step``,
``_foreach_stack``, ``_graph_info``, ``_success``, ``_task_ok``,
``_exception``, ``_foreach_var``, ``_foreach_num_splits``, ``_transition``.

As in Metaflow, names starting with ``_`` are not listed (``iter(task)``,
``task.data``, ``task.artifacts``) but ``task["_foreach_stack"]`` and
``"_foreach_stack" in task`` see them.
"""

from __future__ import annotations

import hashlib
import pickle
from collections import namedtuple

from . import code as code_mod
from . import lineage


def system_artifacts(task) -> dict:
    """name -> zero-argument function giving the value, for ``task``'s derived artifacts."""
    record = task._record or {}
    status = record.get("status")
    graph = task._graph()
    values = {"name": lambda: task.flow_name, "_current_step": lambda: task.step_name}
    if status is not None:
        values["_success"] = lambda: status == "ok"
        values["_task_ok"] = lambda: status == "ok"
        values["_exception"] = lambda: task.exception
    if graph is not None and task.step_name in graph.get("steps", {}):
        values["_graph_info"] = lambda: lineage.graph_info(graph)
        values["_foreach_stack"] = lambda: lineage.foreach_stack(graph, task.step_name, task._index_path(),
                                                                 task._split_info)
        node = graph["steps"][task.step_name]
        trans = node.get("transition") or {}
        values["_transition"] = lambda: (list(node.get("out_funcs") or []), trans.get("foreach")) \
            if node.get("out_funcs") else None
        foreach = record.get("foreach") or {}
        values["_foreach_var"] = lambda: foreach.get("var")
        values["_foreach_num_splits"] = lambda: foreach.get("width")
    return values


def is_private(name: str) -> bool:
    return name.startswith("_")


def derived_sha(value) -> str:
    try:
        return hashlib.sha256(pickle.dumps(value, protocol=5)).hexdigest()
    except Exception:
        return ""


class MetaflowData:
    """``task.data.<name>``: the values of the task's public artifacts, loaded on first access."""

    def __init__(self, task):
        self.__dict__["_task"] = task

    def __getattr__(self, name: str):
        task = self.__dict__["_task"]
        if name.startswith("__") or is_private(name) or name not in task._artifact_names():
            raise AttributeError(name)
        return task._value(name)

    def _get(self, name: str):
        """The value of artifact ``name`` (public or not); AttributeError when the task has none."""
        task = self.__dict__["_task"]
        if name not in task._artifact_names():
            raise AttributeError(f"task {task.pathspec} has no artifact '{name}'")
        return task._value(name)

    def __contains__(self, name: str) -> bool:
        return not is_private(name) and name in self.__dict__["_task"]._artifact_names()

    def __dir__(self):
        return sorted(n for n in self.__dict__["_task"]._artifact_names() if not is_private(n))

    def __str__(self) -> str:
        return f"<MetaflowData: {', '.join(self.__dir__())}>"

    __repr__ = __str__


def artifacts_tuple(task):
    """``task.artifacts``: a named tuple of the task's public DataArtifacts (Metaflow's shape)."""
    arts = list(task)
    return namedtuple("MetaflowArtifacts", [a.id for a in arts], rename=True)._make(arts)


def load_stored(task, ref: dict, name: str | None = None):
    """A stored artifact's value; a class defined in the flow file is found by
    importing the flow from the run's code package, once. ``name``: for the message
    when its blob is damaged or missing (the artifact's pathspec is what the user knows)."""
    label = f"{task.pathspec}/{name}" if name else None
    try:
        return task._ds.load_artifact(ref, label)
    except ModuleNotFoundError as exc:
        record = task._record or {}
        if not code_mod.import_flow_module(task._ds, record.get("code_sha256"), record.get("flow_module"), exc.name):
            raise
        return task._ds.load_artifact(ref, label)
