"""Stride length and gait speed from the insole IMU (pipeline/analysis/imu) against simulator truth, and the
sensor checks: every wrong sensor gives a reason, never a silently wrong speed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from insole.session import open_session
from insole.simulator import PROFILES, simulate_walk
from insole.simulator.imu_model import SimulatedImu
from insole.simulator.session import simulate_session
from pipeline.analysis.imu import ImuAnalysisError, ImuReason, ImuStrideSpeed, integrate_stride
from pipeline.analysis.imu import quaternions as Q

#: Slow, normal and fast walking (m/s).
PACES = {"slow": 0.8, "normal": 1.3, "fast": 1.8}


def walk_imu(speed_m_s: float = 1.3, seed: int = 1, side: str = "left", duration_s: float = 60.0,
             rate_hz: float = 100.0, **imu_kw):
    """A simulated walk's IMU samples (realistic noise, biases, scale errors and tilt by default), its stances
    and the true stride lengths."""
    walk = simulate_walk(dataclasses.replace(PROFILES["neutral"], speed_m_s=speed_m_s), duration_s + 2, seed=seed)
    imu = SimulatedImu(seed, side, **imu_kw)
    t = np.arange(0.0, duration_s, 1.0 / rate_hz)
    samples = imu.measure(walk, t)
    ic, to = walk.truth(side)
    inside = to < duration_s
    truth_x = imu.trajectory(walk).flat_positions_m()[inside]
    return imu, t, samples, ic[inside], to[inside], np.diff(truth_x)


@pytest.mark.parametrize("pace", list(PACES))
@pytest.mark.parametrize("side", ["left", "right"])
def test_stride_length_and_speed_within_3_percent_of_truth(pace, side):
    """The issue's check: realistic IMU noise and bias (defaults of SimulatedImu), every stride within 3 %."""
    imu, t, s, ic, to, length = walk_imu(PACES[pace], seed=2, side=side)
    algo = ImuStrideSpeed().compute(s.acc_m_s2, s.gyr_rad_s, t, ic, to, acc_range_m_s2=imu.acc_range_m_s2,
                                    gyr_range_rad_s=imu.gyr_range_rad_s)
    st = algo.strides_
    assert algo.sensor_check_.usable and st.valid.all() and len(st) >= 40
    speed = length / np.diff(ic)
    np.testing.assert_allclose(st.stride_length_m, length, rtol=0.03)
    np.testing.assert_allclose(st.gait_speed_m_s, speed, rtol=0.03)
    assert algo.summary_.gait_speed_m_s == pytest.approx(np.median(speed), rel=0.015)
    assert algo.summary_.stride_length_m == pytest.approx(np.median(length), rel=0.015)
    assert algo.summary_.n_valid == len(st) and algo.summary_.has_figures
    # the gates' figures are small for a good sensor: residual, tilt drift, height change
    assert np.nanmax(st.velocity_residual_m_s) < 0.2 and np.nanmax(st.orientation_drift_deg) < 1.5
    assert np.nanmax(np.abs(st.height_change_m)) < 0.05
    # the strides change with the walker's speed fluctuation, and the estimate follows them stride by stride
    assert np.corrcoef(st.stride_length_m, length)[0, 1] > 0.9


def test_a_simulated_session_recorded_through_the_recorder(tmp_path):
    """simulate -> recorder -> session file (IMU block, truth) -> read_imu -> stride speed."""
    path = tmp_path / "imu.h5"
    simulate_session(path, duration_s=40, seed=3, device_params="imu=1&speed_m_s=1.1")
    with open_session(path) as r:
        truth, params = r.truth()
        for side in r.sides:
            ev = truth[side]
            algo = ImuStrideSpeed().compute_session_imu(r.read_imu(side), ev["ic_s"], ev["to_s"])
            length = np.diff(ev["foot_position_m"])
            assert algo.summary_.n_valid == len(length) > 25
            np.testing.assert_allclose(algo.strides_.stride_length_m, length, rtol=0.03)
            assert algo.summary_.gait_speed_m_s == pytest.approx(params["speed_m_s"], rel=0.03)


def test_a_session_without_imu_gives_no_figures_and_says_so(neutral_session):
    with open_session(neutral_session) as r:
        truth, _ = r.truth()
        imu = r.read_imu("left")
    assert imu is None
    algo = ImuStrideSpeed().compute_session_imu(imu, truth["left"]["ic_s"], truth["left"]["to_s"])
    assert algo.summary_.reason is ImuReason.NO_IMU and not algo.summary_.has_figures
    assert "no IMU data" in algo.summary_.message
    assert np.isnan(algo.summary_.gait_speed_m_s) and algo.summary_.n_valid == 0
    assert len(algo.strides_) == algo.summary_.n_strides > 0 and np.isnan(algo.strides_.gait_speed_m_s).all()
    assert set(algo.strides_.reason) == {ImuReason.NO_IMU}


@pytest.mark.parametrize(("mount", "expect"), [
    ("upside-down", "gravity is measured along -z"),
    ("mirrored", "toe-down; a walking foot turns toe-up"),
    ("swapped-xy", "largest turn is about x"),
])
def test_a_wrong_axis_convention_is_a_quality_failure_with_the_reason(mount, expect):
    imu, t, s, ic, to, _ = walk_imu(1.3, duration_s=30, mount=mount)
    algo = ImuStrideSpeed().compute(s.acc_m_s2, s.gyr_rad_s, t, ic, to)
    assert algo.summary_.reason is ImuReason.AXIS_CONVENTION and expect in algo.summary_.message
    assert algo.summary_.n_valid == 0 and np.isnan(algo.strides_.stride_length_m).all()


@pytest.mark.parametrize("range_known", [True, False])
def test_a_saturated_gyroscope_is_a_quality_failure_not_a_wrong_speed(range_known):
    """±250 deg/s clips the swing (the foot turns at up to ~550 deg/s at 1.3 m/s): with the range stated, and
    without it (flat tops)."""
    imu, t, s, ic, to, _ = walk_imu(1.3, duration_s=30, gyr_range_dps=250)
    ranges = {"gyr_range_rad_s": imu.gyr_range_rad_s} if range_known else {}
    algo = ImuStrideSpeed().compute(s.acc_m_s2, s.gyr_rad_s, t, ic, to, **ranges)
    assert algo.summary_.reason is ImuReason.GYRO_SATURATED and not algo.summary_.has_figures
    assert "gyroscope is at its range" in algo.summary_.message
    assert set(algo.strides_.reason) == {ImuReason.GYRO_SATURATED}


def test_a_saturated_accelerometer_is_a_quality_failure():
    imu, t, s, ic, to, _ = walk_imu(1.3, duration_s=30, acc_range_g=2)
    for ranges in ({"acc_range_m_s2": imu.acc_range_m_s2}, {}):
        algo = ImuStrideSpeed().compute(s.acc_m_s2, s.gyr_rad_s, t, ic, to, **ranges)
        assert algo.summary_.reason is ImuReason.ACC_SATURATED


def test_wrong_units_rate_or_frame_are_refused_with_what_is_needed():
    imu, t, s, ic, to, _ = walk_imu(1.3, duration_s=30)
    algo = ImuStrideSpeed()
    r = algo.compute(s.acc_m_s2 / 9.80665, s.gyr_rad_s, t, ic, to).summary_
    assert r.reason is ImuReason.GRAVITY and "looks like g" in r.message
    r = algo.compute(s.acc_m_s2, np.degrees(s.gyr_rad_s), t, ic, to).summary_
    assert r.reason is ImuReason.GYRO_SCALE and "deg/s given as rad/s" in r.message
    r = algo.compute(s.acc_m_s2, s.gyr_rad_s, t, ic, to, frame="sensor").summary_
    assert r.reason is ImuReason.SENSOR_FRAME
    imu50, t50, s50, ic50, to50, _ = walk_imu(1.3, duration_s=30, rate_hz=50)
    r = algo.compute(s50.acc_m_s2, s50.gyr_rad_s, t50, ic50, to50).summary_
    assert r.reason is ImuReason.SAMPLING_RATE and "at least 100 Hz" in r.message
    check = algo.compute(s50.acc_m_s2, s50.gyr_rad_s, t50, ic50, to50, frame="sensor").sensor_check_
    assert [f[0] for f in check.failures] == [ImuReason.SENSOR_FRAME, ImuReason.SAMPLING_RATE]  # every failure


def test_per_stride_gates_reject_only_the_strides_concerned():
    imu, t, s, ic, to, length = walk_imu(1.3, duration_s=30)
    acc, gyr = s.acc_m_s2.copy(), s.gyr_rad_s.copy()
    # stride 5: three samples lost in its swing; stride 9: a 0.2 s forward acceleration error of 5 m/s2 (a knock)
    mid5 = np.searchsorted(t, 0.5 * (to[5] + ic[6]))
    keep = np.ones(len(t), bool)
    keep[mid5 : mid5 + 3] = False
    mid9 = np.searchsorted(t, 0.5 * (to[9] + ic[10]))
    acc[mid9 : mid9 + 20, 0] += 5.0
    algo = ImuStrideSpeed().compute(acc[keep], gyr[keep], t[keep], ic, to)
    reasons = algo.strides_.reason
    assert reasons[5] is ImuReason.SAMPLES_MISSING and "gap of 40 ms" in algo.strides_.message[5]
    assert reasons[9] is ImuReason.VELOCITY_RESIDUAL and algo.strides_.velocity_residual_m_s[9] > 0.5
    others = [k for k in range(len(reasons)) if k not in (5, 9)]
    assert all(reasons[k] is ImuReason.OK for k in others)
    assert algo.summary_.n_valid == len(others) and algo.summary_.rejected == {"samples_missing": 1,
                                                                                 "velocity_residual": 1}
    np.testing.assert_allclose(algo.strides_.stride_length_m[others], length[others], rtol=0.03)
    # one missing sample is integrated across (max_missing_samples=1)
    keep1 = np.ones(len(t), bool)
    keep1[mid5] = False
    assert ImuStrideSpeed().compute(s.acc_m_s2[keep1], s.gyr_rad_s[keep1], t[keep1], ic, to).strides_.valid.all()


def test_a_pause_between_stances_is_not_a_stride():
    imu, t, s, ic, to, _ = walk_imu(1.3, duration_s=30)
    drop = [6, 7, 8, 9]  # the pressure found no stance for a while: stances 5 and 10 become neighbours
    keep = np.setdiff1d(np.arange(len(ic)), drop)
    algo = ImuStrideSpeed(max_stride_s=2.5).compute(s.acc_m_s2, s.gyr_rad_s, t, ic[keep], to[keep])
    k = int(np.flatnonzero(keep == 5)[0])
    assert algo.strides_.reason[k] is ImuReason.STRIDE_TOO_LONG


def test_arguments_are_checked():
    imu, t, s, ic, to, _ = walk_imu(1.3, duration_s=10)
    algo = ImuStrideSpeed()
    with pytest.raises(ImuAnalysisError, match=r"\(n, 3\)"):
        algo.compute(s.acc_m_s2[:, :2], s.gyr_rad_s, t, ic, to)
    with pytest.raises(ImuAnalysisError, match="strictly increasing"):
        algo.compute(s.acc_m_s2, s.gyr_rad_s, t[::-1], ic, to)
    with pytest.raises(ImuAnalysisError, match="pair up"):
        algo.compute(s.acc_m_s2, s.gyr_rad_s, t, ic, to[:-1])
    with pytest.raises(ImuAnalysisError, match="time order"):
        algo.compute(s.acc_m_s2, s.gyr_rad_s, t, ic, ic)


def test_quaternion_running_product_matches_the_sequential_one():
    rng = np.random.default_rng(0)
    q0 = Q.from_rotation_vector(np.array([0.1, -0.2, 0.3]))
    inc = Q.from_rotation_vector(rng.normal(0, 0.1, (37, 3)))
    scan = Q.running_product(q0, inc)
    q = q0
    for k in range(len(inc)):
        q = Q.multiply(q, inc[k])
        np.testing.assert_allclose(scan[k + 1], q / np.linalg.norm(q), atol=1e-12)
    # rotate agrees with the rotation matrix, align turns one direction onto another, rotvec round trip
    v = rng.normal(size=3)
    half = Q.from_rotation_vector(np.array([0.0, 0.0, np.pi / 2]))
    np.testing.assert_allclose(Q.rotate(half, np.array([1.0, 0.0, 0.0])), [0.0, 1.0, 0.0], atol=1e-12)
    a = Q.align(v, np.array([0.0, 0.0, 1.0]))
    np.testing.assert_allclose(Q.rotate(a, v / np.linalg.norm(v)), [0.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(Q.rotate(Q.align([0, 0, -1.0], [0, 0, 1.0]), np.array([0, 0, -1.0])), [0, 0, 1.0],
                               atol=1e-12)
    np.testing.assert_allclose(Q.to_rotation_vector(Q.from_rotation_vector(np.array([0.3, 0.1, -2.0]))),
                               [0.3, 0.1, -2.0], atol=1e-12)


def test_strapdown_of_a_known_motion():
    """A sensor carried 1.2 m forward with a smooth (minimum-jerk) profile, tilted 5 degrees throughout: the
    integration finds the displacement, no residual, no drift."""
    t = np.arange(0, 1.0 + 1e-9, 0.01)
    s = t / t[-1]
    acc_x = 1.2 * (60 * s - 180 * s**2 + 120 * s**3) / t[-1] ** 2
    tilt = np.radians(5.0)
    # world specific force (acc_x, 0, g) seen by a sensor pitched by `tilt` about y
    g = 9.80665
    c, sn = np.cos(tilt), np.sin(tilt)
    body = np.column_stack([c * acc_x - sn * g, np.zeros_like(t), sn * acc_x + c * g])
    traj = integrate_stride(t, body, np.zeros((len(t), 3)), body[0], body[-1])
    assert traj.stride_length_m == pytest.approx(1.2, rel=2e-3)
    assert np.linalg.norm(traj.velocity_residual_m_s) < 1e-3 and traj.orientation_drift_rad < 1e-9
    assert traj.gravity_m_s2 == pytest.approx(g)
