"""The numpy filters of the analysis against the scipy functions they replace: pipeline.analysis.lowpass against
scipy.signal.sosfiltfilt, pipeline.analysis.running against scipy.ndimage (imported here, never by the analysis)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import butter, sosfiltfilt

from insole.session import open_session
from pipeline.analysis import running
from pipeline.analysis.lowpass import butterworth_sections, zero_phase_lowpass
from pipeline.analysis.running import running_mean, running_minimum

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("fs", [50.0, 100.0, 300.0, 1000.0, 2000.0])
@pytest.mark.parametrize("order", [1, 2, 3, 4, 6])
def test_same_output_as_scipy_sosfiltfilt(fs, order):
    rng = np.random.default_rng(int(fs) + order)
    cutoff = min(20.0, 0.4 * fs)
    edge = 3 * (order + 1)
    for n in (edge + 1, 100, 20_000):
        # a random walk with steps: the shapes of a force trace (loading, plateaus, sudden unloading)
        x = np.cumsum(rng.normal(size=n)) + 80.0 * (rng.random(n) > 0.5)
        expected = sosfiltfilt(butter(order, cutoff, fs=fs, output="sos"), x)
        got = zero_phase_lowpass(x, cutoff, fs, order=order)
        assert got.shape == x.shape
        assert np.max(np.abs(got - expected)) <= 1e-12 * np.ptp(x), (fs, order, n)


def test_sections_are_scipys_design():
    for fs, order in [(100.0, 4), (1000.0, 4), (100.0, 3)]:
        sos = butter(order, 20.0, fs=fs, output="sos")
        ours = butterworth_sections(order, 20.0, fs)
        # the same poles and the same DC gain (scipy puts the whole gain in its first section)
        poles = np.sort_complex(np.concatenate([np.roots(a) for _, a in ours]))
        theirs = np.concatenate([np.roots(np.trim_zeros(s[3:], "b")) for s in sos])
        assert np.allclose(poles, np.sort_complex(theirs), atol=1e-12)
        gain = np.prod([b.sum() / a.sum() for b, a in ours])
        assert gain == pytest.approx(np.prod([s[:3].sum() / s[3:].sum() for s in sos]), rel=1e-12)


def test_a_real_force_trace_filters_as_with_scipy():
    """The total force of a real recording (PhysioNet gaitpdb, 100 Hz) filtered as the loading rate does."""
    with open_session(ROOT / "sample_recordings/gaitpdb/GaCo01_01.h5") as s:
        block = s.read("left", 0, s.foot_info("left").n_frames)
    assert len(block.pressure) > 1000
    force = np.nan_to_num(block.pressure.astype(np.float64).sum(axis=1))
    expected = sosfiltfilt(butter(4, 20.0, fs=100.0, output="sos"), force)
    assert np.max(np.abs(zero_phase_lowpass(force, 20.0, 100.0) - expected)) <= 1e-12 * np.ptp(force)


def test_bad_arguments_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="cut-off 60.0 Hz must lie between 0 and half the sampling rate"):
        zero_phase_lowpass(np.zeros(100), 60.0, 100.0)
    with pytest.raises(ValueError, match="longer than 15 samples"):
        zero_phase_lowpass(np.zeros(15), 20.0, 100.0)
    with pytest.raises(ValueError, match="1-D"):
        zero_phase_lowpass(np.zeros((100, 2)), 20.0, 100.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chunk", [None, 97, 4096])
def test_running_minimum_and_mean_are_scipy_ndimage_bit_for_bit(dtype, chunk, monkeypatch):
    if chunk:  # computed in many chunks, as a day-long signal is (chunks shorter and longer than the window)
        monkeypatch.setattr(running, "CHUNK", chunk)
    rng = np.random.default_rng(7)
    for n in (1, 2, 5, 37, 1000, 100_000):
        for size in (1, 2, 3, 10, 51, 200, 1001, 5000):
            x = (rng.random(n) * 1000).astype(dtype)
            x[rng.random(n) < 0.01] = np.inf  # the baseline marks invalid frames so
            expected = minimum_filter1d(x, size, mode="nearest")
            got = running_minimum(x, size)
            assert got.dtype == expected.dtype and np.array_equal(got, expected), (n, size)
            finite = np.where(np.isfinite(expected), expected, 0).astype(dtype)
            expected = uniform_filter1d(finite, size, mode="nearest")
            got = running_mean(finite, size)
            assert got.dtype == expected.dtype and np.array_equal(got, expected), (n, size)


def test_running_filters_refuse_what_they_cannot_filter():
    with pytest.raises(ValueError, match="at least 1 sample"):
        running_mean(np.zeros(10), 0)
    with pytest.raises(ValueError, match="not empty"):
        running_minimum(np.zeros(0), 3)


def test_convex_hull_has_qhulls_vertices_and_the_cpei_width_is_unchanged():
    """pipeline.analysis.foot_function.convex_hull against scipy.spatial.ConvexHull (Qhull): built-in layouts,
    random clouds, a grid with points on the edges; and the hull width the CPEI divides by, from either hull."""
    from scipy.spatial import ConvexHull

    from insole.layouts import builtin_layout
    from pipeline.analysis.foot_function import convex_hull, hull_width_at, polygon_width_at

    rng = np.random.default_rng(3)
    clouds = [np.c_[lay.x_mm, lay.y_mm] for lay in (builtin_layout(n, 265.0) for n in (8, 16, 99))]
    clouds += [rng.normal(size=(k, 2)) * 50 for k in (3, 4, 10, 99, 500)]
    clouds += [np.array([(x, y) for x in range(5) for y in range(4)], float)]  # collinear points on every edge
    for cloud in clouds:
        pts = np.unique(cloud, axis=0)
        ours = convex_hull(pts)
        qhull = pts[ConvexHull(pts).vertices]
        assert {tuple(p) for p in ours} == {tuple(p) for p in qhull}
        # counter-clockwise, as Qhull's 2-D vertices: positive signed area
        a, b = ours, np.roll(ours, -1, axis=0)
        assert np.sum(a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1]) > 0
        for x_line in np.linspace(pts[:, 0].min(), pts[:, 0].max(), 7):
            expected = polygon_width_at(qhull, x_line)  # the same width from Qhull's vertices
            got = hull_width_at(cloud[:, 0], cloud[:, 1], x_line)
            assert got == expected or (np.isnan(got) and np.isnan(expected))
    assert len(convex_hull(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]))) < 3  # collinear: no area
    assert np.isnan(hull_width_at(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 2.0]), 1.0))


def test_gradient_at_is_numpys_gradient_at_those_frames():
    """The loading rate's derivative at chosen frames (pipeline.analysis.force_curve.gradient_at) against
    np.gradient over the whole signal: uniform, jittered and gapped clocks; the end frames; every frame."""
    from pipeline.analysis.force_curve import gradient_at

    rng = np.random.default_rng(11)
    for n in (2, 3, 10, 5000):
        values = rng.normal(size=n)
        clocks = [np.arange(n) * 0.01, np.cumsum(rng.random(n) * 0.02 + 0.005), np.arange(n, dtype=float)]
        if n > 100:
            clocks.append(np.where(np.arange(n) > n // 2, 5.0, 0.0) + np.arange(n) * 0.01)  # a 5-second gap
        for t in clocks:
            whole = np.gradient(values, t)
            for frames in (np.arange(n), np.array([0, n - 1]), np.unique(rng.integers(0, n, size=n // 2 + 1))):
                assert np.array_equal(gradient_at(values, t, frames), whole[frames]), (n, frames[:5])
    with pytest.raises(ValueError, match="at least 2 samples"):
        gradient_at(np.zeros(1), np.zeros(1), np.array([0]))


def test_float32_input_is_filtered_as_its_float64_copy():
    x = (np.cumsum(np.random.default_rng(5).normal(size=50_000)) * 10).astype(np.float32)
    assert np.array_equal(zero_phase_lowpass(x, 20.0, 100.0), zero_phase_lowpass(x.astype(np.float64), 20.0, 100.0))
