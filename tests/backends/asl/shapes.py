"""Hand-built flow graphs, one per shape the emitter must handle.

Written against the IR alone (not the front end), so the emitter's tests do
not depend on parsing. ``make_flow`` derives the structure (kinds,
predecessors, matching joins, foreach stacks) the way the front end does.
"""

from __future__ import annotations

from sfncompile.ir import (END, FOREACH, JOIN, LINEAR, SPLIT, START, SWITCH, Decorator, FlowGraph,
                           ParameterSpec, Span, StepNode, Transition)


def make_flow(name: str, spec: dict[str, tuple], decorators: dict[str, list[Decorator]] | None = None,
              parameters: list[ParameterSpec] | None = None, flow_decorators: list[Decorator] | None = None
              ) -> FlowGraph:
    """spec: step -> (kind, targets[, join]) with kinds
    "linear" [next] | "split" [a, b] join | "foreach" [body] join | "switch" {case: step} | "end"."""
    decorators = decorators or {}
    steps: dict[str, StepNode] = {}
    for line, (step, entry) in enumerate(spec.items(), start=1):
        kind = entry[0]
        node = StepNode(name=step, span=Span(f"{name}.py", line * 3))
        node.decorators = list(decorators.get(step, []))
        if kind == "linear":
            node.transition = Transition(targets=list(entry[1]))
            node.out_funcs = list(entry[1])
        elif kind == "split":
            node.kind = SPLIT
            node.transition = Transition(targets=list(entry[1]))
            node.out_funcs = list(entry[1])
            node.matching_join = entry[2]
        elif kind == "foreach":
            node.kind = FOREACH
            node.transition = Transition(targets=list(entry[1]), foreach="items")
            node.out_funcs = list(entry[1])
            node.matching_join = entry[2]
        elif kind == "switch":
            node.kind = SWITCH
            cases = dict(entry[1])
            node.transition = Transition(targets=list(cases.values()), condition="choice", switch_cases=cases)
            node.out_funcs = list(dict.fromkeys(cases.values()))
        elif kind == "end":
            node.kind = END
        steps[step] = node
    for node in steps.values():
        for target in node.out_funcs:
            steps[target].in_funcs = sorted(set(steps[target].in_funcs) | {node.name})
    joins = {n.matching_join for n in steps.values() if n.matching_join}
    for node in steps.values():
        if node.name in joins:
            node.is_join = True
            node.num_args = 2
            if node.kind == LINEAR:
                node.kind = JOIN
    start = next(iter(steps))
    if steps[start].kind == LINEAR:
        steps[start].kind = START
    _derive_stacks(steps, start)
    graph = FlowGraph(name=name, file=f"{name}.py", span=Span(f"{name}.py", 1), steps=steps, start=start,
                      end="end" if "end" in steps else None, parameters=list(parameters or []),
                      decorators=list(flow_decorators or []))
    return graph


def _derive_stacks(steps: dict[str, StepNode], start: str) -> None:
    """foreach_stack / split_parents by walking with a stack of open splits."""
    seen: set[str] = set()
    todo: list[tuple[str, tuple[tuple[str, str, bool], ...]]] = [(start, ())]
    while todo:  # iterative: generated flows can be thousands of steps long
        name, opened = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        node = steps[name]
        # Reaching the join of the innermost open split closes it.
        while opened and opened[-1][1] == name:
            opened = opened[:-1]
        node.split_parents = [o[0] for o in opened]
        node.foreach_stack = [o[0] for o in opened if o[2]]
        if node.matching_join:
            inner = opened + ((name, node.matching_join, node.kind == FOREACH),)
            todo.append((node.matching_join, inner))
            todo.extend((target, inner) for target in reversed(node.out_funcs))
        else:
            todo.extend((target, opened) for target in reversed(node.out_funcs))
    # Loops through a switch: a step that can reach itself.
    for node in steps.values():
        node.in_loop = _reaches(steps, node.name, node.name)


def _reaches(steps, source, target) -> bool:
    stack, seen = list(steps[source].out_funcs), set()
    while stack:
        name = stack.pop()
        if name == target:
            return True
        if name not in seen:
            seen.add(name)
            stack.extend(steps[name].out_funcs)
    return False


def deco(deco_name, **args) -> Decorator:
    return Decorator(name=deco_name, args=args)


SHAPES = {
    "linear": lambda: make_flow("LinearFlow", {
        "start": ("linear", ["a"]), "a": ("linear", ["b"]), "b": ("linear", ["end"]), "end": ("end",)},
        parameters=[ParameterSpec(attr="alpha", name="alpha", type="float", default=0.5, has_default=True)]),
    "split": lambda: make_flow("SplitFlow", {
        "start": ("split", ["a", "b"], "join"), "a": ("linear", ["join"]), "b": ("linear", ["join"]),
        "join": ("linear", ["end"]), "end": ("end",)}),
    "foreach": lambda: make_flow("ForeachFlow", {
        "start": ("foreach", ["body"], "join"), "body": ("linear", ["join"]),
        "join": ("linear", ["end"]), "end": ("end",)}),
    "nested_foreach": lambda: make_flow("NestedForeachFlow", {
        "start": ("foreach", ["outer"], "outer_join"), "outer": ("foreach", ["inner"], "inner_join"),
        "inner": ("linear", ["inner_join"]), "inner_join": ("linear", ["outer_join"]),
        "outer_join": ("linear", ["end"]), "end": ("end",)}),
    "foreach_split_switch": lambda: make_flow("ForeachSplitSwitchFlow", {
        "start": ("foreach", ["fan"], "gather"), "fan": ("split", ["left", "right"], "merge"),
        "left": ("linear", ["merge"]), "right": ("switch", {"small": "tiny", "large": "huge"}),
        "tiny": ("linear", ["merge"]), "huge": ("linear", ["merge"]),
        "merge": ("linear", ["gather"]), "gather": ("linear", ["end"]), "end": ("end",)}),
    "switch": lambda: make_flow("SwitchFlow", {
        "start": ("switch", {"a": "path_a", "b": "path_b"}), "path_a": ("linear", ["end"]),
        "path_b": ("linear", ["end"]), "end": ("end",)}),
    "switch_loop": lambda: make_flow("SwitchLoopFlow", {
        "start": ("linear", ["train"]), "train": ("linear", ["check"]),
        "check": ("switch", {"again": "train", "done": "end"}), "end": ("end",)}),
    "foreach_switch_exit": lambda: make_flow("ForeachSwitchExitFlow", {
        "start": ("foreach", ["decide"], "join"), "decide": ("switch", {"skip": "join", "work": "work"}),
        "work": ("linear", ["join"]), "join": ("linear", ["end"]), "end": ("end",)}),
    "decorated": lambda: make_flow("DecoratedFlow", {
        "start": ("linear", ["train"]), "train": ("linear", ["score"]), "score": ("linear", ["end"]),
        "end": ("end",)}, decorators={
            "train": [deco("batch", cpu=4, memory=16384, gpu=1), deco("retry", times=2, minutes_between_retries=5),
                      deco("timeout", hours=2), deco("environment", vars={"MODE": "fast", "LEVEL": 3})],
            "score": [deco("resources", memory=8192), deco("catch", var="failure"), deco("retry", times=1)],
        }, flow_decorators=[deco("schedule", cron="0 3 * * ? *"), deco("project", name="demo")]),
    # @exit_hook wraps the machine in a Parallel with hook Tasks; every step has its
    # own resources, so the Default job definition exists for the hooks only.
    "exit_hook": lambda: make_flow("ExitHookFlow", {
        "start": ("foreach", ["body"], "join"), "body": ("linear", ["join"]),
        "join": ("linear", ["end"]), "end": ("end",)},
        decorators={s: [deco("resources", cpu=2)] for s in ("start", "body", "join", "end")},
        flow_decorators=[deco("exit_hook", on_success=["notify_ok"], on_error=["notify_failed"])]),
}


def random_flow(seed: int, depth: int = 3, width: int = 3) -> FlowGraph:
    """A random well-formed flow: nested splits, foreaches and switches (merging
    at a common step), ``depth`` levels deep. Deterministic for a seed."""
    import random

    rng = random.Random(seed)
    spec: dict[str, tuple] = {}
    counter = [0]

    def fresh(kind: str) -> str:
        counter[0] += 1
        return f"{kind}{counter[0]}"

    def block(level: int, after: str) -> str:
        """Steps that run in sequence and then go to ``after``; returns the first."""
        target = after
        for _ in range(rng.randint(1, width)):
            target = item(level, target)
        return target

    def item(level: int, after: str) -> str:
        kind = rng.choice(["linear", "linear", "split", "foreach", "switch"] if level > 0 else ["linear"])
        if kind == "linear":
            name = fresh("s")
            spec[name] = ("linear", [after])
        elif kind == "split":
            join = fresh("join")
            spec[join] = ("linear", [after])
            name = fresh("split")
            spec[name] = ("split", [block(level - 1, join) for _ in range(rng.randint(2, 3))], join)
        elif kind == "foreach":
            join = fresh("gather")
            spec[join] = ("linear", [after])
            name = fresh("fan")
            spec[name] = ("foreach", [block(level - 1, join)], join)
        else:
            merge = fresh("merge")
            spec[merge] = ("linear", [after])
            name = fresh("choose")
            cases = {f"c{i}": block(level - 1, merge) for i in range(rng.randint(2, 3))}
            spec[name] = ("switch", cases)
        return name

    spec["end"] = ("end",)
    first = block(depth, "end")
    ordered = {"start": ("linear", [first])}
    ordered.update((k, v) for k, v in reversed(list(spec.items())) if k != "end")
    ordered["end"] = ("end",)
    return make_flow(f"Random{seed}Flow", ordered)
