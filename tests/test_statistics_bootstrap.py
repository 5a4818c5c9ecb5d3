"""The bootstrap medians of the symmetry CIs are computed from ranks (issue 15): exactly numpy's medians."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.statistics import _resampled_medians


@pytest.mark.parametrize("n", [3, 4, 5, 250, 3301])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rank_medians_equal_numpy_medians(n, dtype):
    rng = np.random.default_rng(n)
    x = np.round(rng.normal(size=n), 1).astype(dtype)  # rounded: ties as in real step columns
    idx = rng.integers(0, n, (300, n))
    expected = np.median(x[idx], axis=1)
    got = _resampled_medians(x, idx)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
