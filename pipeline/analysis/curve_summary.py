"""Summaries of the stance-normalised curves of one foot's valid steps (:class:`~.result.curves.StanceCurves`).

What the report's curve figures used to compute from every step's curve is computed here, once, and the curves
themselves are not kept: per point the mean and SD across steps with NaN ignored, over the steps whose curve is
*defined* (finite at more than half of its points) or over every valid step, and the curves of the at most
:data:`MAX_STEPS_DRAWN` steps a figure draws (:func:`drawn_rows`).

The sums run over batches of :data:`STEP_BATCH` steps, converted to float64 one batch at a time, and each batch
is added row after row onto the running total: the order of a single numpy sum over all steps (numpy adds the
rows of a C-ordered array one after the other when it reduces over them), so the means and SDs are the same to
the last bit as those of the full float64 arrays, at a few MB of temporary memory instead of a copy of the
curves.
"""

from __future__ import annotations

import numpy as np

from pipeline.analysis.force_curve import STEP_BATCH
from pipeline.analysis.result.curves import CurveSummary, StanceCurves

#: Most per-step lines or points drawn in one panel (evenly spaced over the session); means and SDs use every
#: step. More would not show more to the eye, and a 1-hour session's figure would be tens of MB of SVG.
MAX_STEPS_DRAWN = 150


def drawn_rows(n: int, limit: int | None = None) -> np.ndarray:
    """Indices of the at most ``limit`` (default :data:`MAX_STEPS_DRAWN`) steps of ``n`` that a figure draws:
    evenly spaced, first and last included."""
    limit = MAX_STEPS_DRAWN if limit is None else limit
    return np.unique(np.linspace(0, n - 1, min(n, limit)).round().astype(int)) if n else np.zeros(0, int)


def defined_steps(curves: np.ndarray) -> np.ndarray:
    """Whether each step's curve (a row of ``(n_steps, n_points)``) is finite at more than half of its points."""
    return np.isfinite(curves).sum(axis=1) > curves.shape[1] // 2


def summarise(curves: np.ndarray, steps: np.ndarray) -> CurveSummary:
    """Mean, SD and drawn curves of the rows ``steps`` (bool mask or indices) of ``curves`` ``(n, n_points)``.

    Mean and SD per point ignore NaN (SD with ddof = 1; NaN where no step, or fewer than two, are finite); see
    the module description for why they equal those of ``curves[steps].astype(float)`` bit for bit.
    """
    idx = np.flatnonzero(steps) if np.asarray(steps).dtype == bool else np.asarray(steps, np.intp)
    n_points = curves.shape[1]
    count = np.zeros(n_points, np.int64)
    total = np.zeros(n_points)
    buf = np.empty((min(STEP_BATCH, len(idx)) + 1, n_points))
    for a in range(0, len(idx), STEP_BATCH):
        block = curves[idx[a : a + STEP_BATCH]].astype(np.float64)
        finite = np.isfinite(block)
        count += finite.sum(axis=0)
        block[~finite] = 0.0
        total = _add_rows(total, block, buf, first=a == 0)
    mean = np.divide(total, count, out=np.full(n_points, np.nan), where=count > 0)
    squares = np.zeros(n_points)
    for a in range(0, len(idx), STEP_BATCH):
        block = curves[idx[a : a + STEP_BATCH]].astype(np.float64)
        dev = np.where(np.isfinite(block), block - mean[None, :], 0.0)
        squares = _add_rows(squares, np.square(dev, out=dev), buf, first=a == 0)
    sd = np.sqrt(np.divide(squares, count - 1, out=np.full(n_points, np.nan), where=count > 1))
    return CurveSummary(n_steps=len(idx), mean=mean, sd=sd, drawn=curves[idx[drawn_rows(len(idx))]])


def _add_rows(total: np.ndarray, block: np.ndarray, buf: np.ndarray, *, first: bool) -> np.ndarray:
    """``total`` plus the rows of ``block`` added one after the other (the first block: the rows' own sum)."""
    if first:
        return block.sum(axis=0)
    k = len(block)
    buf[0] = total
    buf[1 : k + 1] = block
    return buf[: k + 1].sum(axis=0)


def stance_curves(force: np.ndarray, cop_ap: np.ndarray, cop_ml: np.ndarray, valid: np.ndarray,
                  force_unit: str) -> StanceCurves:
    """The :class:`StanceCurves` of one foot from every detected step's curves ``(n_steps, 101)`` and the
    ``valid`` mask of the steps (read in batches; no copy of the curves is made)."""
    valid = np.asarray(valid, bool)
    ap_defined = valid & defined_steps(cop_ap)
    ml_defined = valid & defined_steps(cop_ml)
    cop_ml_summary = summarise(cop_ml, ap_defined)
    return StanceCurves(
        n_steps=int(valid.sum()), force_unit=force_unit, force=summarise(force, valid),
        force_defined=summarise(force, valid & defined_steps(force)), cop_ap=summarise(cop_ap, ap_defined),
        cop_ml=cop_ml_summary,
        cop_ml_defined=cop_ml_summary if np.array_equal(ap_defined, ml_defined) else summarise(cop_ml, ml_defined),
    )
