"""Cumulative trapezoidal integration over time (axis 0), from zero.

The same sums as ``scipy.integrate.cumulative_trapezoid(y, t, axis=0, initial=0)``, term for term in the same order
(so bit-identical): ``cumsum(dt * (y[1:] + y[:-1]) / 2)`` after a row of zeros. Written here because importing
scipy.integrate loads scipy.optimize, scipy.special, scipy.linalg and scipy.sparse, about 0.5 s of every analysis
of a file with an IMU on the 2-core reference machine (issue 15).
"""

from __future__ import annotations

import numpy as np


def cumulative_trapezoid(y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Integral of ``y`` (time on axis 0, shape ``(n,)`` or ``(n, k)``) over the times ``t`` (shape ``(n,)``),
    from ``t[0]``: shape of ``y``, first row 0.

    Raises
    ------
    ValueError
        ``y`` has no rows, or ``t`` is not one time per row.
    """
    y = np.asarray(y)
    t = np.asarray(t)
    if y.shape[0] == 0:
        raise ValueError("At least one point is required along axis 0.")
    if t.ndim != 1 or t.shape[0] != y.shape[0]:
        raise ValueError(f"need one time per row: {t.shape[0] if t.ndim == 1 else t.shape} times, {y.shape[0]} rows")
    dt = np.diff(t).reshape((-1,) + (1,) * (y.ndim - 1))
    steps = np.cumsum(dt * (y[1:] + y[:-1]) / 2.0, axis=0)
    return np.concatenate((np.zeros((1,) + steps.shape[1:], dtype=steps.dtype), steps), axis=0)
