"""Shared by the IMU tests: stances from the pressure by a plain threshold, so that the IMU tests do not depend on
the pressure analysis (which is developed on its own); and stride truth of simulated sessions."""

from __future__ import annotations

import numpy as np


def stances_from_force(time_s: np.ndarray, force: np.ndarray, *, on: float = 0.08, off: float = 0.04,
                       min_stance_s: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Initial contact and toe-off times where the total load rises above ``on`` x its 95th percentile and falls
    below ``off`` x it (hysteresis), keeping contacts of at least ``min_stance_s``."""
    top = np.percentile(force, 95)
    above_on, above_off = force > on * top, force > off * top
    # hysteresis without a Python loop: a run of "above off" is a stance when it contains an "above on" sample
    d = np.diff(np.r_[0, above_off.astype(np.int8), 0])
    start, stop = np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1
    c = np.r_[0, np.cumsum(above_on)]
    keep = (c[stop + 1] - c[start] > 0) & (time_s[stop] - time_s[start] >= min_stance_s)
    return time_s[start[keep]], time_s[stop[keep]]


def total_force_n(pressure_kpa: np.ndarray, area_mm2: np.ndarray) -> np.ndarray:
    """Total load of a kPa insole (kPa x mm² / 1000 = N)."""
    return np.nansum(pressure_kpa * np.asarray(area_mm2)[None, :], axis=1) / 1000.0
