"""Is this IMU fit for stride length and speed? Sampling rate, axes, gravity, saturation: each with its reason.

What a foot-mounted IMU must satisfy for the strapdown integration (figures in ``docs/imu.md``):

* **Sampling rate** of at least 100 Hz: the foot turns at up to 10 rad/s (600 deg/s) in swing, and the strapdown
  integration of the pitch and of the swing acceleration loses accuracy at lower rates.
* **Foot sensor frame** (x anterior, y left, z up): checked, not trusted. At rest the specific force must point
  within ``max_tilt_deg`` of ``+z``, and from toe-off to the next contact the foot must turn toe-up, i.e. clearly
  negatively about ``y`` and more about ``y`` than about x or z. An upside-down sensor, exchanged axes or a
  "mirrored" left foot (``y`` flipped, which makes the frame left-handed) fail here, with the reason.
* **Gravity** at rest within ``gravity_tolerance`` of 9.81 m/s² (a value near 1 means g instead of m/s²).
* **Gyroscope scale**: the toe-up turn from toe-off to contact at most ``max_swing_pitch_deg`` (walking turns the
  foot by about 40-120 degrees; deg/s taken for rad/s makes it thousands).
* **Unsaturated** gyroscope and accelerometer during each stride (checked per stride: at the stated range, or,
  when the range is unknown, flat-topped runs at the largest values).
"""

from __future__ import annotations

import math

import numpy as np

from pipeline.analysis.imu.results import ImuReason, SensorCheck

STANDARD_GRAVITY_M_S2 = 9.80665
#: A measured rate this much below the minimum still passes (device crystals and the clock fit differ by ppm to %).
RATE_TOLERANCE = 0.02


def measured_rate_hz(time_s: np.ndarray) -> float:
    """Sampling rate from the median interval of the time stamps (NaN with fewer than two samples)."""
    if len(time_s) < 2:
        return math.nan
    return float(1.0 / np.median(np.diff(time_s)))


def saturated_samples(x: np.ndarray, range_: float, *, margin: float = 0.98, floor: float = 0.0) -> np.ndarray:
    """Samples (rows of ``x``, shape (n, 3)) where any axis sits at the sensor's range.

    With a known ``range_``: any ``|value| >= margin * range_``. With an unknown one (NaN): runs of three or more
    equal values (a clipped signal is flat) at 95 % or more of the largest magnitude of that axis and above
    ``floor`` (so that the quantised rest values are not taken for clipping).
    """
    x = np.asarray(x, np.float64)
    finite = np.where(np.isfinite(x), x, 0.0)
    if math.isfinite(range_):
        return np.any(np.abs(finite) >= margin * range_, axis=1)
    out = np.zeros(len(x), bool)
    if len(x) < 3:
        return out
    top = np.max(np.abs(finite), axis=0)
    for k in range(x.shape[1]):
        c = finite[:, k]
        flat = np.zeros(len(c), bool)
        flat[1:-1] = (c[1:-1] == c[:-2]) & (c[1:-1] == c[2:])
        run = flat | np.r_[flat[1:], False] | np.r_[False, flat[:-1]]
        out |= run & (np.abs(c) >= 0.95 * top[k]) & (np.abs(c) > floor)
    return out


def check_sensor(
    *,
    frame: str,
    sampling_rate_hz: float,
    min_sampling_rate_hz: float,
    still_acc_m_s2: np.ndarray,
    swing_rotation_rad: np.ndarray,
    gyr_bias_rad_s: np.ndarray,
    min_stances: int,
    gravity_tolerance: float,
    max_tilt_deg: float,
    min_swing_pitch_deg: float,
    max_swing_pitch_deg: float = 180.0,
    n_stances_offered: int | None = None,
) -> SensorCheck:
    """Check one foot's IMU (module docstring); every failure is listed, the first one is the reason.

    Parameters
    ----------
    frame : {"foot", "sensor"}
        Frame the samples claim to be in.
    sampling_rate_hz, min_sampling_rate_hz : float
    still_acc_m_s2 : numpy.ndarray, shape (n_stances, 3)
        Mean specific force in the still phase of each stance that has one.
    swing_rotation_rad : numpy.ndarray, shape (n_swings, 3)
        Integrated (bias-corrected) rotation from each toe-off to the next contact.
    gyr_bias_rad_s : numpy.ndarray, shape (3,)
    min_stances : int
        Fewest stances with a still phase for a check.
    gravity_tolerance : float
        Allowed relative deviation of the rest acceleration from 9.81 m/s².
    max_tilt_deg : float
        Largest angle of gravity from ``+z`` at rest.
    min_swing_pitch_deg, max_swing_pitch_deg : float
        Smallest and largest toe-up rotation (about ``-y``) from toe-off to the next contact.
    n_stances_offered : int, optional
        Stances given (with or without a still phase), for the message when too few are still.
    """
    failures: list[tuple[ImuReason, str]] = []
    n = len(still_acc_m_s2)
    figures = {"sampling_rate_hz": sampling_rate_hz, "gyr_bias_rad_s": np.asarray(gyr_bias_rad_s, float),
               "n_stances": n}
    if frame != "foot":
        failures.append((ImuReason.SENSOR_FRAME, "the IMU values are in the device's own axes (its mounting in the "
                         "insole is not known), not in the foot sensor frame (x anterior, y left, z up)"))
    if not sampling_rate_hz >= min_sampling_rate_hz * (1.0 - RATE_TOLERANCE):
        failures.append((ImuReason.SAMPLING_RATE, f"the IMU is sampled at {sampling_rate_hz:.0f} Hz; stride length "
                         f"and speed need at least {min_sampling_rate_hz:.0f} Hz"))
    gravity = tilt = math.nan
    rotation = np.full(3, math.nan)
    if n < min_stances:
        hint = ("" if not n_stances_offered or n_stances_offered < min_stances else
                f" (of {n_stances_offered} stances, the foot never stops turning in the others: a moving foot, or "
                "a gyroscope in other units than rad/s)")
        failures.append((ImuReason.TOO_FEW_STANCES, f"{n} stance(s) with a still phase; at least {min_stances} are "
                         f"needed to check the sensor{hint}"))
    else:
        mag = np.linalg.norm(still_acc_m_s2, axis=1)
        gravity = float(np.median(mag))
        cos_tilt = np.clip(still_acc_m_s2[:, 2] / mag, -1.0, 1.0)
        tilt = float(np.degrees(np.median(np.arccos(cos_tilt))))
        if abs(gravity / STANDARD_GRAVITY_M_S2 - 1.0) > gravity_tolerance:
            hint = (" (it looks like g, not m/s²)" if 0.9 < gravity < 1.1 else
                    " (wrong units, or an accelerometer without calibration)")
            failures.append((ImuReason.GRAVITY, f"the acceleration of the foot at rest is {gravity:.2f} m/s², not "
                             f"9.81 ± {100 * gravity_tolerance:.0f} %{hint}"))
        if tilt > max_tilt_deg:
            axis = int(np.argmax(np.abs(np.median(still_acc_m_s2, axis=0))))
            sign = "+" if np.median(still_acc_m_s2[:, axis]) > 0 else "-"
            failures.append((ImuReason.AXIS_CONVENTION, f"at rest gravity is measured along {sign}{'xyz'[axis]} "
                             f"({tilt:.0f} degrees from +z); the foot sensor frame has z up (upside-down sensor or "
                             "exchanged axes?)"))
        if len(swing_rotation_rad):
            rotation = np.degrees(np.median(swing_rotation_rad, axis=0))
            pitch = rotation[1]
            other = max(abs(rotation[0]), abs(rotation[2]))
            if pitch > min_swing_pitch_deg:
                failures.append((ImuReason.AXIS_CONVENTION, f"from toe-off to contact the foot turned {pitch:+.0f} "
                                 "degrees about y, i.e. toe-down; a walking foot turns toe-up (negative about y, "
                                 "which points left): the y axis or the gyroscope's sign is inverted (a mirrored "
                                 "foot?)"))
            elif -pitch > max_swing_pitch_deg:
                failures.append((ImuReason.GYRO_SCALE, f"from toe-off to contact the foot turned {-pitch:.0f} "
                                 f"degrees toe-up; walking turns it by about 40-120 (at most {max_swing_pitch_deg:.0f} "
                                 "accepted): the gyroscope's units or scale are wrong (deg/s given as rad/s?)"))
            elif -pitch < min_swing_pitch_deg or other > 0.67 * abs(pitch):
                big = "xyz"[int(np.argmax(np.abs(rotation)))]
                failures.append((ImuReason.AXIS_CONVENTION, f"from toe-off to contact the foot turned "
                                 f"{rotation[0]:+.0f}/{rotation[1]:+.0f}/{rotation[2]:+.0f} degrees about x/y/z; "
                                 f"walking turns it mostly toe-up about y, here the largest turn is about {big} "
                                 "(exchanged axes?)"))
    figures.update(gravity_m_s2=gravity, gravity_tilt_deg=tilt, swing_rotation_deg=rotation)
    if failures:
        return SensorCheck(False, failures[0][0], failures[0][1], tuple(failures), **figures)
    return SensorCheck(True, ImuReason.OK, "", (), **figures)
