"""A Vega-Lite subset drawn as SVG with no JavaScript: one mark (bar, line, point,
area) over inline ``data.values`` with ``x``/``y`` fields. Anything else returns
None and the card shows the spec instead, rather than drawing it wrong."""

from __future__ import annotations

from .components import esc

WIDTH, HEIGHT, PAD = 480, 240, 40


def _mark(spec) -> str | None:
    mark = spec.get("mark")
    if isinstance(mark, dict):
        mark = mark.get("type")
    return mark if mark in ("bar", "line", "point", "area", "circle") else None


def vega_to_svg(spec) -> str | None:
    if not isinstance(spec, dict) or "layer" in spec or "hconcat" in spec or "vconcat" in spec:
        return None
    mark = _mark(spec)
    values = (spec.get("data") or {}).get("values") if isinstance(spec.get("data"), dict) else None
    enc = spec.get("encoding") or {}
    x, y = enc.get("x") or {}, enc.get("y") or {}
    if mark is None or not isinstance(values, list) or not values or "field" not in x or "field" not in y:
        return None
    xf, yf = x["field"], y["field"]
    try:
        points = [(row[xf], float(row[yf])) for row in values if isinstance(row, dict)]
    except (KeyError, TypeError, ValueError):
        return None
    if not points:
        return None
    numeric_x = all(isinstance(p[0], (int, float)) and not isinstance(p[0], bool) for p in points) and mark != "bar"
    ys = [p[1] for p in points]
    lo, hi = min(0.0, min(ys)), max(0.0, max(ys))
    span = (hi - lo) or 1.0
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def sy(v):
        return PAD + inner_h - (v - lo) / span * inner_h

    if numeric_x:
        xs = [float(p[0]) for p in points]
        xlo, xhi = min(xs), max(xs)
        xspan = (xhi - xlo) or 1.0
        coords = [(PAD + (float(p[0]) - xlo) / xspan * inner_w, sy(p[1])) for p in points]
    else:
        step = inner_w / len(points)
        coords = [(PAD + step * (i + 0.5), sy(p[1])) for i, p in enumerate(points)]
    parts = [f"<svg class='mf-chart' viewBox='0 0 {WIDTH} {HEIGHT}' width='{WIDTH}' height='{HEIGHT}' "
             f"role='img' xmlns='http://www.w3.org/2000/svg'>",
             f"<line x1='{PAD}' y1='{sy(0):.1f}' x2='{WIDTH - PAD}' y2='{sy(0):.1f}' stroke='#999'/>",
             f"<line x1='{PAD}' y1='{PAD}' x2='{PAD}' y2='{HEIGHT - PAD}' stroke='#999'/>",
             f"<text x='4' y='{PAD - 8}' font-size='11'>{esc(y.get('title', yf))}</text>",
             f"<text x='{WIDTH - PAD}' y='{HEIGHT - 6}' font-size='11' text-anchor='end'>{esc(x.get('title', xf))}</text>",
             f"<text x='{PAD - 4}' y='{sy(hi) + 4:.1f}' font-size='10' text-anchor='end'>{hi:g}</text>",
             f"<text x='{PAD - 4}' y='{sy(lo) + 4:.1f}' font-size='10' text-anchor='end'>{lo:g}</text>"]
    if mark == "bar":
        bar_w = max(1.0, inner_w / len(points) * 0.8)
        for (cx, cy), (label, value) in zip(coords, points):
            top, bottom = min(cy, sy(0)), max(cy, sy(0))
            parts.append(f"<rect x='{cx - bar_w / 2:.1f}' y='{top:.1f}' width='{bar_w:.1f}' "
                         f"height='{bottom - top:.1f}' fill='#4c78a8'><title>{esc(label)}: {value:g}</title></rect>")
            parts.append(f"<text x='{cx:.1f}' y='{HEIGHT - PAD + 14}' font-size='10' "
                         f"text-anchor='middle'>{esc(str(label)[:12])}</text>")
    else:
        if mark in ("line", "area"):
            path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
            if mark == "area":
                parts.append(f"<polygon points='{coords[0][0]:.1f},{sy(0):.1f} {path} {coords[-1][0]:.1f},"
                             f"{sy(0):.1f}' fill='#4c78a8' opacity='0.4'/>")
            parts.append(f"<polyline points='{path}' fill='none' stroke='#4c78a8' stroke-width='2'/>")
        for (cx, cy), (label, value) in zip(coords, points):
            parts.append(f"<circle cx='{cx:.1f}' cy='{cy:.1f}' r='3' fill='#4c78a8'>"
                         f"<title>{esc(label)}: {value:g}</title></circle>")
    parts.append("</svg>")
    return "".join(parts)
