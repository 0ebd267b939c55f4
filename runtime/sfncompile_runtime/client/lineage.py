"""Where a task sits in the run: its parents, its children, its foreach path.

All of it follows from ``graph.json`` and foreach index paths: a task's own
path is in its record; the other tasks of a step are mapped to their paths
from their ids, which end with the index path in every scheme a run may have
used (``datastore.index_path_in``), so one listing of a step's folder does
instead of a record read per task. Between a step and a neighbour one
foreach level deeper (a foreach split and its body, a body and its join) the
deeper tasks are those whose path extends this one by one index; at the same
depth it is the same path. Only tasks that exist count, so the cases of a
switch that did not run contribute nothing.
"""

from __future__ import annotations

from collections import namedtuple

from ..datastore import index_path_in, split_task_id

# Metaflow's frame (metaflow.tuple_util.ForeachFrame): ``step`` is the first
# step inside the foreach, ``value`` the item as text (at most 30 characters).
ForeachFrame = namedtuple("ForeachFrame", ["step", "var", "num_splits", "index", "value"],
                          defaults=(None,) * 5)
MAX_FOREACH_VALUE_CHARS = 30


def parts(index_path: str) -> list[str]:
    return index_path.split(".") if index_path else []


def depth(graph: dict, step: str) -> int:
    return len(graph["steps"][step].get("foreach_stack") or [])


def first_visits(existing: list[str], depth: int) -> dict[str, str]:
    """index path -> task id of the tasks in ``existing`` (a step's task ids, ``depth`` foreach
    levels deep), their first visits only: a step in a switch loop has one task per visit."""
    found = {}
    for task_id in existing:
        parsed = split_task_id(task_id)
        path = index_path_in(task_id, depth)
        if parsed is not None and parsed[1] == 0 and path is not None:
            found.setdefault(path, task_id)
    return found


def related(graph: dict, step: str, index_path: str, other: str, existing: list[str]) -> list[str]:
    """Task ids of step ``other`` (a parent or child of ``step``) related to the task of ``step``
    at ``index_path``. ``existing``: the task ids of ``other``."""
    mine, theirs = depth(graph, step), depth(graph, other)
    path = parts(index_path)[:mine]
    tasks = first_visits(existing, theirs)
    if theirs <= mine:
        wanted = ".".join(path[:theirs])
        return [tasks[wanted]] if wanted in tasks else []
    return [t for p, t in tasks.items() if parts(p)[:mine] == path]


def parent_steps(graph: dict, step: str) -> list[str]:
    return list(graph["steps"][step].get("in_funcs") or [])


def child_steps(graph: dict, step: str) -> list[str]:
    return list(graph["steps"][step].get("out_funcs") or [])


def body_step(graph: dict, foreach_step: str) -> str:
    return (graph["steps"][foreach_step].get("out_funcs") or [foreach_step])[0]


def foreach_execution_path(graph: dict, step: str, index_path: str) -> str | None:
    """Metaflow's ``foreach-execution-path`` metadata: ``body:index,...`` outermost first."""
    stack = graph["steps"][step].get("foreach_stack") or []
    if not stack:
        return None
    path = parts(index_path)
    return ",".join(f"{body_step(graph, f)}:{i}" for f, i in zip(stack, path))


def foreach_value_text(item) -> str:
    if isinstance(item, (str, int, float, bool)):
        return str(item)[:MAX_FOREACH_VALUE_CHARS]
    import reprlib

    return reprlib.repr(item)[:MAX_FOREACH_VALUE_CHARS]


def foreach_stack(graph: dict, step: str, index_path: str, split_info) -> list:
    """The ``_foreach_stack`` of the task at ``index_path``. ``split_info(foreach_step, path)``
    gives (var, num_splits, items or None) of that foreach step's task at ``path``."""
    stack = graph["steps"][step].get("foreach_stack") or []
    path = parts(index_path)
    frames = []
    for level, foreach_step in enumerate(stack):
        index = int(path[level])
        var, width, items = split_info(foreach_step, ".".join(path[:level]))
        value = None
        if items is not None:
            try:
                value = foreach_value_text(items[index] if hasattr(items, "__getitem__") else list(items)[index])
            except Exception:  # an unindexable or shorter iterable: the frame still tells the index
                value = None
        frames.append(ForeachFrame(body_step(graph, foreach_step), var, width, index, value))
    return frames


_TYPES = {"start": "start", "linear": "linear", "join": "join", "split": "split-static",
          "foreach": "split-foreach", "switch": "split-switch", "end": "end"}


def graph_info(graph: dict) -> dict:
    """Metaflow's ``_graph_info`` artifact, from graph.json."""
    steps = {}
    for name, node in graph["steps"].items():
        kind = node.get("kind")
        entry = {"name": name, "type": _TYPES.get(kind, kind), "line": (node.get("span") or {}).get("line"),
                 "doc": node.get("docstring") or "", "next": list(node.get("out_funcs") or []),
                 "decorators": [{"name": d["name"], "attributes": d.get("args") or {}}
                                for d in node.get("decorators") or []]}
        if node.get("matching_join"):
            entry["matching_join"] = node["matching_join"]
        foreach = (node.get("transition") or {}).get("foreach")
        if foreach:
            entry["foreach_artifact"] = foreach
        steps[name] = entry
    return {"file": graph.get("file"), "start_step": graph.get("start", "start"), "end_step": graph.get("end", "end"),
            "parameters": [{"name": p.get("name"), "type": "Parameter"} for p in graph.get("parameters", [])],
            "steps": steps, "doc": graph.get("docstring") or "",
            "decorators": [{"name": d["name"], "attributes": d.get("args") or {}}
                           for d in graph.get("decorators") or []]}
