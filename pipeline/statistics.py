"""Small, cited statistics shared by the analysis, the findings and the before/after comparison.

- Student-t 95 % confidence interval of a mean.
- Symmetry index SI = (R - L) / (0.5 (R + L)) x 100 (Robinson et al. 1987; unstable near zero); symmetry angle
  SA = (45 deg - atan(L / R)) / 90 deg x 100 (Zifchock et al. 2008; bounded; when the result exceeds 100 the
  180 deg correction of the source applies), both via gait-evidence.md.
- Hedges' g: bias-corrected standardised mean difference with pooled SD (Hedges & Olkin 1985), with the usual
  large-sample standard error sqrt((n1 + n2) / (n1 n2) + g^2 / (2 (n1 + n2))).
- Cliff's delta: P(after > before) - P(after < before) (Cliff 1993).
- Welch's confidence interval of a difference of means with unequal variances (Welch 1947).
- MDC95 = 1.96 x sqrt(2) x SEM (Haley & Fragala-Pinkham 2006), SEM as in Weir 2005.
- Percentile bootstrap (Efron & Tibshirani 1993) with a fixed seed, so that a report is reproducible.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import stdtrit  # Student's t quantile (what scipy.stats.t.ppf calls, without scipy.stats)

#: Bootstrap resamples; 2,000 gives a stable 95 % percentile interval for the sample sizes of one walk.
N_BOOTSTRAP = 2000
#: Seed of every bootstrap, so the same file gives the same report.
BOOTSTRAP_SEED = 20240607


def _finite(x: np.ndarray | list[float]) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    return a[np.isfinite(a)]


def symmetry_index_pct(left: float, right: float) -> float:
    """Robinson symmetry index (right relative to left), percent; NaN when undefined."""
    mean = 0.5 * (left + right)
    return float((right - left) / mean * 100.0) if mean != 0 and np.isfinite(mean) else math.nan


def symmetry_angle_pct(left: float, right: float) -> float:
    """Zifchock symmetry angle, percent (0 = symmetric, bounded by +-100); NaN when undefined."""
    if not (np.isfinite(left) and np.isfinite(right)) or right == 0:
        return math.nan
    sa = (45.0 - math.degrees(math.atan(left / right))) / 90.0 * 100.0
    return float(sa - 200.0 if sa > 100.0 else sa)


def _resampled_means(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Mean of ``x[idx]`` per row of ``idx`` (one bootstrap resample per row)."""
    return np.mean(x[idx], axis=1)


def _resampled_medians(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Median of ``x[idx]`` per row of ``idx``, exactly as ``np.median(x[idx], axis=1)``, about 6 times faster.

    ``x`` sorted is monotone, so the k-th smallest value of a resample is the sorted value at the k-th smallest
    rank drawn: the middle order statistics are found among int32 ranks (half the bytes of the values, no gather
    of float64) and the median is their value (the mean of the two middle values for an even size, as numpy's).
    """
    n = x.size
    order = np.argsort(x, kind="stable")
    rank = np.empty(n, np.int32)
    rank[order] = np.arange(n, dtype=np.int32)
    lo, hi = (n - 1) // 2, n // 2
    middle = np.partition(rank[idx], [lo, hi] if hi != lo else lo, axis=1)
    ordered = x[order]
    if hi == lo:
        return ordered[middle[:, lo]]
    return (ordered[middle[:, lo]] + ordered[middle[:, hi]]) / 2.0


def bootstrap_si_ci(left: np.ndarray, right: np.ndarray, n_boot: int = N_BOOTSTRAP,
                    statistic: str = "median") -> tuple[float, float] | None:
    """Percentile-bootstrap 95 % CI of the symmetry index of the sides' ``statistic`` (``median`` or ``mean``),
    steps resampled within each side: the interval of the same statistic the SI reports.

    Returns None with fewer than 3 finite steps on either side.
    """
    left, right = _finite(left), _finite(right)
    if left.size < 3 or right.size < 3:
        return None
    reduce = _resampled_medians if statistic == "median" else _resampled_means
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    ml = reduce(left, rng.integers(0, left.size, (n_boot, left.size)))
    mr = reduce(right, rng.integers(0, right.size, (n_boot, right.size)))
    mean = 0.5 * (ml + mr)
    with np.errstate(divide="ignore", invalid="ignore"):
        si = (mr - ml) / mean * 100.0
    si = si[np.isfinite(si)]
    if si.size < n_boot // 2:
        return None
    lo, hi = np.percentile(si, [2.5, 97.5])
    return float(lo), float(hi)


def mean_ci95(x: np.ndarray) -> tuple[float, float] | None:
    """Student-t 95 % confidence interval of a mean; None with fewer than 2 finite values."""
    x = _finite(x)
    if x.size < 2:
        return None
    half = stdtrit(x.size - 1, 0.975) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)


def welch_ci95(before: np.ndarray, after: np.ndarray) -> tuple[float, float] | None:
    """Welch 95 % CI of mean(after) - mean(before); None with fewer than 2 values per group or zero variance."""
    a, b = _finite(before), _finite(after)
    if a.size < 2 or b.size < 2:
        return None
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    if se == 0:
        return None
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    d = b.mean() - a.mean()
    half = stdtrit(df, 0.975) * se
    return float(d - half), float(d + half)


def hedges_g(before: np.ndarray, after: np.ndarray) -> tuple[float, tuple[float, float]] | None:
    """Hedges' g of after vs before with its approximate 95 % CI; None when undefined."""
    a, b = _finite(before), _finite(after)
    n1, n2 = a.size, b.size
    if n1 < 2 or n2 < 2:
        return None
    sp = math.sqrt(((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / (n1 + n2 - 2))
    if sp == 0:
        return None
    j = 1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0)
    g = j * (b.mean() - a.mean()) / sp
    se = math.sqrt((n1 + n2) / (n1 * n2) + g * g / (2.0 * (n1 + n2)))
    return float(g), (float(g - 1.96 * se), float(g + 1.96 * se))


def cliffs_delta(before: np.ndarray, after: np.ndarray) -> float | None:
    """Cliff's delta of after vs before (-1..1; positive = after tends to be larger); vectorised via ranks."""
    a, b = np.sort(_finite(before)), _finite(after)
    if a.size == 0 or b.size == 0:
        return None
    less = np.searchsorted(a, b, side="left")  # before values strictly below each after value
    greater = a.size - np.searchsorted(a, b, side="right")  # before values strictly above
    return float((less.sum() - greater.sum()) / (a.size * b.size))


def cliffs_delta_magnitude(delta: float) -> str:
    """Verbal magnitude of |delta| with the thresholds of Romano et al. 2006 (0.147, 0.33, 0.474)."""
    d = abs(delta)
    return "negligible" if d < 0.147 else "small" if d < 0.33 else "medium" if d < 0.474 else "large"


def standard_error_of_mean(x: np.ndarray) -> float | None:
    """SD / sqrt(n) of the finite values; None with fewer than 2."""
    x = _finite(x)
    return float(x.std(ddof=1) / math.sqrt(x.size)) if x.size >= 2 else None


def mdc95(sem: float) -> float:
    """Minimal detectable change at 95 % confidence, 1.96 x sqrt(2) x SEM (Haley & Fragala-Pinkham 2006)."""
    return 1.96 * math.sqrt(2.0) * sem
