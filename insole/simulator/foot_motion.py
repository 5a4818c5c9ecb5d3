"""The true motion of a foot-mounted IMU of the simulated walker, consistent with its gait events.

The foot is a rigid body moving in the walking direction; the sensor sits inside the insole under the midfoot.
Each stance of :class:`~insole.simulator.gait_model.SimulatedWalk` (initial contact IC to toe-off TO) has three
parts, as in the rollover of a walking foot:

* **loading** (IC to 20 % of stance): the foot rotates about the heel from ``theta_ic`` toe-up to flat;
* **foot flat** (20-50 % of stance): the foot does not move (the zero-velocity phase of the IMU literature);
* **push-off** (50 % of stance to TO): the heel rises, the foot rotating about the metatarsal heads to
  ``theta_to`` toe-down.

In **swing** (TO to the next IC) the sensor position and the pitch follow quintic polynomials that match position,
velocity and acceleration at both ends (so velocity and acceleration are continuous), with a small clearance,
lateral, yaw and roll excursion. The toe-up angle at contact and the toe-down angle at toe-off grow with speed
(about 19 and 57 degrees at 1.3 m/s); the heel lands at the walker's position along the path, which moves at the
profile speed with a slow +-3 % fluctuation, so stride lengths vary with the stride times. A 20 Hz, 1 mm
vertical wobble of the sole at heel strike gives the impact peak (it leaves no net velocity or displacement).

The truth of a stride is the displacement of the flat foot from one stance to the next
(:meth:`FootTrajectory.flat_positions_m`), which is what a foot-mounted IMU measures between zero-velocity phases.
The sensor and its errors: :mod:`insole.simulator.imu_model`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from insole.frames import Side
from insole.imu import STANDARD_GRAVITY_M_S2
from insole.simulator.gait_model import SimulatedWalk

# Geometry of the foot, as shares of the foot length: heel pivot at 0, metatarsal heads, sensor (midfoot).
_MTP_AT = 0.72
_SENSOR_AT = 0.45
_SENSOR_HEIGHT_M = 0.01
# Stance parts (share of stance): end of loading, heel-off.
_FLAT_FROM = 0.20
_HEEL_OFF = 0.50
# Speed fluctuation of the walker: amplitude and period.
_SPEED_FLUCTUATION = 0.03
_SPEED_PERIOD_S = 23.0
# Heel-strike wobble of the sole: amplitude, frequency, duration.
_WOBBLE_M, _WOBBLE_HZ, _WOBBLE_S = 0.001, 20.0, 0.05
# Swing excursions: clearance (z), lateral (y, outwards), yaw and roll amplitudes.
_CLEARANCE_M, _LATERAL_M = 0.03, 0.01
_YAW_RAD, _ROLL_RAD = math.radians(4.0), math.radians(3.0)
_STEP_HALF_WIDTH_M = 0.05


def contact_angles_rad(speed_m_s: float) -> tuple[float, float]:
    """Toe-up pitch at initial contact and toe-down pitch at toe-off of a walker at ``speed_m_s`` (radians).

    About 19 and 57 degrees at 1.3 m/s, rising with speed (foot angles at contact of 15-25 degrees and at toe-off of
    50-70 degrees are typical of adult walking; the Moticon exports swing the foot by 55-100 degrees from toe-off
    to contact at slow to fast pace).
    """
    return math.radians(10.0 + 7.0 * speed_m_s), math.radians(20.0 + 28.0 * speed_m_s)


def _bump() -> np.ndarray:
    """Coefficients (highest power first) of ``64 s^3 (1-s)^3``: 0 with zero slope and curvature at both ends."""
    return 64.0 * np.array([-1.0, 3.0, -3.0, 1.0, 0.0, 0.0, 0.0])


def _quintic(p0: np.ndarray, v0: np.ndarray, a0: np.ndarray, p1: np.ndarray, v1: np.ndarray, a1: np.ndarray,
             dur: np.ndarray) -> np.ndarray:
    """Coefficients (highest power first, in normalised time s = t / dur) of the quintic matching position,
    velocity and acceleration at both ends; one row per segment, shape (n, 6)."""
    h = p1 - p0
    V0, V1, A0, A1 = v0 * dur, v1 * dur, a0 * dur**2, a1 * dur**2
    c3 = (20 * h - (8 * V1 + 12 * V0) - (3 * A0 - A1)) / 2
    c4 = (-30 * h + (14 * V1 + 16 * V0) + (3 * A0 - 2 * A1)) / 2
    c5 = (12 * h - 6 * (V1 + V0) - (A0 - A1)) / 2
    return np.stack([c5, c4, c3, A0 / 2, V0, p0], axis=1)


def _polyval3(coef: np.ndarray, s: np.ndarray, dur: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value and first two time derivatives of per-sample polynomials (rows of ``coef``, highest power first)."""
    deg = coef.shape[1] - 1
    powers = np.arange(deg, -1, -1)
    sp = s[:, None] ** np.maximum(powers, 0)
    d1 = np.where(powers >= 1, powers * s[:, None] ** np.maximum(powers - 1, 0), 0.0)
    d2 = np.where(powers >= 2, powers * (powers - 1) * s[:, None] ** np.maximum(powers - 2, 0), 0.0)
    return ((coef * sp).sum(1), (coef * d1).sum(1) / dur, (coef * d2).sum(1) / dur**2)


def _pivot_offset(theta: np.ndarray, along_m: float) -> tuple[np.ndarray, ...]:
    """Sensor offset from a pivot on the sole (x, z) and its first two derivatives in pitch (toe-up ``theta``)."""
    c, s = np.cos(theta), np.sin(theta)
    h = _SENSOR_HEIGHT_M
    ax, az = along_m * c - h * s, along_m * s + h * c
    px, pz = -along_m * s - h * c, along_m * c - h * s
    return ax, az, px, pz


@dataclass(frozen=True)
class TrueMotion:
    """True motion of the sensor at the requested times (world frame: x along the path, y left, z up).

    Attributes
    ----------
    position_m, acceleration_m_s2 : numpy.ndarray, shape (n, 3)
    rotation : numpy.ndarray, shape (n, 3, 3)
        Columns are the foot axes in the world frame.
    gyr_rad_s : numpy.ndarray, shape (n, 3)
        Angular rate in the foot frame.
    acc_m_s2 : numpy.ndarray, shape (n, 3)
        Specific force in the foot frame (what an ideal accelerometer aligned with the foot measures).
    """

    position_m: np.ndarray
    acceleration_m_s2: np.ndarray
    rotation: np.ndarray
    gyr_rad_s: np.ndarray
    acc_m_s2: np.ndarray


class FootTrajectory:
    """The true motion of the IMU on one foot of a simulated walker (see the module docstring).

    Parameters
    ----------
    walk : SimulatedWalk
    side : {"left", "right"}
    """

    def __init__(self, walk: SimulatedWalk, side: Side) -> None:
        self.walk = walk
        self.side = side
        p = walk.profile
        self.foot_length_m = p.foot_length_mm / 1000.0
        self.speed_m_s = p.speed_m_s
        self.theta_ic, self.theta_to = contact_angles_rad(p.speed_m_s)
        self._phase = np.random.default_rng([walk.seed, 23]).uniform(0.0, 2 * np.pi)
        self.y0_m = _STEP_HALF_WIDTH_M if side == "left" else -_STEP_HALF_WIDTH_M
        ic, to = np.asarray(walk.ic_s[side], float), np.asarray(walk.to_s[side], float)
        self.walking = walk.is_walking and len(ic) >= 2
        if not self.walking:
            self._ic = np.zeros(0)
            return
        # a virtual stance before the first one, so that the walk starts in swing, not with a jump
        ic = np.concatenate([[ic[0] - (ic[1] - ic[0])], ic])
        to = np.concatenate([[ic[0] + (to[0] - ic[1])], to])
        stance = to - ic
        self._ic, self._to = ic, to
        self._ff = ic + _FLAT_FROM * stance
        self._ho = ic + _HEEL_OFF * stance
        self.heel_x_m = self.path_position_m(ic)
        L = self.foot_length_m
        self._d_s, self._d_m = _SENSOR_AT * L, _MTP_AT * L
        self._breaks = np.stack([self._ic, self._ff, self._ho, self._to], axis=1).ravel()
        if not np.all(np.diff(self._breaks) > 0):
            raise ValueError("simulated gait events overlap: a toe-off after the next contact")
        self._swing_coefficients()

    # ------------------------------------------------------------------ truth
    def path_position_m(self, t_s: np.ndarray) -> np.ndarray:
        """Distance walked along the path at walk time ``t_s``: the profile speed with a slow +-3 % fluctuation."""
        w = 2 * np.pi / _SPEED_PERIOD_S
        v, a = self.speed_m_s, _SPEED_FLUCTUATION
        t = np.asarray(t_s, float)
        return v * t - v * a / w * (np.cos(w * t + self._phase) - np.cos(self._phase))

    def flat_positions_m(self) -> np.ndarray:
        """Position along the path of the sensor during the foot-flat phase of each stance of ``walk.truth(side)``
        (the stances written as ground truth); the stride length from stance k to k + 1 is the difference."""
        if not self.walking:
            return np.zeros(0)
        truth_ic, _ = self.walk.truth(self.side)
        index = np.searchsorted(self.walk.ic_s[self.side], truth_ic)
        return self.heel_x_m[1:][index] + self._d_s

    # ------------------------------------------------------------------ swing polynomials
    def _stance_end_state(self) -> tuple[np.ndarray, ...]:
        """Sensor x, z, their rates and accelerations, pitch and its derivatives at toe-off and at contact."""
        tic, tto = self.theta_ic, self.theta_to
        t_po = self._to - self._ho
        t_ld = self._ff - self._ic
        # toe-off: pitch -theta_to * g(1), g(u) = 2u^3 - u^4: g' = 2, g'' = 0
        th0 = np.full_like(t_po, -tto)
        w0 = -tto * 2.0 / t_po
        al0 = np.zeros_like(t_po)
        ax, az, px, pz = _pivot_offset(th0, self._d_s - self._d_m)
        mx = self.heel_x_m + self._d_m
        start = (mx + ax, az, w0 * px, w0 * pz, al0 * px - w0**2 * ax, al0 * pz - w0**2 * az, th0, w0, al0)
        # contact: pitch theta_ic * h(0), h(u) = (1-u)^3 (1+2u): h' = -1, h'' = -6
        th1 = np.full_like(t_ld, tic)
        w1 = -tic / t_ld
        al1 = -6.0 * tic / t_ld**2
        ax, az, px, pz = _pivot_offset(th1, self._d_s)
        hx = self.heel_x_m
        end = (hx + ax, az, w1 * px, w1 * pz, al1 * px - w1**2 * ax, al1 * pz - w1**2 * az, th1, w1, al1)
        return start, end

    def _swing_coefficients(self) -> None:
        (x0, z0, vx0, vz0, ax0, az0, th0, w0, al0), (x1, z1, vx1, vz1, ax1, az1, th1, w1, al1) = \
            self._stance_end_state()
        # swing k runs from toe-off k to contact k + 1
        dur = self._ic[1:] - self._to[:-1]
        self._swing_dur = dur
        self._cx = _quintic(x0[:-1], vx0[:-1], ax0[:-1], x1[1:], vx1[1:], ax1[1:], dur)
        self._cz = _quintic(z0[:-1], vz0[:-1], az0[:-1], z1[1:], vz1[1:], az1[1:], dur)
        self._cth = _quintic(th0[:-1], w0[:-1], al0[:-1], th1[1:], w1[1:], al1[1:], dur)

    # ------------------------------------------------------------------ evaluation
    def motion(self, t_s: np.ndarray) -> TrueMotion:
        """True motion at walk times ``t_s`` (seconds)."""
        t = np.asarray(t_s, float)
        n = len(t)
        pos = np.zeros((n, 3))
        acc = np.zeros((n, 3))
        theta = np.zeros(n)
        dtheta = np.zeros(n)
        yaw = np.zeros((n, 3))  # value, rate, acceleration
        roll = np.zeros((n, 3))
        pos[:, 1] = self.y0_m
        if not self.walking:
            pos[:, 2] = _SENSOR_HEIGHT_M
            return self._finish(pos, acc, theta, dtheta, yaw, roll)
        j = np.searchsorted(self._breaks, t, side="right") - 1
        k = np.clip(j // 4, 0, len(self._ic) - 1)
        part = np.where(j < 0, 1, j % 4)
        last = len(self._ic) - 1
        part = np.where((part == 3) & (k >= last), 1, part)  # after the last stance: stay flat
        heel = self.heel_x_m[k]
        # flat (also before the first and after the last stance)
        m = part == 1
        pos[m, 0] = heel[m] + self._d_s
        pos[m, 2] = _SENSOR_HEIGHT_M
        # loading: rotation about the heel, pitch theta_ic * (1-u)^3 (1+2u)
        m = part == 0
        if m.any():
            dur = (self._ff - self._ic)[k[m]]
            u = (t[m] - self._ic[k[m]]) / dur
            th = self.theta_ic * (1 - u) ** 3 * (1 + 2 * u)
            w = self.theta_ic * (1 - u) ** 2 * (-1 - 8 * u) / dur
            al = self.theta_ic * (-2 * (1 - u) * (-1 - 8 * u) - 8 * (1 - u) ** 2) / dur**2
            self._about_pivot(pos, acc, m, heel[m], self._d_s, th, w, al)
            theta[m], dtheta[m] = th, w
        # push-off: rotation about the metatarsal heads, pitch -theta_to * (2u^3 - u^4)
        m = part == 2
        if m.any():
            dur = (self._to - self._ho)[k[m]]
            u = (t[m] - self._ho[k[m]]) / dur
            th = -self.theta_to * (2 * u**3 - u**4)
            w = -self.theta_to * (6 * u**2 - 4 * u**3) / dur
            al = -self.theta_to * (12 * u - 12 * u**2) / dur**2
            self._about_pivot(pos, acc, m, heel[m] + self._d_m, self._d_s - self._d_m, th, w, al)
            theta[m], dtheta[m] = th, w
        # swing
        m = part == 3
        if m.any():
            ks = k[m]
            dur = self._swing_dur[ks]
            s = (t[m] - self._to[ks]) / dur
            x, vx, ax = _polyval3(self._cx[ks], s, dur)
            z, vz, az = _polyval3(self._cz[ks], s, dur)
            th, w, _ = _polyval3(self._cth[ks], s, dur)
            bump = np.broadcast_to(_bump(), (len(ks), 7))
            b, db, ddb = _polyval3(bump, s, dur)
            outward = 1.0 if self.side == "left" else -1.0
            pos[m, 0], acc[m, 0] = x, ax
            pos[m, 1] = self.y0_m + outward * _LATERAL_M * b
            acc[m, 1] = outward * _LATERAL_M * ddb
            pos[m, 2], acc[m, 2] = z + _CLEARANCE_M * b, az + _CLEARANCE_M * ddb
            theta[m], dtheta[m] = th, w
            yaw[m] = outward * _YAW_RAD * np.stack([b, db, ddb], axis=1)
            roll[m] = outward * _ROLL_RAD * np.stack([b, db, ddb], axis=1)
        # heel-strike wobble of the sole: sin(wt) * sin^2(pi t / D), zero with its slope at both ends
        tau = t - self._ic[k]
        m = (tau >= 0) & (tau < _WOBBLE_S) & (part == 0)
        if m.any():
            om, q = 2 * np.pi * _WOBBLE_HZ, np.pi / _WOBBLE_S
            tt = tau[m]
            f, df, ddf = np.sin(om * tt), om * np.cos(om * tt), -(om**2) * np.sin(om * tt)
            g, dg, ddg = np.sin(q * tt) ** 2, q * np.sin(2 * q * tt), 2 * q**2 * np.cos(2 * q * tt)
            pos[m, 2] += _WOBBLE_M * f * g
            acc[m, 2] += _WOBBLE_M * (ddf * g + 2 * df * dg + f * ddg)
        return self._finish(pos, acc, theta, dtheta, yaw, roll)

    @staticmethod
    def _about_pivot(pos: np.ndarray, acc: np.ndarray, m: np.ndarray, pivot_x: np.ndarray, along_m: float,
                     th: np.ndarray, w: np.ndarray, al: np.ndarray) -> None:
        ax, az, px, pz = _pivot_offset(th, along_m)
        pos[m, 0], pos[m, 2] = pivot_x + ax, az
        acc[m, 0] = al * px - w**2 * ax
        acc[m, 2] = al * pz - w**2 * az

    @staticmethod
    def _finish(pos: np.ndarray, acc: np.ndarray, theta: np.ndarray, dtheta: np.ndarray, yaw: np.ndarray,
                roll: np.ndarray) -> TrueMotion:
        # orientation R = Rz(yaw) Ry(-theta) Rx(roll) (toe-up theta is a negative turn about y)
        beta, dbeta = -theta, -dtheta
        psi, dpsi = yaw[:, 0], yaw[:, 1]
        phi, dphi = roll[:, 0], roll[:, 1]
        cps, sps, cb, sb, cph, sph = np.cos(psi), np.sin(psi), np.cos(beta), np.sin(beta), np.cos(phi), np.sin(phi)
        rz = _stack_rot(cps, sps, "z")
        ry = _stack_rot(cb, sb, "y")
        rx = _stack_rot(cph, sph, "x")
        rot = rz @ ry @ rx
        gyr = np.stack([dphi - dpsi * sb, dbeta * cph + dpsi * cb * sph, -dbeta * sph + dpsi * cb * cph], axis=1)
        specific = acc + np.array([0.0, 0.0, STANDARD_GRAVITY_M_S2])
        acc_body = np.einsum("nji,nj->ni", rot, specific)
        return TrueMotion(pos, acc, rot, gyr, acc_body)


def _stack_rot(c: np.ndarray, s: np.ndarray, axis: str) -> np.ndarray:
    n = len(c)
    r = np.zeros((n, 3, 3))
    if axis == "z":
        r[:, 0, 0], r[:, 0, 1], r[:, 1, 0], r[:, 1, 1], r[:, 2, 2] = c, -s, s, c, 1.0
    elif axis == "y":
        r[:, 0, 0], r[:, 0, 2], r[:, 2, 0], r[:, 2, 2], r[:, 1, 1] = c, s, -s, c, 1.0
    else:
        r[:, 1, 1], r[:, 1, 2], r[:, 2, 1], r[:, 2, 2], r[:, 0, 0] = c, -s, s, c, 1.0
    return r
