"""Where a task sits in the run: its parents, its children, its foreach path.

All of it follows from ``graph.json`` and task ids (contract §3: a task id is
the foreach index path, ``0`` outside any foreach). Between a step and a
neighbour one foreach level deeper (a foreach split and its body, a body and
its join) the deeper tasks are those whose path extends this one by one
index; at the same depth it is the same path. Only tasks that exist count,
so the cases of a switch that did not run contribute nothing.
"""

from __future__ import annotations

from collections import namedtuple

# Metaflow's frame (metaflow.tuple_util.ForeachFrame): ``step`` is the first
# step inside the foreach, ``value`` the item as text (at most 30 characters).
ForeachFrame = namedtuple("ForeachFrame", ["step", "var", "num_splits", "index", "value"],
                          defaults=(None,) * 5)
MAX_FOREACH_VALUE_CHARS = 30


def split_path(task_id: str, depth: int) -> list[str]:
    """The index path of a task at foreach ``depth`` (task id ``0`` at depth 0 is the empty path)."""
    return task_id.split(".") if depth else []


def join_path(parts: list[str]) -> str:
    return ".".join(parts) or "0"


def depth(graph: dict, step: str) -> int:
    return len(graph["steps"][step].get("foreach_stack") or [])


def related(graph: dict, step: str, task_id: str, other: str, existing: list[str]) -> list[str]:
    """Task ids of step ``other`` (a parent or child of ``step``) related to ``step/task_id``."""
    mine, theirs = depth(graph, step), depth(graph, other)
    path = split_path(task_id, mine)
    if theirs == mine:
        wanted = join_path(path)
        return [t for t in existing if t == wanted]
    if theirs < mine:
        wanted = join_path(path[:theirs])
        return [t for t in existing if t == wanted]
    return [t for t in existing if split_path(t, theirs)[:mine] == path and len(split_path(t, theirs)) == theirs]


def parent_steps(graph: dict, step: str) -> list[str]:
    return list(graph["steps"][step].get("in_funcs") or [])


def child_steps(graph: dict, step: str) -> list[str]:
    return list(graph["steps"][step].get("out_funcs") or [])


def body_step(graph: dict, foreach_step: str) -> str:
    return (graph["steps"][foreach_step].get("out_funcs") or [foreach_step])[0]


def foreach_execution_path(graph: dict, step: str, task_id: str) -> str | None:
    """Metaflow's ``foreach-execution-path`` metadata: ``body:index,...`` outermost first."""
    stack = graph["steps"][step].get("foreach_stack") or []
    if not stack:
        return None
    path = split_path(task_id, len(stack))
    return ",".join(f"{body_step(graph, f)}:{i}" for f, i in zip(stack, path))


def foreach_value_text(item) -> str:
    if isinstance(item, (str, int, float, bool)):
        return str(item)[:MAX_FOREACH_VALUE_CHARS]
    import reprlib

    return reprlib.repr(item)[:MAX_FOREACH_VALUE_CHARS]


def foreach_stack(graph: dict, step: str, task_id: str, split_info) -> list:
    """The task's ``_foreach_stack``. ``split_info(foreach_step, task_id)`` gives
    (var, num_splits, items or None) of that foreach step's task."""
    stack = graph["steps"][step].get("foreach_stack") or []
    path = split_path(task_id, len(stack))
    frames = []
    for level, foreach_step in enumerate(stack):
        index = int(path[level])
        var, width, items = split_info(foreach_step, join_path(path[:level]))
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
