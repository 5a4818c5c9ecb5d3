"""Stride length and gait speed per stride from a foot-mounted IMU and the stances the pressure gives.

:class:`ImuStrideSpeed` is the algorithm (parameters in ``__init__``, :meth:`~ImuStrideSpeed.compute` fills the
attributes ending in ``_``). For one foot it

1. finds the still moment of every stance (:mod:`~pipeline.analysis.imu.still_phases`), estimates the gyroscope
   bias there (median over the stances) and checks the sensor (:mod:`~pipeline.analysis.imu.sensor_checks`);
2. integrates every stride from the still moment of one stance to that of the next
   (:mod:`~pipeline.analysis.imu.strapdown`) and keeps it only if it passes the per-stride gates: IMU samples
   complete, no saturation, still phases at both ends, no longer than ``max_stride_s``, tilt drift at most
   ``max_orientation_drift_deg`` and end-of-stride velocity residual at most ``max_velocity_residual_m_s``.

A stride is the interval between two consecutive initial contacts of the foot; its speed is its length divided
by that stride time. Figures are reported only for valid strides, with the number behind every median.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np

from pipeline.analysis.imu.errors import ImuAnalysisError
from pipeline.analysis.imu.results import ImuGaitSummary, ImuReason, ImuStrides, SensorCheck
from pipeline.analysis.imu.sensor_checks import (
    STANDARD_GRAVITY_M_S2,
    check_sensor,
    measured_rate_hz,
    saturated_samples,
)
from pipeline.analysis.imu.still_phases import StillPhases, find_still_phases, stance_index_ranges
from pipeline.analysis.imu.strapdown import StrideTrajectory, integrate_stride
from pipeline.analysis.imu.trapezoid import cumulative_trapezoid

if TYPE_CHECKING:
    from insole.session import ImuData

#: Gyroscope rates below this (rad/s) are never taken for clipping when the range is unknown (~115 deg/s).
_GYR_CLIP_FLOOR_RAD_S = 2.0
#: Accelerations below this (m/s²) are never taken for clipping when the range is unknown (~1.4 g).
_ACC_CLIP_FLOOR_M_S2 = 14.0


class ImuStrideSpeed:
    """Stride length and gait speed of one foot from its IMU, between the zero-velocity phases of its stances.

    Parameters
    ----------
    min_sampling_rate_hz : float
        Lowest IMU rate giving figures.
    still_window_ms : float
        Length of the still window sought in each stance.
    max_still_rate_rad_s : float
        A stance whose quietest window turns faster than this (RMS, bias removed) has no still phase (0.35 rad/s
        = 20 deg/s: at 10 cm from the pivot the foot then still moves at 3.5 cm/s).
    gravity_tolerance : float
        Allowed relative deviation of the rest acceleration from 9.81 m/s².
    max_tilt_deg : float
        Largest angle between gravity at rest and ``+z`` of the foot sensor frame.
    min_swing_pitch_deg, max_swing_pitch_deg : float
        Smallest and largest toe-up turn from toe-off to contact accepted of a walking foot (it turns by about
        40-120 degrees).
    min_stances : int
        Fewest stances with a still phase needed to check the sensor at all.
    max_stride_s : float
        Longest stride integrated (drift grows with time; a longer interval is a pause).
    max_orientation_drift_deg : float
        Largest tilt error of the integrated orientation at the end of a stride.
    max_velocity_residual_m_s : float
        Largest integrated velocity at the end of a stride (must be 0); see ``docs/imu.md`` for how it bounds the
        stride-length error.
    max_missing_samples : int
        Longest run of missing IMU samples integrated across (linearly, as the trapezoidal rule does over the longer
        interval); a stride with a longer gap is not used.
    saturation_margin : float
        A sample at or above this share of the stated range counts as saturated.
    gravity_scale : bool
        Rescale the accelerometer so that its median magnitude at rest is standard gravity (a one-point, isotropic
        scale calibration from the still phases; see ``docs/imu.md`` for the evidence on the Moticon exports).
    keep_trajectories : bool
        Keep every integrated stride in :attr:`trajectories_` (for plots and tests).

    Attributes
    ----------
    sensor_check_ : SensorCheck
        Whether the sensor can give figures, and the figures behind the decision.
    still_ : StillPhases
        The still window of every stance (sample indices count only the samples that have values: rows with NaN
        are left out before the analysis).
    strides_ : ImuStrides
        Per-stride figures and reasons.
    summary_ : ImuGaitSummary
        Medians over the valid strides, with their number, or the reason there are none.
    trajectories_ : list of StrideTrajectory or None
        With ``keep_trajectories``: the integrated strides (None where a stride was not integrated).

    Notes
    -----
    The stances (initial contact and toe-off times) come from the pressure analysis: knowing when the foot is on the
    ground is what an insole adds to an IMU-only method, which must guess the stance from the IMU itself. Methods
    and sources: :mod:`~pipeline.analysis.imu.still_phases` (Skog et al. 2010) and
    :mod:`~pipeline.analysis.imu.strapdown` (Foxlin 2005; Mariani et al. 2010; Rampp et al. 2015; Hannink et al.
    2017). Accuracy against the simulator and the Moticon exports: ``docs/imu.md``.

    Examples
    --------
    >>> algo = ImuStrideSpeed().compute(acc_m_s2, gyr_rad_s, time_s, ic_s, to_s)  # doctest: +SKIP
    >>> algo.summary_.gait_speed_m_s, algo.summary_.n_valid  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        min_sampling_rate_hz: float = 100.0,
        still_window_ms: float = 50.0,
        max_still_rate_rad_s: float = 0.35,
        gravity_tolerance: float = 0.05,
        max_tilt_deg: float = 35.0,
        min_swing_pitch_deg: float = 20.0,
        max_swing_pitch_deg: float = 180.0,
        min_stances: int = 3,
        max_stride_s: float = 3.0,
        max_orientation_drift_deg: float = 10.0,
        max_velocity_residual_m_s: float = 0.5,
        max_missing_samples: int = 1,
        saturation_margin: float = 0.98,
        gravity_scale: bool = True,
        keep_trajectories: bool = False,
    ) -> None:
        self.min_sampling_rate_hz = min_sampling_rate_hz
        self.still_window_ms = still_window_ms
        self.max_still_rate_rad_s = max_still_rate_rad_s
        self.gravity_tolerance = gravity_tolerance
        self.max_tilt_deg = max_tilt_deg
        self.min_swing_pitch_deg = min_swing_pitch_deg
        self.max_swing_pitch_deg = max_swing_pitch_deg
        self.min_stances = min_stances
        self.max_stride_s = max_stride_s
        self.max_orientation_drift_deg = max_orientation_drift_deg
        self.max_velocity_residual_m_s = max_velocity_residual_m_s
        self.max_missing_samples = max_missing_samples
        self.saturation_margin = saturation_margin
        self.gravity_scale = gravity_scale
        self.keep_trajectories = keep_trajectories

    # ------------------------------------------------------------------ entry points
    def compute_session_imu(self, imu: ImuData | None, ic_s: np.ndarray, to_s: np.ndarray) -> ImuStrideSpeed:
        """:meth:`compute` on the IMU block of a session foot (:meth:`insole.session.SessionReader.read_imu`).

        ``imu`` None (the foot has no IMU) gives a summary with reason ``no_imu`` and no strides.
        """
        if imu is None:
            return self._no_figures(ImuReason.NO_IMU, "the session has no IMU data for this foot: stride length and "
                                    "gait speed need an inertial sensor in the insole", ic_s, to_s)
        return self.compute(imu.acc_m_s2, imu.gyr_rad_s, imu.time_s, ic_s, to_s, acc_range_m_s2=imu.acc_range_m_s2,
                            gyr_range_rad_s=imu.gyr_range_rad_s, frame=imu.frame)

    def compute(
        self,
        acc_m_s2: np.ndarray,
        gyr_rad_s: np.ndarray,
        time_s: np.ndarray,
        ic_s: np.ndarray,
        to_s: np.ndarray,
        *,
        acc_range_m_s2: float = math.nan,
        gyr_range_rad_s: float = math.nan,
        frame: str = "foot",
    ) -> ImuStrideSpeed:
        """Stride lengths and speeds of one foot.

        Parameters
        ----------
        acc_m_s2, gyr_rad_s : numpy.ndarray, shape (n, 3)
            Specific force and angular rate in the foot sensor frame (NaN rows: samples without values).
        time_s : numpy.ndarray, shape (n,)
            Strictly increasing sample times (session clock, like the events).
        ic_s, to_s : numpy.ndarray, shape (n_stances,)
            Initial contact and toe-off of each stance of this foot, in time order (from the pressure).
        acc_range_m_s2, gyr_range_rad_s : float
            Full scales of the sensors (NaN: unknown; saturation is then detected from flat tops).
        frame : {"foot", "sensor"}
            The frame the samples are in; ``"sensor"`` gives no figures.

        Returns
        -------
        self

        Raises
        ------
        ImuAnalysisError
            Inconsistent shapes, time not increasing, or a toe-off outside its stance.
        """
        acc, gyr, t = _as_samples(acc_m_s2, gyr_rad_s, time_s)
        ic, to = _as_stances(ic_s, to_s)
        rate = measured_rate_hz(t)
        # samples without values are gaps in time: integrated across when short, else the stride is not used
        present = np.all(np.isfinite(acc), axis=1) & np.all(np.isfinite(gyr), axis=1)
        if not present.all():
            acc, gyr, t = acc[present], gyr[present], t[present]
        first, stop = stance_index_ranges(t, ic, to)
        window = max(2, int(round(self.still_window_ms * 1e-3 * (rate if np.isfinite(rate) else 0.0))))
        rough = find_still_phases(gyr, acc, first, stop, window)
        bias = np.nanmedian(rough.gyr_mean_rad_s, axis=0) if rough.found.any() else np.zeros(3)
        bias = np.where(np.isfinite(bias), bias, 0.0)
        still = find_still_phases(gyr, acc, first, stop, window, bias)
        usable_still = still.found & (still.rate_rad_s <= self.max_still_rate_rad_s)
        swing = self._swing_rotations(t, gyr - bias, ic, to, usable_still)
        self.still_ = still
        self.sensor_check_ = check_sensor(
            frame=frame, sampling_rate_hz=rate, min_sampling_rate_hz=self.min_sampling_rate_hz,
            still_acc_m_s2=still.acc_mean_m_s2[usable_still], swing_rotation_rad=swing, gyr_bias_rad_s=bias,
            min_stances=self.min_stances, gravity_tolerance=self.gravity_tolerance, max_tilt_deg=self.max_tilt_deg,
            min_swing_pitch_deg=self.min_swing_pitch_deg, max_swing_pitch_deg=self.max_swing_pitch_deg,
            n_stances_offered=len(ic),
        )
        if self.gravity_scale and self.sensor_check_.usable:
            # saturation is judged on the values as measured, the integration on the rescaled ones
            scale = STANDARD_GRAVITY_M_S2 / self.sensor_check_.gravity_m_s2
            acc_range_m_s2 = acc_range_m_s2 * scale
            acc = acc * scale
            still = dataclasses.replace(still, acc_mean_m_s2=still.acc_mean_m_s2 * scale)
        self.strides_, self.trajectories_ = self._strides(t, acc, gyr - bias, ic, still, usable_still, rate,
                                                          acc_range_m_s2, gyr_range_rad_s)
        self.summary_ = _summarise(self.strides_, self.sensor_check_)
        return self

    # ------------------------------------------------------------------ steps
    def _no_figures(self, reason: ImuReason, message: str, ic_s: np.ndarray, to_s: np.ndarray) -> ImuStrideSpeed:
        ic, _ = _as_stances(ic_s, to_s)
        n = max(len(ic) - 1, 0)
        self.still_ = StillPhases.none(len(ic))
        self.sensor_check_ = SensorCheck(False, reason, message, ((reason, message),))
        nan = np.full(n, np.nan)
        self.strides_ = ImuStrides(ic[:-1] if n else nan, ic[1:] if n else nan, nan, nan, np.diff(ic) if n else nan,
                                   nan, nan, nan, nan, nan, (reason,) * n, (message,) * n)
        self.trajectories_ = [None] * n if self.keep_trajectories else None
        self.summary_ = ImuGaitSummary(reason, message, n_strides=n, rejected={reason.value: n} if n else {})
        return self

    @staticmethod
    def _swing_rotations(t: np.ndarray, gyr: np.ndarray, ic: np.ndarray, to: np.ndarray,
                         usable: np.ndarray) -> np.ndarray:
        """Integrated rotation from each toe-off to the next contact, for swings between usable stances."""
        if len(ic) < 2 or len(t) < 2:
            return np.zeros((0, 3))
        total = cumulative_trapezoid(np.nan_to_num(gyr.astype(np.float64)), t)
        a = np.clip(np.searchsorted(t, to[:-1]), 0, len(t) - 1)
        b = np.clip(np.searchsorted(t, ic[1:]), 0, len(t) - 1)
        keep = usable[:-1] & usable[1:] & (b > a)
        return (total[b] - total[a])[keep]

    def _strides(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, ic: np.ndarray, still: StillPhases,
                 usable_still: np.ndarray, rate: float, acc_range: float,
                 gyr_range: float) -> tuple[ImuStrides, list[StrideTrajectory | None] | None]:
        n = max(len(ic) - 1, 0)
        if n == 0:
            return ImuStrides.empty(), ([] if self.keep_trajectories else None)
        check = self.sensor_check_
        period = 1.0 / rate if np.isfinite(rate) and rate > 0 else math.inf
        # per-sample flags, counted over each stride with cumulative sums
        gyr_sat = saturated_samples(gyr, gyr_range, margin=self.saturation_margin, floor=_GYR_CLIP_FLOOR_RAD_S)
        acc_sat = saturated_samples(acc, acc_range, margin=self.saturation_margin, floor=_ACC_CLIP_FLOOR_M_S2)
        late = np.r_[False, np.diff(t) > (self.max_missing_samples + 1.5) * period]
        counts = {name: np.r_[0, np.cumsum(mask)] for name, mask in
                  (("missing", late), ("gyr", gyr_sat), ("acc", acc_sat))}
        a_idx, b_idx = still.centre[:-1], still.centre[1:]
        out = {k: np.full(n, np.nan) for k in ("start", "end", "length", "speed", "residual", "drift", "height")}
        reasons: list[ImuReason] = []
        messages: list[str] = []
        trajectories: list[StrideTrajectory | None] = []
        stride_time = np.diff(ic)
        for k in range(n):  # one integration per stride
            a, b = int(a_idx[k]), int(b_idx[k])
            found = a >= 0 and b > a
            if found:
                out["start"][k], out["end"][k] = t[a], t[b]
            reason, message, traj = self._one_stride(k, t, acc, gyr, a, b, found, usable_still, still, counts,
                                                     check)
            if traj is not None:
                out["residual"][k] = float(np.linalg.norm(traj.velocity_residual_m_s))
                out["drift"][k] = math.degrees(traj.orientation_drift_rad)
                out["height"][k] = traj.height_change_m
                if reason is ImuReason.OK:
                    out["length"][k] = traj.stride_length_m
                    out["speed"][k] = traj.stride_length_m / stride_time[k]
            reasons.append(reason)
            messages.append(message)
            trajectories.append(traj)
        strides = ImuStrides(ic[:-1].copy(), ic[1:].copy(), out["start"], out["end"], stride_time, out["length"],
                             out["speed"], out["residual"], out["drift"], out["height"], tuple(reasons),
                             tuple(messages))
        return strides, (trajectories if self.keep_trajectories else None)

    def _one_stride(self, k: int, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, a: int, b: int, found: bool,
                    usable_still: np.ndarray, still: StillPhases, counts: dict[str, np.ndarray],
                    check: SensorCheck) -> tuple[ImuReason, str, StrideTrajectory | None]:
        if not check.usable:
            return check.reason, check.message, None
        if not found or not (usable_still[k] and usable_still[k + 1]):
            which = [s for s, ok in ((k, usable_still[k]), (k + 1, usable_still[k + 1])) if not ok]
            rates = [still.rate_rad_s[s] for s in which]
            detail = ", ".join("no IMU samples" if not np.isfinite(r) else f"{math.degrees(r):.0f} deg/s"
                               for r in rates)
            return ImuReason.NO_STILL_PHASE, (f"the foot never stops turning in stance {which[0] + 1} ({detail}; "
                                              f"still means below {math.degrees(self.max_still_rate_rad_s):.0f} "
                                              "deg/s)"), None
        if t[b] - t[a] > self.max_stride_s:
            return ImuReason.STRIDE_TOO_LONG, (f"{t[b] - t[a]:.1f} s between the still moments, longer than "
                                               f"{self.max_stride_s:g} s (a pause, not a stride)"), None
        n_gaps = int(counts["missing"][b + 1] - counts["missing"][a + 1])
        if n_gaps:
            gap_ms = 1e3 * float(np.max(np.diff(t[a : b + 1])))
            return ImuReason.SAMPLES_MISSING, (f"IMU samples missing inside the stride (a gap of {gap_ms:.0f} ms; "
                                               f"at most {self.max_missing_samples} missing sample(s) are "
                                               "integrated across)"), None
        n_gyr = int(counts["gyr"][b + 1] - counts["gyr"][a])
        if n_gyr:
            return ImuReason.GYRO_SATURATED, (f"the gyroscope is at its range in {n_gyr} sample(s) of the stride: "
                                              "the rotation, and so the stride, cannot be integrated"), None
        n_acc = int(counts["acc"][b + 1] - counts["acc"][a])
        if n_acc:
            return ImuReason.ACC_SATURATED, (f"the accelerometer is at its range in {n_acc} sample(s) of the "
                                             "stride"), None
        traj = integrate_stride(t[a : b + 1], acc[a : b + 1], gyr[a : b + 1], still.acc_mean_m_s2[k],
                                still.acc_mean_m_s2[k + 1])
        drift = math.degrees(traj.orientation_drift_rad)
        if drift > self.max_orientation_drift_deg:
            return ImuReason.ORIENTATION_DRIFT, (f"the integrated orientation misses gravity by {drift:.1f} degrees at "
                                                 f"the end of the stride (limit {self.max_orientation_drift_deg:g})"
                                                 ), traj
        residual = float(np.linalg.norm(traj.velocity_residual_m_s))
        if residual > self.max_velocity_residual_m_s:
            return ImuReason.VELOCITY_RESIDUAL, (f"the integrated velocity is {residual:.2f} m/s at the end of the "
                                                 f"stride instead of 0 (limit {self.max_velocity_residual_m_s:g} "
                                                 "m/s)"), traj
        return ImuReason.OK, "", traj


def _as_samples(acc: np.ndarray, gyr: np.ndarray, time_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    acc = np.asarray(acc, np.float64)
    gyr = np.asarray(gyr, np.float64)
    t = np.asarray(time_s, np.float64)
    n = len(t)
    if t.ndim != 1 or acc.shape != (n, 3) or gyr.shape != (n, 3):
        raise ImuAnalysisError(f"IMU arrays must be time_s (n,), acc_m_s2 (n, 3) and gyr_rad_s (n, 3); got "
                               f"{t.shape}, {acc.shape} and {gyr.shape}")
    if n > 1 and not np.all(np.diff(t) > 0):
        raise ImuAnalysisError("IMU time_s must be strictly increasing")
    return acc, gyr, t


def _as_stances(ic_s: np.ndarray, to_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ic = np.asarray(ic_s, np.float64).ravel()
    to = np.asarray(to_s, np.float64).ravel()
    if ic.shape != to.shape:
        raise ImuAnalysisError(f"ic_s and to_s must pair up (one toe-off per stance); got {len(ic)} and {len(to)}")
    if len(ic) and (not np.all(to > ic) or not np.all(np.diff(ic) > 0) or not np.all(ic[1:] > to[:-1])):
        raise ImuAnalysisError("stances must be in time order, each toe-off after its contact and before the next "
                               "contact")
    return ic, to


def _summarise(strides: ImuStrides, check: SensorCheck) -> ImuGaitSummary:
    n = len(strides)
    valid = strides.valid
    rejected: dict[str, int] = {}
    for r in strides.reason:
        if r is not ImuReason.OK:
            rejected[r.value] = rejected.get(r.value, 0) + 1
    if not check.usable:
        return ImuGaitSummary(check.reason, check.message, n_strides=n, rejected=rejected)
    if not valid.any():
        if n == 0:
            return ImuGaitSummary(ImuReason.TOO_FEW_STANCES, "no stride: fewer than two stances", rejected=rejected)
        common = max(rejected, key=lambda key: rejected[key])
        first = next(m for r, m in zip(strides.reason, strides.message, strict=True) if r.value == common)
        return ImuGaitSummary(ImuReason(common), f"none of the {n} strides passed the quality gates; most often: "
                              f"{first}", n_strides=n, rejected=rejected)
    length = strides.stride_length_m[valid]
    speed = strides.gait_speed_m_s[valid]
    return ImuGaitSummary(
        ImuReason.OK, "", n_strides=n, n_valid=int(valid.sum()),
        stride_length_m=float(np.median(length)), gait_speed_m_s=float(np.median(speed)),
        stride_length_iqr_m=(float(np.percentile(length, 25)), float(np.percentile(length, 75))),
        gait_speed_iqr_m_s=(float(np.percentile(speed, 25)), float(np.percentile(speed, 75))),
        rejected=rejected,
    )
