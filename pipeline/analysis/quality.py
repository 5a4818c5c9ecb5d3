"""Quality gates of an analysis: enough strides, synchronised feet, saturation and dropouts.

- Strides per side: at least 30 steady-state strides for stable means (Melvin et al. 2014, in
  ``shared/design/gait-evidence.md``); 10-29 pass with a warning; fewer than 10 fail (summaries are then shown
  but should not be interpreted).
- Sync: walking always shows double support; with both feet recorded, the median double support of paired
  strides must be positive and at least half of the valid strides must pair (contralateral IC at 35-65 % of
  the stride). Otherwise the feet's clocks are probably not aligned.
- Saturation: frames with a saturated cell; above 1 % a warning (peaks are underestimated), above 10 % a failure
  of the force measures.
- Dropouts: share of the recording's time lost in gaps or invalid frames; above 5 % a warning, above 30 % a
  failure.
These limits (except the 30 strides) are our choices, stated here and in every result.
"""

from __future__ import annotations

from pipeline.analysis.imu import ImuReason
from pipeline.analysis.imu_gait import ImuStatus
from pipeline.analysis.result import (
    ForceScaleCheck,
    ImuConsistency,
    Quality,
    QualityCode,
    QualityIssue,
    QualityLimits,
    SideQuality,
    SyncCheck,
)

MIN_STRIDES_STABLE = 30
MIN_STRIDES = 10
SATURATION_WARN_PCT, SATURATION_FAIL_PCT = 1.0, 10.0
DROPOUT_WARN_PCT, DROPOUT_FAIL_PCT = 5.0, 30.0

LIMITS = QualityLimits(min_strides=MIN_STRIDES, min_strides_stable=MIN_STRIDES_STABLE,
                       saturation_warn_pct=SATURATION_WARN_PCT, saturation_fail_pct=SATURATION_FAIL_PCT,
                       dropout_warn_pct=DROPOUT_WARN_PCT, dropout_fail_pct=DROPOUT_FAIL_PCT)


def quality_report(sides: dict[str, SideQuality], sync: SyncCheck | None, not_analysed: dict[str, str],
                   recorded: list[str], force_scale: ForceScaleCheck | None = None,
                   force_units: dict[str, str] | None = None,
                   input_warnings: list[tuple[str, str]] = (),
                   imu: dict[str, ImuStatus] | None = None, imu_consistency: ImuConsistency | None = None) -> Quality:
    """The quality gates of a result.

    Parameters
    ----------
    sides : dict of str to SideQuality
        Figures of every analysed foot.
    sync : SyncCheck or None
        The clock-alignment check (None unless both feet were analysed).
    not_analysed : dict of str to str
        Recorded feet that could not be analysed, with the reason (each is a failure).
    recorded : list of str
        Every recorded foot.
    force_scale : ForceScaleCheck, optional
        The impulse-balance check of the body-weight figures (:mod:`.force_scale`).
    force_units : dict of str to str, optional
        Force unit of every analysed foot (``BW``, ``N``, ``counts``): newtons and counts are said as warnings.
    input_warnings : list of (str, str)
        (quality code, message) about the inputs, each a warning.
    imu : dict of str to ImuStatus, optional
        Each analysed foot's IMU status: an IMU that is there but wrong (axes, units, rate, saturation) is a
        failure, an IMU in unknown axes or with few usable strides a warning.
    imu_consistency : ImuConsistency, optional
        Left-right and cadence agreement of the IMU figures (a warning when they disagree).
    """
    warnings: list[QualityIssue] = []
    failures: list[QualityIssue] = [
        QualityIssue(code=QualityCode.NOT_ANALYSED, side=side, message=f"{side}: not analysed: {why}")
        for side, why in not_analysed.items()
    ]
    for side, q in sides.items():
        n = q.strides
        if n < MIN_STRIDES:
            failures.append(QualityIssue(
                code=QualityCode.FEW_STRIDES, side=side,
                message=f"{side}: only {n} steady-state strides (need at least {MIN_STRIDES}; {MIN_STRIDES_STABLE} "
                "for stable means)"))
        elif n < MIN_STRIDES_STABLE:
            warnings.append(QualityIssue(
                code=QualityCode.FEW_STRIDES, side=side,
                message=f"{side}: {n} steady-state strides; at least {MIN_STRIDES_STABLE} give stable means "
                "(Melvin et al. 2014)"))
        v = q.saturation_pct
        if v > SATURATION_FAIL_PCT:
            failures.append(QualityIssue(code=QualityCode.SATURATION, side=side,
                                         message=f"{side}: {v:.1f} % of frames saturated; force peaks are not usable"))
        elif v > SATURATION_WARN_PCT:
            warnings.append(QualityIssue(
                code=QualityCode.SATURATION, side=side,
                message=f"{side}: {v:.1f} % of frames saturated; force peaks are underestimated"))
        if q.dead_cells:
            warnings.append(QualityIssue(code=QualityCode.DEAD_CELLS, side=side, message=f"{side}: {q.dead_cells}"))
        v = q.dropout_pct
        if v > DROPOUT_FAIL_PCT:
            failures.append(QualityIssue(code=QualityCode.DROPOUTS, side=side,
                                         message=f"{side}: {v:.1f} % of the recording missing"))
        elif v > DROPOUT_WARN_PCT:
            warnings.append(QualityIssue(
                code=QualityCode.DROPOUTS, side=side,
                message=f"{side}: {v:.1f} % of the recording missing (gaps or invalid frames)"))
    warnings += [QualityIssue(code=QualityCode(code), side=None, message=msg) for code, msg in input_warnings]
    for side, st in (imu or {}).items():
        if not st.has_imu:
            continue
        if why := st.failure:
            failures.append(QualityIssue(code=QualityCode.IMU, side=side, message=f"{side} IMU: {why}"))
        elif st.reason is ImuReason.SENSOR_FRAME:
            warnings.append(QualityIssue(code=QualityCode.IMU, side=side, message=f"{side} IMU: {st.message}"))
        elif st.n_strides and st.n_valid < 0.5 * st.n_strides:
            common = max(st.rejected, key=st.rejected.get) if st.rejected else "unknown"
            warnings.append(QualityIssue(
                code=QualityCode.IMU, side=side,
                message=f"{side} IMU: stride length and gait speed from {st.n_valid} of {st.n_strides} strides "
                f"(most rejected for {common.replace('_', ' ')})"))
    c = imu_consistency
    if c is not None and c.agree is False:
        warnings.append(QualityIssue(
            code=QualityCode.IMU, side=None,
            message=f"IMU figures disagree: stride-length SI {c.stride_length_si_pct or 0:+.1f} % between the feet, "
            f"gait speed {c.gait_speed_m_s:.2f} m/s against {c.speed_from_cadence_m_s:.2f} m/s from cadence x stride "
            f"length (limit {c.limit_pct:g} %); check the IMU calibration and mounting"))
    units = set((force_units or {}).values())
    if "N" in units:
        warnings.append(QualityIssue(
            code=QualityCode.FORCE_UNITS, side=None,
            message="no body mass in the session: forces are in newtons, not body weights, and the impulse balance "
            "cannot be checked; give the body mass (--body-mass-kg when recording or importing) for figures in BW"))
    if "counts" in units:
        warnings.append(QualityIssue(
            code=QualityCode.FORCE_UNITS, side=None,
            message="forces are raw counts of uncalibrated sensors: no physical unit, not comparable between sensors "
            "or people (force peaks, loading rate and their asymmetry are not interpreted); calibrate the insoles "
            "(insole calibrate) for newtons"))
    if force_scale is not None and force_scale.ratio is not None:
        r, lo, hi = force_scale.ratio, force_scale.expected_low, force_scale.expected_high
        where = (f"both feet's impulse per stride is {r:.2f} x body weight x stride time over "
                 f"{force_scale.n_strides} strides (a steady walk gives {lo:g}-{hi:g})")
        if force_scale.rescale_factor != 1.0:
            warnings.append(QualityIssue(
                code=QualityCode.FORCE_SCALE, side=None,
                message=f"force scale: {where}; body-weight figures are rescaled by {force_scale.rescale_factor:.3f} "
                "(walk calibration) and pressures are not; check the body mass and the insole calibration"))
        elif not lo <= r <= hi:
            failures.append(QualityIssue(
                code=QualityCode.FORCE_SCALE, side=None,
                message=f"force scale implausible: {where}; the body mass or the force units are wrong, so no "
                "force figure is usable"))
    if sync is not None and sync.flight_phase:
        failures.append(QualityIssue(
            code=QualityCode.NOT_WALKING, side=None,
            message="flight phases: the feet are in step but stance is under half the stride, as in running; this "
            "analysis and its reference values are for walking, so no figure is interpreted"))
    if sync is not None and not sync.ok:
        failures.append(QualityIssue(code=QualityCode.SYNC, side=None, message=sync.reason))
    if len(recorded) == 1:
        warnings.append(QualityIssue(
            code=QualityCode.ONE_FOOT, side=recorded[0],
            message="only one foot recorded: no double support, cadence from one side, no symmetry"))
    return Quality(passed=not failures, warnings=warnings, failures=failures, limits=LIMITS,
                   left=sides.get("left"), right=sides.get("right"), sync_ok=None if sync is None else sync.ok)
