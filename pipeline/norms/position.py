"""A value's position in a reference cohort: mid-rank percentile with an interval, leaving the subject out.

The percentile of a value ``v`` among the cohort's ``n`` values is ``100 x (#below + 0.5 #equal) / n`` (mid-rank).
Its interval combines the two uncertainties a clinician needs: the value's own (its 95 % CI, when it has one, gives
the lowest and highest rank it could take) and the cohort's finite size (Clopper-Pearson 95 % bounds on those ranks,
Clopper & Pearson 1934). When the session's subject is in the cohort, their recordings are left out first, so
that nobody is judged against themselves.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaincinv  # the beta quantile (scipy.stats.beta.ppf), without scipy.stats

from pipeline.analysis.result import CohortPosition
from pipeline.norms.cohort import Cohort, CohortMetric

#: Fewer cohort values than this give no position (a percentile of two values is not a reference).
MIN_COHORT_VALUES = 5


def _cp_low(k: float, n: int) -> float:
    return 0.0 if k <= 0 else float(betaincinv(k, n - k + 1, 0.025))


def _cp_high(k: float, n: int) -> float:
    return 1.0 if k >= n else float(betaincinv(k + 1, n - k, 0.975))


def percentile_in(values: np.ndarray, value: float) -> float:
    """Mid-rank percentile of ``value`` among ``values``."""
    v = np.asarray(values, float)
    return float(100.0 * ((v < value).sum() + 0.5 * (v == value).sum()) / v.size)


def position(cohort: Cohort, metric: CohortMetric, value: float | None, ci95: tuple[float, float] | None,
             subject: str | None) -> CohortPosition | None:
    """The position of ``value`` (with its ``ci95``) in ``metric`` of ``cohort``; None without enough values."""
    if value is None or not np.isfinite(value):
        return None
    left_out = subject is not None and any(e.subject == subject for e in metric.entries)
    vals = np.asarray(metric.values(subject if left_out else None), float)
    vals = vals[np.isfinite(vals)]
    n = int(vals.size)
    if n < MIN_COHORT_VALUES:
        return None
    pct = percentile_in(vals, value)
    lo_v, hi_v = ci95 if ci95 is not None else (value, value)
    k_lo = float((vals < min(lo_v, value)).sum())
    k_hi = float((vals <= max(hi_v, value)).sum())
    ci = (100.0 * _cp_low(k_lo, n), 100.0 * _cp_high(k_hi, n))
    return CohortPosition(cohort=cohort.label(), n=n, percentile=pct, percentile_ci=ci, left_out=left_out)


def quantile(cohort_metric: CohortMetric, q: float, subject: str | None) -> tuple[float, int] | None:
    """The ``q`` quantile (0-1) of the cohort's values (the subject left out) and how many values it rests on."""
    left_out = subject is not None and any(e.subject == subject for e in cohort_metric.entries)
    vals = np.asarray(cohort_metric.values(subject if left_out else None), float)
    vals = vals[np.isfinite(vals)]
    if vals.size < MIN_COHORT_VALUES:
        return None
    return float(np.quantile(vals, q)), int(vals.size)
