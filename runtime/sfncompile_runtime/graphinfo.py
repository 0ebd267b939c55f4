"""Questions the runner asks of ``graph.json`` (plain dicts; never the compiler)."""

from __future__ import annotations


def decorator_args(node: dict, name: str) -> dict | None:
    for deco in node.get("decorators", []):
        if deco["name"] == name:
            return dict(deco.get("args") or {})
    return None


def flow_decorator_args(graph: dict, name: str) -> dict | None:
    for deco in graph.get("decorators", []):
        if deco["name"] == name:
            return dict(deco.get("args") or {})
    return None


def timeout_seconds(args: dict) -> float:
    """@timeout's seconds + minutes + hours. A value that is not a number counts
    as 0 here: the lint and the authoring API report it, this only adds up."""
    total = 0.0
    for key, factor in (("seconds", 1), ("minutes", 60), ("hours", 3600)):
        value = args.get(key)
        if value is None or isinstance(value, bool):
            continue
        try:
            total += float(value) * factor  # Metaflow accepts numbers and numeric strings
        except (TypeError, ValueError):
            continue
    return total


def transition(node: dict) -> dict:
    return node.get("transition") or {}


def depth(node: dict) -> int:
    return len(node.get("foreach_stack") or [])


def static_join_branches(graph: dict, join: str) -> list[list[str]]:
    """A static join's possible parents, grouped by the split's branch, in branch order
    (Metaflow's input order). A branch with a switch has several possible parents (one
    per case that meets at the join); exactly one of them runs."""
    steps = graph["steps"]
    parents = list(steps[join].get("in_funcs", []))
    split = next((n for n, s in steps.items() if s.get("matching_join") == join and s.get("kind") == "split"), None)
    if split is None:
        return [[p] for p in parents]
    groups: list[list[str]] = []
    placed: set[str] = set()
    for branch in steps[split].get("out_funcs", []):
        group: list[str] = []
        seen, queue = set(), [branch]
        while queue:
            name = queue.pop(0)
            if name in seen or name == join:
                continue
            seen.add(name)
            if name in parents and name not in placed:
                group.append(name)
                placed.add(name)
            queue.extend(steps[name].get("out_funcs", []))
        if group:
            groups.append(group)
    return groups + [[p] for p in parents if p not in placed]


def static_join_order(graph: dict, join: str) -> list[str]:
    """A static join's parents in the order of the split's branches (Metaflow's order)."""
    return [name for group in static_join_branches(graph, join) for name in group]


def is_foreach_join(graph: dict, node: dict) -> bool:
    steps = graph["steps"]
    return bool(node.get("is_join")) and any(depth(steps[p]) > depth(node) for p in node.get("in_funcs", []))


def foreach_var(graph: dict, step: str) -> str:
    return transition(graph["steps"][step]).get("foreach")


def switch_cases(node: dict) -> dict[str, str]:
    return dict(transition(node).get("switch_cases") or {})


def effective_environment_spec(graph: dict, node: dict, kind: str) -> dict | None:
    """@pypi/@conda for a step: the step's own decorator, else the flow's (``<kind>_base`` too)."""
    args = decorator_args(node, kind)
    if args is None:
        args = flow_decorator_args(graph, kind)
    if args is None:
        args = flow_decorator_args(graph, f"{kind}_base")
    if args is None or args.get("disabled"):
        return None
    return args


def in_loop(graph: dict, step: str) -> bool:
    """Whether ``step`` can run again in the same run (it is on a cycle through a switch):
    each visit is then a task of its own (``datastore.visit_task_id``), as in Metaflow."""
    cache = graph.setdefault("_sfn_in_loop", {})
    if step not in cache:
        steps = graph["steps"]
        seen, stack = set(), list(steps[step].get("out_funcs", []))
        while stack:
            name = stack.pop()
            if name == step:
                break
            if name in seen:
                continue
            seen.add(name)
            stack.extend(steps[name].get("out_funcs", []))
        else:
            cache[step] = False
            return False
        cache[step] = True
    return cache[step]
