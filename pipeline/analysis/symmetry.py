"""Left-right symmetry and the asymmetry pattern associated with a leg-length difference.

Symmetry index SI and symmetry angle SA (:mod:`pipeline.statistics`: Robinson et al. 1987, Zifchock et al. 2008)
of every per-side metric, from the per-side medians of steady-state steps; positive = right larger. Each SI has
the percentile-bootstrap 95 % CI of that same statistic (the SI of the resampled side medians): one statistic,
one interval. Signed indices (CPEI, LMFI, strike index) get no symmetry index (it is not meaningful across zero),
metrics that do not apply to the device none either; each such entry says why.

Leg-length-difference pattern (``shared/design/gait-evidence.md``, "Asymmetry and leg-length discrepancy"): a
simulated LLD gave a 3.5 % longer stance and 12 % lower peak pressure on the long leg (Pereiro-Buceta et al.
2021); LLD > 2 cm gave asymmetry beyond normal in contact time and force peaks (Kaufman et al. 1996). "Beyond
normal" is taken literally: the pattern is present when the stance-time SI and the peak-force SI both exceed the
95th percentile of healthy |SI| in the reference cohort of the same insole model (leaving the subject's own
recordings out), and the side with the longer stance has the lower peak force (maximum force over stance,
defined for every step). It is assessed on calibrated force only (BW or N; raw counts of two uncalibrated sensors
differ by their gains, not by the gait) and with at least 10 steady-state steps per side; without a cohort it is
"not assessed". A positive result is worded as "consistent with (among other explanations) a leg-length
difference": insoles cannot measure leg length.
"""

from __future__ import annotations

import numpy as np

from pipeline.analysis.metric_catalogue import SIDE_METRICS, MetricSpec
from pipeline.analysis.result import LldCriteria, LldPattern, Metric, MetricStatus, Symmetry, finite
from pipeline.statistics import bootstrap_si_cis, symmetry_angle_pct, symmetry_index_pct

#: Healthy asymmetry limit: this quantile of the cohort's |SI|.
LLD_COHORT_QUANTILE = 0.95
LLD_MIN_STEPS = 10


def _symmetry(spec: MetricSpec, left: Metric | None, right: Metric | None, xl: np.ndarray | None,
              xr: np.ndarray | None) -> Symmetry | tuple[dict[str, object], np.ndarray, np.ndarray]:
    """The symmetry of one metric when it cannot be computed; else its fields and the sides' finite per-step
    values, whose bootstrap CI :func:`symmetry_table` adds (all metrics at once)."""
    unit = (left or right).unit if (left or right) is not None else spec.unit
    base = {"metric": spec.name, "label": spec.label, "unit": unit}
    if left is None or right is None:
        return Symmetry(**base, status=MetricStatus.NOT_APPLICABLE, reason="one foot only: no symmetry")
    for m in (left, right):
        if m.status is not MetricStatus.COMPUTED:
            return Symmetry(**base, status=m.status, reason=f"{m.reason} (one side)" if m.reason else m.status.value)
    if not spec.ratio_scale:
        return Symmetry(**base, status=MetricStatus.NOT_APPLICABLE,
                        reason="signed index: a symmetry index is not meaningful across zero; compare the sides' "
                        "values instead")
    xl, xr = (x if np.isfinite(x).all() else x[np.isfinite(x)] for x in (xl, xr))  # no copy without NaN
    ml, mr = float(np.median(xl)), float(np.median(xr))
    return ({**base, "si_pct": finite(symmetry_index_pct(ml, mr)), "sa_pct": finite(symmetry_angle_pct(ml, mr)),
             "left_median": ml, "right_median": mr, "n_left": int(xl.size), "n_right": int(xr.size)}, xl, xr)


def symmetry_table(left: dict[str, Metric] | None, right: dict[str, Metric] | None,
                   values_left: dict[str, np.ndarray] | None, values_right: dict[str, np.ndarray] | None,
                   threads: int = 1) -> dict[str, Symmetry]:
    """SI and SA of every per-side metric (``None`` sides: one foot only), from the per-step values summarised,
    each SI with the percentile-bootstrap 95 % CI of the side medians (:func:`pipeline.statistics.bootstrap_si_cis`,
    its draws counted in ``threads`` threads: the same table)."""
    table = {spec.name: _symmetry(
        spec, None if left is None else left[spec.name], None if right is None else right[spec.name],
        None if values_left is None else values_left[spec.name],
        None if values_right is None else values_right[spec.name]) for spec in SIDE_METRICS}
    pending = {name: entry for name, entry in table.items() if isinstance(entry, tuple)}
    cis = bootstrap_si_cis([(xl, xr) for _, xl, xr in pending.values()], threads=threads)
    for (name, (fields, _, _)), ci in zip(pending.items(), cis, strict=True):
        table[name] = Symmetry(**fields, ci95=ci)
    return table


def _criteria(**found: object) -> LldCriteria:
    return LldCriteria(quantile=LLD_COHORT_QUANTILE, min_steps=LLD_MIN_STEPS, **found)


def lld_not_assessed(reason: str, **found: object) -> LldPattern:
    """The pattern when it cannot be assessed, with the reason."""
    return LldPattern(consistent=None, wording=f"not assessed: {reason}", reason=reason,
                      criteria=_criteria(**found) if found else None)


def lld_pattern(stance: Symmetry, peak: Symmetry, force_unit: str, healthy_stance: tuple[float, int] | None,
                healthy_peak: tuple[float, int] | None) -> LldPattern:
    """Check the LLD-associated asymmetry pattern (rule in the module description).

    Parameters
    ----------
    stance, peak : Symmetry
        The stance-time and peak-force (maximum force) symmetry of the session.
    force_unit : str
        ``BW``, ``N`` or ``counts``.
    healthy_stance, healthy_peak : (float, int) or None
        The cohort's 95th percentile of healthy |SI| and the number of values it rests on (None: no cohort).
    """
    if force_unit == "counts":
        return lld_not_assessed("the force is in raw counts of uncalibrated sensors: a peak difference between two "
                                "uncalibrated sensors reflects their gains, not the gait")
    if not (stance.available and peak.available):
        return lld_not_assessed(f"no symmetry index ({stance.reason or peak.reason})")
    if min(stance.n_left, stance.n_right, peak.n_left, peak.n_right) < LLD_MIN_STEPS:
        return lld_not_assessed(f"fewer than {LLD_MIN_STEPS} steady-state steps on a side", enough_steps=False)
    if healthy_stance is None or healthy_peak is None:
        return lld_not_assessed("no reference cohort of healthy recordings covers this insole model, so what "
                                "asymmetry is normal for it is unknown")
    si_st, si_pk = float(stance.si_pct), float(peak.si_pct)
    longer = "right" if si_st > 0 else "left"
    stance_ok = abs(si_st) > healthy_stance[0]
    # lower peak on the longer-stance side: SI sign opposite to stance SI
    peak_ok = abs(si_pk) > healthy_peak[0] and np.sign(si_pk) == -np.sign(si_st)
    criteria = _criteria(enough_steps=True, stance_si_pct=si_st, peak_si_pct=si_pk,
                         healthy_stance_si_pct=healthy_stance[0], healthy_peak_si_pct=healthy_peak[0],
                         n_cohort=min(healthy_stance[1], healthy_peak[1]), longer_stance_side=longer,
                         stance_criterion=bool(stance_ok), peak_criterion=bool(peak_ok))
    consistent = bool(stance_ok and peak_ok)
    if consistent:
        wording = (f"The {longer} foot has a {abs(si_st):.1f} % longer stance and a {abs(si_pk):.1f} % lower peak "
                   "force, both beyond the asymmetry of healthy people with this insole: a pattern consistent with "
                   "(among other explanations) a leg-length difference. Insoles cannot measure leg length; only a "
                   "clinical measurement can tell.")
    else:
        wording = "No asymmetry pattern of the kind associated with a leg-length difference."
    return LldPattern(consistent=consistent, wording=wording, criteria=criteria)
