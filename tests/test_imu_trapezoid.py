"""Cumulative trapezoid over time (issue 15): the sums of scipy.integrate.cumulative_trapezoid, bit for bit, without
importing scipy.integrate on the analysis path."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import cumulative_trapezoid as scipy_cumulative_trapezoid

from pipeline.analysis.imu.trapezoid import cumulative_trapezoid


@pytest.mark.parametrize("shape", [(1,), (2,), (1000,), (1, 3), (2, 3), (5000, 3), (777, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_bits_as_scipy_on_jittered_gapped_clocks(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    t = np.cumsum(rng.uniform(0.005, 0.015, shape[0]))
    if shape[0] > 10:
        t[shape[0] // 2:] += 3.0  # a gap
    y = (rng.standard_normal(shape) * 9.81).astype(dtype)
    ours = cumulative_trapezoid(y, t)
    theirs = scipy_cumulative_trapezoid(y, t, axis=0, initial=0.0)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    assert np.array_equal(ours, theirs)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="At least one point"):
        cumulative_trapezoid(np.zeros((0, 3)), np.zeros(0))
    with pytest.raises(ValueError, match="one time per row: 4 times, 5 rows"):
        cumulative_trapezoid(np.zeros((5, 3)), np.zeros(4))
