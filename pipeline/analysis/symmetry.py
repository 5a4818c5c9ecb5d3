"""Left-right symmetry and the asymmetry pattern associated with a leg-length difference.

Symmetry index SI = (X_R - X_L) / (0.5 (X_R + X_L)) x 100 (Robinson et al. 1987; unstable near zero). Symmetry
angle SA = (45 deg - atan(X_L / X_R)) / 90 deg x 100 (Zifchock et al. 2008; bounded, preferred; when the result
exceeds 100 the 180 deg correction of the source applies). Both from the per-side medians of steady-state steps.
Positive = right larger.

Leg-length-difference pattern (``shared/design/gait-evidence.md``, "Asymmetry and leg-length discrepancy"):
with a simulated LLD the long leg showed a 3.5 % longer stance and 12 % lower peak pressure (Pereiro-Buceta et al.
2021); asymmetry beyond normal in contact time and force peaks for LLD > 2 cm (Kaufman et al. 1996). Our rule:
one side has a longer stance by at least 2 % (SI), the same side has a lower peak force (maximum of the two force
peaks) by at least 6 % (SI), both differences are beyond sampling error (Mann-Whitney U, p < 0.01), and each
side has at least 10 steady-state steps. The 2 % / 6 % limits are about half the simulated-LLD effects, and above
the side-to-side differences of symmetric walkers at these sample sizes. A positive result is worded as
"consistent with (among other explanations) a leg-length difference", never as a diagnosis: insoles cannot measure
leg length.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import mannwhitneyu

from pipeline.analysis.metric_catalogue import SIDE_METRICS, MetricSpec
from pipeline.analysis.result import LldCriteria, LldPattern, Metric, MetricStatus, Symmetry, SymmetryTable, finite
from pipeline.statistics import symmetry_angle_pct, symmetry_index_pct

LLD_STANCE_SI_PCT = 2.0
LLD_PEAK_SI_PCT = 6.0
LLD_P_VALUE = 0.01
LLD_MIN_STEPS = 10


def _symmetry(spec: MetricSpec, left: Metric | None, right: Metric | None, xl: np.ndarray | None,
              xr: np.ndarray | None) -> Symmetry:
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
    xl = xl[np.isfinite(xl)]
    xr = xr[np.isfinite(xr)]
    ml, mr = float(np.median(xl)), float(np.median(xr))
    return Symmetry(**base, si_pct=finite(symmetry_index_pct(ml, mr)), sa_pct=finite(symmetry_angle_pct(ml, mr)),
                    left_median=ml, right_median=mr, n_left=int(xl.size), n_right=int(xr.size))


def symmetry_table(left: dict[str, Metric] | None, right: dict[str, Metric] | None,
                   values_left: dict[str, np.ndarray] | None, values_right: dict[str, np.ndarray] | None
                   ) -> SymmetryTable:  # type: ignore[valid-type]
    """SI and SA of every per-side metric (``None`` sides: one foot only), from the per-step values summarised."""
    out = {}
    for spec in SIDE_METRICS:
        out[spec.name] = _symmetry(
            spec, None if left is None else left[spec.name], None if right is None else right[spec.name],
            None if values_left is None else values_left[spec.name],
            None if values_right is None else values_right[spec.name])
    return SymmetryTable(**out)


def _criteria(**found: object) -> LldCriteria:
    return LldCriteria(stance_si_min_pct=LLD_STANCE_SI_PCT, peak_si_min_pct=LLD_PEAK_SI_PCT, p_max=LLD_P_VALUE,
                       min_steps=LLD_MIN_STEPS, **found)


def lld_not_assessed(reason: str) -> LldPattern:
    """The pattern when it cannot be assessed (one foot, or force measures not comparable)."""
    return LldPattern(consistent=None, wording=f"not assessed: {reason}", reason=reason)


def lld_pattern(stance_l: np.ndarray, stance_r: np.ndarray, peak_l: np.ndarray, peak_r: np.ndarray) -> LldPattern:
    """Check the LLD-associated asymmetry pattern (rule in the module description)."""
    sl, sr = (np.asarray(a, float)[np.isfinite(a)] for a in (stance_l, stance_r))
    pl, pr = (np.asarray(a, float)[np.isfinite(a)] for a in (peak_l, peak_r))
    if min(sl.size, sr.size, pl.size, pr.size) < LLD_MIN_STEPS:
        reason = f"fewer than {LLD_MIN_STEPS} steady-state steps on a side"
        return LldPattern(consistent=None, wording=f"not assessed: {reason}", reason=reason,
                          criteria=_criteria(enough_steps=False))
    si_st = finite(symmetry_index_pct(float(np.median(sl)), float(np.median(sr)))) or 0.0
    si_pk = finite(symmetry_index_pct(float(np.median(pl)), float(np.median(pr)))) or 0.0
    p_st = float(mannwhitneyu(sl, sr).pvalue)
    p_pk = float(mannwhitneyu(pl, pr).pvalue)
    longer = "right" if si_st > 0 else "left"
    stance_ok = abs(si_st) >= LLD_STANCE_SI_PCT and p_st < LLD_P_VALUE
    # lower peak on the longer-stance side: SI sign opposite to stance SI
    peak_ok = abs(si_pk) >= LLD_PEAK_SI_PCT and p_pk < LLD_P_VALUE and np.sign(si_pk) == -np.sign(si_st)
    criteria = _criteria(enough_steps=True, stance_si_pct=si_st, stance_p=finite(p_st), peak_si_pct=si_pk,
                         peak_p=finite(p_pk), longer_stance_side=longer, stance_criterion=bool(stance_ok),
                         peak_criterion=bool(peak_ok))
    consistent = bool(stance_ok and peak_ok)
    if consistent:
        wording = (f"The {longer} foot has a {abs(si_st):.1f} % longer stance and a {abs(si_pk):.1f} % lower peak "
                   "force: an asymmetry pattern consistent with (among other explanations) a leg-length difference. "
                   "Insoles cannot measure leg length; only a clinical measurement can tell.")
    else:
        wording = "No asymmetry pattern of the kind associated with a leg-length difference."
    return LldPattern(consistent=consistent, wording=wording, criteria=criteria)
