"""The flow's DAG as inline SVG, from ``graph.json`` (shared by the default card and ``sfncompile ui``).

Layout: a step's row is its longest distance from the start step (back edges of
switch loops ignored), steps of a row side by side. Each box can carry a CSS
class and a caption (the UI puts task states and foreach widths there).
"""

from __future__ import annotations

from .components import esc

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 150, 46, 24, 40, 12


def layers(graph: dict) -> list[list[str]]:
    steps = graph.get("steps") or {}
    start = graph.get("start") or ("start" if "start" in steps else next(iter(steps), None))
    if start is None:
        return []
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str, stack: set[str]):  # depth-first order, back edges (loops) skipped
        if name in seen or name not in steps:
            return
        stack.add(name)
        for child in steps[name].get("out_funcs") or []:
            if child not in stack:
                visit(child, stack)
        stack.discard(name)
        seen.add(name)
        order.append(name)

    visit(start, set())
    order.reverse()  # topological order
    position = {name: i for i, name in enumerate(order)}
    depth = {name: 0 for name in order}
    for name in order:
        for child in steps[name].get("out_funcs") or []:
            if child in depth and position[child] > position[name]:
                depth[child] = max(depth[child], depth[name] + 1)
    rows: list[list[str]] = []
    for name in order:
        while len(rows) <= depth[name]:
            rows.append([])
        rows[depth[name]].append(name)
    return rows


def dag_svg(graph: dict, classes: dict | None = None, captions: dict | None = None,
            links: dict | None = None) -> str:
    """SVG of the graph; ``classes``/``captions``/``links`` map step name -> CSS class / text / URL."""
    classes, captions, links = classes or {}, captions or {}, links or {}
    rows = layers(graph)
    if not rows:
        return "<svg class='mf-dag' width='0' height='0'></svg>"
    steps = graph.get("steps") or {}
    widest = max(len(r) for r in rows)
    width = MARGIN * 2 + widest * BOX_W + (widest - 1) * GAP_X
    height = MARGIN * 2 + len(rows) * BOX_H + (len(rows) - 1) * GAP_Y
    where: dict[str, tuple[float, float]] = {}
    for r, row in enumerate(rows):
        row_w = len(row) * BOX_W + (len(row) - 1) * GAP_X
        x0 = (width - row_w) / 2
        for i, name in enumerate(row):
            where[name] = (x0 + i * (BOX_W + GAP_X), MARGIN + r * (BOX_H + GAP_Y))
    parts = [f"<svg class='mf-dag' viewBox='0 0 {width:.0f} {height:.0f}' width='{width:.0f}' height='{height:.0f}' "
             "xmlns='http://www.w3.org/2000/svg' role='img' aria-label='flow graph'>",
             "<defs><marker id='mf-arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' markerHeight='7' "
             "orient='auto-start-reverse'><path d='M 0 0 L 10 5 L 0 10 z' fill='#888'/></marker></defs>"]
    for name, (x, y) in where.items():
        for child in steps[name].get("out_funcs") or []:
            if child not in where:
                continue
            cx, cy = where[child]
            x1, y1 = x + BOX_W / 2, y + BOX_H
            x2, y2 = cx + BOX_W / 2, cy
            if cy <= y:  # a loop back up: route around the right side
                right = max(x, cx) + BOX_W + 8
                parts.append(f"<path class='mf-edge mf-back' d='M {x + BOX_W:.0f} {y + BOX_H / 2:.0f} H {right:.0f} "
                             f"V {cy + BOX_H / 2:.0f} H {cx + BOX_W:.0f}' fill='none' stroke='#bbb' "
                             "stroke-dasharray='4 3' marker-end='url(#mf-arrow)'/>")
                continue
            parts.append(f"<path class='mf-edge' d='M {x1:.0f} {y1:.0f} C {x1:.0f} {y1 + GAP_Y / 2:.0f}, {x2:.0f} "
                         f"{y2 - GAP_Y / 2:.0f}, {x2:.0f} {y2:.0f}' fill='none' stroke='#888' "
                         "marker-end='url(#mf-arrow)'/>")
    for name, (x, y) in where.items():
        kind = steps[name].get("kind") or ""
        css = esc(classes.get(name, "mf-step-none"))
        caption = captions.get(name, kind)
        label = esc(name if len(name) <= 20 else name[:19] + "…")
        box = (f"<g class='mf-node {css}' data-step='{esc(name)}'><title>{esc(name)} ({esc(kind)})</title>"
               f"<rect x='{x:.0f}' y='{y:.0f}' width='{BOX_W}' height='{BOX_H}' rx='6'/>"
               f"<text x='{x + BOX_W / 2:.0f}' y='{y + 19:.0f}' text-anchor='middle' class='mf-node-name'>{label}</text>"
               f"<text x='{x + BOX_W / 2:.0f}' y='{y + 36:.0f}' text-anchor='middle' class='mf-node-caption'>"
               f"{esc(caption)}</text></g>")
        if name in links:
            box = f"<a href='{esc(links[name])}'>{box}</a>"
        parts.append(box)
    parts.append("</svg>")
    return "".join(parts)


DAG_CSS = """
.mf-dag .mf-node rect{fill:#f4f6f8;stroke:#8a96a3;stroke-width:1.5}
.mf-dag .mf-node-name{font:600 13px sans-serif;fill:#1f2933}
.mf-dag .mf-node-caption{font:11px sans-serif;fill:#52606d}
.mf-dag .mf-step-ok rect{fill:#d3f4dc;stroke:#2f9e44}
.mf-dag .mf-step-failed rect{fill:#ffd9d9;stroke:#e03131}
.mf-dag .mf-step-running rect{fill:#dbe9ff;stroke:#1c7ed6}
.mf-dag .mf-step-pending rect{fill:#f4f6f8;stroke:#adb5bd;stroke-dasharray:4 3}
.mf-dag .mf-step-current rect{stroke-width:3}
"""
