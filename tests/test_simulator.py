"""The simulated insole: physiology of the walk, profile signatures, device behaviour."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from insole.devices import open_device
from insole.errors import ConfigurationError
from insole.frames import FrameBatch
from insole.layouts import builtin_layout
from insole.simulator import PROFILES, simulate_walk
from insole.simulator.gait_model import cadence_steps_per_min, stance_share


def _cop_ml_mm(walk, side, layout, t):
    p = walk.pressure_kpa(side, t, layout)
    f = p * layout.area_mm2
    total = f.sum(axis=1)
    ok = total > 0.3 * total.max()
    return (f[ok] @ layout.y_mm) / total[ok]


def test_neutral_truth_matches_cadence_and_stance_share():
    walk = simulate_walk(PROFILES["neutral"], 120, seed=3)
    ic, to = walk.truth("left")
    stride = np.diff(ic)
    expected = 120.0 / cadence_steps_per_min(1.3)
    assert abs(np.median(stride) / expected - 1) < 0.02
    cv = stride.std() / stride.mean() * 100
    assert 0.7 < cv < 3.0  # healthy adults ~1.3-2 % (Hausdorff 1999)
    share = np.median((to - ic)[:-1] / stride)
    assert abs(share - stance_share(1.3)) < 0.02
    # right contacts fall at 35-65 % of the left stride; double support exists
    ric, rto = walk.truth("right")
    phase = (ric[1:20] - ic[1:20]) / stride[1:20]
    assert np.all((phase > 0.35) & (phase < 0.65))
    assert np.all(rto[:19] > ic[1:20])  # right toe-off after the next left contact: double support


def test_force_curve_has_two_peaks_and_a_valley():
    walk = simulate_walk(PROFILES["neutral"], 10, seed=1)
    ic, to = walk.truth("left")
    t = np.linspace(ic[1], to[1], 400, endpoint=False)
    f = walk.force_n("left", t) / walk.body_weight_n
    u = np.linspace(0, 1, 400, endpoint=False)
    first = f[(u > 0.1) & (u < 0.4)].max()
    valley = f[(u > 0.4) & (u < 0.6)].min()
    second = f[(u > 0.6) & (u < 0.9)].max()
    assert first > 1.0 and second > 1.0 and valley < 0.85 * min(first, second)
    assert f[0] < 0.05 and walk.force_n("left", np.array([to[1] + 0.05]))[0] == 0.0


def test_cop_travels_heel_to_toe():
    walk = simulate_walk(PROFILES["neutral"], 10, seed=1)
    layout = builtin_layout(16)
    ic, to = walk.truth("left")
    t = np.linspace(ic[1] + 0.01, to[1] - 0.01, 60)
    p = walk.pressure_kpa("left", t, layout) * layout.area_mm2
    ap = (p @ layout.x_mm) / p.sum(axis=1)
    assert ap[0] < 0.2 * 260 and ap[-1] > 0.7 * 260
    assert np.corrcoef(np.arange(60), ap)[0, 1] > 0.9


@pytest.mark.parametrize("n_sensors", [8, 16, 99])
def test_profiles_order_the_medio_lateral_path(n_sensors):
    layout = builtin_layout(n_sensors)
    ml = {}
    for name in ("overpronation", "neutral", "oversupination"):
        walk = simulate_walk(PROFILES[name], 20, seed=2)
        ml[name] = np.mean(_cop_ml_mm(walk, "left", layout, np.arange(0, 20, 0.01)))
    assert ml["overpronation"] > ml["neutral"] + 2 > ml["oversupination"] + 4


def test_supination_loads_faster():
    rates = {}
    for name in ("neutral", "oversupination"):
        walk = simulate_walk(PROFILES[name], 20, seed=2)
        t = np.arange(0, 20, 0.001)
        f = walk.force_n("left", t) / walk.body_weight_n
        rates[name] = np.max(np.diff(f)) / 0.001
    assert rates["oversupination"] > 1.3 * rates["neutral"]


def test_leg_length_profile_follows_the_literature():
    walk = simulate_walk(PROFILES["leg-length-discrepancy"], 120, seed=4)
    stance = {s: np.median(np.subtract(*walk.truth(s)[::-1])) for s in ("left", "right")}
    assert 1.02 < stance["right"] / stance["left"] < 1.05  # long-leg stance +3.5 % (Pereiro-Buceta 2021)
    t = np.arange(0, 120, 0.01)
    peak = {s: np.percentile(walk.force_n(s, t), 99) for s in ("left", "right")}
    assert 0.84 < peak["right"] / peak["left"] < 0.92  # long-leg peak -12 %


def test_standing_has_no_steps_and_constant_load():
    walk = simulate_walk(PROFILES["standing"], 30, seed=1)
    assert len(walk.truth("left")[0]) == 0
    f = walk.force_n("left", np.arange(0, 30, 0.01))
    assert f.min() > 0.3 * walk.body_weight_n


def test_same_seed_same_walk_different_seed_different_walk():
    a, b, c = (simulate_walk(PROFILES["neutral"], 30, seed=s) for s in (5, 5, 6))
    np.testing.assert_array_equal(a.ic_s["left"], b.ic_s["left"])
    assert not np.allclose(a.ic_s["left"][:10], c.ic_s["left"][:10])


async def _collect(url, n_frames):
    dev = open_device(url)
    out = []
    async with dev:
        async for item in dev.stream():
            if isinstance(item, FrameBatch):
                out.append(item)
                if sum(len(b) for b in out) >= n_frames:
                    break
    return dev, out


def test_device_emits_batches_with_clock_and_dropouts():
    url = "sim://neutral?side=right&realtime=0&dropout_rate=0.05&clock_drift_ppm=50&clock_offset_s=10&seed=9"
    dev, batches = asyncio.run(_collect(url, 5000))
    seq = np.concatenate([b.sequence for b in batches]).astype(np.int64)
    dev_t = np.concatenate([b.device_time_us for b in batches]).astype(np.float64)
    assert np.all(np.diff(seq) >= 1)
    lost = (np.diff(seq) - 1).sum() / (seq[-1] - seq[0])
    assert 0.03 < lost < 0.07
    # device clock: offset 10 s, samples 10 ms apart on the device clock
    assert abs(dev_t[0] - (10e6 * (1 + 50e-6) + seq[0] * 1e4)) < 2
    assert dev.info.side == "right" and dev.info.n_sensors == 16


def test_raw_units_and_saturation():
    _, batches = asyncio.run(_collect("sim://oversupination?realtime=0&units=raw&seed=1", 500))
    p = np.concatenate([b.pressure for b in batches])
    assert p.max() <= 4094 and p.min() >= 0 and np.all(p == np.round(p))
    _, batches = asyncio.run(_collect("sim://neutral?realtime=0&saturation_kpa=200&seed=1", 500))
    assert np.concatenate([b.pressure for b in batches]).max() <= 200
    assert np.concatenate([b.saturated for b in batches]).any()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sim://moonwalk", "unknown profile 'moonwalk'"),
        ("sim://neutral?side=middle", "side must be one of"),
        ("sim://neutral?sensors=12", "no built-in layout has 12 sensors"),
        ("sim://neutral?rate_hz=abc", "rate_hz must be a number"),
        ("sim://neutral?speed_m_s=9", "speed_m_s must be between"),
        ("sim://neutral?wings=2", r"unknown parameter\(s\) wings; known: .*rate_hz.*speed_m_s"),
        ("sim://neutral?foot_mm=250", "foot_mm is now called foot_length_mm"),
        ("sim://neutral?side=left&side=right", "given twice"),
        ("neutral", "has no scheme"),
        ("usb://x", "unknown device scheme 'usb'"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(url, message):
    with pytest.raises(ConfigurationError, match=message):
        open_device(url)


# ------------------------------------------------------------------------------ foot-mounted IMU
@pytest.mark.parametrize("speed_m_s", [0.8, 1.3, 1.8])
def test_imu_trajectory_is_one_consistent_rigid_motion(speed_m_s):
    """The accelerometer's truth is the second derivative of the position, the gyroscope's the rate of the
    orientation (R^T dR/dt); the foot is still in foot flat; position and velocity are continuous."""
    import dataclasses

    from insole.simulator.foot_motion import FootTrajectory

    walk = simulate_walk(dataclasses.replace(PROFILES["neutral"], speed_m_s=speed_m_s), 12, seed=3)
    traj = FootTrajectory(walk, "left")
    dt = 1e-4
    t = np.arange(1.0, 10.0, dt)
    m = traj.motion(t)
    v = np.gradient(m.position_m, dt, axis=0)
    a = np.gradient(v, dt, axis=0)
    assert np.percentile(np.abs(a - m.acceleration_m_s2)[2:-2], 99.9) < 0.05
    dr = np.gradient(m.rotation, dt, axis=0)
    w = np.einsum("nji,njk->nik", m.rotation, dr)
    np.testing.assert_allclose(np.stack([w[:, 2, 1], w[:, 0, 2], w[:, 1, 0]], 1)[2:-2], m.gyr_rad_s[2:-2],
                               atol=1e-3)
    assert np.abs(np.diff(m.position_m, axis=0)).max() < 10 * dt  # continuous: no jump above ~10 m/s x dt
    # walking ranges: the foot turns by up to ~300-750 deg/s and never goes below the ground
    peak = np.degrees(np.abs(m.gyr_rad_s[:, 1]).max())
    assert 250 < peak < 800 and m.position_m[:, 2].min() >= 0.0
    # foot flat (20-50 % of stance): still, level, 1 g up
    ic, to = walk.truth("left")
    k = int(np.searchsorted(ic, 3.0))
    flat = (t > ic[k] + 0.25 * (to[k] - ic[k])) & (t < ic[k] + 0.45 * (to[k] - ic[k]))
    assert np.abs(v[flat]).max() < 1e-6 and np.abs(m.gyr_rad_s[flat]).max() < 1e-9
    np.testing.assert_allclose(m.acc_m_s2[flat], np.tile([0, 0, 9.80665], (flat.sum(), 1)), atol=1e-9)
    # truth of a stride: the flat foot moves by the walker's distance over the stride (speed +-3 %)
    stride = np.diff(traj.flat_positions_m())
    np.testing.assert_allclose(stride / np.diff(ic), speed_m_s, rtol=0.035)


def test_simulated_insole_with_imu_streams_it_describes_it_and_knows_its_truth():
    dev, batches = asyncio.run(_collect("sim://neutral?realtime=0&seed=2&imu=1&dropout_rate=0.05", 2000))
    assert dev.info.imu is not None and dev.info.imu.frame == "foot"
    assert dev.info.imu.gyr_range_rad_s == pytest.approx(np.radians(2000))
    acc = np.concatenate([b.imu.acc_m_s2 for b in batches])
    assert all(b.imu is not None and len(b.imu) == len(b) for b in batches)  # dropouts take the IMU rows too
    lsb = 16 * 9.80665 / 32768
    np.testing.assert_allclose(acc / lsb, np.round(acc / lsb), atol=1e-3)  # 16-bit quantised
    gyr = np.concatenate([b.imu.gyr_rad_s for b in batches])
    still = np.linalg.norm(gyr, axis=1) < 0.1  # foot flat (bias ~2 deg/s): 1 g
    assert still.mean() > 0.1 and 9.6 < np.median(np.linalg.norm(acc[still], axis=1)) < 10.0
    truth = dev.ground_truth()
    assert len(truth["foot_position_m"]) == len(truth["ic_host_s"]) and np.all(np.diff(truth["foot_position_m"]) > 0)
    plain, _ = asyncio.run(_collect("sim://neutral?realtime=0&seed=2", 10))
    assert plain.info.imu is None and "foot_position_m" not in plain.ground_truth()


def test_simulated_imu_errors_and_faked_mountings():
    from insole.simulator.imu_model import SimulatedImu

    walk = simulate_walk(PROFILES["neutral"], 12, seed=1)
    t = np.arange(2.0, 10.0, 0.01)
    good = SimulatedImu(1, "left").measure(walk, t)
    ideal = SimulatedImu(1, "left", acc_noise_m_s2=0, gyr_noise_dps=0, acc_bias_m_s2=0, gyr_bias_dps=0,
                         scale_error_pct=0, tilt_deg=0).measure(walk, t)
    rest = np.all(ideal.gyr_rad_s == 0, axis=1)  # foot flat
    error = good.acc_m_s2[rest] - ideal.acc_m_s2[rest]
    assert rest.mean() > 0.1 and 0.03 < error.std(axis=0).min() and np.abs(error).mean() < 1.0  # noise, bias, tilt
    upside = SimulatedImu(1, "left", acc_noise_m_s2=0, gyr_noise_dps=0, acc_bias_m_s2=0, gyr_bias_dps=0,
                          scale_error_pct=0, tilt_deg=0, mount="upside-down").measure(walk, t)
    np.testing.assert_allclose(upside.acc_m_s2[:, 2], -ideal.acc_m_s2[:, 2], atol=1e-3)
    clipped = SimulatedImu(1, "left", gyr_range_dps=250).measure(walk, t)
    assert np.abs(clipped.gyr_rad_s).max() == pytest.approx(np.radians(250), rel=1e-6)  # it clips at the range
    with pytest.raises(ConfigurationError, match="imu_mount must be one of"):
        open_device("sim://neutral?imu=1&imu_mount=sideways")
