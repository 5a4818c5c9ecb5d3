"""Stride length and gait speed from the IMU of real Moticon OpenGo exports (one person: slow, normal and fast walks).

There is no reference speed in these files. What is checked (the figures are in ``docs/imu.md``): the sensor passes
every check (units, gravity, axis convention: Moticon's axes are the foot sensor frame); the walks are ordered by
their tags; per walk, the median speed agrees with cadence x median stride length; the left and the right foot, which
travel the same straight path, give the same stride length; and every figure rests on strides that passed the
drift gate. Stances come from the pressure by a plain threshold (tests/imu_helpers.py), not from the vendor events.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATASETS
from imu_helpers import stances_from_force, total_force_n

from insole.importers import import_recording
from insole.session import read_session
from pipeline.analysis.imu import ImuReason, ImuStrideSpeed

pytestmark = [pytest.mark.datasets,
              pytest.mark.skipif(not (DATASETS / "moticon_opengo").is_dir(), reason="shared/datasets not present")]
WALKS = {"slow": "230927_102137", "normal": "230927_102114", "fast": "230927_102231"}


@pytest.fixture(scope="module")
def walks(tmp_path_factory):
    out = {}
    root = tmp_path_factory.mktemp("moticon")
    for tag, name in WALKS.items():
        path = import_recording("moticon", DATASETS / "moticon_opengo" / f"{name}.txt", root / f"{name}.h5")
        session = read_session(path)
        feet = {}
        for side, foot in session.feet.items():
            ic, to = stances_from_force(foot.time_s, total_force_n(foot.pressure, foot.layout.area_mm2))
            feet[side] = (ImuStrideSpeed().compute_session_imu(foot.imu, ic, to), ic)
        out[tag] = feet
    return out


def test_the_moticon_imu_passes_every_sensor_check(walks):
    for tag, feet in walks.items():
        for side, (algo, _) in feet.items():
            check = algo.sensor_check_
            assert check.usable, (tag, side, check.message)
            assert 9.5 < check.gravity_m_s2 < 10.0 and check.gravity_tilt_deg < 15  # insole tilted ~11 degrees
            assert -110 < check.swing_rotation_deg[1] < -40  # toe-up about -y on both feet: not mirrored


def test_median_speed_follows_the_tags_and_agrees_with_cadence_and_stride_length(walks):
    speed = {}
    for tag in ("slow", "normal"):
        lengths, speeds, ics = [], [], []
        for algo, ic in walks[tag].values():
            st = algo.strides_
            assert algo.summary_.has_figures and algo.summary_.n_valid >= 6
            lengths.append(st.stride_length_m[st.valid])
            speeds.append(st.gait_speed_m_s[st.valid])
            ics.append(ic)
        cadence = 60.0 / np.median(np.diff(np.sort(np.concatenate(ics))))  # steps/min, both feet
        median_length, median_speed = np.median(np.concatenate(lengths)), np.median(np.concatenate(speeds))
        assert median_speed == pytest.approx(cadence * median_length / 120.0, rel=0.05)
        speed[tag] = median_speed
    assert 0.3 < speed["slow"] < 0.7 < 0.9 < speed["normal"] < 1.4


def test_both_feet_walk_the_same_distance_per_stride(walks):
    """Straight walks: the median stride length of the left and the right foot agree within 3 % (before the
    gravity scale calibration the left insole, which reads 9.64 m/s² at rest, came out 2-3 % short)."""
    for tag in ("slow", "normal"):
        left, right = (walks[tag][s][0].strides_ for s in ("left", "right"))
        inner = [st.stride_length_m[1:-1][st.valid[1:-1]] for st in (left, right)]  # without gait start and stop
        assert np.median(inner[0]) == pytest.approx(np.median(inner[1]), rel=0.03), tag


def test_fast_walk_strides_that_drift_are_rejected_with_their_reason(walks):
    """At 100 Hz the fast walk's heel strikes (5-10 g) leave end-of-stride velocities of 0.7-1.2 m/s in most
    strides: those are rejected, with the residual behind the reason; the rest are reported with their number."""
    for algo, _ in walks["fast"].values():
        st = algo.strides_
        for r, m, v in zip(st.reason, st.message, st.velocity_residual_m_s, strict=True):
            if r is ImuReason.VELOCITY_RESIDUAL:
                assert v > 0.5 and f"{v:.2f} m/s" in m
        assert algo.summary_.n_valid == int(st.valid.sum()) < len(st)
        assert np.all(st.velocity_residual_m_s[st.valid] <= 0.5)
