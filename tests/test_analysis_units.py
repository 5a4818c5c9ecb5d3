"""The analysis core's pure functions on inputs with hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.analysis.events import ContactEventDetection, hysteresis
from pipeline.analysis.foot_function import cpei_pct, foot_function_label, lmfi
from pipeline.analysis.force_curve import curve_landmarks, resample_stance, segment_sums
from pipeline.analysis.metric_catalogue import METRIC_SPECS
from pipeline.analysis.result import MetricStatus
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


def test_cpei_of_a_known_gait_line():
    """A straight heel-to-toe construction line with a lateral bulge of 10 mm x sin(pi s): at two thirds of
    the line the bulge is 10 x sin(2 pi / 3) = 8.66 mm, i.e. 8.66 % of a 100 mm forefoot width."""
    s = np.linspace(0, 1, 101)
    L, W = 250.0, 100.0
    ap = (0.05 + 0.85 * s)[None, :]
    ml = (-10.0 * np.sin(np.pi * s) / W)[None, :]  # lateral = negative y
    assert cpei_pct(ap, ml, L, W)[0] == pytest.approx(100 * 10 * math.sin(2 * math.pi / 3) / W, abs=0.05)
    # a medial bulge gives a negative CPEI; too few points give NaN
    assert cpei_pct(ap, -ml, L, W)[0] < 0
    sparse = np.full_like(ap, np.nan)
    sparse[0, :5] = ap[0, :5]
    assert np.isnan(cpei_pct(sparse, ml, L, W)[0])


def test_lmfi_and_label_rule():
    assert lmfi(np.array([3.0]), np.array([1.0]))[0] == pytest.approx(0.5)
    assert np.isnan(lmfi(np.array([0.0]), np.array([0.0]))[0])
    rng = np.random.default_rng(0)
    assert foot_function_label(2.0 + rng.normal(0, 1, 40), rng.normal(-0.4, 0.05, 40)).label == "pronation"
    assert foot_function_label(10.0 + rng.normal(0, 1, 40), rng.normal(0.0, 0.05, 40)).label == "neutral"
    assert foot_function_label(20.0 + rng.normal(0, 1, 40), rng.normal(0.4, 0.05, 40)).label == "supination"
    # contradicting indices and too few steps are undetermined, with the reason; unknown layouts too
    mixed = foot_function_label(2.0 + rng.normal(0, 1, 40), rng.normal(0.4, 0.05, 40))
    assert mixed.label == "undetermined" and "disagree" in mixed.reason
    assert "fewer than 10" in foot_function_label(np.full(5, 2.0)).reason
    assert "vendor-x" in foot_function_label(np.full(40, 2.0), layout_id="vendor-x").reason
    near = foot_function_label(6.7 + rng.normal(0, 3, 12))
    assert near.confidence < 0.8  # a median at the cut-off is not a confident label


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
    # linear rise 0 -> 1.2 over 25 % of 0.6 s: slope 8 per second, average and instantaneous
    assert lm["loading_rate"][0] == pytest.approx(8.0, rel=1e-6)
    assert lm["loading_rate_inst"][0] == pytest.approx(8.0, rel=1e-6)
    x = np.arange(10, dtype=float)
    assert segment_sums(x, np.array([1, 5]), np.array([3, 9])).tolist() == [3.0, 26.0]
    assert segment_sums(x, np.array([1, 5]), np.array([3, 10]), np.maximum).tolist() == [2.0, 9.0]
    t = np.arange(0, 1.0001, 0.01)
    r = resample_stance(t, 2 * t, np.array([0.1]), np.array([0.3]), 3)
    assert r[0].tolist() == pytest.approx([0.2, 0.4, 0.6])


def test_lld_pattern_rule():
    rng = np.random.default_rng(1)
    st_l, st_r = 0.62 + rng.normal(0, 0.01, 40), 0.645 + rng.normal(0, 0.01, 40)
    pk_l, pk_r = 1.1 + rng.normal(0, 0.03, 40), 0.98 + rng.normal(0, 0.03, 40)
    pat = lld_pattern(st_l, st_r, pk_l, pk_r)
    assert pat.consistent and pat.criteria.longer_stance_side == "right"
    # longer stance with a *higher* peak on the same side is not the pattern
    assert lld_pattern(st_l, st_r, pk_r, pk_l).consistent is False
    few = lld_pattern(st_l[:5], st_r[:5], pk_l[:5], pk_r[:5])
    assert few.consistent is None and not few.assessed and "fewer than 10" in few.reason


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
