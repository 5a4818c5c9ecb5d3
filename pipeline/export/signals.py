"""Per-frame total force and centre of pressure of one foot, computed from the session's cells (streamed).

Force: ``sum(pressure_kPa x area_mm2) / 1000`` N for a kPa foot, the sum of the cells for an N foot; a raw foot has
no force, only the sum of its counts (units ``raw``). Centre of pressure: the force-weighted mean of the cell
centres in the foot frame (``x`` anterior from the heel, ``y`` medial positive, mm), defined where the foot carries
at least :data:`COP_MIN_SHARE` of its peak load and the layout's geometry is known (not ``unknown``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from insole.session import SessionReader

#: The CoP is reported only while the load is at least this share of the foot's peak (noise guard).
COP_MIN_SHARE = 0.02


@dataclass(frozen=True)
class FootSignals:
    """Frame-by-frame signals of one foot.

    Attributes
    ----------
    side : {"left", "right"}
    time_s : numpy.ndarray, shape (n,)
    load : numpy.ndarray, shape (n,)
        Total force (N) or, for a raw foot, the sum of the counts.
    load_units : {"N", "raw"}
    cop_x_mm, cop_y_mm : numpy.ndarray or None, shape (n,)
        NaN where undefined; None when the geometry is unknown.
    sampling_rate_hz : float
    """

    side: str
    time_s: np.ndarray
    load: np.ndarray
    load_units: str
    cop_x_mm: np.ndarray | None
    cop_y_mm: np.ndarray | None
    sampling_rate_hz: float


def foot_signals(reader: SessionReader, side: str, block_frames: int = 1 << 15) -> FootSignals:
    """Total force (or count sum) and CoP of ``side``, read in blocks of ``block_frames``."""
    info = reader.foot_info(side)  # type: ignore[arg-type]
    layout = info.layout
    weights = {"kPa": np.asarray(layout.area_mm2, np.float64) / 1000.0, "N": np.ones(layout.n_sensors)}.get(
        info.units, np.ones(layout.n_sensors))
    units = "N" if info.units in ("kPa", "N") else "raw"
    with_cop = layout.geometry != "unknown" and units == "N"
    times, loads, xs, ys = [], [], [], []
    for block in reader.iter_blocks(side, block_frames):  # type: ignore[arg-type]
        p = np.nan_to_num(np.asarray(block.pressure, np.float64), nan=0.0)
        cell_force = p * weights
        load = cell_force.sum(axis=1)
        times.append(block.time_s)
        loads.append(load)
        if with_cop:
            with np.errstate(invalid="ignore", divide="ignore"):
                xs.append(cell_force @ layout.x_mm / load)
                ys.append(cell_force @ layout.y_mm / load)
    time_s = np.concatenate(times) if times else np.zeros(0)
    load = np.concatenate(loads) if loads else np.zeros(0)
    cop_x = cop_y = None
    if with_cop:
        cop_x, cop_y = np.concatenate(xs), np.concatenate(ys)
        low = ~(load >= COP_MIN_SHARE * (load.max() if load.size else 0.0)) | (load <= 0)
        cop_x[low] = np.nan
        cop_y[low] = np.nan
    return FootSignals(side, time_s, load, units, cop_x, cop_y, info.sampling_rate_hz)


def on_grid(signal: np.ndarray, time_s: np.ndarray, grid_s: np.ndarray, max_step_s: float) -> np.ndarray:
    """``signal`` (at ``time_s``) linearly interpolated at ``grid_s``; NaN outside the data, across steps longer
    than ``max_step_s`` (gaps) and next to NaN samples."""
    out = np.full(grid_s.shape, np.nan)
    if time_s.size == 0:
        return out
    k = np.searchsorted(time_s, grid_s, side="right")
    inside = (k > 0) & (k < time_s.size)
    exact = (k > 0) & (np.abs(time_s[np.clip(k - 1, 0, None)] - grid_s) < 1e-9)
    lo = np.clip(k - 1, 0, time_s.size - 1)
    hi = np.clip(k, 0, time_s.size - 1)
    dt = time_s[hi] - time_s[lo]
    ok = inside & (dt <= max_step_s)
    w = np.where(dt > 0, (grid_s - time_s[lo]) / np.where(dt > 0, dt, 1.0), 0.0)
    out[ok] = (signal[lo] * (1 - w) + signal[hi] * w)[ok]
    out[exact] = signal[lo][exact]
    return out
