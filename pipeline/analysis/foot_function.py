"""Foot-function indices: insole CPEI, lateral-medial force index by stance phase, and a foot-function label.

CPEI as constructed by Song et al. 1996 (JAPMA; ``shared/design/gait-evidence.md``, "Foot-function indices"):
the construction line joins the first and the last point of the step's whole CoP path (untrimmed: every loaded
frame of the stance); the transverse line lies at the distal third of the foot (two thirds of foot length from
the back of the heel); CPE is the medio-lateral distance, along that transverse line, from the construction line
to the point where the CoP path crosses it, lateral positive; CPEI = CPE / foot width x 100, the width being that
of the sensor hull along the same transverse line. Lower = more medial path = more pronated. The CoP is the
insole's cell-weighted centre (confined to the sensor hull, quantised with 8-16 cells), so this is a
same-device measure: comparable between sessions and people on the same insole model only, never with a
force-plate CPEI.

Strike index (Cavanagh & Lafortune 1980): the first point of the whole CoP path as a share of foot length;
below one third a rearfoot strike, above two thirds a forefoot strike, a midfoot strike between.

Lateral-medial force index (Buldt et al. 2018): LMFI = (F_lat - F_med) / (F_lat + F_med), with the force-time
integrals of the lateral and medial cells over each stance phase: loading response 0-17 %, mid-stance 17-50 %,
terminal stance 50-83 %, pre-swing 83-100 % of stance (Perry & Burnfield 2010 phases, 0-10-30-50-60 % of the
gait cycle, rescaled to a 60 % stance).
"""

from __future__ import annotations

import numpy as np

from pipeline.analysis.result import FootFunction, Metric

#: Stance-phase edges (% stance) of the LMFI.
LMFI_PHASES = {"loading": (0.0, 17.0), "midstance": (17.0, 50.0), "terminal": (50.0, 83.0), "preswing": (83.0, 100.0)}
#: Where the transverse line of the CPE lies, as a share of foot length from the heel (Song et al. 1996: the
#: distal third of the foot).
CPE_AT = 2.0 / 3.0
#: Steps processed at once by :func:`cpei_pct` (bounds its temporary memory on day-long recordings).
ROW_BATCH = 4096


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Vertices of the convex hull of distinct 2-D ``points`` sorted by x then y, counter-clockwise.

    Andrew's monotone chain (a cell layout has 1-99 cells; scipy.spatial's Qhull gives the same vertices, points on
    an edge excluded, but costs 0.1-0.3 s to import). Fewer than three vertices when the points are collinear.
    """
    def chain(rows: np.ndarray) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for x, y in rows.tolist():
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (y - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (x - out[-2][0])) <= 0:
                out.pop()
            out.append((x, y))
        return out

    lower, upper = chain(points), chain(points[::-1])
    return np.array(lower[:-1] + upper[:-1], dtype=float).reshape(-1, 2)


def hull_width_at(x_mm: np.ndarray, y_mm: np.ndarray, x_line_mm: float) -> float:
    """Medio-lateral width (mm) of the convex hull of the cell centres along the transverse line ``x = x_line_mm``.

    NaN when the hull does not reach the line or has no width there (fewer than three cells, cells in a line).
    """
    pts = np.unique(np.c_[np.asarray(x_mm, float), np.asarray(y_mm, float)], axis=0)
    if len(pts) < 3:
        return float("nan")
    return polygon_width_at(convex_hull(pts), x_line_mm)


def polygon_width_at(vertices: np.ndarray, x_line_mm: float) -> float:
    """Width (mm) along ``x = x_line_mm`` of the convex polygon with these ``vertices`` (in order, either way round).

    NaN when the polygon has fewer than three vertices, does not reach the line, or has no width there.
    """
    if len(vertices) < 3:
        return float("nan")
    a, b = vertices, np.roll(vertices, -1, axis=0)
    cross = (a[:, 0] - x_line_mm) * (b[:, 0] - x_line_mm) <= 0
    cross &= a[:, 0] != b[:, 0]
    if not cross.any():
        return float("nan")
    w = (x_line_mm - a[cross, 0]) / (b[cross, 0] - a[cross, 0])
    y = a[cross, 1] + w * (b[cross, 1] - a[cross, 1])
    width = float(y.max() - y.min())
    return width if width > 0 else float("nan")


def cpei_pct(ap_all: np.ndarray, ml_all: np.ndarray, foot_length_mm: float, forefoot_width_mm: float,
             hull_width_mm: float) -> np.ndarray:
    """CPEI (Song et al. 1996) of each step's whole CoP path ``(n_steps, n_points)``.

    ``ap_all`` is the path's AP position as a share of foot length, ``ml_all`` its ML position as a share of
    ``forefoot_width_mm`` (medial positive), both untrimmed; ``hull_width_mm`` is the sensor hull's width along the
    transverse line at the distal third. NaN for steps whose path has fewer than 10 points, does not reach the
    transverse line, or whose construction line does not span it. Computed :data:`ROW_BATCH` steps at a time (its
    temporaries are a dozen arrays of the paths' size: 0.3 GB for a day of walking at once).
    """
    if len(ap_all) > ROW_BATCH:
        return np.concatenate([
            cpei_pct(ap_all[a:a + ROW_BATCH], ml_all[a:a + ROW_BATCH], foot_length_mm, forefoot_width_mm,
                     hull_width_mm) for a in range(0, len(ap_all), ROW_BATCH)])
    x = ap_all * foot_length_mm
    y = ml_all * forefoot_width_mm
    x_line = CPE_AT * foot_length_mm
    ok = np.isfinite(x) & np.isfinite(y)
    n_steps, n = x.shape
    rows = np.arange(n_steps)
    first = np.argmax(ok, axis=1)
    last = n - 1 - np.argmax(ok[:, ::-1], axis=1)
    x0, y0, x1, y1 = x[rows, first], y[rows, first], x[rows, last], y[rows, last]
    # the path's first crossing of the transverse line, interpolated between the two points around it
    beyond = ok & (x >= x_line)  # the first point at or past the line is where the path first reaches it
    k = np.argmax(beyond, axis=1)
    reached = beyond.any(axis=1) & (k > 0)
    kp = np.maximum(k - 1, 0)
    # the last defined point at or before kp (the path carried forward over undefined points), taken only there
    cols = np.arange(n)
    before = np.where(ok & (cols[None, :] <= kp[:, None]), cols[None, :], 0).max(axis=1)
    xa, xb, ya, yb = x[rows, before], x[rows, k], y[rows, before], y[rows, k]
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.clip((x_line - xa) / (xb - xa), 0.0, 1.0)
        y_path = ya + np.where(np.isfinite(w), w, 1.0) * (yb - ya)
        y_construction = y0 + (x_line - x0) * (y1 - y0) / (x1 - x0)
    cpe = y_construction - y_path  # lateral positive (y is medial positive)
    valid = (ok.sum(axis=1) >= 10) & reached & (x0 < x_line) & (x1 > x_line) & np.isfinite(hull_width_mm)
    return np.where(valid, 100.0 * cpe / hull_width_mm, np.nan)


#: Strike index class limits (share of foot length; Cavanagh & Lafortune 1980).
STRIKE_LIMITS = (1.0 / 3.0, 2.0 / 3.0)


def strike_index_pct(ap_all: np.ndarray) -> np.ndarray:
    """First point of each step's whole CoP path, % of foot length from the heel (NaN without a CoP)."""
    ok = np.isfinite(ap_all)
    first = np.argmax(ok, axis=1)
    return np.where(ok.any(axis=1), 100.0 * ap_all[np.arange(len(ap_all)), first], np.nan)


def lmfi(lateral_impulse: np.ndarray, medial_impulse: np.ndarray) -> np.ndarray:
    """(F_lat - F_med) / (F_lat + F_med) from force-time integrals (any shape; NaN without load)."""
    total = lateral_impulse + medial_impulse
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (lateral_impulse - medial_impulse) / total, np.nan)


#: Quintile limits of the label (percentile of the insole CPEI in the cohort of the same insole model).
PRONATION_BELOW_PCT, SUPINATION_ABOVE_PCT = 20.0, 80.0
LABEL_MIN_STEPS = 10
NOT_ASSESSED = "not assessed"

LABEL_RULE = (
    f"insole CPEI in the lowest fifth (percentile < {PRONATION_BELOW_PCT:g}) of the reference cohort of the same "
    f"insole model: pronation; in the highest fifth (> {SUPINATION_ABOVE_PCT:g}): supination; neutral otherwise. "
    "Quintiles as in the Framingham Foot Study (Menz et al. 2013, older community adults, barefoot platform CPEI, "
    "who called the lowest sample quintile pronated), applied to an insole CPEI positioned among real healthy "
    f"recordings of the same device; not assessed without such a cohort or with fewer than {LABEL_MIN_STEPS} steps"
)


def foot_function_label(cpei: Metric) -> FootFunction:
    """The pronation / neutral / supination label of one foot from its insole CPEI and the CPEI's cohort position.

    Rule (:data:`LABEL_RULE`): the insole CPEI reads on a scale of its own for every insole model (the CoP is
    confined to that model's sensor hull), so no fixed cut-off exists; the label is the CPEI's quintile among real
    healthy recordings of the same model, the convention of the only study linking CPEI to low back pain
    (Menz et al. 2013). Without a cohort for the insole the label is "not assessed", with the reason.
    """
    base = {"rule": LABEL_RULE, "n": cpei.n, "median_cpei_pct": cpei.median, "reference": cpei.reference}
    if not cpei.available:
        return FootFunction(label=NOT_ASSESSED, **base, reason=cpei.reason or "no insole CPEI")
    ref = cpei.reference
    if ref is None:
        return FootFunction(label=NOT_ASSESSED, **base,
                            reason="no reference cohort of healthy recordings covers this insole model; an insole "
                            "CPEI has no cut-off of its own (pass one built with `insole norms build` as --cohort)")
    if cpei.n < LABEL_MIN_STEPS:
        return FootFunction(label=NOT_ASSESSED, **base, reason=f"fewer than {LABEL_MIN_STEPS} steps with a CPEI")
    pct = ref.percentile
    label = "pronation" if pct < PRONATION_BELOW_PCT else "supination" if pct > SUPINATION_ABOVE_PCT else "neutral"
    return FootFunction(label=label, **base)


def foot_function_not_applicable(reason: str) -> FootFunction:
    """The label of a foot whose layout cannot give the indices (one sensor, unknown cell positions)."""
    return FootFunction(label=NOT_ASSESSED, rule=LABEL_RULE, n=0, reason=reason)
