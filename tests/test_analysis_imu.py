"""Stride length and gait speed through the whole analysis: simulated insoles with an IMU (truth from the
simulator's foot positions), a real Moticon export, and the sensors that must give no figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from insole.importers import import_recording
from insole.session import read_session
from pipeline.analysis import analyze_session
from pipeline.analysis.result import MetricStatus, QualityCode

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"


def _truth_lengths(path, side: str) -> tuple[np.ndarray, np.ndarray]:
    """(ic_s, stride length m) of every true stride: the distance between consecutive flat-foot positions along
    the walk (the simulated walk is straight)."""
    truth = read_session(path).truth[side]
    pos = np.asarray(truth["foot_position_m"], float)
    return np.asarray(truth["ic_s"], float)[:-1], np.diff(pos)


@pytest.mark.parametrize("speed", [0.8, 1.3, 1.8])
def test_stride_length_and_speed_within_3_percent_of_the_simulator(session_factory, speed):
    """Realistic IMU errors (3 deg mounting tilt, 0.5 % scale, biases, noise, 16-bit quantisation): per stride
    and per walk within 3 % of the true foot displacement, through recorder, file and analysis."""
    path = session_factory("neutral", 40.0, 21, device_params=f"imu=1&speed_m_s={speed:g}")
    result = analyze_session(path)
    for side in ("left", "right"):
        steps = result.valid_steps(side)
        ic_true, length_true = _truth_lengths(path, side)
        k = np.abs(steps["ic_s"].to_numpy()[:, None] - ic_true[None, :]).argmin(axis=1)
        err = steps["stride_length_m"].to_numpy() / length_true[k] - 1.0
        ok = np.isfinite(err)
        assert ok.mean() >= 0.9, steps["imu_reason"].value_counts()
        assert np.mean(np.abs(err[ok]) <= 0.03) >= 0.95, (side, np.abs(err[ok]).max())
        sr = result.metrics.side(side)
        assert sr.stride_length_m.median == pytest.approx(np.median(length_true[k]), rel=0.03)
        assert sr.gait_speed_m_s.median == pytest.approx(speed, rel=0.05)
        assert sr.gait_speed_m_s.n == int(ok.sum()) and sr.imu.reason == "ok"
    c = result.metrics.bilateral.imu_consistency
    assert c.agree and abs(c.stride_length_si_pct) < 3
    assert not [w for w in result.metrics.quality.warnings if w.code is QualityCode.IMU]


def test_a_session_without_imu_has_no_speed_and_says_so(neutral_session):
    result = analyze_session(neutral_session)
    for side in ("left", "right"):
        m = result.metrics.side(side).gait_speed_m_s
        assert m.status is MetricStatus.NOT_APPLICABLE and "no IMU data" in m.reason and m.median is None
        assert result.steps["gait_speed_m_s"].isna().all()
    assert result.metrics.quality.passed


@pytest.mark.parametrize("params, reason", [
    ("imu=1&imu_mount=upside-down", "axis_convention"),
    ("imu=1&imu_mount=mirrored", "axis_convention"),
    ("imu=1&imu_gyr_range_dps=250", "gyro_saturated"),
])
def test_a_wrong_or_saturated_imu_is_a_quality_failure_never_a_speed(session_factory, params, reason):
    result = analyze_session(session_factory("neutral", 30.0, 22, device_params=params))
    failures = [f for f in result.metrics.quality.failures if f.code is QualityCode.IMU]
    assert {f.side for f in failures} == {"left", "right"}, [f.message for f in result.metrics.quality.failures]
    for side in ("left", "right"):
        sr = result.metrics.side(side)
        assert sr.gait_speed_m_s.median is None or reason == "gyro_saturated"
        assert reason == sr.imu.reason or reason in sr.imu.rejected
    if reason == "gyro_saturated":
        assert "saturated" in failures[0].message
    else:
        assert result.steps["gait_speed_m_s"].isna().all()


def test_the_moticon_export_gives_a_plausible_walking_speed(tmp_path):
    """A real OpenGo export tagged 'normal' (17 s): the figures, from how many strides, agree with cadence."""
    path = import_recording("moticon", SAMPLES / "moticon" / "230927_102114.txt", tmp_path / "m.h5")
    result = analyze_session(path)
    speeds = []
    for side in ("left", "right"):
        sr = result.metrics.side(side)
        assert sr.imu.reason == "ok" and sr.imu.n_valid >= 3
        speeds.append(sr.gait_speed_m_s.median)
        assert 0.9 <= sr.stride_length_m.median <= 1.7
    assert 0.8 <= np.mean(speeds) <= 1.5  # a 'normal' pace at this cadence (about 90 steps/min)
    assert result.metrics.bilateral.imu_consistency.agree


def test_the_report_shows_speed_first_and_the_speed_card_beside_the_screen(session_factory, simulated_cohort,
                                                                          neutral_session):
    """Gait speed in the summary and the temporal table, and the walking-speed card positioned in the cohort of
    the same insole (the simulated walkers carry an IMU), not counted in the screen result; without an IMU both
    say why."""
    from pipeline.report import render_report_html, report_json

    result = analyze_session(session_factory("neutral", 40.0, 23, device_params="imu=1"), cohort=simulated_cohort(16))
    doc = report_json(result)
    rows = {r["metric"]: r for r in doc["temporal"]}
    assert rows["gait_speed_m_s"]["units"] == "m/s" and rows["gait_speed_m_s"]["left"]["status"] == "computed"
    card = doc["back_strain"]["context_cards"][0]
    assert card["link_id"] == "walking_speed" and card["status"] in {"flagged", "not flagged"}
    assert "-0.59" in card["studies"][0]["effect"] and "moderate to strong" in card["grade"]
    assert "walking_speed" not in doc["back_strain"]["tier"]["flagged_links"] and doc["back_strain"]["tier"][
        "links_total"] == 3
    html = render_report_html(result)
    assert 'id="key-speed">Gait speed (insole IMU)' in html and 'id="card-walking_speed"' in html
    without_imu = analyze_session(neutral_session)
    card = report_json(without_imu)["back_strain"]["context_cards"][0]
    assert card["status"] == "not available" and "no IMU data" in card["rules"][0]["detail"]
    assert "not available (the session has no IMU data" in render_report_html(without_imu)
