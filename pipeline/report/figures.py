"""Figures of the report, drawn with matplotlib's Agg/SVG backends and returned as self-contained data URIs.

Each figure is an SVG embedded as ``data:image/svg+xml;base64``: no network, no script, no id clashes between
figures, and it prints sharply. Colours are the Okabe-Ito colour-blind-safe palette (left blue, right vermilion).
Functions return None when their input is missing, so the caller can say "not available".
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PatchCollection, PolyCollection
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.lines import TICKRIGHT
from matplotlib.patches import Polygon, Rectangle
from matplotlib.ticker import MaxNLocator, ScalarFormatter
from matplotlib.transforms import blended_transform_factory, offset_copy

from insole.layouts import FOREFOOT_WIDTH_RATIO, SensorLayout, foot_outline_mm
from pipeline.analysis.curve_summary import drawn_rows
from pipeline.analysis.metric_catalogue import REGION_COLUMN_LABELS
from pipeline.analysis.result import CurveSummary, StanceCurves
from pipeline.report.figure_layout import (
    SLACK_IN,
    TICK_ROOM_PT,
    InchLayout,
    font_size_pt,
    foot_panels,
    lines_height_in,
    text_width_in,
    x_label_room_in,
    y_label_overhang_in,
    y_label_room_in,
)

SIDE_COLOURS = {"left": "#0072B2", "right": "#D55E00"}
BEFORE_AFTER_COLOURS = {"before": "#999999", "after": "#009E73"}
_RC = {"svg.fonttype": "none", "svg.hashsalt": "insole-report", "font.size": 9, "axes.spines.top": False,
       "axes.spines.right": False}


def _to_data_uri(fig: Figure) -> str:
    """The figure as an SVG data URI, drawn once at its own (fixed) layout: see :mod:`.figure_layout`."""
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


#: Size of the force-curve figure (inches): what ``bbox_inches="tight"`` made of it before the fixed layouts.
FORCE_CURVES_SIZE_IN = (5.6, 2.75)


def force_curves(curves: Mapping[str, StanceCurves], sides: Sequence[str]) -> tuple[str, dict[str, int]] | None:
    """Mean +- SD of the per-step force curves, 0-100 % stance, one line per side; None without curves.

    Drawn from each side's :attr:`StanceCurves.force_defined` (the valid steps whose force curve is finite at
    more than half of its points); no band for a single step.
    """
    data = {s: c.force_defined for s in sides if (c := curves.get(s)) is not None and c.force_defined.n_steps}
    if not data:
        return None
    units = " / ".join(sorted({curves[s].force_unit for s in data}))
    with matplotlib.rc_context(_RC):
        lay = InchLayout(*FORCE_CURVES_SIZE_IN)
        width, height = FORCE_CURVES_SIZE_IN
        bottom = x_label_room_in()
        ax = lay.axes(0.8, bottom, width - 0.8 - 0.15, height - bottom - 0.1)
        for side, a in data.items():
            x = np.linspace(0, 100, len(a.mean))
            mean, sd = a.mean, a.sd if a.n_steps > 1 else np.zeros(len(a.mean))
            ax.fill_between(x, mean - sd, mean + sd, color=SIDE_COLOURS[side], alpha=0.2, linewidth=0)
            ax.plot(x, mean, color=SIDE_COLOURS[side], label=f"{side} (n = {a.n_steps} steps)")
        ax.set_xlabel("stance (%)")
        ax.set_ylabel(f"vertical force ({units or 'units not stated'})")
        ax.set_xlim(0, 100)
        ax.legend(frameon=False, loc="upper center", ncol=2)
        left = y_label_room_in(ax)
        lay.place(ax, left, bottom, width - left - 0.15, height - bottom - 0.1)
        return _to_data_uri(lay.fig), {s: a.n_steps for s, a in data.items()}


@functools.lru_cache(maxsize=16)
def _outline(foot_length_mm: float) -> np.ndarray:
    """The generic outline (read-only: one spline fit per foot length, not one per use; it was a tenth of a
    figure's time)."""
    out = foot_outline_mm(foot_length_mm)
    out.setflags(write=False)
    return out


def fill_outline(ax: Axes, h: np.ndarray, v: np.ndarray) -> None:
    """The foot's outline, filled light grey: one polygon drawn as a collection, whose data limits are computed in
    one vectorised step (``Axes.fill`` walks the outline's 240 segments in Python to find them)."""
    ax.add_collection(PolyCollection([np.c_[h, v]], facecolors="#f4f4f4", edgecolors="#555555", linewidths=1.0,
                                     zorder=0))


def _display_xy(x_mm: np.ndarray, y_mm: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Foot frame -> page, seen from above: anterior up; medial to the right for the left foot, left for the right."""
    return (y_mm if side == "left" else -y_mm), x_mm


def bare_axes(ax: Axes) -> None:
    """A drawing of the foot, not a chart: equal scales, no ticks, no frame.

    The axes are switched off and their x and y axis hidden, so no tick is made, measured or drawn (matplotlib
    otherwise lays out the hidden y ticks to place a title); titles and texts are drawn as before.
    """
    ax.set_aspect("equal")
    no_axis(ax)


def no_axis(ax: Axes) -> None:
    """Switch ``ax``'s frame and both axis objects off, so matplotlib makes, measures and draws no tick for it."""
    ax.set_axis_off()
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)


def _foot_axes(ax: Axes, side: str, foot_length_mm: float) -> None:
    out = _outline(foot_length_mm)
    h, v = _display_xy(out[:, 0], out[:, 1], side)
    fill_outline(ax, h, v)
    bare_axes(ax)
    med = 0.2 * foot_length_mm
    ax.annotate("medial", xy=(med if side == "left" else -med, 0.02 * foot_length_mm), ha="center", fontsize=7,
                color="#555555")
    ax.set_title(f"{side} foot", fontsize=9)


def drawn_note(n_drawn: int, n: int) -> str:
    """`` (150 of 3300 drawn, evenly spaced)`` when not every step is drawn, else ``""`` (step counts are written
    without thousands separators everywhere in the report)."""
    return "" if n_drawn == n else f" ({n_drawn} of {n} drawn, evenly spaced)"


def with_drawn_note(text: str, n: int, n_drawn: int | None = None) -> str:
    """``text`` and, when not every one of the ``n`` steps is drawn (``n_drawn`` of them; by default
    ``len(drawn_rows(n))``), :func:`drawn_note` on a line of its own (on the same line it was wider than a foot's
    panel and ran into the next one)."""
    note = drawn_note(len(drawn_rows(n)) if n_drawn is None else n_drawn, n)
    return text + (f"\n{note.strip()}" if note else "")


def cop_gait_lines(
    curves: Mapping[str, StanceCurves], sides: Sequence[str], foot_length_mm: float
) -> tuple[str, dict[str, int]] | None:
    """Per-step CoP gait lines (thin) and their mean (bold) on a generic foot outline, one panel per foot.

    Drawn from each side's :attr:`StanceCurves.cop_ap` and :attr:`StanceCurves.cop_ml_defined` (the valid steps
    whose AP, resp. ML, gait line is finite at more than half of stance; a side is drawn when both sets hold the
    same number of steps): their drawn steps and their mean, scaled to ``foot_length_mm``.
    """
    data: dict[str, tuple[CurveSummary, CurveSummary]] = {}
    for s in sides:
        c = curves.get(s)
        if c is not None and c.cop_ap.n_steps and c.cop_ml_defined.n_steps == c.cop_ap.n_steps:
            data[s] = (c.cop_ap, c.cop_ml_defined)
    if not data:
        return None
    width = FOREFOOT_WIDTH_RATIO * foot_length_mm
    with matplotlib.rc_context(_RC):
        notes = {s: with_drawn_note(f"n = {ap.n_steps} steps", ap.n_steps, ap.n_drawn) for s, (ap, _ml) in data.items()}
        size = {s: 7 if "\n" in note else 8 for s, note in notes.items()}
        below = max(lines_height_in(n.count("\n") + 1, size[s]) for s, n in notes.items()) + 0.12
        lay, axes = foot_panels([f"{s} foot" for s in data], 9, axes_h_in=3.23, below_in=below, min_col_in=2.2)
        for ax, (side, (ap, ml)) in zip(axes, data.items(), strict=True):
            _foot_axes(ax, side, foot_length_mm)
            h, v = _display_xy(ap.drawn.astype(float) * foot_length_mm, ml.drawn.astype(float) * width, side)
            ax.add_collection(LineCollection([np.c_[hh, vv] for hh, vv in zip(h, v, strict=True)],
                                             colors=SIDE_COLOURS[side], alpha=0.15, linewidths=0.6))
            h, v = _display_xy(ap.mean * foot_length_mm, ml.mean * width, side)
            ax.plot(h, v, color="black", linewidth=2.0)
            ax.text(0.5, -0.01, notes[side], transform=ax.transAxes, ha="center", va="top", fontsize=size[side])
        return _to_data_uri(lay.fig), {s: ap.n_steps for s, (ap, _ml) in data.items()}


#: Bands along the foot (share of foot length) used to place named regions on the outline.
_BANDS = {"heel": (0.0, 0.27), "midfoot": (0.27, 0.55), "forefoot": (0.55, 0.83), "toes": (0.83, 1.0)}
_BAND_WORDS = (
    ("heel", ("heel", "rearfoot", "hindfoot", "calcan")),
    ("midfoot", ("mid", "arch")),
    ("forefoot", ("forefoot", "meta", "mth", "met_", "ball")),
    ("toes", ("toe", "hallux", "phalan", "digit")),
)


def region_zone(name: str) -> tuple[str, str] | None:
    """Place a region by its name: (band, "medial" | "lateral" | "full"), or None when the name is not recognised."""
    n = name.lower()
    band = next((b for b, words in _BAND_WORDS if any(w in n for w in words)), None)
    if band is None:
        return None
    if "medial" in n or "hallux" in n or "big" in n:
        half = "medial"
    elif "lateral" in n or "lesser" in n:
        half = "lateral"
    else:
        half = "full"
    return band, half


def _zone_polygon(band: str, half: str, foot_length_mm: float) -> np.ndarray:
    out = _outline(foot_length_mm)
    n = len(out) // 2
    medial, lateral = out[:n], out[n:][::-1]
    lo, hi = _BANDS[band]
    x = np.linspace(lo, hi, 30) * foot_length_mm
    y_med = np.interp(x, medial[:, 0], medial[:, 1])
    y_lat = np.interp(x, lateral[:, 0], lateral[:, 1])
    mid = 0.5 * (y_med + y_lat)
    top = y_med if half in ("medial", "full") else mid
    bottom = y_lat if half in ("lateral", "full") else mid
    return np.concatenate([np.c_[x, top], np.c_[x[::-1], bottom[::-1]]])


def region_map(
    regions: Mapping[str, Mapping[str, Mapping[str, Any]]],
    layouts: Mapping[str, SensorLayout] | None,
    foot_length_mm: float,
    value_key: str = "peak_pressure",
) -> tuple[str, list[str]] | None:
    """Regional peak pressure drawn on the outline; returns (figure, names of regions that could not be placed)."""
    sides = [s for s in ("left", "right") if regions.get(s)]
    if not sides:
        return None
    values = [float(v.get(value_key)) for s in sides for v in regions[s].values()
              if isinstance(v, Mapping) and isinstance(v.get(value_key), int | float) and np.isfinite(v.get(value_key))]
    if not values:
        return None
    vmax = max(values) or 1.0
    unplaced: list[str] = []
    cmap = matplotlib.colormaps["viridis"]
    with matplotlib.rc_context(_RC):
        lay, axes = foot_panels([f"{s} foot" for s in sides], 9, axes_h_in=3.23, below_in=0.05, min_col_in=2.16)
        for ax, side in zip(axes, sides, strict=True):
            _foot_axes(ax, side, foot_length_mm)
            patches, colours = [], []
            for name, v in sorted(regions[side].items(), key=lambda kv: str(kv[0])):
                val = v.get(value_key) if isinstance(v, Mapping) else None
                zone = region_zone(str(name))
                if zone is None or not isinstance(val, int | float) or not np.isfinite(val):
                    unplaced.append(f"{side}: {name}")
                    continue
                poly = _zone_polygon(*zone, foot_length_mm)
                h, vv = _display_xy(poly[:, 0], poly[:, 1], side)
                patches.append(Polygon(np.c_[h, vv], closed=True))
                colours.append(val)
                cx, cy = np.mean(h), np.mean(vv)
                ax.text(cx, cy, f"{val:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if val / vmax < 0.6 else "black")
            pc = PatchCollection(patches, cmap=cmap, edgecolor="white", linewidth=0.8)
            pc.set_array(np.asarray(colours, dtype=float))
            pc.set_clim(0, vmax)
            ax.add_collection(pc)
            layout = (layouts or {}).get(side)
            if layout is not None:
                scale = foot_length_mm / layout.foot_length_mm if layout.foot_length_mm else 1.0
                h, vv = _display_xy(np.asarray(layout.x_mm) * scale, np.asarray(layout.y_mm) * scale, side)
                ax.scatter(h, vv, s=6, c="#222222", marker="o", linewidths=0, zorder=3)
        units = sorted({str(v.get("pressure_unit")) for s in sides for v in regions[s].values()
                        if isinstance(v, Mapping) and v.get("pressure_unit")})
        label = REGION_COLUMN_LABELS[value_key] + (f" ({' / '.join(units)})" if units else "")
        colour_bar(lay, axes, cmap, vmax, label)
        return _to_data_uri(lay.fig), unplaced


def colour_bar(lay: InchLayout, axes: Sequence[Axes], cmap: Colormap, vmax: float, label: str) -> None:
    """A vertical colour bar for 0..``vmax`` right of the foot panels ``axes`` (70 % of their height, centred on
    them), and the figure widened to hold its tick labels and ``label``.

    Drawn as plain artists (the gradient as an image, its outline, the tick marks as one line of markers, one text
    per tick label): matplotlib's ``Colorbar`` builds a full axis of tick objects and cost about a third of a map
    figure. Ticks and labels are the ones ``Colorbar`` would draw: its default locator (``MaxNLocator``, steps 1, 2,
    2.5, 5, 10, at most one tick per two label heights and 9 bins) and formatter (``ScalarFormatter``); tick length,
    pad and label pad are matplotlib's defaults.
    """
    left, bottom, width, height = lay.rect(axes[-1])
    x0, y0, w, h = left + width + 0.05, bottom + 0.15 * height, 0.11, 0.7 * height
    cax = lay.axes(x0, y0, w, h)
    no_axis(cax)
    cax.imshow(np.linspace(0.0, vmax, 256)[:, None], cmap=cmap, vmin=0.0, vmax=vmax, origin="lower", aspect="auto",
               extent=(0.0, 1.0, 0.0, vmax), interpolation="nearest")
    cax.set_xlim(0.0, 1.0)
    cax.set_ylim(0.0, vmax)
    rc = matplotlib.rcParams
    cax.add_patch(Rectangle((0.0, 0.0), 1.0, 1.0, transform=cax.transAxes, fill=False, clip_on=False,
                            linewidth=rc["axes.linewidth"], edgecolor=rc["axes.edgecolor"]))
    size = font_size_pt(rc["ytick.labelsize"])
    nbins = int(np.clip(np.floor(h * 72.0 / (2.0 * size)), 1, 9))
    ticks = MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]).tick_values(0.0, vmax)
    ticks = ticks[(ticks >= 0.0) & (ticks <= vmax * (1 + 1e-9))]
    fmt = ScalarFormatter()
    fmt.create_dummy_axis()
    fmt.axis.set_view_interval(0.0, vmax)
    fmt.axis.set_data_interval(0.0, vmax)
    labels = fmt.format_ticks(ticks)
    side = blended_transform_factory(cax.transAxes, cax.transData)
    cax.plot(np.ones(len(ticks)), ticks, linestyle="", marker=TICKRIGHT, markersize=rc["ytick.major.size"],
             markeredgewidth=rc["ytick.major.width"], color=rc["ytick.color"], transform=side, clip_on=False)
    pad_pt = rc["ytick.major.size"] + rc["ytick.major.pad"]
    at_labels = offset_copy(side, fig=lay.fig, x=pad_pt, y=0.0, units="points")
    for t, text in zip(ticks, labels, strict=True):
        cax.text(1.0, t, text, transform=at_labels, ha="left", va="center_baseline", fontsize=size)
    labels_w = text_width_in(labels, size)
    at_label = offset_copy(cax.transAxes, fig=lay.fig, x=pad_pt + 72.0 * labels_w + rc["axes.labelpad"], y=0.0,
                           units="points")
    cax.text(1.0, 0.5, label, transform=at_label, rotation=90, ha="left", va="center", fontsize=rc["axes.labelsize"])
    room = (pad_pt + rc["axes.labelpad"]) / 72.0 + labels_w + lines_height_in(1, rc["axes.labelsize"]) + SLACK_IN
    lay.resize(x0 + w + room, float(lay.fig.get_size_inches()[1]))


def symmetry_chart(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """Horizontal bars of the symmetry angle per metric (0 = symmetric; positive = right larger)."""
    rows = [r for r in rows if r.get("sa_pct") is not None]
    if not rows:
        return None
    with matplotlib.rc_context(_RC):
        labels = [str(r["label"]) for r in rows]
        left = text_width_in(labels, matplotlib.rcParams["ytick.labelsize"]) + TICK_ROOM_PT / 72.0 + 0.1
        bottom = x_label_room_in()
        axes_w, axes_h = 4.96, 0.27 * len(rows) + 0.69  # as before: 77 % of a (0.35 n + 0.9) in figure
        lay = InchLayout(left + axes_w + 0.2, bottom + axes_h + 0.1)
        ax = lay.axes(left, bottom, axes_w, axes_h)
        y = np.arange(len(rows))[::-1]
        vals = np.array([r["sa_pct"] for r in rows], dtype=float)
        ax.barh(y, vals, color=[SIDE_COLOURS["right"] if v > 0 else SIDE_COLOURS["left"] for v in vals])
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(y, labels)
        lim = max(5.0, float(np.max(np.abs(vals))) * 1.2)
        ax.set_xlim(-lim, lim)
        ax.set_xlabel("symmetry angle (%): negative = left larger, positive = right larger")
        return _to_data_uri(lay.fig)


#: Size of a before/after distribution figure (inches), as ``bbox_inches="tight"`` made it before.
DISTRIBUTIONS_SIZE_IN = (3.2, 2.3)


def distributions(before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray], label: str) -> str | None:
    """Per-step distributions before vs after (box plot with every step as a dot), one pair per side."""
    sides = [s for s in ("left", "right") if s in before and s in after]
    if not sides:
        return None
    rng = np.random.default_rng(0)  # jitter only; does not affect any number
    with matplotlib.rc_context(_RC):
        pos, data, colours, ticks = [], [], [], []
        for i, side in enumerate(sides):
            for j, (which, vals) in enumerate((("before", before[side]), ("after", after[side]))):
                p = i * 3 + j
                pos.append(p)
                data.append(vals)
                colours.append(BEFORE_AFTER_COLOURS[which])
                ticks.append(f"{side[0].upper()} {which}\n(n={len(vals)})")
        width, height = DISTRIBUTIONS_SIZE_IN
        bottom = x_label_room_in(0, tick_size_pt=7) + lines_height_in(1, 7)  # two-line tick labels, no x label
        lay = InchLayout(width, height)
        ax = lay.axes(0.8, bottom, width - 0.8 - 0.1, height - bottom - 0.1)
        bp = ax.boxplot(data, positions=pos, widths=0.6, showfliers=False, patch_artist=True)
        for patch, c in zip(bp["boxes"], colours, strict=True):
            patch.set_facecolor(c)
            patch.set_alpha(0.35)
        for p, vals, c in zip(pos, data, colours, strict=True):
            ax.scatter(p + rng.uniform(-0.18, 0.18, len(vals)), vals, s=4, color=c, linewidths=0)
        ax.set_xticks(pos, ticks, fontsize=7)
        ax.set_ylabel(label, fontsize=8)
        left = y_label_room_in(ax, 8)
        axes_h = height - bottom - 0.1
        over = y_label_overhang_in(label, 8, axes_h)  # a label longer than the axes is tall runs past them
        bottom = max(bottom, over)
        lay.resize(width, bottom + axes_h + max(0.1, over))
        lay.place(ax, left, bottom, width - left - 0.1, axes_h)
        return _to_data_uri(lay.fig)
