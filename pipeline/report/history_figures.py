"""Geometry of the follow-up figures: numbers only; ``history.html.j2`` draws them as inline SVG.

Each figure is a small SVG (view box :data:`WIDTH` x :data:`HEIGHT`, scaled to the page width, so it stays legible
on a 390 px phone): visits equally spaced along x (labelled with their number and recording date), the left side
(blue) just left of each visit and the right side (vermilion) just right, means with 95 % CI whiskers, the MDC band
around the first visit's mean, a dashed line where the condition changed, and a ring around a mean whose change from
the previous visit is beyond measurement variability. All text in a figure (labels, conditions) is rendered by the
template, so it is escaped by Jinja2's autoescape like everything else on the page. Coordinates are rounded to
0.1 unit so the same inputs give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

WIDTH, HEIGHT = 420.0, 236.0
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 54.0, 14.0, 20.0, 46.0
SIDE_OFFSET = {"left": -7.0, "right": 7.0}
SIDE_COLOURS = {"left": "#0072B2", "right": "#D55E00"}  # Okabe-Ito, as the session report
BEYOND = "change beyond measurement variability"


def _r(x: float) -> float:
    return round(float(x), 1)


def nice_ticks(lo: float, hi: float, target: int = 5) -> tuple[list[float], int]:
    """Round tick values covering [lo, hi] (steps of 1, 2, 2.5 or 5 x 10^k) and the decimals to print them."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [], 0
    if hi - lo <= 0:
        pad = abs(lo) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks = [first + i * step for i in range(int(math.ceil((hi - first) / step)) + 1)]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9) + (1 if step / mag == 2.5 else 0))
    return [round(t, decimals + 2) for t in ticks], decimals


class _Axes:
    def __init__(self, n_visits: int, values: Sequence[float]) -> None:
        finite = [v for v in values if v is not None and math.isfinite(v)]
        lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
        pad = (hi - lo) * 0.08
        self.ticks, self.decimals = nice_ticks(lo - pad, hi + pad)
        self.lo, self.hi = (self.ticks[0], self.ticks[-1]) if self.ticks else (lo, hi)
        self.n = n_visits
        self.x0, self.x1 = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
        self.y0, self.y1 = HEIGHT - MARGIN_BOTTOM, MARGIN_TOP

    def x(self, visit: int, side: str | None = None) -> float:
        span = self.x1 - self.x0
        centre = self.x0 + span / 2 if self.n == 1 else self.x0 + 24 + (span - 48) * (visit - 1) / (self.n - 1)
        return _r(centre + (SIDE_OFFSET[side] if side else 0.0))

    def y(self, value: float) -> float:
        frac = (value - self.lo) / (self.hi - self.lo) if self.hi > self.lo else 0.5
        return _r(self.y0 + (self.y1 - self.y0) * frac)

    def frame(self, visits: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return {
            "width": WIDTH, "height": HEIGHT, "x0": self.x0, "x1": self.x1, "y0": self.y0, "y1": self.y1,
            "yticks": [{"y": self.y(t), "label": f"{t:.{self.decimals}f}"} for t in self.ticks],
            "xticks": [{"x": self.x(v["visit"]), "visit": v["visit"], "date": v.get("date") or "date unknown"}
                       for v in visits],
            "condition_changes": [{"x": _r((self.x(v["visit"]) + self.x(v["visit"] - 1)) / 2), "visit": v["visit"],
                                   "condition": v["session"].get("condition")}
                                  for v in visits if v.get("condition_changed")],
        }


def trend_figure(measure: Mapping[str, Any], visits: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Geometry of one key measure over visits (see the module notes); ``measure`` is an entry of
    ``history["measures"]``."""
    values: list[float] = []
    for row in measure["visits"]:
        for side in SIDES_:
            cell = row.get(side)
            if cell and cell.get("mean") is not None:
                values.append(cell["mean"])
                if cell.get("ci95"):
                    values.extend(cell["ci95"])
    for pts in measure["mdc_band"].values():
        values.extend(v for p in pts for v in (p["low"], p["high"]))
    ax = _Axes(len(visits), values)
    series = []
    for side in SIDES_:
        points = []
        for row in measure["visits"]:
            cell = row.get(side)
            if not cell or cell.get("mean") is None:
                continue
            ci = cell.get("ci95")
            verdict = (measure["vs_previous"].get(str(row["visit"])) or measure["vs_previous"].get(row["visit"])
                       or {}).get(side)
            points.append({"x": ax.x(row["visit"], side), "y": ax.y(cell["mean"]),
                           "ylo": ax.y(ci[0]) if ci else None, "yhi": ax.y(ci[1]) if ci else None,
                           "beyond": verdict == BEYOND, "visit": row["visit"], "mean": cell["mean"], "n": cell["n"],
                           "ci95": ci})
        if points:
            series.append({"side": side, "colour": SIDE_COLOURS[side], "points": points,
                           "line": " ".join(f"{p['x']},{p['y']}" for p in points)})
    bands = []
    for side, pts in measure["mdc_band"].items():
        pts = sorted(pts, key=lambda p: p["visit"])
        if len(pts) == 1:
            x = ax.x(pts[0]["visit"])
            upper = [(x - 16, ax.y(pts[0]["high"])), (x + 16, ax.y(pts[0]["high"]))]
            lower = [(x + 16, ax.y(pts[0]["low"])), (x - 16, ax.y(pts[0]["low"]))]
        else:
            upper = [(ax.x(p["visit"], side), ax.y(p["high"])) for p in pts]
            lower = [(ax.x(p["visit"], side), ax.y(p["low"])) for p in reversed(pts)]
        bands.append({"side": side, "colour": SIDE_COLOURS[side],
                      "points": " ".join(f"{_r(x)},{_r(y)}" for x, y in upper + lower)})
    return {**ax.frame(visits), "series": series, "bands": bands, "zero_y": None}


def symmetry_figure(sym: Mapping[str, Any], visits: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Geometry of one symmetry index over visits (0 = symmetric, dashed); ``sym`` is an entry of
    ``history["symmetry"]``."""
    values = [0.0]
    for p in sym["visits"]:
        if p["si_pct"] is not None:
            values.append(p["si_pct"])
            if p["ci95"]:
                values.extend(p["ci95"])
    ax = _Axes(len(visits), values)
    points = [{"x": ax.x(p["visit"]), "y": ax.y(p["si_pct"]), "ylo": ax.y(p["ci95"][0]) if p["ci95"] else None,
               "yhi": ax.y(p["ci95"][1]) if p["ci95"] else None, "beyond": False, "visit": p["visit"],
               "mean": p["si_pct"], "n": min(p["n_left"], p["n_right"]), "ci95": p["ci95"]}
              for p in sym["visits"] if p["si_pct"] is not None]
    series = [{"side": "both", "colour": "#222222", "points": points,
               "line": " ".join(f"{p['x']},{p['y']}" for p in points)}] if points else []
    return {**ax.frame(visits), "series": series, "bands": [], "zero_y": ax.y(0.0)}


SIDES_ = ("left", "right")
