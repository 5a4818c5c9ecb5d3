"""Typed results of the IMU stride analysis: why a figure is (not) given, the sensor check, per-stride figures.

Consumers decide on :class:`ImuReason` codes, never on message text; messages are for people.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np


class ImuReason(enum.StrEnum):
    """Why a stride (or a whole foot) has, or has no, IMU figures."""

    #: Valid: the figures may be used.
    OK = "ok"
    #: The session has no IMU samples for this foot.
    NO_IMU = "no_imu"
    #: The samples are in the device's own axes (mounting unknown): not in the foot sensor frame.
    SENSOR_FRAME = "sensor_frame"
    #: The IMU is sampled below the minimum rate.
    SAMPLING_RATE = "sampling_rate"
    #: The acceleration at rest is not 1 g in m/s² (wrong units or an uncalibrated accelerometer).
    GRAVITY = "gravity"
    #: Gravity at rest or the swing rotation contradict the foot sensor frame (axes exchanged, inverted, mirrored).
    AXIS_CONVENTION = "axis_convention"
    #: The foot turns implausibly far from toe-off to contact (gyroscope units or scale wrong, e.g. deg/s as rad/s).
    GYRO_SCALE = "gyro_scale"
    #: Too few stances to check the sensor.
    TOO_FEW_STANCES = "too_few_stances"
    #: The gyroscope reached its range during the stride.
    GYRO_SATURATED = "gyro_saturated"
    #: The accelerometer reached its range during the stride.
    ACC_SATURATED = "acc_saturated"
    #: IMU samples are missing inside the stride (a gap, or frames without IMU values).
    SAMPLES_MISSING = "samples_missing"
    #: A stance of the stride has no moment where the foot is still (no zero-velocity update possible).
    NO_STILL_PHASE = "no_still_phase"
    #: The stride is longer than the integration is trusted for (a pause, not a stride).
    STRIDE_TOO_LONG = "stride_too_long"
    #: The gyroscope's integrated tilt misses gravity at the end of the stride by more than the limit.
    ORIENTATION_DRIFT = "orientation_drift"
    #: The integrated velocity at the end of the stride (which must be zero) exceeds the limit.
    VELOCITY_RESIDUAL = "velocity_residual"


@dataclass(frozen=True)
class SensorCheck:
    """Whether one foot's IMU can give stride lengths and speeds, with the figures behind the decision.

    Attributes
    ----------
    usable : bool
        Every check passed.
    reason : ImuReason
        ``OK``, or the first check that failed.
    message : str
        What was found and what is needed (empty when usable).
    failures : tuple of (ImuReason, str)
        Every failed check, in the order checked.
    sampling_rate_hz : float
        Measured from the time stamps (median interval).
    gravity_m_s2 : float
        Median acceleration magnitude in the still phases of the stances (NaN when none were found).
    gravity_tilt_deg : float
        Median angle between that acceleration and ``+z`` (0 for an insole lying flat).
    swing_rotation_deg : numpy.ndarray, shape (3,)
        Median rotation about x, y, z from toe-off to the next contact (walking: clearly negative about y).
    gyr_bias_rad_s : numpy.ndarray, shape (3,)
        Gyroscope bias estimated in the still phases and removed before integration.
    n_stances : int
        Stances with a still phase, behind these figures.
    """

    usable: bool
    reason: ImuReason
    message: str
    failures: tuple[tuple[ImuReason, str], ...] = ()
    sampling_rate_hz: float = float("nan")
    gravity_m_s2: float = float("nan")
    gravity_tilt_deg: float = float("nan")
    swing_rotation_deg: np.ndarray = field(default_factory=lambda: np.full(3, np.nan))
    gyr_bias_rad_s: np.ndarray = field(default_factory=lambda: np.zeros(3))
    n_stances: int = 0


@dataclass(frozen=True)
class ImuStrides:
    """Per-stride figures of one foot; one entry per pair of consecutive stances, time on axis 0.

    A stride runs from initial contact ``ic_s`` to the next one, ``next_ic_s``; the IMU integrates from the still
    moment of its first stance (``still_start_s``) to that of the next (``still_end_s``). ``stride_length_m`` and
    ``gait_speed_m_s`` are NaN unless ``reason`` is ``OK``; the residual and drift are kept for every stride that
    was integrated (NaN otherwise), so that a failure can be understood.

    Attributes
    ----------
    ic_s, next_ic_s : numpy.ndarray, shape (n,)
        Initial contacts (session time, s) opening and closing the stride.
    still_start_s, still_end_s : numpy.ndarray, shape (n,)
        Zero-velocity instants the integration runs between.
    stride_time_s : numpy.ndarray
        ``next_ic_s - ic_s``.
    stride_length_m : numpy.ndarray
        Horizontal displacement of the foot between the two still moments.
    gait_speed_m_s : numpy.ndarray
        ``stride_length_m / stride_time_s``.
    velocity_residual_m_s : numpy.ndarray
        Magnitude of the integrated velocity at the end of the stride before de-drifting (ideally 0).
    orientation_drift_deg : numpy.ndarray
        Tilt error of the integrated orientation at the end of the stride, corrected before integrating position.
    height_change_m : numpy.ndarray
        Vertical displacement over the stride (about 0 on level ground).
    reason : tuple of ImuReason
    message : tuple of str
        Why a stride is not valid ("" for valid strides).
    """

    ic_s: np.ndarray
    next_ic_s: np.ndarray
    still_start_s: np.ndarray
    still_end_s: np.ndarray
    stride_time_s: np.ndarray
    stride_length_m: np.ndarray
    gait_speed_m_s: np.ndarray
    velocity_residual_m_s: np.ndarray
    orientation_drift_deg: np.ndarray
    height_change_m: np.ndarray
    reason: tuple[ImuReason, ...]
    message: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.ic_s)

    @property
    def valid(self) -> np.ndarray:
        """True for strides whose figures may be used."""
        return np.array([r is ImuReason.OK for r in self.reason], bool)

    @classmethod
    def empty(cls) -> ImuStrides:
        """No stride."""
        z = np.zeros(0)
        return cls(z, z, z, z, z, z, z, z, z, z, (), ())


@dataclass(frozen=True)
class ImuGaitSummary:
    """Stride length and gait speed of one foot from its IMU, with the number of strides behind them.

    Attributes
    ----------
    reason : ImuReason
        ``OK`` when figures are given; otherwise why there are none (no IMU, the sensor check, no valid stride).
    message : str
        For people: what was missing or wrong.
    n_strides : int
        Strides offered (pairs of consecutive stances).
    n_valid : int
        Strides behind the figures.
    stride_length_m, gait_speed_m_s : float
        Medians over the valid strides (NaN without figures).
    stride_length_iqr_m, gait_speed_iqr_m_s : tuple of float
        25th and 75th percentiles.
    rejected : dict of str to int
        Invalid strides per reason code.
    """

    reason: ImuReason
    message: str
    n_strides: int = 0
    n_valid: int = 0
    stride_length_m: float = float("nan")
    gait_speed_m_s: float = float("nan")
    stride_length_iqr_m: tuple[float, float] = (float("nan"), float("nan"))
    gait_speed_iqr_m_s: tuple[float, float] = (float("nan"), float("nan"))
    rejected: dict[str, int] = field(default_factory=dict)

    @property
    def has_figures(self) -> bool:
        """True when stride length and speed are given."""
        return self.reason is ImuReason.OK
