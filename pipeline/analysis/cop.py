"""Centre of pressure (CoP) per frame and per-step gait lines.

CoP = sum(p_i A_i r_i) / sum(p_i A_i) over the cell centres r_i (``shared/design/gait-evidence.md``, "Centre of
pressure"). It is undefined (NaN) outside stance and in frames below 10 % of the step's peak force (accuracy
grows with load: Morin et al. 2022), and it is never interpolated across swing. Gait lines are expressed in the
foot frame (AP as a share of foot length from the heel, ML as a share of foot width, medial positive); both feet
already share that frame (the session format stores layouts in it), so no mirroring is needed. Stance is
resampled to 101 points.

Per-step measures from the 101-point gait line: path length (% of foot length), ML width (% of foot width),
AP excursion (% of foot length) and mean CoP speed (mm/s over the defined part of stance).
"""

from __future__ import annotations

import numpy as np

from pipeline.analysis.force_curve import STEP_BATCH

#: Frames below this share of the step's peak force have no CoP (Morin et al. 2022).
COP_MIN_FORCE_SHARE = 0.10


def gait_line_measures(ap: np.ndarray, ml: np.ndarray, foot_length_mm: float, foot_width_mm: float,
                       stance_s: np.ndarray) -> dict[str, np.ndarray]:
    """Path length, width, AP excursion and speed of gait lines ``(n_steps, 101)`` (shares of length/width).

    Computed in batches of :data:`~pipeline.analysis.force_curve.STEP_BATCH` steps: every measure is one step's
    own, so the batches change no value, and the temporaries stay a few MB (in one piece they were about 200 MB
    for the 80,000 steps of a day).
    """
    parts = [_gait_line_measures(ap[a : a + STEP_BATCH], ml[a : a + STEP_BATCH], foot_length_mm, foot_width_mm,
                                 stance_s[a : a + STEP_BATCH]) for a in range(0, max(len(ap), 1), STEP_BATCH)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _gait_line_measures(ap: np.ndarray, ml: np.ndarray, foot_length_mm: float, foot_width_mm: float,
                        stance_s: np.ndarray) -> dict[str, np.ndarray]:
    x = ap * foot_length_mm
    y = ml * foot_width_mm
    seg = np.hypot(np.diff(x, axis=1), np.diff(y, axis=1))
    defined = np.isfinite(seg)
    path_mm = np.where(defined, seg, 0.0).sum(axis=1)
    n_def = defined.sum(axis=1)
    any_def = n_def > 0
    # fmax/fmin skip NaN as nanmax/nanmin do and give NaN for an all-NaN row (a step without a defined CoP)
    # without a warning: no warnings filter to change, which is not thread-safe (the feet run in parallel)
    width = np.where(any_def, np.fmax.reduce(ml, axis=1) - np.fmin.reduce(ml, axis=1), np.nan)
    ap_range = np.where(any_def, np.fmax.reduce(ap, axis=1) - np.fmin.reduce(ap, axis=1), np.nan)
    with np.errstate(all="ignore"):
        speed = path_mm / (n_def * stance_s / (ap.shape[1] - 1))
    return {
        "cop_path_length_pct": np.where(any_def, 100.0 * path_mm / foot_length_mm, np.nan),
        "cop_width_pct": 100.0 * width,
        "cop_ap_excursion_pct": 100.0 * ap_range,
        "cop_velocity_mm_s": np.where(any_def, speed, np.nan),
    }
