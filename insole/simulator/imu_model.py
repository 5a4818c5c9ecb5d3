"""The foot-mounted IMU of the simulated insole: what a consumer MEMS sensor would report of the true foot motion.

The motion is :class:`~insole.simulator.foot_motion.FootTrajectory` (rollover over heel and toes, a still foot
flat, a smooth swing). The accelerometer measures specific force in the sensor frame, ``R.T @ (acceleration +
g z)``, the gyroscope the body angular rate. The sensor errors (:class:`SimulatedImu`): a mounting tilt of a few
degrees, per-axis scale-factor errors, constant biases, white noise, 16-bit quantisation and saturation at the
range. Their defaults are those of a consumer MEMS IMU (e.g. LSM6DS3 class: ±16 g, ±2000 deg/s; biases of the order
of 10 mg and 2 deg/s, as seen at rest in the Moticon exports). ``imu_mount`` fakes a wrongly declared axis
convention, for the quality checks of the stride analysis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from insole.devices import url_choice, url_number
from insole.frames import Side
from insole.imu import FOOT_AXES, RAD_S_PER_DPS, STANDARD_GRAVITY_M_S2, ImuInfo, ImuSamples
from insole.simulator.foot_motion import FootTrajectory
from insole.simulator.gait_model import SimulatedWalk

#: ``sim://`` URL parameters of the simulated IMU and their defaults (see :class:`SimulatedImu`).
IMU_URL_PARAMS = {
    "imu": "0",
    "imu_acc_noise_m_s2": "0.05",
    "imu_gyr_noise_dps": "0.15",
    "imu_acc_bias_m_s2": "0.1",
    "imu_gyr_bias_dps": "2",
    "imu_scale_error_pct": "0.5",
    "imu_tilt_deg": "3",
    "imu_acc_range_g": "16",
    "imu_gyr_range_dps": "2000",
    "imu_mount": "foot",
}
#: Faked axis conventions: how the values the device calls "foot frame" really relate to it.
MOUNTS = ("foot", "upside-down", "mirrored", "swapped-xy")
_MOUNT_MATRICES = {
    "foot": np.eye(3),
    "upside-down": np.diag([1.0, -1.0, -1.0]),  # rotated 180 degrees about x, declared as if upright
    "mirrored": np.diag([1.0, -1.0, 1.0]),  # y flipped on both sensors, as a naive left/right mirroring would
    "swapped-xy": np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),  # x and y exchanged
}


def _small_rotation(rng: np.random.Generator, sd_rad: float) -> np.ndarray:
    """A random rotation of a few degrees (Rodrigues' formula on a normal rotation vector)."""
    v = rng.normal(0.0, sd_rad, 3)
    angle = float(np.linalg.norm(v))
    if angle == 0.0:
        return np.eye(3)
    k = v / angle
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(angle) * K + (1 - math.cos(angle)) * K @ K


class SimulatedImu:
    """The sensor errors of a simulated insole IMU (module docstring); built from ``sim://`` parameters.

    Parameters
    ----------
    seed : int
        Random seed of the device; with ``side`` it fixes biases, scale errors, mounting tilt and the noise.
    side : {"left", "right"}
    acc_noise_m_s2, gyr_noise_dps : float
        White-noise SD per sample.
    acc_bias_m_s2, gyr_bias_dps : float
        SD of the constant per-axis biases (drawn once per device).
    scale_error_pct : float
        SD of the per-axis scale-factor errors.
    tilt_deg : float
        SD of the mounting misalignment about each axis.
    acc_range_g, gyr_range_dps : float
        Full scales: values are quantised to 16 bits over them and clip at them (saturation).
    mount : {"foot", "upside-down", "mirrored", "swapped-xy"}
        ``foot`` is right; the others fake a wrongly declared axis convention (for the quality checks).
    """

    def __init__(self, seed: int, side: Side, *, acc_noise_m_s2: float = 0.05, gyr_noise_dps: float = 0.15,
                 acc_bias_m_s2: float = 0.1, gyr_bias_dps: float = 2.0, scale_error_pct: float = 0.5,
                 tilt_deg: float = 3.0, acc_range_g: float = 16.0, gyr_range_dps: float = 2000.0,
                 mount: str = "foot") -> None:
        if mount not in MOUNTS:
            raise ValueError(f"imu_mount must be one of {MOUNTS}, got {mount!r}")
        side_id = 0 if side == "left" else 1
        self.seed, self.side, self.mount = seed, side, mount
        rng = np.random.default_rng([seed, side_id, 12])
        self.acc_bias_m_s2 = rng.normal(0.0, acc_bias_m_s2, 3)
        self.gyr_bias_rad_s = rng.normal(0.0, gyr_bias_dps * RAD_S_PER_DPS, 3)
        self.acc_scale = 1.0 + rng.normal(0.0, scale_error_pct / 100.0, 3)
        self.gyr_scale = 1.0 + rng.normal(0.0, scale_error_pct / 100.0, 3)
        self.mounting = _small_rotation(rng, math.radians(tilt_deg))  # sensor axes in the foot frame (columns)
        self.acc_noise_m_s2 = acc_noise_m_s2
        self.gyr_noise_rad_s = gyr_noise_dps * RAD_S_PER_DPS
        self.acc_range_m_s2 = acc_range_g * STANDARD_GRAVITY_M_S2
        self.gyr_range_rad_s = gyr_range_dps * RAD_S_PER_DPS
        self._noise = np.random.default_rng([seed, side_id, 11])
        self._trajectory: FootTrajectory | None = None

    @classmethod
    def from_url(cls, params: Mapping[str, str], seed: int, side: Side) -> SimulatedImu | None:
        """The IMU described by ``sim://`` parameters (:data:`IMU_URL_PARAMS`), or None when ``imu=0``."""
        if not int(url_number("sim://", params, "imu", 0, 1)):
            return None

        def num(key: str, lo: float, hi: float) -> float:
            return url_number("sim://", params, key, lo, hi)

        return cls(
            seed, side, acc_noise_m_s2=num("imu_acc_noise_m_s2", 0, 10), gyr_noise_dps=num("imu_gyr_noise_dps", 0, 100),
            acc_bias_m_s2=num("imu_acc_bias_m_s2", 0, 10), gyr_bias_dps=num("imu_gyr_bias_dps", 0, 100),
            scale_error_pct=num("imu_scale_error_pct", 0, 20), tilt_deg=num("imu_tilt_deg", 0, 45),
            acc_range_g=num("imu_acc_range_g", 1, 64), gyr_range_dps=num("imu_gyr_range_dps", 30, 5000),
            mount=url_choice("sim://", params, "imu_mount", MOUNTS, "foot"),
        )

    def info(self, sampling_rate_hz: float) -> ImuInfo:
        """The description a device with this IMU gives (ranges; axes declared as the foot frame)."""
        return ImuInfo(
            sampling_rate_hz=float(sampling_rate_hz), acc_range_m_s2=self.acc_range_m_s2,
            gyr_range_rad_s=self.gyr_range_rad_s, frame="foot", calibrated=False,
            description=f"simulated foot-mounted MEMS IMU in the insole under the midfoot ({FOOT_AXES}; "
                        f"declared mounting 'foot', simulated mounting {self.mount!r})",
        )

    def trajectory(self, walk: SimulatedWalk) -> FootTrajectory:
        """The true motion of this foot of ``walk`` (built once)."""
        if self._trajectory is None or self._trajectory.walk is not walk:
            self._trajectory = FootTrajectory(walk, self.side)
        return self._trajectory

    def measure(self, walk: SimulatedWalk, t_s: np.ndarray) -> ImuSamples:
        """What the IMU reports at walk times ``t_s``: true motion through the sensor errors."""
        motion = self.trajectory(walk).motion(t_s)
        to_sensor = self.mounting.T
        acc = motion.acc_m_s2 @ to_sensor.T * self.acc_scale + self.acc_bias_m_s2
        gyr = motion.gyr_rad_s @ to_sensor.T * self.gyr_scale + self.gyr_bias_rad_s
        n = len(acc)
        acc = acc + self._noise.normal(0.0, self.acc_noise_m_s2, (n, 3))
        gyr = gyr + self._noise.normal(0.0, self.gyr_noise_rad_s, (n, 3))
        wrong = _MOUNT_MATRICES[self.mount]
        acc, gyr = acc @ wrong.T, gyr @ wrong.T
        return ImuSamples(_digitise(acc, self.acc_range_m_s2), _digitise(gyr, self.gyr_range_rad_s))


def _digitise(x: np.ndarray, full_scale: float) -> np.ndarray:
    """16-bit quantisation over ``±full_scale`` with saturation at the range."""
    lsb = full_scale / 32768.0
    return np.clip(np.round(x / lsb), -32768, 32767) * lsb
