"""Pictures of the step graph: text, Mermaid, Graphviz DOT and the IR as JSON.

Pure functions of the IR: same graph, byte-identical output. Steps appear in
source order; edges in written order, switch edges labelled with their case,
foreach edges with the iterated artifact.
"""

from __future__ import annotations


from ..ir import END, FOREACH, JOIN, SPLIT, START, SWITCH, FlowGraph, StepNode

FORMATS = ("text", "mermaid", "dot", "json")


def render(graph: FlowGraph, fmt: str) -> str:
    renderers = {"text": render_text, "mermaid": render_mermaid, "dot": render_dot, "json": render_json}
    if fmt not in renderers:
        raise ValueError(f"unknown graph format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return renderers[fmt](graph)


def edges(step: StepNode) -> list[tuple[str, str | None]]:
    """(target, label) pairs for a step's outgoing edges."""
    t = step.transition
    if step.kind == SWITCH and t is not None and t.switch_cases:
        return [(target, str(case)) for case, target in t.switch_cases.items()]
    if step.kind == FOREACH and t is not None:
        if t.num_parallel is not None:
            label = f"num_parallel={t.num_parallel}"
        else:
            label = f"foreach {t.foreach}"
        return [(target, label) for target in step.out_funcs]
    return [(target, None) for target in step.out_funcs]


def _describe(step: StepNode) -> str:
    kind = step.kind
    if step.is_join and kind not in (JOIN, END):
        kind = f"join+{kind}"
    return kind


# -- text -------------------------------------------------------------------
def render_text(graph: FlowGraph) -> str:
    lines = [f"{graph.name} ({len(graph.steps)} steps)"]
    if graph.parameters:
        lines.append("parameters: " + ", ".join(f"{p.name}:{p.type}" for p in graph.parameters))
    flow_decorators = [d.name for d in graph.decorators] + graph.user_decorators
    if flow_decorators:
        lines.append("flow decorators: " + ", ".join("@" + name for name in flow_decorators))
    width = max((len(name) for name in graph.steps), default=0)
    kind_width = max((len(_describe(s)) for s in graph.steps.values()), default=0)
    for step in graph.steps.values():
        arrows = []
        for target, label in edges(step):
            arrows.append(f"{target} [{label}]" if label else target)
        arrow = " -> " + ", ".join(arrows) if arrows else ""
        extras = []
        if step.matching_join:
            extras.append(f"joined by {step.matching_join}")
        if step.kind == SWITCH and step.transition is not None and step.transition.condition:
            extras.append(f"on {step.transition.condition}")
        if step.in_loop:
            extras.append("in loop")
        step_decorators = [d.name for d in step.decorators] + step.user_decorators
        if step_decorators:
            extras.append(" ".join("@" + name for name in step_decorators))
        suffix = f"  ({'; '.join(extras)})" if extras else ""
        lines.append(f"  {step.name:<{width}}  {_describe(step):<{kind_width}}{arrow}{suffix}".rstrip())
    return "\n".join(lines) + "\n"


# -- mermaid ----------------------------------------------------------------
def _mermaid_id(name: str) -> str:
    # "end" and friends are keywords in Mermaid; a prefix keeps every id safe.
    return f"step_{name}"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def render_mermaid(graph: FlowGraph) -> str:
    lines = ["flowchart TD"]
    for step in graph.steps.values():
        label = _mermaid_text(f"{step.name}<br/><small>{_describe(step)}</small>")
        node_id = _mermaid_id(step.name)
        if step.kind in (START, END):
            lines.append(f'    {node_id}(["{label}"])')
        elif step.kind == SWITCH:
            lines.append(f'    {node_id}{{{{"{label}"}}}}')
        elif step.kind in (SPLIT, FOREACH):
            lines.append(f'    {node_id}[/"{label}"\\]')
        elif step.kind == JOIN:
            lines.append(f'    {node_id}[\\"{label}"/]')
        else:
            lines.append(f'    {node_id}["{label}"]')
    for step in graph.steps.values():
        for target, label in edges(step):
            arrow = f'-->|"{_mermaid_text(label)}"|' if label else "-->"
            lines.append(f"    {_mermaid_id(step.name)} {arrow} {_mermaid_id(target)}")
    return "\n".join(lines) + "\n"


# -- dot --------------------------------------------------------------------
def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_DOT_SHAPES = {START: "oval", END: "oval", SPLIT: "trapezium", FOREACH: "trapezium", SWITCH: "hexagon",
               JOIN: "invtrapezium"}


def render_dot(graph: FlowGraph) -> str:
    lines = [f"digraph {_dot_string(graph.name)} {{", "    rankdir=TB;",
             '    node [fontname="Helvetica", shape=box];']
    for step in graph.steps.values():
        shape = _DOT_SHAPES.get(step.kind, "box")
        label = f"{step.name}\\n{_describe(step)}"
        lines.append(f'    {_dot_string(step.name)} [label="{label}", shape={shape}];')
    for step in graph.steps.values():
        for target, label in edges(step):
            attrs = f" [label={_dot_string(label)}]" if label else ""
            lines.append(f"    {_dot_string(step.name)} -> {_dot_string(target)}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- json -------------------------------------------------------------------
def render_json(graph: FlowGraph) -> str:
    return graph.to_json(indent=2)


__all__ = ["FORMATS", "render", "render_text", "render_mermaid", "render_dot", "render_json", "edges"]
