"""Foot-function indices: insole CPEI, lateral-medial force index by stance phase, and a foot-function label.

CPEI (Song et al. 1996, JAPMA; ``shared/design/gait-evidence.md``, "Foot-function indices"): the construction
line joins the first and last CoP points of the step; CPE is the lateral distance from that line to the CoP path
at the distal third of the line (two thirds of the way from the first point); CPEI = CPE / forefoot width x 100.
Lower = more medial path = more pronated. Adapted to the insole: the CoP is that of the insole's cells (confined to
the sensor hull and quantised: about +-7 CPEI points per step with 8-16 cells), from the 101-point gait line with
frames below 10 % of peak force trimmed; forefoot width is the layout's (0.38 x foot length). It is reported as an
"insole CPEI" with its per-step SD and number of steps, and is not interchangeable with a force-plate CPEI.

Lateral-medial force index (Buldt et al. 2018): LMFI = (F_lat - F_med) / (F_lat + F_med), with the force-time
integrals of the lateral and medial cells over each stance phase: loading response 0-17 %, mid-stance 17-50 %,
terminal stance 50-83 %, pre-swing 83-100 % of stance (Perry & Burnfield 2010 phases, 0-10-30-50-60 % of the
gait cycle, rescaled to a 60 % stance).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from pipeline.analysis.result import FootFunction

#: Stance-phase edges (% stance) of the LMFI.
LMFI_PHASES = {"loading": (0.0, 17.0), "midstance": (17.0, 50.0), "terminal": (50.0, 83.0), "preswing": (83.0, 100.0)}
#: Distance along the construction line where CPE is measured (Song et al. 1996: distal third).
CPE_AT = 2.0 / 3.0


def cpei_pct(ap: np.ndarray, ml: np.ndarray, foot_length_mm: float, forefoot_width_mm: float) -> np.ndarray:
    """Insole CPEI of each step's gait line ``(n_steps, n_points)`` (AP share of length, ML share of width).

    Returns NaN for steps with fewer than 10 defined CoP points.
    """
    x = ap * foot_length_mm
    y = ml * forefoot_width_mm
    ok = np.isfinite(x) & np.isfinite(y)
    n_steps, n = x.shape
    rows = np.arange(n_steps)
    first = np.argmax(ok, axis=1)
    last = n - 1 - np.argmax(ok[:, ::-1], axis=1)
    x0, y0, x1, y1 = x[rows, first], y[rows, first], x[rows, last], y[rows, last]
    dx, dy = x1 - x0, y1 - y0
    length = np.hypot(dx, dy)
    with np.errstate(invalid="ignore", divide="ignore"):
        ux, uy = dx / length, dy / length
        # along-line position (0 at first point, 1 at last) and lateral offset (y is medial positive)
        s = ((x - x0[:, None]) * ux[:, None] + (y - y0[:, None]) * uy[:, None]) / length[:, None]
        lateral = -((x - x0[:, None]) * uy[:, None] * -1.0 + (y - y0[:, None]) * ux[:, None])
    s_ok = np.where(ok, s, -np.inf)
    # first defined point at or beyond CPE_AT along the line, and its predecessor
    beyond = (s_ok >= CPE_AT)
    k = np.argmax(beyond, axis=1)
    kp = np.maximum(k - 1, 0)
    s0, s1 = s[rows, kp], s[rows, k]
    h0, h1 = lateral[rows, kp], lateral[rows, k]
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.clip((CPE_AT - s0) / (s1 - s0), 0.0, 1.0)
    cpe = np.where(np.isfinite(w), h0 + w * (h1 - h0), h1)
    valid = (ok.sum(axis=1) >= 10) & beyond.any(axis=1) & (k > 0) & (length > 0.2 * foot_length_mm)
    return np.where(valid, 100.0 * cpe / forefoot_width_mm, np.nan)


def lmfi(lateral_impulse: np.ndarray, medial_impulse: np.ndarray) -> np.ndarray:
    """(F_lat - F_med) / (F_lat + F_med) from force-time integrals (any shape; NaN without load)."""
    total = lateral_impulse + medial_impulse
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (lateral_impulse - medial_impulse) / total, np.nan)


#: Cut-offs of the label (see :func:`foot_function_label`).
CPEI_PRONATED_BELOW = 6.7
CPEI_SUPINATED_ABOVE = 16.0
LMFI_TERMINAL_PRONATED_BELOW = -0.175
LMFI_TERMINAL_SUPINATED_ABOVE = 0.215
LABEL_MIN_STEPS = 10
#: Layouts on which the cut-offs were set; other layouts get "undetermined" (their CPEI scale is unknown).
CALIBRATED_LAYOUTS = ("generic-8", "generic-16", "grid-99")

LABEL_RULE = (
    f"pronation if median insole CPEI < {CPEI_PRONATED_BELOW:g} or median terminal-stance LMFI < "
    f"{LMFI_TERMINAL_PRONATED_BELOW:g}; supination if median insole CPEI > {CPEI_SUPINATED_ABOVE:g} or median "
    f"terminal-stance LMFI > {LMFI_TERMINAL_SUPINATED_ABOVE:g}; neutral otherwise; undetermined if the two indices "
    f"disagree or fewer than {LABEL_MIN_STEPS} steps; cut-offs set on simulated neutral / over-pronating / "
    "over-supinating walkers (8, 16, 99 cells), not clinically validated; confidence = probability (normal "
    "approximation, SE of a median = 1.2533 SD / sqrt(n)) that the true medians fall in the labelled class"
)


def _median_se(x: np.ndarray) -> tuple[float, float]:
    return float(np.median(x)), max(1.2533 * float(np.std(x, ddof=1)) / math.sqrt(x.size), 1e-9)


def foot_function_label(cpei_steps: np.ndarray, lmfi_terminal_steps: np.ndarray | None = None,
                        layout_id: str | None = None) -> FootFunction:
    """Pronation / neutral / supination label of one foot from per-step insole CPEI and terminal-stance LMFI.

    Rule (:data:`LABEL_RULE`): lower CPEI (Song et al. 1996) and a more medial force share in terminal stance
    (LMFI; Buldt et al. 2018 found planus feet differ there) mean a more pronated foot function. Song et al. and
    the Framingham Foot Study (Menz et al. 2013) used sample quintiles, not fixed cut-offs, and the published
    force-plate group means (planus 21.6, rectus 22.8, cavus 23.9) differ by less than the per-step error of an
    insole CPEI, whose scale also depends on the cell layout. The cut-offs here were therefore set half-way
    between the simulated neutral walker and its over-pronating / over-supinating variants across the generic
    8/16/99-cell layouts, raw and calibrated units. They are a screening aid for this software, not a clinical
    threshold; the report should show the indices and their SD beside the label. Sessions on other layouts
    (``layout_id`` not in :data:`CALIBRATED_LAYOUTS`) are "undetermined".
    """
    x = np.asarray(cpei_steps, float)
    x = x[np.isfinite(x)]
    y = np.asarray(lmfi_terminal_steps if lmfi_terminal_steps is not None else [], float)
    y = y[np.isfinite(y)]
    base = {"rule": LABEL_RULE, "n": int(x.size), "median_cpei_pct": float(np.median(x)) if x.size else None,
            "median_lmfi_terminal": float(np.median(y)) if y.size else None}
    if layout_id is not None and layout_id not in CALIBRATED_LAYOUTS:
        return FootFunction(label="undetermined", confidence=0.0, **base,
                            reason=f"the cut-offs were set for the layouts {', '.join(CALIBRATED_LAYOUTS)}, not "
                            f"{layout_id!r}; compare the indices within this subject instead")
    if x.size < LABEL_MIN_STEPS:
        return FootFunction(label="undetermined", confidence=0.0, **base,
                            reason=f"fewer than {LABEL_MIN_STEPS} steps with a defined CPEI")
    indices = [(*_median_se(x), CPEI_PRONATED_BELOW, CPEI_SUPINATED_ABOVE)]
    if y.size >= LABEL_MIN_STEPS:
        indices.append((*_median_se(y), LMFI_TERMINAL_PRONATED_BELOW, LMFI_TERMINAL_SUPINATED_ABOVE))
    votes = []
    p_low, p_high, p_mid = [], [], []
    for med, se, lo, hi in indices:
        pl = float(norm.cdf((lo - med) / se))
        ph = float(norm.sf((hi - med) / se))
        p_low.append(pl)
        p_high.append(ph)
        p_mid.append(1.0 - pl - ph)
        votes.append("pronation" if med < lo else "supination" if med > hi else "neutral")
    if "pronation" in votes and "supination" in votes:
        return FootFunction(label="undetermined", confidence=0.0, **base, votes=votes,
                            reason="the two indices disagree (one says pronation, the other supination)")
    if "pronation" in votes:
        label, conf = "pronation", max(p_low)
    elif "supination" in votes:
        label, conf = "supination", max(p_high)
    else:
        label, conf = "neutral", min(p_mid)
    return FootFunction(label=label, confidence=round(conf, 3), **base, votes=votes)


def foot_function_not_applicable(reason: str) -> FootFunction:
    """The label of a foot whose layout cannot give the indices (one sensor, unknown cell positions)."""
    return FootFunction(label="undetermined", confidence=0.0, rule=LABEL_RULE, n=0, reason=reason)
