"""Strapdown integration of one stride between two zero-velocity moments, with tilt and velocity de-drifting.

Steps (the stride-level approach of foot-mounted inertial gait analysis: Mariani et al. 2010, Rampp et al. 2015;
compared by Hannink et al. 2017, as in gaitmap's ``StrideLevelTrajectory``):

1. **Initial orientation** from gravity: the mean specific force of the first still window is turned onto ``+z``
   (the smallest such rotation; heading is arbitrary, so the world frame's x is roughly the foot's x).
2. **Orientation**: the bias-corrected angular rate is integrated as quaternion increments (mid-point rule), their
   running product taken by a parallel scan (:mod:`~pipeline.analysis.imu.quaternions`).
3. **Tilt de-drift**: at the end the foot is still again, so its specific force must point up; the rotation that
   takes the integrated direction onto ``+z`` is the tilt error (its angle is ``orientation_drift``). It is removed
   growing linearly over the stride, as a constant residual gyroscope bias would have built it up.
4. **Gravity removal**: world-frame specific force minus the gravity measured in the two still windows (their mean
   magnitude, which also absorbs a scale error of the accelerometer's vertical axis).
5. **Velocity** by trapezoidal integration from zero; at the end it must be zero again: what is left is the
   ``velocity_residual``, removed linearly over the stride (a constant acceleration error; Foxlin's zero-velocity
   update in its simplest, linear, form).
6. **Position** by trapezoidal integration; the stride length is its horizontal displacement.

References
----------
Foxlin E (2005). Pedestrian tracking with shoe-mounted inertial sensors. IEEE Comput Graph Appl 25(6):38-46.
Mariani B, Hoskovec C, Rochat S, Büla C, Penders J, Aminian K (2010). 3D gait assessment in young and elderly
subjects using foot-worn inertial sensors. J Biomech 43(15):2999-3006.
Rampp A, Barth J, Schülein S, Gaßmann K-G, Klucken J, Eskofier BM (2015). Inertial sensor-based stride parameter
calculation from gait sequences in geriatric patients. IEEE Trans Biomed Eng 62(4):1089-1097.
Hannink J, Ollenschläger M, Kluge F, Roth N, Klucken J, Eskofier BM (2017). Benchmarking foot trajectory
estimation methods for mobile gait analysis. Sensors 17(9):1940.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.analysis.imu import quaternions as Q
from pipeline.analysis.imu.trapezoid import cumulative_trapezoid

_UP = np.array([0.0, 0.0, 1.0])


@dataclass(frozen=True)
class StrideTrajectory:
    """The integrated stride (world frame: z up, x the foot's heading at the start).

    Attributes
    ----------
    time_s : numpy.ndarray, shape (m,)
    position_m, velocity_m_s : numpy.ndarray, shape (m, 3)
        After de-drifting; the position starts at 0.
    orientation : numpy.ndarray, shape (m, 4)
        Quaternions (scalar first) from the foot frame to the world frame, after the tilt correction.
    velocity_residual_m_s : numpy.ndarray, shape (3,)
        Integrated velocity at the end before de-drifting.
    orientation_drift_rad : float
        Tilt error at the end before correcting it.
    gravity_m_s2 : float
        Gravity removed (measured in the still windows).
    """

    time_s: np.ndarray
    position_m: np.ndarray
    velocity_m_s: np.ndarray
    orientation: np.ndarray
    velocity_residual_m_s: np.ndarray
    orientation_drift_rad: float
    gravity_m_s2: float

    @property
    def stride_length_m(self) -> float:
        """Horizontal displacement from start to end."""
        return float(np.hypot(*self.position_m[-1, :2]))

    @property
    def height_change_m(self) -> float:
        """Vertical displacement from start to end."""
        return float(self.position_m[-1, 2])


def integrate_stride(time_s: np.ndarray, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray, still_acc_start: np.ndarray,
                     still_acc_end: np.ndarray) -> StrideTrajectory:
    """Integrate one stride from its first sample (still) to its last (still again); see the module docstring.

    Parameters
    ----------
    time_s : numpy.ndarray, shape (m,)
        Sample times, strictly increasing; the first and the last sample are the zero-velocity moments.
    acc_m_s2 : numpy.ndarray, shape (m, 3)
        Specific force, foot sensor frame.
    gyr_rad_s : numpy.ndarray, shape (m, 3)
        Angular rate with the bias removed.
    still_acc_start, still_acc_end : numpy.ndarray, shape (3,)
        Mean specific force of the still windows at the start and at the end.
    """
    t = np.asarray(time_s, np.float64)
    f = np.asarray(acc_m_s2, np.float64)
    w = np.asarray(gyr_rad_s, np.float64)
    dt = np.diff(t)
    q0 = Q.align(still_acc_start, _UP)
    increments = Q.from_rotation_vector(0.5 * (w[1:] + w[:-1]) * dt[:, None])
    q = Q.running_product(q0, increments)
    # tilt de-drift: at the end, gravity must be measured along +z
    up_end = Q.rotate(q[-1], np.asarray(still_acc_end, np.float64))
    tilt_error = Q.to_rotation_vector(Q.align(up_end, _UP))
    share = (t - t[0]) / (t[-1] - t[0])
    correction = Q.from_rotation_vector(share[:, None] * tilt_error[None, :])
    q = Q.multiply(correction, q)
    gravity = 0.5 * (np.linalg.norm(still_acc_start) + np.linalg.norm(still_acc_end))
    acc_world = Q.rotate(q, f) - gravity * _UP
    v = cumulative_trapezoid(acc_world, t)
    residual = v[-1].copy()
    v = v - share[:, None] * residual[None, :]
    p = cumulative_trapezoid(v, t)
    return StrideTrajectory(t, p, v, q, residual, float(np.linalg.norm(tilt_error)), float(gravity))
