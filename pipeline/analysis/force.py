"""Total force per frame, computed block by block (pass 1 of the analysis).

Force is the sum of pressure x cell area (kPa x mm^2 / 1000 = N) for calibrated pressure, the sum of cell forces
for ``N`` insoles, and the sum of ADC counts for uncalibrated (``raw``) insoles, whose sum is monotonic in load
and therefore good for event timing but carries no physical unit ("counts"). This is the per-foot force ``F`` of
the event method in ``shared/design/gait-evidence.md`` (Blades et al. 2023 use summed pressure the same way).

Only the per-frame time and total force are kept (12 bytes per frame); the pressure blocks are dropped after use
unless the whole foot fits in a fixed memory budget, in which case they are kept for pass 2 instead of being read
again. Memory therefore stays bounded by that budget plus 12 bytes per frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.analysis.foot_source import FootSource
from pipeline.errors import AnalysisError

#: Units the analysis understands, and the unit of the total force each gives.
FORCE_UNITS = {"kPa": "N", "N": "N", "raw": "counts"}

#: How the unit of every force figure is chosen (stored with every result).
FORCE_UNITS_RULE = (
    "force = sum of pressure x cell area (kPa insoles) or of cell forces (N insoles), in newtons; divided by body "
    "weight (BW) when the session has a body mass, then checked by the impulse balance and rescaled outside "
    "0.9-1.1 (force_scale); uncalibrated (raw) insoles give counts, which have no physical unit")

#: Frames subsampled (evenly over the recording) to estimate each cell's unloaded floor.
FLOOR_SAMPLE_FRAMES = 1 << 16

#: Full scale of the 12-bit ADCs of common insoles: a raw cell at this value is saturated.
RAW_FULL_SCALE_12BIT = 4095.0


def cell_force_factor(units: str, area_mm2: np.ndarray) -> np.ndarray:
    """Multiplier turning each cell's value into its contribution to total force.

    kPa x mm^2 = mN, hence ``area / 1000`` for kPa; 1 for newtons and for raw counts.
    """
    if units == "kPa":
        return np.asarray(area_mm2, np.float32) / np.float32(1000.0)
    if units in ("N", "raw"):
        return np.ones(len(area_mm2), np.float32)
    raise AnalysisError(
        f"pressure units {units!r} are not known; the analysis understands {', '.join(FORCE_UNITS)} "
        "(re-import the session with one of these units)"
    )


@dataclass
class ForceTrace:
    """Result of pass 1 for one foot.

    Attributes
    ----------
    time_s : numpy.ndarray (float64), force : numpy.ndarray (float32)
        Per-frame session time and total force (NaN where every cell was invalid).
    force_units : {"N", "counts"}
    cell_floor : numpy.ndarray, shape (n_sensors,)
        Per-cell unloaded level (median over the lowest-load fifth of an even subsample of the recording's frames),
        subtracted before CoP and regional measures so that sensor offsets do not pull the CoP.
    n_nan_frames, n_saturated_frames : int
    has_nan_cells : bool
        Whether any cell of any frame was NaN.
    max_cell_value : float
        The largest cell value of the recording, in the stored units (for the plausibility check).
    pressure_cache : list of numpy.ndarray or None
        The pressure blocks when the foot fitted in the memory budget (pass 2 then reads nothing again).
    """

    time_s: np.ndarray
    force: np.ndarray
    force_units: str
    cell_floor: np.ndarray
    n_nan_frames: int
    n_saturated_frames: int
    has_nan_cells: bool = False
    max_cell_value: float = 0.0
    pressure_cache: list[np.ndarray] | None = field(default=None, repr=False)
    saturated_cache: list[np.ndarray | None] | None = field(default=None, repr=False)


def total_force_trace(source: FootSource, block_frames: int = 1 << 16, cache_bytes: int = 0) -> ForceTrace:
    """Stream ``source`` once and return its per-frame total force.

    Parameters
    ----------
    source : FootSource
    block_frames : int
        Frames per block read.
    cache_bytes : int
        Keep the pressure blocks in memory when the whole foot needs at most this many bytes.

    Raises
    ------
    AnalysisError
        Unknown units, no frames.
    """
    n = source.n_frames
    if n == 0:
        raise AnalysisError(f"{source.side} foot has no frames")
    factor = cell_force_factor(source.units, source.layout.area_mm2)
    keep = cache_bytes > 0 and n * source.n_sensors * 4 <= cache_bytes
    time_s = np.empty(n, np.float64)
    force = np.empty(n, np.float32)
    # per-cell floor from a fixed subsample of the whole recording (every k-th frame: the same frames whatever
    # the read block size, so streamed and cached analyses agree)
    floor_step = max(1, n // FLOOR_SAMPLE_FRAMES)
    floor_rows: list[np.ndarray] = []
    floor_force: list[np.ndarray] = []
    cache: list[np.ndarray] | None = [] if keep else None
    sat_cache: list[np.ndarray | None] | None = [] if keep else None
    n_nan = 0
    n_sat = 0
    has_nan = False
    max_cell = -np.inf
    for start, t, p, sat in source.iter_blocks(block_frames):
        stop = start + len(t)
        time_s[start:stop] = t
        f = p @ factor
        bad_rows = np.flatnonzero(np.isnan(f))
        all_bad = np.zeros(len(t), bool)
        has_nan |= bool(bad_rows.size)
        if bad_rows.size:  # rows with NaN cells: sum the valid cells; rows without any valid cell stay NaN
            sub = p[bad_rows]
            ok = np.isfinite(sub)
            f[bad_rows] = np.where(ok, sub, np.float32(0.0)) @ factor
            all_bad[bad_rows[~ok.any(axis=1)]] = True
            f[all_bad] = np.nan
            pz = np.where(np.isfinite(p), p, np.float32(0.0))
        else:
            pz = p
        force[start:stop] = f
        if len(t):
            max_cell = max(max_cell, float(pz.max()))
        n_nan += int(all_bad.sum())
        flagged = np.zeros(len(t), bool) if sat is None else sat.copy()
        if source.units == "raw":
            flagged |= (pz >= RAW_FULL_SCALE_12BIT).any(axis=1)
        n_sat += int(flagged.sum())
        first = (-start) % floor_step
        # copies: a strided view would keep every block's pressure alive (the whole foot, 553 MB in 24 hours)
        floor_rows.append(pz[first::floor_step].copy())
        floor_force.append(np.where(all_bad[first::floor_step], np.inf, f[first::floor_step]))
        if keep:
            cache.append(p)  # type: ignore[union-attr]
            sat_cache.append(flagged)  # type: ignore[union-attr]
    fs = np.concatenate(floor_force)
    finite = np.isfinite(fs)
    if finite.sum() >= 20:  # the frames of the lowest fifth of total force: swing
        low = finite & (fs <= np.percentile(fs[finite], 20))
        floor = np.median(np.concatenate(floor_rows)[low], axis=0)
    else:
        floor = np.zeros(source.n_sensors)
    del floor_rows, floor_force
    return ForceTrace(
        time_s=time_s,
        force=force,
        force_units=FORCE_UNITS[source.units],
        cell_floor=np.asarray(floor, np.float32),
        n_nan_frames=n_nan,
        n_saturated_frames=n_sat,
        has_nan_cells=has_nan,
        max_cell_value=max_cell,
        pressure_cache=cache,
        saturated_cache=sat_cache,
    )
