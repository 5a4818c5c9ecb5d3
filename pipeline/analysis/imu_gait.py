"""Stride length and gait speed of one foot from its IMU, per step of the pressure analysis.

The pressure gives every stance (initial contact and toe off, by the primary event definition); the IMU
algorithm (:class:`pipeline.analysis.imu.ImuStrideSpeed`: strapdown integration between the still moments of
consecutive stances, gravity removal, tilt and velocity de-drifting, per-stride gates) gives the foot's
displacement over each stride. The figures land in the step table of the stride's first contact; a stride is used
only when its two stances are consecutive steps of the table (an unknown event between them would make one
"stride" of two). What the sensor needs and why a figure is missing: :class:`ImuStatus` per foot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.analysis.foot_source import FootSource
from pipeline.analysis.imu import ImuAnalysisError, ImuReason, ImuStrideSpeed
from pipeline.analysis.result import ImuConsistency, MetricStatus
from pipeline.analysis.step_table import StepTable

#: Per-step columns added to the step table.
COLUMNS = ("stride_length_m", "gait_speed_m_s", "imu_velocity_residual_m_s", "imu_reason")
#: Sensor problems that make the IMU figures a quality failure when the foot has an IMU (the sensor is there
#: but wrong: a figure would be silently wrong, so the session is flagged).
SENSOR_FAILURES = (ImuReason.GRAVITY, ImuReason.AXIS_CONVENTION, ImuReason.GYRO_SCALE, ImuReason.SAMPLING_RATE)
#: Share of strides rejected for saturation above which the saturation is a quality failure.
SATURATION_FAILURE_SHARE = 0.25


@dataclass
class ImuStatus:
    """What one foot's IMU gave: its reason code, message and stride counts (see :mod:`.imu.results`)."""

    reason: ImuReason
    message: str
    n_strides: int = 0
    n_valid: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    sampling_rate_hz: float = float("nan")
    gravity_m_s2: float = float("nan")

    @property
    def has_imu(self) -> bool:
        return self.reason is not ImuReason.NO_IMU

    @property
    def failure(self) -> str:
        """Why the IMU figures are a quality failure ("" when they are not)."""
        if self.reason in SENSOR_FAILURES:
            return self.message
        saturated = sum(self.rejected.get(r.value, 0) for r in (ImuReason.GYRO_SATURATED, ImuReason.ACC_SATURATED))
        if self.n_strides and saturated / self.n_strides > SATURATION_FAILURE_SHARE:
            return (f"the IMU saturated in {saturated} of {self.n_strides} strides (its range is too small for "
                    "walking): stride length and gait speed are not reported")
        return ""


def imu_columns(src: FootSource, table: StepTable) -> tuple[dict[str, np.ndarray], ImuStatus]:
    """The :data:`COLUMNS` of ``table`` (one row per contact, ``ic_s`` / ``to_s`` primary events) and the status."""
    n = len(table)
    out: dict[str, np.ndarray] = {c: np.full(n, np.nan) for c in COLUMNS[:3]}
    out["imu_reason"] = np.full(n, ImuReason.NO_IMU.value, dtype=object)
    imu = src.imu()
    ic, to = np.asarray(table["ic_s"], float), np.asarray(table["to_s"], float)
    known = np.flatnonzero(np.isfinite(ic) & np.isfinite(to) & (to > ic))
    try:
        algo = ImuStrideSpeed().compute_session_imu(imu, ic[known], to[known])
    except ImuAnalysisError as exc:  # arrays the session check let through but the integration cannot use
        return out, ImuStatus(ImuReason.SAMPLES_MISSING, f"the IMU samples cannot be integrated: {exc}")
    check = algo.sensor_check_
    strides = algo.strides_
    status = ImuStatus(algo.summary_.reason, algo.summary_.message, rejected=dict(algo.summary_.rejected),
                       sampling_rate_hz=check.sampling_rate_hz, gravity_m_s2=check.gravity_m_s2)
    if imu is None:
        return out, status
    out["imu_reason"][:] = check.reason.value if not check.usable else ImuReason.OK.value
    # stride k runs from stance known[k] to stance known[k + 1]: keep it only if those are consecutive contacts
    consecutive = np.diff(known) == 1 if len(known) > 1 else np.zeros(0, bool)
    rows = known[:-1]
    for k, row in enumerate(rows):
        if not consecutive[k]:
            out["imu_reason"][row] = "event_unknown"
            continue
        reason = strides.reason[k]
        out["imu_reason"][row] = reason.value
        out["imu_velocity_residual_m_s"][row] = strides.velocity_residual_m_s[k]
        if reason is ImuReason.OK:
            out["stride_length_m"][row] = strides.stride_length_m[k]
            out["gait_speed_m_s"][row] = strides.gait_speed_m_s[k]
    status.n_strides = int(consecutive.sum())
    status.n_valid = int(np.isfinite(out["stride_length_m"]).sum())
    return out, status


def limit_reason(status: ImuStatus) -> str:
    """Why a foot has no IMU figures at all ("" when it may have some)."""
    if status.reason is ImuReason.OK:
        return ""
    return status.message or status.reason.value


#: Largest disagreement (%) between the feet's stride lengths, and between the per-stride speeds and cadence x
#: stride length, before a warning: about twice the left-right difference measured on the Moticon exports over the
#: same straight walk (0.5-1.0 %, docs/imu.md) plus the 3 % accuracy shown on the simulator.
CONSISTENCY_LIMIT_PCT = 5.0


def consistency(tables: dict[str, StepTable], stride_length_si_pct: float | None,
                cadence_steps_per_min: float | None) -> ImuConsistency:
    """Left-right stride-length agreement and the cadence x stride-length check (see :class:`ImuConsistency`)."""
    lengths, speeds = [], []
    for t in tables.values():
        use = np.asarray(t["valid"], bool) & np.isfinite(np.asarray(t["stride_length_m"], float))
        if use.any():
            lengths.append(float(np.median(np.asarray(t["stride_length_m"], float)[use])))
            speeds.append(np.asarray(t["gait_speed_m_s"], float)[use])
    if not lengths:
        return ImuConsistency(status=MetricStatus.NOT_APPLICABLE, reason="no stride has IMU figures")
    if cadence_steps_per_min is None:
        return ImuConsistency(status=MetricStatus.NOT_COMPUTED, reason="no cadence")
    speed = float(np.median(np.concatenate(speeds)))
    from_cadence = cadence_steps_per_min * float(np.mean(lengths)) / 120.0
    off = abs(from_cadence - speed) / speed * 100.0 if speed > 0 else np.inf
    si = stride_length_si_pct if len(lengths) == 2 else None
    agree = off <= CONSISTENCY_LIMIT_PCT and (si is None or abs(si) <= CONSISTENCY_LIMIT_PCT)
    return ImuConsistency(status=MetricStatus.COMPUTED, stride_length_si_pct=si, gait_speed_m_s=speed,
                          speed_from_cadence_m_s=from_cadence, limit_pct=CONSISTENCY_LIMIT_PCT, agree=bool(agree))
