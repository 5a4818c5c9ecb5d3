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


#: Insole-CPEI cut-offs of the label (see :func:`foot_function_label`).
CPEI_PRONATED_BELOW = 13.0
CPEI_SUPINATED_ABOVE = 26.0
LABEL_MIN_STEPS = 10


def foot_function_label(cpei_steps: np.ndarray) -> dict[str, object]:
    """Pronation / neutral / supination label of one foot from its per-step insole CPEI.

    Rule: the median insole CPEI over steady-state steps is compared with fixed cut-offs (below
    ``CPEI_PRONATED_BELOW`` = pronation, above ``CPEI_SUPINATED_ABOVE`` = supination, neutral in between). Song et al.
    (1996) and the Framingham Foot Study (Menz et al. 2013) used sample quintiles, not fixed cut-offs, and the
    published group means (planus 21.6, rectus 22.8, cavus 23.9 on force-plate CPEI) differ by less than the
    per-step error of an insole CPEI, so these cut-offs are set for the insole CPEI of this software: half-way
    between the insole CPEI of the reference neutral walker and those of its over-pronating and over-supinating
    variants (simulator profiles, measured with the generic 8/16/99-cell layouts). They are a screening aid, not
    a clinical threshold. Confidence: the probability, under a normal approximation of the sampling error of
    the median (SE = 1.2533 x SD / sqrt(n)), that the true median lies in the labelled class. Fewer than 10 steps
    give "undetermined".
    """
    x = np.asarray(cpei_steps, float)
    x = x[np.isfinite(x)]
    rule = (
        f"median insole CPEI < {CPEI_PRONATED_BELOW:g} -> pronation, > {CPEI_SUPINATED_ABOVE:g} -> supination, "
        f"else neutral; needs >= {LABEL_MIN_STEPS} steps; confidence = P(true median in that class), "
        "SE of the median = 1.2533 SD / sqrt(n)"
    )
    if x.size < LABEL_MIN_STEPS:
        return {"label": "undetermined", "confidence": 0.0, "rule": rule, "n": int(x.size), "median_cpei_pct": None}
    med = float(np.median(x))
    se = max(1.2533 * float(np.std(x, ddof=1)) / math.sqrt(x.size), 1e-9)
    p_low = float(norm.cdf((CPEI_PRONATED_BELOW - med) / se))
    p_high = float(norm.sf((CPEI_SUPINATED_ABOVE - med) / se))
    if med < CPEI_PRONATED_BELOW:
        label, conf = "pronation", p_low
    elif med > CPEI_SUPINATED_ABOVE:
        label, conf = "supination", p_high
    else:
        label, conf = "neutral", 1.0 - p_low - p_high
    return {"label": label, "confidence": round(conf, 3), "rule": rule, "n": int(x.size),
            "median_cpei_pct": med}
