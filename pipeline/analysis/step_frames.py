"""Pass 2 of the analysis: per-step CoP, regional and medio-lateral measures from the frames of each step.

Steps are processed in groups whose frames span about one read block; each group's frames are read once (or taken
from the pass-1 cache) and reduced to per-step numbers with segment reductions (no per-frame Python loop). Memory
is one block plus the per-step results.
"""

from __future__ import annotations

import numpy as np

from pipeline.analysis.cop import COP_MIN_FORCE_SHARE
from pipeline.analysis.foot_function import LMFI_PHASES, cpei_pct, strike_index_pct
from pipeline.analysis.foot_source import FootSource
from pipeline.analysis.force import ForceTrace, cell_force_factor
from pipeline.analysis.force_curve import N_POINTS, resample_stance_many, segment_sums
from pipeline.analysis.regions import REGION_CONTACT_SHARE, region_weights

#: A cell "carries load" in a step when its peak reaches this share of the step's highest cell peak.
DEAD_CELL_SHARE = 0.02


def pressure_factor(units: str, area_mm2: np.ndarray) -> tuple[np.ndarray, str]:
    """Multiplier from stored cell values to the values the regional measures report, and their unit.

    Pressure stays as recorded: kPa, or counts for raw insoles. Insoles that report force per cell (N) keep it:
    turning it into kPa would need cell areas that such files do not give (an assumed area would invent the
    pressure).
    """
    return np.ones(len(area_mm2), np.float32), {"kPa": "kPa", "N": "N"}.get(units, "counts")


def step_frame_features(
    source: FootSource,
    trace: ForceTrace,
    ic_idx: np.ndarray,
    to_idx: np.ndarray,
    start_s: np.ndarray,
    stop_s: np.ndarray,
    block_frames: int = 1 << 16,
    *,
    with_regions: bool = True,
    hull_width_mm: float = float("nan"),
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-step features needing the cells: CoP gait lines, CPEI and strike index, regions, LMFI by phase,
    saturation.

    Parameters
    ----------
    source, trace : the foot and its pass-1 result.
    ic_idx, to_idx : numpy.ndarray of int
        First and end (exclusive) frame of each stance, sorted.
    start_s, stop_s : numpy.ndarray
        Stance start and end times used for the 0-100 % resampling.
    hull_width_mm : float
        The sensor hull's width at the CPEI's transverse line (:func:`~.foot_function.cpei_pct`).

    Returns
    -------
    features : dict of numpy.ndarray, one value per step (``cell_peak`` and ``cell_pti``: one row per step, one
        column per cell: the cell's peak value and pressure-time integral over stance); ``cpei_pct`` and
        ``strike_index_pct`` from the whole CoP path (every loaded frame of the stance, resampled to 101 points
        like the gait line), computed group by group: both are each step's own, so the whole paths of all steps
        (two more arrays of the curves' size, 65 MB for a day) are never held
    curves : dict with ``cop_ap`` and ``cop_ml`` (the gait line: frames below 10 % of the step's peak force
        trimmed), each (n_steps, 101)
    """
    layout = source.layout
    n_steps = len(ic_idx)
    L = layout.foot_length_mm
    W = layout.forefoot_width_mm
    x_rel = (np.asarray(layout.x_mm) / L).astype(np.float64)
    y_rel = (np.asarray(layout.y_mm) / W).astype(np.float64)
    factor = cell_force_factor(source.units, layout.area_mm2)
    pfac, _ = pressure_factor(source.units, layout.area_mm2)
    regions = region_weights(layout) if with_regions else {}
    names = list(regions)
    M = np.stack([regions[k] for k in names], axis=1) if names else np.zeros((layout.n_sensors, 0), np.float32)
    masks = [regions[k] > 0 for k in names]
    phase_edges = np.array([v[1] for v in LMFI_PHASES.values()])[:-1] / 100.0
    n_ph = len(LMFI_PHASES)
    fs = source.sampling_rate_hz

    proj = np.column_stack([factor, factor * x_rel, factor * y_rel, factor[:, None] * M]).astype(np.float32)
    unit_pressure = bool(np.all(pfac == 1.0))
    has_nan = trace.has_nan_cells
    # the curves written in place, group by group (lists of pieces and one concatenation held them twice)
    curves = {k: np.empty((n_steps, N_POINTS), np.float32) for k in ("cop_ap", "cop_ml")}
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("saturated", "peak_pressure", "cpei_pct", "strike_index_pct")}
    for name in names:
        for what in ("peak", "pti", "contact", "load"):
            out[f"{name}_{what}"] = []
    out["lat_phase"] = []
    out["med_phase"] = []
    out["cell_peak"] = []  # (n_g, ns) per group: the per-cell maps (pipeline.analysis.plantar)
    out["cell_pti"] = []
    out["rearfoot_loading_s"] = []
    out["forefoot_loading_s"] = []
    rear_cols = [names.index("heel")] if "heel" in names else []
    fore_cols = [names.index(k) for k in ("forefoot", "toes") if k in names]
    loaded_steps = np.zeros(layout.n_sensors, np.int64)  # per cell: steps in which it carried load
    cache_starts = None
    if trace.pressure_cache is not None:
        cache_starts = np.cumsum([0] + [len(b) for b in trace.pressure_cache])

    group = ic_idx // block_frames
    bounds = np.flatnonzero(np.diff(np.concatenate([[-1], group, [group[-1] + 1 if n_steps else 0]])))
    for g0, g1 in zip(bounds[:-1], bounds[1:], strict=False):
        s_idx, e_idx = ic_idx[g0:g1], to_idx[g0:g1]
        a = int(s_idx[0])
        b = int(min(e_idx.max() + 2, source.n_frames))
        if cache_starts is not None:
            t, p, sat, owned = _from_cache(trace, cache_starts, a, b)
        else:
            (t, p, sat), owned = source.read(a, b), False
        # the frames without each cell's floor: in a copy, unless the frames are already one (the cached blocks
        # and a foot held in memory stay as they are)
        if has_nan:
            p = np.nan_to_num(p, copy=not owned, nan=0.0)
            p -= trace.cell_floor[None, :]
        elif owned:
            p -= trace.cell_floor[None, :]
        else:
            p = np.subtract(p, trace.cell_floor[None, :], dtype=np.float32)
        np.maximum(p, 0.0, out=p)
        # force, CoP moments and regional forces straight from the cells (one matrix product)
        mom = p @ proj
        f = mom[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            ap = np.where(f > 0, mom[:, 1] / f, np.nan)
            ml = np.where(f > 0, mom[:, 2] / f, np.nan)
        reg_force = mom[:, 3:]
        pk = p if unit_pressure else p * pfac[None, :]
        s, e = s_idx - a, np.minimum(e_idx - a, b - a)
        m = b - a
        idx = np.arange(m)
        # each frame's step: the last step starting at or before it (the first step for the frames before it)
        lab = np.cumsum(np.bincount(s, minlength=m)[:m]) - 1
        np.clip(lab, 0, len(s) - 1, out=lab)
        in_st = (idx >= s[lab]) & (idx < e[lab])
        fmax = segment_sums(f, s, e, np.maximum)
        # the whole path (every loaded frame of the stance: CPEI end points, strike index) and the gait line
        # (frames below 10 % of the step's peak force trimmed)
        cop_ok = in_st & (f >= COP_MIN_FORCE_SHARE * fmax[lab])
        ap_all, ml_all, curves["cop_ap"][g0:g1], curves["cop_ml"][g0:g1] = resample_stance_many(
            t, [np.where(in_st, ap, np.nan), np.where(in_st, ml, np.nan), np.where(cop_ok, ap, np.nan),
                np.where(cop_ok, ml, np.nan)], start_s[g0:g1], stop_s[g0:g1], N_POINTS)
        out["cpei_pct"].append(cpei_pct(ap_all, ml_all, L, W, hull_width_mm))
        out["strike_index_pct"].append(strike_index_pct(ap_all))
        del ap_all, ml_all
        dt = np.minimum(np.diff(t, append=t[-1] + 1.0 / fs), 1.5 / fs).astype(np.float32)
        sat_any = np.zeros(len(s), bool) if sat is None else segment_sums(sat.astype(np.int32), s, e) > 0
        out["saturated"].append(sat_any)
        # per cell over each stance, on the cells x frames transpose: the same values, 8 times faster reductions
        pk_t = _transposed(pk)
        cell_peak = np.ascontiguousarray(segment_sums(pk_t, s, e, np.maximum, axis=1).T)  # (n_g, ns)
        pk_t *= dt[None, :]
        cell_pti = np.ascontiguousarray(segment_sums(pk_t, s, e, axis=1).T)
        del pk_t
        out["cell_peak"].append(cell_peak)
        out["cell_pti"].append(cell_pti)
        step_peak = cell_peak.max(axis=1)
        out["peak_pressure"].append(step_peak)
        loaded_steps += (cell_peak > DEAD_CELL_SHARE * step_peak[:, None]).sum(axis=0)
        stance_dur = np.maximum(segment_sums(dt, s, e), 1e-9)
        total_imp = segment_sums(f * dt, s, e)
        # regions on the regions x frames transpose, all at once: impulse and time in contact, (regions, n_g)
        contact_level = REGION_CONTACT_SHARE * fmax[lab]
        reg_t = _transposed(reg_force)
        touching = (reg_t > contact_level[None, :]) & in_st[None, :]
        reg_t *= dt[None, :]
        reg_imp = segment_sums(reg_t, s, e, axis=1)
        contact = segment_sums(touching * dt[None, :], s, e, axis=1)
        del reg_t, touching
        for r, name in enumerate(names):
            mk = masks[r]
            out[f"{name}_peak"].append(cell_peak[:, mk].max(axis=1))
            out[f"{name}_pti"].append(cell_pti[:, mk].max(axis=1))
            out[f"{name}_contact"].append(100.0 * contact[r] / stance_dur)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[f"{name}_load"].append(100.0 * reg_imp[r] / np.where(total_imp > 0, total_imp, np.nan))
        # rearfoot / forefoot loading time: the region group's force above the regional contact threshold
        for key, cols in (("rearfoot_loading_s", rear_cols), ("forefoot_loading_s", fore_cols)):
            if cols:
                loaded = (reg_force[:, cols].sum(axis=1) > contact_level) & in_st
                out[key].append(segment_sums(loaded * dt, s, e).astype(np.float64))
            else:
                out[key].append(np.full(len(s), np.nan))
        # LMFI: lateral and medial force-time integrals per stance phase
        if "medial" in regions:
            u = (t - start_s[g0:g1][lab]) / (stop_s[g0:g1][lab] - start_s[g0:g1][lab])
            ph = np.searchsorted(phase_edges, u, side="right")
            key = np.where(in_st & np.isfinite(u), lab * n_ph + ph, len(s) * n_ph)
            lat = reg_force[:, names.index("lateral")] * dt
            med = reg_force[:, names.index("medial")] * dt
            out["lat_phase"].append(np.bincount(key, lat, minlength=len(s) * n_ph + 1)[:-1].reshape(len(s), n_ph))
            out["med_phase"].append(np.bincount(key, med, minlength=len(s) * n_ph + 1)[:-1].reshape(len(s), n_ph))

    def cat(k: str, shape: tuple[int, ...] = ()) -> np.ndarray:
        return np.concatenate(out[k]) if out[k] else np.zeros((0,) + shape)

    feats = {k: cat(k) for k in out if k not in ("lat_phase", "med_phase", "cell_peak", "cell_pti")}
    feats["cell_peak"] = cat("cell_peak", (layout.n_sensors,))
    feats["cell_pti"] = cat("cell_pti", (layout.n_sensors,))
    if out["lat_phase"]:
        feats["lat_phase"] = cat("lat_phase", (n_ph,))
        feats["med_phase"] = cat("med_phase", (n_ph,))
    feats["region_names"] = np.array(names, dtype=object)
    feats["cell_loaded_steps"] = loaded_steps
    return feats, curves


#: Frames transposed at a time by :func:`_transposed` (4,096 frames of 99 cells, 1.6 MB, stay in cache).
_TRANSPOSE_FRAMES = 4096


def _transposed(p: np.ndarray) -> np.ndarray:
    """C-ordered copy of ``p.T`` (columns x frames), copied in blocks of frames (for 99 cells a quarter faster
    than one strided copy of the whole block)."""
    out = np.empty(p.shape[::-1], p.dtype)
    for a in range(0, len(p), _TRANSPOSE_FRAMES):
        out[:, a : a + _TRANSPOSE_FRAMES] = p[a : a + _TRANSPOSE_FRAMES].T
    return out


def _from_cache(trace: ForceTrace, starts: np.ndarray, a: int, b: int):
    """Frames ``a:b`` from the cached pass-1 blocks as ``(time_s, pressure, saturated, owned)``: ``owned`` when
    the pressure is a new array (the frames span several blocks: their parts are joined), not a view of the
    cache."""
    i0 = int(np.searchsorted(starts, a, side="right") - 1)
    i1 = int(np.searchsorted(starts, b - 1, side="right") - 1)

    def part(blocks: list, i: int) -> np.ndarray:
        first = int(starts[i])
        return blocks[i][max(a - first, 0) : b - first]

    parts = range(i0, i1 + 1)
    if i1 == i0:
        return trace.time_s[a:b], part(trace.pressure_cache, i0), part(trace.saturated_cache, i0), False
    p = np.concatenate([part(trace.pressure_cache, i) for i in parts])  # type: ignore[arg-type]
    sat = np.concatenate([part(trace.saturated_cache, i) for i in parts])  # type: ignore[arg-type]
    return trace.time_s[a:b], p, sat, True
