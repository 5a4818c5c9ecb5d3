"""The small inline SVG beside each table row: the cohort's healthy range as a bar, the subject's value as a marker.

Drawn as SVG markup in the page (no script, no image file): the light band is the reference interval
(:func:`pipeline.norms.position.reference_interval`), the darker band the cohort's quartiles, the tick its median;
a circle (left foot, blue) and a diamond (right foot, orange), or a black bar for a measure of both feet, mark the
subject's median with its 95 % CI as a whisker. Shape and colour both tell the feet apart (colour-blind safe, and
legible in black-and-white print). Only numbers and escaped text enter the markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 150, 30, 5
COLOURS = {"left": "#0072B2", "right": "#D55E00", "both": "#222222"}
#: Vertical position of each marker row.
ROW_Y = {"left": 9, "right": 21, "both": 15}


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f and abs(f) != float("inf") else None


def _marks(cells: Mapping[str, Any]) -> dict[str, tuple[float, float | None, float | None]]:
    out = {}
    for key, cell in cells.items():
        if not isinstance(cell, Mapping) or cell.get("status", "computed") != "computed":
            continue
        value = _num(cell.get("median") if cell.get("median") is not None else cell.get("mean"))
        if value is None:
            continue
        ci = cell.get("ci95") or (None, None)
        out[key] = (value, _num(ci[0]), _num(ci[1]))
    return out


def norm_bar(interval: Mapping[str, Any] | None, cells: Mapping[str, Any], label: str = "") -> Markup:
    """The SVG of one row (empty markup when there is no interval)."""
    if not isinstance(interval, Mapping) or not interval.get("available"):
        return Markup("")
    low, high = float(interval["low"]), float(interval["high"])
    marks = _marks(cells)
    points = [low, high, *(x for m in marks.values() for x in m if x is not None)]
    lo, hi = min(points), max(points)
    span = (hi - lo) or (abs(hi) or 1.0)
    lo, hi = lo - 0.06 * span, hi + 0.06 * span

    def x(v: float) -> float:
        return round(PAD + (v - lo) / (hi - lo) * (WIDTH - 2 * PAD), 1)

    unit = interval.get("unit", "")
    title = f"{label}: healthy range {low:.3g} to {high:.3g} {unit}" + "".join(
        f"; {k} {v[0]:.3g}" for k, v in marks.items())
    parts = [
        f'<svg class="normbar" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<rect x="{x(low)}" y="4" width="{max(x(high) - x(low), 1)}" height="22" fill="#dbe9db"/>',
        f'<rect x="{x(interval["q1"])}" y="4" width="{max(x(interval["q3"]) - x(interval["q1"]), 1)}" height="22" '
        'fill="#a8cfa8"/>',
        f'<line x1="{x(interval["median"])}" x2="{x(interval["median"])}" y1="4" y2="26" stroke="#2a6a2a" '
        'stroke-width="1.5"/>',
    ]
    for key, (v, c_lo, c_hi) in marks.items():
        y, colour = ROW_Y.get(key, 15), COLOURS.get(key, "#222")
        if c_lo is not None and c_hi is not None:
            parts.append(f'<line x1="{x(c_lo)}" x2="{x(c_hi)}" y1="{y}" y2="{y}" stroke="{colour}" stroke-width="2"/>')
        if key == "left":
            parts.append(f'<circle cx="{x(v)}" cy="{y}" r="3.6" fill="{colour}" stroke="#fff" stroke-width="0.8"/>')
        elif key == "right":
            cx = x(v)
            parts.append(f'<path d="M{cx} {y - 4.4}L{cx + 4.4} {y}L{cx} {y + 4.4}L{cx - 4.4} {y}Z" fill="{colour}" '
                         'stroke="#fff" stroke-width="0.8"/>')
        else:
            parts.append(f'<rect x="{x(v) - 1.5}" y="{y - 6}" width="3" height="12" fill="{colour}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
