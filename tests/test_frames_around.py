"""The frames around each resampling instant of the stance curves (issue 15): found from each step's frame rate and
checked, exactly the frames numpy's search gives, on regular, jittered, gapped and rounded time grids."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.analysis.force_curve import frames_around


def _searched(time_s, flat):
    j = np.clip(np.searchsorted(time_s, flat, side="right") - 1, 0, len(time_s) - 2)
    return j, time_s[j], time_s[j + 1]


@pytest.mark.parametrize("seed", range(40))
def test_the_frames_are_those_of_a_search(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 4000))
    period = [0.01, 0.001, 1 / 60, 1 / 300][seed % 4]
    lost = np.where(rng.random(n) < 0.02, rng.integers(2, 50, n), 1)  # gaps of lost frames
    jitter = (1 + rng.normal(0, 0.3 if seed % 2 else 0.0, n)).clip(0.1)  # a host clock's jitter, or none
    time_s = np.cumsum(lost * period * jitter) + rng.normal(0, 5)
    if seed % 5 == 0:  # timestamps rounded to 10 ms: runs of equal times (non-decreasing)
        time_s = np.maximum.accumulate(np.round(time_s, 2))
    k = int(rng.integers(1, 60))
    if seed % 3 == 0:  # steps starting on a frame, as detected steps do
        start = np.sort(time_s[rng.integers(0, n, k)])
    else:  # anywhere, some before the first frame or after the last
        start = np.sort(rng.uniform(time_s[0] - 1, time_s[-1] + 1, k))
    stop = start + rng.uniform(0, 2, k)
    if seed % 7 == 0:
        start[0], stop[-1] = time_s[0], time_s[-1]
    u = np.linspace(0.0, 1.0, 101)
    flat = (start[:, None] + u[None, :] * (stop - start)[:, None]).ravel()
    if seed % 8 == 0:
        flat[::17] = np.nan
    for got, expected in zip(frames_around(time_s, flat, start, stop, 101), _searched(time_s, flat), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_a_guess_off_by_many_frames_is_searched():
    """A step whose frames are half at one rate, half at ten times it: most guesses are wrong, all are mended."""
    time_s = np.concatenate([np.arange(100) * 0.01, 1.0 + np.arange(1, 1001) * 0.001])
    start, stop = np.array([0.0]), np.array([1.9])
    flat = np.linspace(0.0, 1.9, 101)
    for got, expected in zip(frames_around(time_s, flat, start, stop, 101), _searched(time_s, flat), strict=True):
        np.testing.assert_array_equal(got, expected)
