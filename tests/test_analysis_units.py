"""The analysis core's pure functions on inputs with hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from insole.layouts import FOREFOOT_WIDTH_RATIO
from pipeline.analysis.events import ContactEventDetection, hysteresis
from pipeline.analysis.foot_function import cpei_pct, foot_function_label, hull_width_at, lmfi, strike_index_pct
from pipeline.analysis.force_curve import (
    curve_landmarks,
    instantaneous_loading_rate,
    resample_stance,
    segment_sums,
)
from pipeline.analysis.metric_catalogue import METRIC_SPECS
from pipeline.analysis.result import CohortPosition, Metric, MetricStatus, Symmetry
from pipeline.analysis.summary import summarize
from pipeline.analysis.symmetry import lld_pattern
from pipeline.errors import AnalysisError
from pipeline.statistics import symmetry_angle_pct, symmetry_index_pct


def test_symmetry_index_and_angle():
    assert symmetry_index_pct(100.0, 110.0) == pytest.approx(100 * 10 / 105)
    assert symmetry_angle_pct(1.0, 1.0) == pytest.approx(0.0)
    assert symmetry_angle_pct(0.9, 1.0) == pytest.approx((45 - math.degrees(math.atan(0.9))) / 90 * 100)
    # across zero the 180 deg correction of Zifchock et al. keeps the angle within +-100 %
    expected = (45 - math.degrees(math.atan(-2.0)) - 180) / 90 * 100
    assert symmetry_angle_pct(-2.0, 1.0) == pytest.approx(expected) and -100 <= expected <= 100
    assert math.isnan(symmetry_angle_pct(1.0, 0.0)) and math.isnan(symmetry_index_pct(0.0, 0.0))


def test_hysteresis_holds_state_between_thresholds():
    x = np.array([0, 4, 6, 4, 2, 0.5, 4, 6, np.nan, 4, 0], float)
    got = hysteresis(x, on=5.0, off=1.0)
    assert got.tolist() == [False, False, True, True, True, False, False, True, True, True, False]


def test_cpei_as_song_constructed_it():
    """A straight heel-to-toe path (construction line y = 0) with a lateral bulge of 10 mm x sin(pi s). The
    transverse line at the distal third lies at x = 2/3 L, which the path reaches at s* = (2/3 - 0.05) / 0.85:
    CPE = 10 sin(pi s*) mm lateral, and CPEI = CPE / hull width x 100."""
    s = np.linspace(0, 1, 101)
    L = 250.0
    W = FOREFOOT_WIDTH_RATIO * L  # ml is stored as a share of this width
    ap = (0.05 + 0.85 * s)[None, :]
    ml = (-10.0 * np.sin(np.pi * s) / W)[None, :]  # lateral = negative y
    s_star = (2 / 3 - 0.05) / 0.85
    hull = 80.0
    assert cpei_pct(ap, ml, L, W, hull)[0] == pytest.approx(100 * 10 * math.sin(math.pi * s_star) / hull, abs=0.05)
    # a medial bulge gives a negative CPEI; a path that never reaches the line, or too few points, give NaN
    assert cpei_pct(ap, -ml, L, W, hull)[0] < 0
    assert np.isnan(cpei_pct(ap * 0.6, ml, L, W, hull)[0])
    sparse = np.full_like(ap, np.nan)
    sparse[0, :5] = ap[0, :5]
    assert np.isnan(cpei_pct(sparse, ml, L, W, hull)[0])
    # the hull width along the transverse line: a 40 x 90 mm rectangle of cells, and a triangle narrowing to it
    assert hull_width_at([0, 0, 200, 200], [-45, 45, -45, 45], 150.0) == pytest.approx(90.0)
    assert hull_width_at([0, 0, 200], [-50, 50, 0], 100.0) == pytest.approx(50.0)
    assert np.isnan(hull_width_at([0, 100], [0, 10], 50.0))  # two cells: no hull
    # strike index: the first point of the path, % of foot length
    assert strike_index_pct(ap)[0] == pytest.approx(5.0)


def _cpei(n: int, percentile: float | None) -> Metric:
    ref = None if percentile is None else CohortPosition(cohort="c", n=20, percentile=percentile,
                                                          percentile_ci=(percentile - 10, percentile + 10))
    return Metric(name="cpei_pct", label="Insole CPEI", unit="% hull width", method="m", n=n, median=8.0,
                  mean=8.0, reference=ref)


def test_lmfi_and_label_rule():
    assert lmfi(np.array([3.0]), np.array([1.0]))[0] == pytest.approx(0.5)
    assert np.isnan(lmfi(np.array([0.0]), np.array([0.0]))[0])
    assert foot_function_label(_cpei(40, 10.0)).label == "pronation"
    assert foot_function_label(_cpei(40, 50.0)).label == "neutral"
    assert foot_function_label(_cpei(40, 90.0)).label == "supination"
    assert foot_function_label(_cpei(40, 20.0)).label == "neutral"  # the lowest fifth is below the 20th percentile
    # no cohort, too few steps: not assessed, with the reason
    alone = foot_function_label(_cpei(40, None))
    assert alone.label == "not assessed" and "no reference cohort" in alone.reason and not alone.assessed
    assert "fewer than 10" in foot_function_label(_cpei(5, 10.0)).reason


def test_cohort_percentile_and_its_interval():
    from pipeline.norms.cohort import Cohort, CohortEntry, CohortMetric, DeviceFamily
    from pipeline.norms.position import percentile_in, position

    values = np.arange(1.0, 21.0)  # 20 healthy values 1..20
    metric = CohortMetric(name="x", unit="s", entries=[CohortEntry(subject=f"s{i}", recording=f"r{i}", side="left",
                                                                   value=float(v)) for i, v in enumerate(values)])
    cohort = Cohort(schema="insole-cohort", schema_version=1, name="c", description="", sources=[],
                    device=DeviceFamily(layout_ids=["l"], n_sensors=8, units="N"), n_subjects=20, n_recordings=20,
                    built_utc="", software="", metrics={"x": metric}, symmetry={})
    assert percentile_in(values, 5.5) == pytest.approx(25.0)  # 5 of 20 below
    assert percentile_in(values, 5.0) == pytest.approx(22.5)  # mid-rank of a tie
    pos = position(cohort, metric, 5.5, (4.5, 6.5), subject=None)
    lo, hi = pos.percentile_ci
    assert lo < 20.0 < 25.0 < 30.0 < hi and pos.n == 20 and not pos.left_out
    # the subject's own value is left out
    own = position(cohort, metric, 5.5, None, subject="s0")
    assert own.left_out and own.n == 19 and own.percentile == pytest.approx(100 * 4 / 19)
    assert position(cohort, metric, None, None, None) is None


def test_summary_values():
    spec = METRIC_SPECS["stance_time_s"]
    s = summarize(spec, "s", "test", np.array([1.0, 2.0, 3.0, 4.0, np.nan]))
    assert s.n == 4 and s.median == 2.5 and s.mean == 2.5 and s.unit == "s" and s.name == "stance_time_s"
    assert s.sd == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    assert s.cv_pct == pytest.approx(100 * s.sd / 2.5)
    half = 3.182446305284263 * s.sd / 2  # t(0.975, 3) x SD / sqrt(4)
    assert s.ci95 == pytest.approx((2.5 - half, 2.5 + half))
    empty = summarize(spec, "s", "x", np.array([]), empty_reason="no steps here")
    assert empty.median is None and empty.status is MetricStatus.NOT_COMPUTED and empty.reason == "no steps here"
    # signed indices get no CV
    assert summarize(METRIC_SPECS["cpei_pct"], "%", "x", np.array([1.0, 2.0, 3.0])).cv_pct is None


def test_force_curve_landmarks_and_segments():
    u = np.linspace(0, 1, 101)
    curve = np.interp(u, [0, 0.25, 0.5, 0.75, 1.0], [0, 1.2, 0.8, 1.1, 0])[None, :]
    lm = curve_landmarks(curve, np.array([0.6]))
    assert lm["peak1"][0] == pytest.approx(1.2) and lm["peak1_pct"][0] == pytest.approx(25)
    assert lm["peak2"][0] == pytest.approx(1.1) and lm["peak2_pct"][0] == pytest.approx(75)
    assert lm["valley"][0] == pytest.approx(0.8) and lm["valley_pct"][0] == pytest.approx(50)
    # linear rise 0 -> 1.2 over 25 % of 0.6 s: slope 8 per second, on average; 20 % and 80 % of the peak at
    # curve points 5 and 20
    assert lm["loading_rate"][0] == pytest.approx(8.0, rel=1e-6)
    assert lm["x20"][0] == pytest.approx(5.0) and lm["x80"][0] == pytest.approx(20.0)
    # a plateau (no valley 5 % below the lower peak) has no landmarks
    flat = np.interp(u, [0, 0.2, 0.8, 1.0], [0, 1.0, 0.98, 0])[None, :]
    lm = curve_landmarks(flat, np.array([0.6]))
    assert all(np.isnan(lm[k][0]) for k in ("peak1", "peak2", "valley", "peak1_pct", "loading_rate"))
    # the instantaneous loading rate is the derivative of the filtered force: a 2 BW/s ramp reads 2 BW/s
    tt = np.arange(0, 2, 0.01)
    ramp = np.clip(2.0 * (tt - 0.5), 0, 1.0)
    inst = instantaneous_loading_rate(tt, ramp, 100.0, np.array([0.7]), np.array([0.8]))
    assert inst[0] == pytest.approx(2.0, rel=0.02)
    x = np.arange(10, dtype=float)
    assert segment_sums(x, np.array([1, 5]), np.array([3, 9])).tolist() == [3.0, 26.0]
    assert segment_sums(x, np.array([1, 5]), np.array([3, 10]), np.maximum).tolist() == [2.0, 9.0]
    t = np.arange(0, 1.0001, 0.01)
    r = resample_stance(t, 2 * t, np.array([0.1]), np.array([0.3]), 3)
    assert r[0].tolist() == pytest.approx([0.2, 0.4, 0.6])


def _sym(si: float, n: int = 40) -> Symmetry:
    return Symmetry(metric="m", label="m", unit="s", si_pct=si, sa_pct=si / 2, n_left=n, n_right=n)


def test_lld_pattern_rule():
    healthy = (2.0, 16), (5.0, 16)  # 95th percentiles of healthy |SI| (stance, peak force)
    pat = lld_pattern(_sym(3.5), _sym(-12.0), "BW", *healthy)
    assert pat.consistent and pat.criteria.longer_stance_side == "right" and pat.criteria.n_cohort == 16
    # longer stance with a *higher* peak on the same side is not the pattern; nor is asymmetry within healthy
    assert lld_pattern(_sym(3.5), _sym(12.0), "BW", *healthy).consistent is False
    assert lld_pattern(_sym(1.5), _sym(-12.0), "N", *healthy).consistent is False
    few = lld_pattern(_sym(3.5, 5), _sym(-12.0, 5), "BW", *healthy)
    assert few.consistent is None and not few.assessed and "fewer than 10" in few.reason
    assert "raw counts" in lld_pattern(_sym(3.5), _sym(-12.0), "counts", *healthy).reason
    assert "no reference cohort" in lld_pattern(_sym(3.5), _sym(-12.0), "BW", None, None).reason


def test_detector_on_a_synthetic_signal_with_a_gap():
    fs = 200.0
    t = np.arange(0, 20, 1 / fs)
    u = (t % 1.0) / 1.0
    force = 600 * np.sqrt(np.clip(np.sin(np.pi * u / 0.6), 0, None) * (u < 0.6)) + 50.0  # 50 = sensor offset
    keep = (t < 9.98) | (t > 10.3)  # frames missing from before the IC at t = 10 s until 10.3 s
    d = ContactEventDetection().detect(t[keep], force[keep].astype(np.float32), fs)
    ic = d.ic_s_[np.isfinite(d.ic_s_)]
    assert np.all(np.min(np.abs(ic[:, None] - np.arange(0, 20)[None, :]), axis=1) <= 1 / fs)
    assert len(ic) == 19  # 20 contacts, one hidden by the gap
    assert not np.any(np.abs(ic - 10.0) < 0.05)  # the IC hidden by the gap is unknown, not guessed
    with pytest.raises(AnalysisError, match="constant"):
        ContactEventDetection().detect(t, np.full(len(t), 7.0, np.float32), fs)


def test_cpei_in_batches_of_steps_equals_all_at_once(monkeypatch):
    """cpei_pct splits a day of steps into ROW_BATCH rows: each row's value must not depend on the split."""
    from pipeline.analysis import foot_function

    rng = np.random.default_rng(0)
    ap = np.cumsum(rng.random((500, 101)) * 0.02, axis=1).astype(np.float32)
    ml = (rng.normal(size=(500, 101)) * 0.1).astype(np.float32)
    ap[rng.random(ap.shape) < 0.05] = np.nan
    whole = foot_function.cpei_pct(ap, ml, 265.0, 95.0, 80.0)
    monkeypatch.setattr(foot_function, "ROW_BATCH", 37)
    assert np.isfinite(whole).sum() > 400
    assert np.array_equal(foot_function.cpei_pct(ap, ml, 265.0, 95.0, 80.0), whole, equal_nan=True)


@pytest.mark.parametrize("op", [np.add, np.maximum])
def test_segment_sums_of_the_transpose_equal_those_of_the_frames_bit_for_bit(op):
    """step_frames reduces the cells x frames transpose (issue 15, 8 times faster): its sums must be those of the
    frames x cells block to the last bit, for segments of every length numpy's pairwise summation treats apart
    (under 8, up to 128, beyond), a segment that ends at the last frame, and an empty one after it (the padded
    case)."""
    rng = np.random.default_rng(5)
    values = rng.gamma(2.0, 50.0, (3000, 13)).astype(np.float32)
    lengths = np.array([1, 3, 7, 8, 9, 60, 127, 128, 129, 300, 700])
    start = np.cumsum(np.r_[0, lengths[:-1] + 11])
    stop = start + lengths
    transposed = np.ascontiguousarray(values.T)
    cases = ((start, stop), (np.r_[start, 2990], np.r_[stop, 3000]),
             (np.r_[start, 2990, 3000], np.r_[stop, 3000, 3000]))
    for a, b in cases:
        rows = segment_sums(values, a, b, op)
        cols = segment_sums(transposed, a, b, op, axis=1)
        assert cols.shape == (13, len(a))
        np.testing.assert_array_equal(cols.T, rows)
        ok = b > a
        plain = np.stack([op.reduce(values[i:j].astype(np.float64), axis=0) for i, j in zip(a[ok], b[ok], strict=True)])
        np.testing.assert_allclose(rows[ok], plain, rtol=1e-5)  # and they are the segments' sums
