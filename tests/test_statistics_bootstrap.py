"""The bootstrap medians of the symmetry CIs come from counts of the draws (issue 15): exactly numpy's medians of
the resamples numpy's generator gives, and the same interval for a pair alone or among others."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline import statistics
from pipeline.statistics import BOOTSTRAP_SEED, _resampled_medians, bootstrap_si_ci, bootstrap_si_cis


@pytest.mark.parametrize("n", [3, 4, 5, 250, 3301])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("window_sd", [8.0, 0.0])  # 0: a window of 17 ranks, many rows counted in full
@pytest.mark.parametrize("block_ranks", [16, 1, 5])  # 5: the window's last block padded with empty ranks
def test_count_medians_equal_numpy_medians_of_the_same_draws(n, dtype, window_sd, block_ranks, monkeypatch):
    monkeypatch.setattr(statistics, "_BLOCK_DRAWS", 7 * n + 3)  # several blocks of draws, the last one short
    monkeypatch.setattr(statistics, "_WINDOW_SD", window_sd)
    monkeypatch.setattr(statistics, "_BLOCK_RANKS", block_ranks)
    rng = np.random.default_rng(n)
    xs = [np.round(rng.normal(size=n), 1).astype(dtype) for _ in range(3)]  # rounded: ties as in step columns
    n_boot = 50
    idx = np.random.default_rng(11).integers(0, n, (n_boot, n))  # the draws in one call
    got = _resampled_medians(xs, np.random.default_rng(11), n_boot)
    for x, med in zip(xs, got, strict=True):
        expected = np.median(x[idx], axis=1)
        assert med.dtype == expected.dtype
        np.testing.assert_array_equal(med, expected)


def _reference_ci(left, right, n_boot):
    """The interval computed the plain way: one generator, left's draws then right's, numpy medians."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    ml = np.median(left[rng.integers(0, left.size, (n_boot, left.size))], axis=1)
    mr = np.median(right[rng.integers(0, right.size, (n_boot, right.size))], axis=1)
    si = (mr - ml) / (0.5 * (ml + mr)) * 100.0
    lo, hi = np.percentile(si[np.isfinite(si)], [2.5, 97.5])
    return float(lo), float(hi)


def test_each_pair_gets_its_own_interval_alone_or_in_a_batch():
    rng = np.random.default_rng(3)
    pairs = [(rng.normal(1.0, 0.1, 40), rng.normal(1.1, 0.1, 38)),
             (rng.normal(2.0, 0.2, 40), rng.normal(2.0, 0.2, 38)),  # same sizes: shares the draws
             (np.r_[rng.normal(5.0, 1.0, 30), np.nan], rng.normal(6.0, 1.0, 33)),
             (np.array([1.0, 2.0]), rng.normal(1.0, 0.1, 20))]  # too few steps
    got = bootstrap_si_cis(pairs, n_boot=400)
    assert got[3] is None
    for (left, right), ci in zip(pairs[:3], got[:3], strict=True):
        left, right = left[np.isfinite(left)], right[np.isfinite(right)]
        assert ci == _reference_ci(left, right, 400)
        assert ci == bootstrap_si_ci(left, right, n_boot=400)
    assert got[0][0] > 0  # right 10 % larger: the interval lies above zero
    assert got[1][0] < 0 < got[1][1]
