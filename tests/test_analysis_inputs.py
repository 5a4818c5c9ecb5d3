"""Inputs that used to give silent wrong results (issue 14): each is refused, ignored with a warning, or gated,
and says why. Sessions are real: simulated by the real simulator and recorder, then altered in one property."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
from session_alterations import altered

from insole.session import read_session
from pipeline.analysis import analyze_session
from pipeline.analysis.result import MetricStatus, QualityCode
from pipeline.errors import AnalysisError
from pipeline.report.comparison import comparison_json

INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def _blank_one_stance(path, side="right", k=20):
    """The session with one stance of ``side`` unloaded (a missed step: the insole read nothing)."""
    sess = read_session(path)
    foot = sess.feet[side]
    ic, to = sess.truth[side]["ic_s"][k], sess.truth[side]["to_s"][k]
    p = foot.pressure.copy()
    p[(foot.time_s >= ic - 0.02) & (foot.time_s <= to + 0.05)] = 0.0
    return dataclasses.replace(sess, feet={**sess.feet, side: dataclasses.replace(foot, pressure=p)})


def test_one_missed_step_does_not_fail_the_session(neutral_session):
    """A blanked stance used to make the neighbouring double support NaN, the median NaN, and quality fail with
    'the two insoles' clocks are probably not aligned'."""
    result = analyze_session(_blank_one_stance(neutral_session))
    q = result.metrics.quality
    assert q.passed, [f.message for f in q.failures]
    assert not any(f.code is QualityCode.SYNC for f in q.failures + q.warnings)
    ds = result.metrics.bilateral.double_support_s
    assert ds.available and 0.1 < ds.median < 0.35
    other = analyze_session(neutral_session)
    doc = comparison_json(other, result)
    assert doc["metrics"] and not any(r["quality_withheld"] for r in doc["metrics"])


@pytest.mark.parametrize("mass", [-70.0, 1e12, 0.0])
def test_an_implausible_body_mass_is_not_used_and_said(neutral_session, mass):
    result = analyze_session(altered(neutral_session, metadata={"body_mass_kg": mass}))
    sr = result.metrics.left
    assert sr.force_unit == "N" and sr.peak1_force.unit == "N" and sr.peak1_force.median > 300  # newtons
    said = [w.message for w in result.metrics.quality.warnings if w.code is QualityCode.METADATA]
    assert len(said) == 1 and f"body mass {mass:g} kg is not plausible" in said[0]


def test_an_implausible_foot_length_is_refused(neutral_session):
    sess = read_session(neutral_session)
    feet = {s: dataclasses.replace(f, layout=dataclasses.replace(f.layout, foot_length_mm=-260.0))
            for s, f in sess.feet.items()}
    with pytest.raises(AnalysisError, match=r"foot length -260 mm is not plausible \(150-350 mm\)"):
        analyze_session(dataclasses.replace(sess, feet=feet))


def test_pressures_beyond_any_plantar_load_are_refused(neutral_session):
    sess = read_session(neutral_session)
    left = sess.feet["left"]
    huge = dataclasses.replace(left, pressure=left.pressure * np.float32(1e30))
    result = analyze_session(dataclasses.replace(sess, feet={**sess.feet, "left": huge}))
    assert not result.metrics.left.analysed and "beyond any plausible plantar load" in result.metrics.left.reason
    assert not result.metrics.quality.passed and result.metrics.right.analysed  # the good foot is kept


def test_too_low_a_sampling_rate_is_refused_per_foot(session_factory):
    slow = session_factory("neutral", 30.0, 2, rate_hz=10.0)
    with pytest.raises(AnalysisError, match="sampled at 10 Hz; gait events need at least 50 Hz"):
        analyze_session(slow)
    # a 50 Hz insole: temporal measures, but no loading rates (they need 100 Hz)
    result = analyze_session(session_factory("neutral", 30.0, 2, rate_hz=50.0))
    sr = result.metrics.left
    assert sr.stance_time_s.available and sr.peak1_force.available
    for name in ("loading_rate", "loading_rate_inst"):
        m = sr.metric(name)
        assert m.status is MetricStatus.NOT_APPLICABLE and "needs at least 100 Hz" in m.reason
        assert result.metrics.bilateral.symmetry.loading_rate.status is not MetricStatus.COMPUTED


def test_mixed_rates_keep_only_the_foot_that_can_be_analysed(session_factory):
    fast = read_session(session_factory("neutral", 30.0, 4, rate_hz=1000.0))
    slow = read_session(session_factory("neutral", 30.0, 4, rate_hz=10.0))
    mixed = dataclasses.replace(fast, feet={"left": fast.feet["left"], "right": slow.feet["right"]})
    result = analyze_session(mixed)
    assert result.metrics.left.analysed and not result.metrics.right.analysed
    assert "10 Hz" in result.metrics.right.reason and not result.metrics.quality.passed
    assert result.metrics.bilateral.symmetry.stance_time_s.status is not MetricStatus.COMPUTED  # no 5.9 % "asymmetry"


def test_the_nominal_rate_must_agree_with_the_time_stamps(neutral_session):
    sess = read_session(neutral_session)
    left = sess.feet["left"]
    wrong = dataclasses.replace(left, sampling_rate_hz=200.0)  # time stamps advance at 100 Hz
    result = analyze_session(dataclasses.replace(sess, feet={**sess.feet, "left": wrong}))
    assert not result.metrics.left.analysed
    assert "nominal sampling rate is 200 Hz but the time stamps advance at 100 Hz" in result.metrics.left.reason


def test_an_interrupted_recording_is_analysed_and_said(neutral_session):
    sess = read_session(neutral_session)
    result = analyze_session(dataclasses.replace(sess, attrs={**sess.attrs, "complete": False}))
    said = [w.message for w in result.metrics.quality.warnings if w.code is QualityCode.INTERRUPTED]
    assert len(said) == 1 and "did not finish" in said[0] and result.metrics.quality.passed
    assert not any(w.code is QualityCode.INTERRUPTED for w in analyze_session(neutral_session).metrics.quality.warnings)


@pytest.mark.parametrize("command", ["analyze", "report"])
def test_outputs_are_checked_before_the_analysis(neutral_session, tmp_path, command):
    missing = tmp_path / "no" / "such" / "folder" / "out.json"
    args = [command, str(neutral_session), "--json", str(missing)]
    if command == "report":
        args += ["-o", str(tmp_path / "r.html")]
    r = subprocess.run([*INSOLE, *args], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert f"the folder {missing.parent} does not exist" in r.stderr
    assert not (tmp_path / "r.html").exists()


def test_a_one_frame_foot_is_said_to_be_too_short_not_nan(tmp_path):
    """A 1-frame file used to be reported as 'every cell NaN'."""
    from insole.layouts import builtin_layout
    from insole.session import SessionMetadata, SessionWriter

    path = tmp_path / "one-frame.h5"
    with SessionWriter(path, SessionMetadata(), source="simulated") as w:
        for side in ("left", "right"):
            w.add_foot(side, builtin_layout(16, 260.0), units="kPa", sampling_rate_hz=100.0)
            w.append(side, np.zeros(1), np.full((1, 16), 50.0, np.float32))
    with pytest.raises(AnalysisError, match=r"left foot: the recording holds one frame; far too short"):
        analyze_session(path)
