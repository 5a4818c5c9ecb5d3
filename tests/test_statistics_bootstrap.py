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
@pytest.mark.parametrize("block_ranks", [16, 1, 5, 8, 32])  # 5: the last block padded; 8, 32: words
@pytest.mark.parametrize("threads", [1, 2])  # 2: blocks counted in threads while the next ones are drawn
def test_count_medians_equal_numpy_medians_of_the_same_draws(n, dtype, window_sd, block_ranks, threads,
                                                             monkeypatch):
    monkeypatch.setattr(statistics, "_BLOCK_DRAWS", 7 * n + 3)  # several blocks of draws, the last one short
    monkeypatch.setattr(statistics, "_COUNT_DRAWS", 2 * n + 1)  # blocks counted 2 resamples at a time ...
    monkeypatch.setattr(statistics, "_PRODUCT_STEPS", 3)  # ... and multiplied in groups of at most 3 steps
    monkeypatch.setattr(statistics, "_GROUP_BYTES", 1)  # each array searched alone (together: the test below)
    monkeypatch.setattr(statistics, "_WINDOW_SD", window_sd)
    monkeypatch.setattr(statistics, "_BLOCK_RANKS", block_ranks)
    rng = np.random.default_rng(n)
    xs = [np.round(rng.normal(size=n), 1).astype(dtype) for _ in range(3)]  # rounded: ties as in step columns
    n_boot = 50
    idx = np.random.default_rng(11).integers(0, n, (n_boot, n))  # the draws in one call
    rng = np.random.default_rng(11)
    got = _resampled_medians(xs, rng, n_boot, threads=threads)
    assert rng.bit_generator.state == _after(11, n, n_boot)  # the stream goes on where one call leaves it
    for x, med in zip(xs, got, strict=True):
        expected = np.median(x[idx], axis=1)
        assert med.dtype == expected.dtype
        np.testing.assert_array_equal(med, expected)


def _after(seed, n, n_boot):
    """The state of a generator seeded ``seed`` after ``integers(0, n, (n_boot, n))``."""
    rng = np.random.default_rng(seed)
    rng.integers(0, n, (n_boot, n))
    return rng.bit_generator.state


def _reference_ci(left, right, n_boot):
    """The interval computed the plain way: one generator, left's draws then right's, numpy medians."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    ml = np.median(left[rng.integers(0, left.size, (n_boot, left.size))], axis=1)
    mr = np.median(right[rng.integers(0, right.size, (n_boot, right.size))], axis=1)
    si = (mr - ml) / (0.5 * (ml + mr)) * 100.0
    lo, hi = np.percentile(si[np.isfinite(si)], [2.5, 97.5])
    return float(lo), float(hi)


@pytest.mark.parametrize("threads", [1, 3])
def test_each_pair_gets_its_own_interval_alone_or_in_a_batch(threads, monkeypatch):
    monkeypatch.setattr(statistics, "_BLOCK_DRAWS", 1000)  # several blocks per side: more than the threads hold
    rng = np.random.default_rng(3)
    pairs = [(rng.normal(1.0, 0.1, 40), rng.normal(1.1, 0.1, 38)),
             (rng.normal(2.0, 0.2, 40), rng.normal(2.0, 0.2, 38)),  # same sizes: shares the draws
             (np.r_[rng.normal(5.0, 1.0, 30), np.nan], rng.normal(6.0, 1.0, 33)),
             (np.array([1.0, 2.0]), rng.normal(1.0, 0.1, 20))]  # too few steps
    got = bootstrap_si_cis(pairs, n_boot=400, threads=threads)
    assert got[3] is None
    for (left, right), ci in zip(pairs[:3], got[:3], strict=True):
        left, right = left[np.isfinite(left)], right[np.isfinite(right)]
        assert ci == _reference_ci(left, right, 400)
        assert ci == bootstrap_si_ci(left, right, n_boot=400)
    assert got[0][0] > 0  # right 10 % larger: the interval lies above zero
    assert got[1][0] < 0 < got[1][1]


@pytest.mark.parametrize("n", [3, 4, 7, 10, 1001, 3000, 3351, 70001, 70002])
@pytest.mark.parametrize("seed", [0, BOOTSTRAP_SEED])
def test_medians_are_those_of_the_plain_definition(n, seed):
    """``np.median(x[idx], axis=1)`` with ``idx`` from one call of the generator, for odd and even sizes from 3
    to beyond 65,536 steps, float32 and float64 arrays in one call, ties, and both signs of zero."""
    g = np.random.default_rng(seed + n)
    xs = [np.round(g.normal(size=n), 1), g.normal(size=n).astype(np.float32),
          np.where(g.random(n) < 0.3, -0.0, np.round(g.normal(size=n), 2)), np.full(n, 2.5)]
    n_boot = 40 if n < 10_000 else 6
    idx = np.random.default_rng(seed).integers(0, n, (n_boot, n))
    got = _resampled_medians(xs, np.random.default_rng(seed), n_boot)
    for x, med in zip(xs, got, strict=True):
        expected = np.median(x[idx], axis=1)
        assert med.dtype == expected.dtype
        np.testing.assert_array_equal(med, expected)


class _Concentrated(np.random.Generator):
    """Draws below ``below`` of the generator's draws go to step ``to(draw)``: counts far from the usual ones, the
    same whatever the blocks the draws are made in."""

    def __init__(self, seed, below, to):
        super().__init__(np.random.PCG64(seed))
        self.below, self.to = below, to

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        out = super().integers(low, high, size, dtype=dtype, endpoint=endpoint)
        hit = out < self.below
        out[hit] = self.to(out[hit])
        return out


@pytest.mark.parametrize("block_draws", [1 << 21, 7 * 600 + 3])
@pytest.mark.parametrize("threads", [1, 2])
def test_a_count_above_255_is_counted_in_int32(block_draws, threads, monkeypatch):
    """Half of each resample on one step: its uint8 count would wrap; the block is counted again in int32."""
    monkeypatch.setattr(statistics, "_BLOCK_DRAWS", block_draws)
    n, n_boot = 600, 30
    g = np.random.default_rng(5)
    xs = [np.round(g.normal(size=n), 1), np.arange(n, dtype=float)[::-1].copy()]
    plain = _Concentrated(9, 300, lambda d: 0 * d)
    idx = plain.integers(0, n, (n_boot, n))
    rng = _Concentrated(9, 300, lambda d: 0 * d)
    got = _resampled_medians(xs, rng, n_boot, threads=threads)
    assert rng.bit_generator.state == plain.bit_generator.state  # the stream goes on where one call leaves it
    for x, med in zip(xs, got, strict=True):
        np.testing.assert_array_equal(med, np.median(x[idx], axis=1))


def test_a_block_of_ranks_with_more_than_127_draws():
    """Ten steps ranked at the middle hold half the draws: the median's block of 16 ranks sums to about 200, too
    many for the bytes of one word, and is counted one rank at a time."""
    n, n_boot = 400, 40
    rank = np.empty(n, int)
    rank[:10] = np.arange(195, 205)  # steps 0-9 at the middle
    rank[200:395] = np.arange(195)  # the steps drawn otherwise below them
    rank[np.r_[10:200, 395:400]] = np.arange(205, 400)
    xs = [rank.astype(float), rank * 0.5 + np.round(np.random.default_rng(1).normal(size=n), 0)]
    idx = _Concentrated(4, 200, lambda d: d % 10).integers(0, n, (n_boot, n))
    assert np.bincount(idx[0], minlength=n).max() < 256
    got = _resampled_medians(xs, _Concentrated(4, 200, lambda d: d % 10), n_boot)
    for x, med in zip(xs, got, strict=True):
        np.testing.assert_array_equal(med, np.median(x[idx], axis=1))


def test_arrays_searched_in_groups_of_two(monkeypatch):
    """Five arrays in groups of two (the last one alone), each with its own order and window."""
    n, n_boot = 501, 30
    ks = ((n - 1) // 2,)
    width = statistics._window_blocks(n, ks) * statistics._BLOCK_RANKS
    monkeypatch.setattr(statistics, "_GROUP_BYTES", 2 * width * n_boot)
    g = np.random.default_rng(8)
    xs = [np.round(g.gamma(k + 1.0, size=n), 1) for k in range(5)]
    idx = np.random.default_rng(2).integers(0, n, (n_boot, n))
    got = _resampled_medians(xs, np.random.default_rng(2), n_boot)
    for x, med in zip(xs, got, strict=True):
        np.testing.assert_array_equal(med, np.median(x[idx], axis=1))
