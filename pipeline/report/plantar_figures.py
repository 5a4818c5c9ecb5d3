"""Figures of the plantar section: per-cell pressure maps, the mask definition, gait-line ends, CoP against
stance, per-step force curves with the stance phases.

Maps are drawn from each cell's own value at its position (:class:`~pipeline.analysis.result.CellMaps`): with at
least :data:`INTERPOLATE_MIN_CELLS` cells the field between the cell centres is a linear radial-basis
interpolation (scipy ``RBFInterpolator``, kernel ``linear``, no smoothing: it passes through every cell's value),
evaluated only inside the insole outline and clipped to the cells' range; with fewer cells each point of the outline
takes the value of its nearest cell (cell patches), because a smooth field between eight cells would show detail
the insole did not measure. Left and right share one colour scale. Every function returns None without data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.transforms import offset_copy

from pipeline.analysis.curve_summary import drawn_rows
from pipeline.analysis.result import AnalysisResult, CurveSummary, Plantar
from pipeline.analysis.result.records import MetricStatus
from pipeline.report.figure_layout import (
    InchLayout,
    foot_panels,
    legend_size_in,
    lines_height_in,
    x_label_room_in,
    y_label_overhang_in,
    y_label_room_in,
)
from pipeline.report.figures import (
    _RC,
    SIDE_COLOURS,
    _display_xy,
    _outline,
    _to_data_uri,
    bare_axes,
    colour_bar,
    fill_outline,
    with_drawn_note,
)

#: Fewest cells for an interpolated map; below it, nearest-cell patches.
INTERPOLATE_MIN_CELLS = 12
#: Grid step of the drawn maps, as a share of foot length.
GRID_STEP = 0.006
#: What a cell's value is, by the session's pressure unit (insoles in N report force per cell, raw ones counts).
QUANTITY = {"kPa": "pressure", "N": "cell force", "counts": "cell reading"}
#: Colour map of pressures (sequential, light = low, dark red = high).
CMAP = "YlOrRd"
_MEDIAL = {"left": "medial side on the right", "right": "medial side on the left"}
_MASK_COLOURS = ("#88CCEE", "#44AA99", "#DDCC77", "#CC6677", "#AA4499", "#117733", "#332288", "#999933", "#882255")
#: Stance phases shaded behind the force curves (% stance; Perry & Burnfield 2010 rescaled to a 60 % stance).
PHASES = (("loading response", 0.0, 17.0), ("mid-stance", 17.0, 50.0), ("terminal stance", 50.0, 83.0),
          ("pre-swing", 83.0, 100.0))

#: Axes sizes of the fixed layouts (inches): what ``bbox_inches="tight"`` and ``tight_layout`` made of them before.
COP_STANCE_WIDTH_IN, COP_STANCE_AXES_H_IN = 6.75, 2.11
FORCE_STEPS_AXES_IN = (2.76, 1.85)
#: Space between a force-steps title and its axes (pt): room for the phase names above the axes.
FORCE_STEPS_TITLE_PAD_PT = 12.0


def _inside(outline: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    from matplotlib.path import Path

    return Path(outline).contains_points(np.c_[x.ravel(), y.ravel()]).reshape(x.shape)


def _field(maps: Any, values: np.ndarray, side: str) -> tuple[np.ndarray, tuple[float, float, float, float], str]:
    """The map as an image in page coordinates (NaN outside the outline), its extent, and how it was drawn."""
    L = maps.foot_length_mm
    outline = _outline(L)
    half = float(np.abs(outline[:, 1]).max())
    hs = np.arange(-half, half + 1e-9, GRID_STEP * L)
    vs = np.arange(0.0, L + 1e-9, GRID_STEP * L)
    gh, gv = np.meshgrid(hs, vs)
    gx, gy = gv, (gh if side == "left" else -gh)  # page -> foot frame (inverse of figures._display_xy)
    inside = _inside(outline, gx, gy)
    cells = np.c_[maps.x_mm, maps.y_mm]
    ok = np.isfinite(values)
    pts = np.c_[gx[inside], gy[inside]]
    if ok.sum() >= INTERPOLATE_MIN_CELLS:
        from scipy.interpolate import RBFInterpolator

        est = RBFInterpolator(cells[ok], values[ok], kernel="linear")(pts)
        est = np.clip(est, np.nanmin(values[ok]), np.nanmax(values[ok]))
        how = "linear radial-basis interpolation between the cell centres, inside the outline only"
    else:
        from scipy.spatial import cKDTree

        _, idx = cKDTree(cells[ok]).query(pts)
        est = values[ok][idx]
        how = "each point coloured by its nearest cell (too few cells to interpolate)"
    z = np.full(gx.shape, np.nan)
    z[inside] = est
    step = GRID_STEP * L / 2
    return z, (hs[0] - step, hs[-1] + step, vs[0] - step, vs[-1] + step), how


def pressure_maps(plantar: Mapping[str, Plantar], key: str) -> tuple[str, dict[str, int], str] | None:
    """Peak-pressure (``key="peak_pressure"``) or PTI (``key="pti"``) maps of both feet on one colour scale.

    Returns (figure, steps per side, how the field was drawn) or None when no side has computed maps.
    """
    sides = [s for s in ("left", "right") if s in plantar and plantar[s].maps.status is MetricStatus.COMPUTED]
    if not sides:
        return None
    vals = {s: np.array([np.nan if v is None else v for v in getattr(plantar[s].maps, key)], float) for s in sides}
    finite = np.concatenate([v[np.isfinite(v)] for v in vals.values()])
    if finite.size == 0:
        return None
    vmax = float(finite.max()) or 1.0
    m0 = plantar[sides[0]].maps
    unit = m0.unit if key == "peak_pressure" else m0.pti_unit
    quantity = QUANTITY.get(m0.unit, "cell value")
    label = (f"mean peak {quantity}" if key == "peak_pressure" else f"mean {quantity}-time integral") + f" ({unit})"
    hows: list[str] = []
    with matplotlib.rc_context(_RC):
        titles = {s: f"{s} foot ({_MEDIAL[s]})\nmean of {plantar[s].maps.n_steps} valid steps" for s in sides}
        lay, axes = foot_panels(list(titles.values()), 8.5, axes_h_in=3.39, below_in=0.05)
        for ax, side in zip(axes, sides, strict=True):
            maps = plantar[side].maps
            z, extent, how = _field(maps, vals[side], side)
            hows.append(how)
            ax.imshow(np.ma.masked_invalid(z), origin="lower", extent=extent, cmap=CMAP, vmin=0.0, vmax=vmax,
                      interpolation="nearest")
            out = _outline(maps.foot_length_mm)
            oh, ov = _display_xy(out[:, 0], out[:, 1], side)
            ax.plot(np.r_[oh, oh[:1]], np.r_[ov, ov[:1]], color="#555555", linewidth=1.0)
            ch, cv = _display_xy(np.asarray(maps.x_mm), np.asarray(maps.y_mm), side)
            ax.scatter(ch, cv, s=7, c="#111111", linewidths=0, zorder=3)
            if len(maps.x_mm) <= 20:
                above = offset_copy(ax.transData, fig=lay.fig, x=0.0, y=4.0, units="points")  # 4 pt above the cell
                for hh, vv, val in zip(ch, cv, vals[side], strict=True):
                    if np.isfinite(val):
                        ax.text(hh, vv, f"{val:.0f}", transform=above, ha="center", fontsize=6.5,
                                color="#000000" if val < 0.6 * vmax else "#ffffff")
            bare_axes(ax)
            ax.set_title(titles[side], fontsize=8.5)
        colour_bar(lay, axes, matplotlib.colormaps[CMAP], vmax, label)
        return _to_data_uri(lay.fig), {s: plantar[s].maps.n_steps for s in sides}, "; ".join(sorted(set(hows)))


def _mask_index(plantar: Plantar, n_cells: int) -> np.ndarray:
    idx = np.full(n_cells, -1)
    for k, m in enumerate(plantar.masks):
        idx[np.asarray(m.cells) - 1] = k
    return idx


def mask_definition(plantar: Mapping[str, Plantar]) -> tuple[str, dict[str, int]] | None:
    """The masks of each foot: every cell centre coloured and numbered by its mask, the mask bounds drawn."""
    from pipeline.analysis.plantar import MASKS
    from pipeline.analysis.regions import REGION_BOUNDS

    sides = [s for s in ("left", "right") if s in plantar and plantar[s].masks]
    if not sides:
        return None
    with matplotlib.rc_context(_RC):
        legend: dict[str, str] = {}
        for side in sides:
            for k, m in enumerate(plantar[side].masks):
                legend.setdefault(m.label, _MASK_COLOURS[k % len(_MASK_COLOURS)])
        ncol = 3 if len(sides) > 1 else 2
        legend_w, legend_h = legend_size_in(list(legend), 7, ncol)
        titles = [f"{s} foot ({_MEDIAL[s]})\n{len(plantar[s].masks)} masks, {len(plantar[s].maps.x_mm)} cells"
                  for s in sides]
        lay, axes = foot_panels(titles, 8.5, axes_h_in=3.54, below_in=legend_h + 0.1,
                                min_col_in=max(2.6, (legend_w + 0.1) / len(sides)))
        for ax, side, title in zip(axes, sides, titles, strict=True):
            p = plantar[side]
            maps = p.maps
            L, W = maps.foot_length_mm, maps.forefoot_width_mm
            out = _outline(L)
            oh, ov = _display_xy(out[:, 0], out[:, 1], side)
            fill_outline(ax, oh, ov)
            edge = np.interp  # the outline's half-widths along the foot, to clip the split lines
            n = len(out) // 2
            med, lat = out[:n], out[n:][::-1]
            for name, (lo, _hi) in REGION_BOUNDS.items():
                if name != "heel" and lo < 1.0:
                    x = lo * L
                    h, v = _display_xy(np.array([x, x]), np.array([edge(x, lat[:, 0], lat[:, 1]),
                                                                    edge(x, med[:, 0], med[:, 1])]), side)
                    ax.plot(h, v, color="#777777", linewidth=0.8, linestyle="--")
            for spec in MASKS:  # medio-lateral splits within each band
                if not np.isfinite(spec.y_lo):
                    continue
                lo, hi = REGION_BOUNDS[spec.band]
                xs = np.linspace(lo * L, min(hi, 1.0) * L, 20)
                y = np.full_like(xs, spec.y_lo * W)
                inside = (y < np.interp(xs, med[:, 0], med[:, 1])) & (y > np.interp(xs, lat[:, 0], lat[:, 1]))
                h, v = _display_xy(xs[inside], y[inside], side)
                ax.plot(h, v, color="#777777", linewidth=0.8, linestyle="--")
            idx = _mask_index(p, len(maps.x_mm))
            ch, cv = _display_xy(np.asarray(maps.x_mm), np.asarray(maps.y_mm), side)
            colours = [_MASK_COLOURS[k % len(_MASK_COLOURS)] if k >= 0 else "#bbbbbb" for k in idx]
            ax.scatter(ch, cv, s=28 if len(ch) <= 20 else 9, c=colours, edgecolors="#222222", linewidths=0.4,
                       zorder=3)
            if len(ch) <= 20:
                beside = offset_copy(ax.transData, fig=lay.fig, x=5.0, y=-2.0, units="points")  # right of the dot
                for k, (hh, vv) in enumerate(zip(ch, cv, strict=True)):
                    ax.text(hh, vv, str(k + 1), transform=beside, fontsize=6)
            bare_axes(ax)
            ax.set_title(title, fontsize=8.5)
        handles = [Line2D([], [], marker="o", linestyle="", color=c, markeredgecolor="#222222", label=label)
                   for label, c in legend.items()]
        lay.fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), fontsize=7, frameon=False,
                       ncol=ncol)
        return _to_data_uri(lay.fig), {s: plantar[s].maps.n_steps for s in sides}


def gait_line_ends(result: AnalysisResult, sides: Sequence[str]) -> tuple[str, dict[str, int]] | None:
    """Each valid step's gait-line start and end point on the outline, with their mean +- 1 SD cross per side."""
    cols = ("cop_start_ap_pct", "cop_start_ml_pct", "cop_end_ap_pct", "cop_end_ml_pct")
    data = {}
    for s in sides:
        steps = result.valid_steps(s)
        if steps.empty or not all(c in steps for c in cols):
            continue
        a = steps[list(cols)].to_numpy(float)
        a = a[np.isfinite(a).all(axis=1)]
        layout = result.layouts.get(s)
        if len(a) and layout is not None:
            data[s] = (a, layout.foot_length_mm, layout.forefoot_width_mm)
    if not data:
        return None
    with matplotlib.rc_context(_RC):
        titles = [with_drawn_note(f"{s} foot ({_MEDIAL[s]})\nn = {len(a)} valid steps", len(a))
                  for s, (a, _L, _W) in data.items()]
        labels = [f"{what}{tail}" for what in ("start", "end") for tail in (" of each step", ": mean \u00b1 1 SD")]
        legend_w, legend_h = legend_size_in(labels, 6.5, 4)
        lay, axes = foot_panels(titles, 8.5, axes_h_in=3.31, below_in=legend_h + 0.1,
                                min_col_in=(legend_w + 0.1) / len(data))
        for ax, title, (side, (a, L, W)) in zip(axes, titles, data.items(), strict=True):
            out = _outline(L)
            oh, ov = _display_xy(out[:, 0], out[:, 1], side)
            fill_outline(ax, oh, ov)
            rows = drawn_rows(len(a))
            for j, (what, marker) in enumerate((("start", "o"), ("end", "^"))):
                x, y = a[:, 2 * j] / 100.0 * L, a[:, 2 * j + 1] / 100.0 * W
                h, v = _display_xy(x[rows], y[rows], side)
                ax.scatter(h, v, s=8, marker=marker, color=SIDE_COLOURS[side], alpha=0.35, linewidths=0,
                           label=f"{what} of each step")
                mh, mv = _display_xy(np.array([x.mean()]), np.array([y.mean()]), side)
                sx, sy = (x.std(ddof=1), y.std(ddof=1)) if len(x) > 1 else (0.0, 0.0)
                ax.errorbar(mh, mv, xerr=sy, yerr=sx, color="black", capsize=2, linewidth=1.0, marker=marker,
                            markersize=4, label=f"{what}: mean \u00b1 1 SD")
            bare_axes(ax)
            ax.set_title(title, fontsize=8.5)
            if side == next(iter(data)):
                handles, labels = ax.get_legend_handles_labels()
                lay.fig.legend(handles, labels, fontsize=6.5, frameon=False, loc="lower center",
                               bbox_to_anchor=(0.5, 0.0), ncol=4)
        return _to_data_uri(lay.fig), {s: int(len(d[0])) for s, d in data.items()}


def cop_against_stance(result: AnalysisResult, sides: Sequence[str]) -> tuple[str, dict[str, int]] | None:
    """CoP AP (% foot length) and ML (% forefoot width) against % stance: mean +- 1 SD band per side.

    Both from the valid steps whose AP gait line is finite at more than half of stance
    (:attr:`StanceCurves.cop_ap <pipeline.analysis.result.StanceCurves.cop_ap>` and ``cop_ml``).
    """
    data: dict[str, tuple[CurveSummary, CurveSummary]] = {}
    for s in sides:
        c = result.curves.get(s)
        if c is not None and c.n_steps and c.cop_ap.n_steps:
            data[s] = (c.cop_ap, c.cop_ml)
    if not data:
        return None
    with matplotlib.rc_context(_RC):
        ylabels = ("CoP along the foot (% foot length from the heel)",
                   "CoP across the foot (% forefoot width, medial +)")
        width, axes_h = COP_STANCE_WIDTH_IN, COP_STANCE_AXES_H_IN
        bottom = x_label_room_in()
        # the y labels are longer than the axes are tall: they run past the top, and below into the x labels' band
        over = max(y_label_overhang_in(label, 7.5, axes_h) for label in ylabels)
        bottom = max(bottom, over)
        lay = InchLayout(width, bottom + axes_h + max(over, 0.1))
        axes = [lay.axes(0.6 + i * width / 2, bottom, width / 2 - 0.75, axes_h) for i in range(2)]
        for ax, j, ylabel in ((axes[0], 0, ylabels[0]), (axes[1], 1, ylabels[1])):
            for side, summaries in data.items():
                a = summaries[j]
                x = np.linspace(0, 100, len(a.mean))
                mean, sd = 100.0 * a.mean, 100.0 * a.sd
                ax.fill_between(x, mean - sd, mean + sd, color=SIDE_COLOURS[side], alpha=0.2, linewidth=0)
                ax.plot(x, mean, color=SIDE_COLOURS[side], label=f"{side} (n = {a.n_steps} steps)")
            ax.set_xlabel("stance (%)")
            ax.set_ylabel(ylabel, fontsize=7.5)
            ax.set_xlim(0, 100)
        axes[1].axhline(0, color="#999999", linewidth=0.6)
        axes[0].legend(frameon=False, fontsize=7)
        x0 = 0.0
        for ax in axes:  # each panel: its y labels, then the axes, then room for the last x tick label
            left = y_label_room_in(ax, 7.5)
            lay.place(ax, x0 + left, bottom, width / 2 - left - 0.15, axes_h)
            x0 += width / 2
        return _to_data_uri(lay.fig), {s: d[0].n_steps for s, d in data.items()}


def force_steps(result: AnalysisResult, sides: Sequence[str]) -> tuple[str, dict[str, int]] | None:
    """Every valid step's force curve (faint; at most ``MAX_STEPS_DRAWN``, evenly spaced) behind the mean (bold),
    one panel per side, phases shaded: :attr:`StanceCurves.force <pipeline.analysis.result.StanceCurves.force>`."""
    data = {s: c for s in sides if (c := result.curves.get(s)) is not None and c.n_steps}
    if not data:
        return None
    with matplotlib.rc_context(_RC):
        titles = [with_drawn_note(f"{s} foot: mean of {c.n_steps} valid steps", c.n_steps, c.force.n_drawn)
                  for s, c in data.items()]
        n_lines = max(t.count("\n") + 1 for t in titles)
        bottom = x_label_room_in()
        top = FORCE_STEPS_TITLE_PAD_PT / 72.0 + lines_height_in(n_lines, 8.5) + 0.05
        panel_w, axes_h = FORCE_STEPS_AXES_IN
        lay = InchLayout(0.8 + len(data) * (panel_w + 0.4), bottom + axes_h + top)
        axes = []
        for i in range(len(data)):
            axes.append(lay.axes(0.8 + i * (panel_w + 0.4), bottom, panel_w, axes_h,
                                 **({"sharey": axes[0]} if axes else {})))
        for ax, title, (side, c) in zip(axes, titles, data.items(), strict=True):
            x = c.stance_pct
            for k, (name, lo, hi) in enumerate(PHASES):
                if k % 2 == 0:  # every other phase shaded (the others were drawn fully transparent: nothing to see)
                    ax.axvspan(lo, hi, color="#000000", alpha=0.05, linewidth=0)
                ax.text(0.5 * (lo + hi), 1.0, name, transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                        fontsize=6, color="#555555")
            shown = c.force.drawn.astype(float)
            lines = LineCollection([np.c_[x, row] for row in shown], colors=SIDE_COLOURS[side], linewidths=0.5,
                                   alpha=max(0.05, min(0.3, 10.0 / len(shown))))
            ax.add_collection(lines)
            ax.plot(x, c.force.mean, color="black", linewidth=1.6, label="mean")
            ax.set_xlim(0, 100)
            ax.set_ylim(0, 1.05 * float(np.nanmax(shown)) if np.isfinite(shown).any() else 1.0)
            ax.set_xlabel("stance (%)")
            # y=1: the title sits on the axes (ticks are at the bottom), not placed by measuring the ticks again
            ax.set_title(title, fontsize=8.5, pad=FORCE_STEPS_TITLE_PAD_PT, y=1.0)
        for ax in axes[1:]:
            ax.tick_params(labelleft=False)  # one scale for both feet, labelled once
        axes[0].set_ylabel(f"vertical force ({next(iter(data.values())).force_unit})")
        left = y_label_room_in(axes[0])
        lay.resize(left + len(data) * (panel_w + 0.4) - 0.25, bottom + axes_h + top)
        for i, ax in enumerate(axes):
            lay.place(ax, left + i * (panel_w + 0.4), bottom, panel_w, axes_h)
        return _to_data_uri(lay.fig), {s: c.n_steps for s, c in data.items()}


def report_figures(result: AnalysisResult, doc: Mapping[str, Any],
                   figure: Callable[..., dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The plantar figures of the session report, through the report's ``figure`` helper (withholding follows
    the figure each one belongs with: maps and masks the regional map, gait-line figures the CoP figure, force
    curves the force figure)."""
    sides = list(doc["sides"])
    plantar = {s: sr.plantar for s in result.metrics.sides if (sr := result.metrics.side(s)) is not None
               and sr.plantar is not None}
    withheld = doc["withheld"]
    how: dict[str, str] = {}

    def shim(parent: str) -> dict[str, Any]:
        return {"withheld": {k: withheld.get(parent) for k in
                             ("pressure_peak", "pressure_pti", "masks", "cop_ends", "cop_stance", "force_steps")}}

    def maps(key: str):
        def draw(shown: list[str]):
            drawn = pressure_maps({s: plantar[s] for s in shown if s in plantar}, key)
            if drawn is None:
                return None
            how[key] = drawn[2]
            return drawn[0], drawn[1]
        return draw

    reasons = {p.maps.reason for p in plantar.values() if p.maps.status is not MetricStatus.COMPUTED}
    no_maps = f"not applicable: {reasons.pop()}" if len(reasons) == 1 and not any(
        p.maps.status is MetricStatus.COMPUTED for p in plantar.values()) else ""
    cop_na = {m.reason for s in result.metrics.sides if (sr := result.metrics.side(s)) is not None
              and (m := sr.metric("cop_start_ap_pct")).status == "not_applicable"}
    no_cop = f"not applicable: {cop_na.pop()}" if len(cop_na) == 1 else ""
    figs = {
        "pressure_peak": figure("pressure_peak", shim("regions"), maps("peak_pressure"), sides, no_maps),
        "pressure_pti": figure("pressure_pti", shim("regions"), maps("pti"), sides, no_maps),
        "masks": figure("masks", shim("regions"),
                        lambda s: mask_definition({k: plantar[k] for k in s if k in plantar}), sides, no_maps),
        "cop_ends": figure("cop_ends", shim("cop"), lambda s: gait_line_ends(result, s), sides, no_cop),
        "cop_stance": figure("cop_stance", shim("cop"), lambda s: cop_against_stance(result, s), sides, no_cop),
        "force_steps": figure("force_steps", shim("force_curves"), lambda s: force_steps(result, s), sides),
    }
    figs["pressure_peak"]["how"] = how.get("peak_pressure", "")
    figs["pressure_pti"]["how"] = how.get("pti", "")
    return figs
