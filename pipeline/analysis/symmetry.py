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
"consistent with (among other causes) a leg-length difference", never as a diagnosis: insoles cannot measure
leg length.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import mannwhitneyu

LLD_STANCE_SI_PCT = 2.0
LLD_PEAK_SI_PCT = 6.0
LLD_P_VALUE = 0.01
LLD_MIN_STEPS = 10


def symmetry_index(left: float, right: float) -> float | None:
    """Robinson SI in % (None if undefined)."""
    if not (math.isfinite(left) and math.isfinite(right)) or left + right == 0:
        return None
    return 100.0 * (right - left) / (0.5 * (right + left))


def symmetry_angle(left: float, right: float) -> float | None:
    """Zifchock SA in % (None if undefined)."""
    if not (math.isfinite(left) and math.isfinite(right)) or right == 0:
        return None
    sa = (45.0 - math.degrees(math.atan(left / right))) / 90.0 * 100.0
    if sa > 100.0:
        sa = (45.0 - math.degrees(math.atan(left / right)) - 180.0) / 90.0 * 100.0
    return sa


def symmetry_table(left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> dict[str, dict[str, object]]:
    """SI and SA of each metric present on both sides (per-step arrays of steady-state steps)."""
    out: dict[str, dict[str, object]] = {}
    for name in left:
        if name not in right:
            continue
        xl = np.asarray(left[name], float)
        xr = np.asarray(right[name], float)
        xl, xr = xl[np.isfinite(xl)], xr[np.isfinite(xr)]
        if xl.size == 0 or xr.size == 0:
            continue
        ml, mr = float(np.median(xl)), float(np.median(xr))
        out[name] = {"si_pct": symmetry_index(ml, mr), "sa_pct": symmetry_angle(ml, mr), "left_median": ml,
                     "right_median": mr, "n_left": int(xl.size), "n_right": int(xr.size)}
    return out


def lld_pattern(stance_l: np.ndarray, stance_r: np.ndarray, peak_l: np.ndarray, peak_r: np.ndarray) -> dict:
    """Check the LLD-associated asymmetry pattern (rule in the module description)."""
    sl, sr = (np.asarray(a, float)[np.isfinite(a)] for a in (stance_l, stance_r))
    pl, pr = (np.asarray(a, float)[np.isfinite(a)] for a in (peak_l, peak_r))
    criteria: dict[str, object] = {
        "stance_si_min_pct": LLD_STANCE_SI_PCT, "peak_si_min_pct": LLD_PEAK_SI_PCT, "p_max": LLD_P_VALUE,
        "min_steps": LLD_MIN_STEPS,
    }
    if min(sl.size, sr.size, pl.size, pr.size) < LLD_MIN_STEPS:
        criteria["enough_steps"] = False
        return {"consistent": False, "criteria": criteria,
                "wording": "not assessed: fewer than 10 steady-state steps on a side"}
    si_st = symmetry_index(float(np.median(sl)), float(np.median(sr))) or 0.0
    si_pk = symmetry_index(float(np.median(pl)), float(np.median(pr))) or 0.0
    p_st = float(mannwhitneyu(sl, sr).pvalue)
    p_pk = float(mannwhitneyu(pl, pr).pvalue)
    longer = "right" if si_st > 0 else "left"
    stance_ok = abs(si_st) >= LLD_STANCE_SI_PCT and p_st < LLD_P_VALUE
    # lower peak on the longer-stance side: SI sign opposite to stance SI
    peak_ok = abs(si_pk) >= LLD_PEAK_SI_PCT and p_pk < LLD_P_VALUE and np.sign(si_pk) == -np.sign(si_st)
    criteria.update({"enough_steps": True, "stance_si_pct": si_st, "stance_p": p_st, "peak_si_pct": si_pk,
                     "peak_p": p_pk, "longer_stance_side": longer, "stance_criterion": bool(stance_ok),
                     "peak_criterion": bool(peak_ok)})
    consistent = bool(stance_ok and peak_ok)
    if consistent:
        wording = (f"The {longer} foot has a {abs(si_st):.1f} % longer stance and a {abs(si_pk):.1f} % lower peak "
                   "force: an asymmetry pattern consistent with (among other causes) a leg-length difference. "
                   "Insoles cannot measure leg length; this is not a diagnosis.")
    else:
        wording = "No asymmetry pattern of the kind associated with a leg-length difference."
    return {"consistent": consistent, "criteria": criteria, "wording": wording}
