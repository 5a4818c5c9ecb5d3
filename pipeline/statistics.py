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

from pipeline.quantiles import t_quantile  # Student's t quantile without scipy.special (0.25-0.4 s to import)

#: Bootstrap resamples; 2,000 gives a stable 95 % percentile interval for the sample sizes of one walk.
N_BOOTSTRAP = 2000
#: Seed of every bootstrap, so the same file gives the same report.
BOOTSTRAP_SEED = 20240607


def finite_values(x: np.ndarray | list[float]) -> np.ndarray:
    """The finite values of ``x`` as float, in order: ``x`` itself (no copy) when it is a float64 array without
    NaN or infinities, which the caller must then not modify (a day's per-step values are 0.6 MB per metric and
    side, and the symmetry table holds some 50 of them)."""
    a = np.asarray(x, dtype=float)
    ok = np.isfinite(a)
    return a if ok.all() else a[ok]


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


#: Bootstrap indices drawn at once (a block of resamples): bounds the memory of the bootstrap to a few times
#: this many int64 values, whatever the number of steps (a 24-hour session has ~80,000 per side).
_BLOCK_DRAWS = 1 << 21
#: Width of the window of ranks summed around the middle of a resample, in SDs of the cumulative count.
_WINDOW_SD = 8.0
#: Ranks per block of the two-level search inside the window (block sums first, then the ranks of one block).
_BLOCK_RANKS = 16


def _window_start(n: int, ks: tuple[int, ...]) -> int:
    """First rank of the window that :func:`_kth_ranks` searches for the ``ks``-th draws of ``n`` (8 SD of the
    cumulative count below the lowest)."""
    return max(0, min(ks) - _window_half(n))


def _window_half(n: int) -> int:
    return int(_WINDOW_SD / 2 * math.sqrt(n)) + 8


def _kth_ranks(counts: np.ndarray, order: np.ndarray, ks: tuple[int, ...], prefix: np.ndarray) -> list[np.ndarray]:
    """For each resample (column of ``counts``, shape (steps, resamples): how often each step was drawn) the rank,
    in ``order``, of its ``k``-th smallest draw, for each ``k`` of ``ks``: the first rank whose cumulative count
    exceeds ``k``. ``prefix``: per resample, the draws of the steps ranked below :func:`_window_start`.

    The cumulative count near the middle is binomial with an SD below sqrt(n) / 2, so only a window of 8 SD
    around the middle is searched; the rare resample whose ``k``-th draw falls outside the window is counted in
    full. The window is searched in two levels: the counts summed in blocks of :data:`_BLOCK_RANKS` ranks give
    the block holding the ``k``-th draw, then the cumulative counts inside that block give its rank. All sums are
    of small integers in float32 (far below 2**24), so they are exact in any order and the ranks are those of a
    full cumulative count (a cumulative sum down the window took 30 times longer than the block sums: numpy
    accumulates along axis 0 element by element).
    """
    n, k_cols = counts.shape
    g = _BLOCK_RANKS
    a = _window_start(n, ks)
    n_blocks = -(-(min(n, max(ks) + _window_half(n) + 1) - a) // g)
    rows = counts[order[a : a + n_blocks * g]]
    if len(rows) < n_blocks * g:  # the window ends at the last rank: pad the last block with empty ranks
        rows = np.concatenate([rows, np.zeros((n_blocks * g - len(rows), k_cols), np.float32)])
    blocks = rows.reshape(n_blocks, g, k_cols)
    cum_blocks = np.cumsum(blocks.sum(axis=1), axis=0)
    cum_blocks += prefix
    cols = np.arange(k_cols)
    out = []
    for k in ks:
        blk = np.minimum(np.count_nonzero(cum_blocks <= k, axis=0), n_blocks - 1)  # the block of the k-th draw
        base = np.where(blk > 0, cum_blocks[np.maximum(blk - 1, 0), cols], prefix)  # draws ranked before it
        inner = np.cumsum(blocks[blk, :, cols], axis=1)  # (resamples, g)
        inner += base[:, None]
        out.append(a + blk * g + np.count_nonzero(inner <= k, axis=1))
    outside = (prefix > min(ks)) | (cum_blocks[-1] <= max(ks))
    if outside.any():
        full = np.cumsum(counts[:, outside][order], axis=0)
        for j, k in zip(out, ks, strict=True):
            j[outside] = np.count_nonzero(full <= k, axis=0)
    return out


def _resampled_medians(xs: list[np.ndarray], rng: np.random.Generator, n_boot: int) -> list[np.ndarray]:
    """Medians of ``n_boot`` bootstrap resamples of each array of ``xs`` (all of one size ``n``), every array
    resampled with the same draws ``idx = rng.integers(0, n, (n_boot, n))``.

    Exactly ``np.median(x[idx], axis=1)`` for each ``x``, from counts instead of a sort: the draws are made in
    blocks of rows (numpy's generator gives the same stream as one call) and counted per step once for all
    arrays; the k-th smallest value of a resample is ``sorted(x)[j]`` with ``j`` from :func:`_kth_ranks` (the
    median is the mean of the two middle values for an even size, as numpy's). The draws ranked below each
    array's window come from one matrix product for all arrays (exact: sums of small integers).
    """
    n = xs[0].size
    lo, hi = (n - 1) // 2, n // 2
    ks = (lo,) if hi == lo else (lo, hi)
    orders = [np.argsort(x, kind="stable") for x in xs]
    ordered = [x[o] for x, o in zip(xs, orders, strict=True)]
    below = np.zeros((len(xs), n), np.float32)  # per array, the steps ranked below its window
    a = _window_start(n, ks)
    for i, order in enumerate(orders):
        below[i, order[:a]] = 1.0
    out = [np.empty(n_boot, dtype=x.dtype) for x in xs]
    rows = max(1, min(n_boot, _BLOCK_DRAWS // n))
    for start in range(0, n_boot, rows):
        k = min(rows, n_boot - start)
        idx = rng.integers(0, n, (k, n))
        idx += (np.arange(k) * n)[:, None]  # counted resample by resample (each row's counts stay in cache) ...
        counts = np.bincount(idx.ravel(), minlength=k * n).reshape(k, n)
        del idx
        counts = np.ascontiguousarray(counts.T, dtype=np.float32)  # ... then laid out steps x resamples
        prefixes = below @ counts  # (arrays, resamples)
        for order, srt, med, prefix in zip(orders, ordered, out, prefixes, strict=True):
            j = _kth_ranks(counts, order, ks, prefix)
            med[start:start + k] = srt[j[0]] if len(ks) == 1 else (srt[j[0]] + srt[j[1]]) / 2.0
    return out


def bootstrap_si_cis(pairs: list[tuple[np.ndarray, np.ndarray]], n_boot: int = N_BOOTSTRAP
                     ) -> list[tuple[float, float] | None]:
    """Percentile-bootstrap 95 % CI of the symmetry index of the sides' medians, for each ``(left, right)`` pair
    of per-step values; steps resampled within each side: the interval of the statistic the SI reports.

    Each pair's resamples come from a generator seeded with :data:`BOOTSTRAP_SEED` (left drawn first), so a pair
    gets the same interval alone or among others; pairs with the same numbers of finite steps share the draws
    (computed once). None for a pair with fewer than 3 finite steps on either side.
    """
    finite_pairs = [(finite_values(left), finite_values(right)) for left, right in pairs]  # read only
    out: list[tuple[float, float] | None] = [None] * len(pairs)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (left, right) in enumerate(finite_pairs):
        if left.size >= 3 and right.size >= 3:
            groups.setdefault((left.size, right.size), []).append(i)
    for members in groups.values():
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        meds_l = _resampled_medians([finite_pairs[i][0] for i in members], rng, n_boot)
        meds_r = _resampled_medians([finite_pairs[i][1] for i in members], rng, n_boot)
        for i, ml, mr in zip(members, meds_l, meds_r, strict=True):
            mean = 0.5 * (ml + mr)
            with np.errstate(divide="ignore", invalid="ignore"):
                si = (mr - ml) / mean * 100.0
            si = si[np.isfinite(si)]
            if si.size >= n_boot // 2:
                lo, hi = np.percentile(si, [2.5, 97.5])
                out[i] = (float(lo), float(hi))
    return out


def bootstrap_si_ci(left: np.ndarray, right: np.ndarray, n_boot: int = N_BOOTSTRAP) -> tuple[float, float] | None:
    """:func:`bootstrap_si_cis` of one pair."""
    return bootstrap_si_cis([(left, right)], n_boot)[0]


def mean_ci95(x: np.ndarray) -> tuple[float, float] | None:
    """Student-t 95 % confidence interval of a mean; None with fewer than 2 finite values."""
    x = finite_values(x)
    if x.size < 2:
        return None
    half = t_quantile(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)


def welch_ci95(before: np.ndarray, after: np.ndarray) -> tuple[float, float] | None:
    """Welch 95 % CI of mean(after) - mean(before); None with fewer than 2 values per group or zero variance."""
    a, b = finite_values(before), finite_values(after)
    if a.size < 2 or b.size < 2:
        return None
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    if se == 0:
        return None
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    d = b.mean() - a.mean()
    half = t_quantile(0.975, df) * se
    return float(d - half), float(d + half)


def hedges_g(before: np.ndarray, after: np.ndarray) -> tuple[float, tuple[float, float]] | None:
    """Hedges' g of after vs before with its approximate 95 % CI; None when undefined."""
    a, b = finite_values(before), finite_values(after)
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
    a, b = np.sort(finite_values(before)), finite_values(after)
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
    x = finite_values(x)
    return float(x.std(ddof=1) / math.sqrt(x.size)) if x.size >= 2 else None


def mdc95(sem: float) -> float:
    """Minimal detectable change at 95 % confidence, 1.96 x sqrt(2) x SEM (Haley & Fragala-Pinkham 2006)."""
    return 1.96 * math.sqrt(2.0) * sem
