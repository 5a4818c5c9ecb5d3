"""A value's position in a reference cohort: mid-rank percentile with an interval, leaving the subject out.

The percentile of a value ``v`` among the cohort's ``n`` values is ``100 x (#below + 0.5 #equal) / n`` (mid-rank).
Its interval combines the two uncertainties a clinician needs: the value's own (its 95 % CI, when it has one, gives
the lowest and highest rank it could take) and the cohort's finite size (Clopper-Pearson 95 % bounds on those ranks,
Clopper & Pearson 1934). When the session's subject is in the cohort, their recordings are left out first, so
that nobody is judged against themselves. :func:`reference_interval` gives the healthy range the report draws
beside each measure, from the same values and with the same leaving-out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.analysis.result import CohortPosition
from pipeline.norms.cohort import Cohort, CohortMetric
from pipeline.quantiles import beta_quantile  # the beta quantile without scipy.special (0.25-0.4 s to import)

#: Fewer cohort values than this give no position (a percentile of two values is not a reference).
MIN_COHORT_VALUES = 5


def _cp_low(k: float, n: int) -> float:
    return 0.0 if k <= 0 else beta_quantile(0.025, k, n - k + 1)


def _cp_high(k: float, n: int) -> float:
    return 1.0 if k >= n else beta_quantile(0.975, k + 1, n - k)


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


#: Two-sided share of the reference interval outside each limit (the central 95 % of healthy values).
REFERENCE_TAIL = 0.025
#: Fewest values for which the nonparametric 2.5th / 97.5th percentiles lie inside the sample: the rank method
#: places the p-quantile at rank p (n + 1) (CLSI EP28-A3c, the C28-A3 rank rule), which is below rank 1 for
#: n < 39. With fewer values the interval is the observed range (the sample's lowest and highest value).
MIN_VALUES_CENTRAL_95 = 39


@dataclass(frozen=True)
class ReferenceInterval:
    """The healthy range of one metric in a cohort, the session's subject left out.

    Attributes
    ----------
    low, high : float
        The reference limits: the 2.5th and 97.5th percentiles by the rank rule when the cohort has at least
        :data:`MIN_VALUES_CENTRAL_95` values, else the observed lowest and highest value.
    q1, median, q3 : float
        Quartiles of the cohort's values (numpy linear interpolation), drawn as the inner band.
    n : int
        Values behind the interval (one per foot or recording).
    n_subjects : int
        Distinct subjects behind them.
    rule : str
        Which interval it is (``central 95 %`` or ``observed range``), with its reason.
    left_out : bool
        The subject's own recordings were left out.
    """

    low: float
    high: float
    q1: float
    median: float
    q3: float
    n: int
    n_subjects: int
    rule: str
    left_out: bool


def reference_interval(cohort_metric: CohortMetric, subject: str | None) -> ReferenceInterval | None:
    """The reference interval of ``cohort_metric`` with ``subject`` left out (None below :data:`MIN_COHORT_VALUES`)."""
    left_out = subject is not None and any(e.subject == subject for e in cohort_metric.entries)
    kept = [e for e in cohort_metric.entries if not (left_out and e.subject == subject) and np.isfinite(e.value)]
    vals = np.sort(np.asarray([e.value for e in kept], float))
    n = int(vals.size)
    if n < MIN_COHORT_VALUES:
        return None
    if n >= MIN_VALUES_CENTRAL_95:
        ranks = np.array([REFERENCE_TAIL, 1 - REFERENCE_TAIL]) * (n + 1) - 1  # 0-based fractional ranks
        low, high = np.interp(ranks, np.arange(n), vals)
        rule = "central 95 % (2.5th-97.5th percentile, rank p(n+1), CLSI EP28-A3c)"
    else:
        low, high = vals[0], vals[-1]
        rule = (f"observed range (lowest to highest of {n} values): fewer than {MIN_VALUES_CENTRAL_95} values cannot "
                "place the 2.5th and 97.5th percentiles inside the sample (rank p(n+1), CLSI EP28-A3c)")
    q1, med, q3 = np.quantile(vals, [0.25, 0.5, 0.75])
    return ReferenceInterval(low=float(low), high=float(high), q1=float(q1), median=float(med), q3=float(q3), n=n,
                             n_subjects=len({e.subject for e in kept}), rule=rule, left_out=left_out)
