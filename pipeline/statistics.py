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
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

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


#: Bootstrap indices counted per block of resamples: bounds the memory of the bootstrap to a few times this many
#: float32 values, whatever the number of steps (a 24-hour session has ~80,000 per side).
_BLOCK_DRAWS = 1 << 21
#: Indices drawn and counted at once inside a block (a few resamples): the draws and their counts stay in the
#: cache from the draw to the copy into the block's table.
_COUNT_DRAWS = 1 << 17
#: Steps per matrix product of their counts (all of a block's resamples, the rows copied to float32 at once: a
#: contiguous cast, then one product per :data:`_PRODUCT_STEPS` steps, summed; 2.0 against 2.6-4.0 ms a block of
#: 630 resamples of 3,324 steps when the product took 64 resamples at a time, one BLAS thread).
_PRODUCT_STEPS = 512
#: Half-width of the window of ranks searched around the middle of a resample, in SDs of the cumulative count
#: (a resample outside it, about one in 10^7 at 5 SD, is counted in full: the width changes only the time).
_WINDOW_SD = 5.0
#: Ranks per block of the two-level search inside the window (block sums first, then the ranks of one block).
_BLOCK_RANKS = 16
#: Window counts gathered at once (bytes): several arrays are searched together, each with its own order.
_GROUP_BYTES = 1 << 21


def _window_start(n: int, ks: tuple[int, ...]) -> int:
    """First rank of the window that :func:`_kth_ranks` searches for the ``ks``-th draws of ``n``
    (:data:`_WINDOW_SD` SDs of the cumulative count below the lowest)."""
    return max(0, min(ks) - _window_half(n))


def _window_half(n: int) -> int:
    return int(_WINDOW_SD / 2 * math.sqrt(n)) + 8


def _window_blocks(n: int, ks: tuple[int, ...]) -> int:
    """Blocks of :data:`_BLOCK_RANKS` ranks in the window of :func:`_kth_ranks`."""
    return -(-(min(n, max(ks) + _window_half(n) + 1) - _window_start(n, ks)) // _BLOCK_RANKS)


def _count_draws(draws: Iterable[np.ndarray], n: int, k: int, below: np.ndarray, dtype: type
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Count ``k`` resamples of ``n`` steps, ``draws`` (arrays of a few resamples each, as
    ``rng.integers(0, n, (m, n))`` gives them; not modified): ``(counts, sums)``, ``counts`` of shape (n + 1, k)
    and type ``dtype`` (how often each step was drawn in each resample, laid out steps x resamples, a last row of
    zeros), ``sums = below @ counts`` (float32, exact: sums of small integers in any order), the product taken
    :data:`_PRODUCT_STEPS` steps at a time and summed. Each few resamples' draws are counted straight into the
    steps x resamples layout (draw ``i`` of resample ``r`` goes to bin ``i x m + r``), so no transposed copy is
    made. Counts are cast to ``dtype`` without a check (uint8 wraps above 255); the sums are of the counts as
    cast."""
    counts = np.empty((n + 1, k), dtype)
    counts[n] = 0  # the empty rank that pads a window at the last rank
    rows = max(1, _COUNT_DRAWS // n)
    cols = np.arange(min(rows, k))[:, None]
    bins = np.empty((min(rows, k), n), np.int64)
    s = 0
    for idx in draws:
        m = len(idx)
        # the bins in int64, which np.bincount takes as they are (it converts any other integer type first)
        np.multiply(idx, m, out=bins[:m])
        bins[:m] += cols[:m]  # the bin of step i in resample r: i * m + r
        np.copyto(counts[:n, s:s + m], np.bincount(bins[:m].ravel(), minlength=m * n).reshape(n, m),
                  casting="unsafe")
        s += m
    sums = np.zeros((len(below), k), np.float32)
    staged = np.empty((min(n, _PRODUCT_STEPS), k), np.float32)  # a few steps' counts of every resample, in the cache
    part = np.empty_like(sums)
    for s in range(0, n, _PRODUCT_STEPS):
        m = min(_PRODUCT_STEPS, n - s)
        np.copyto(staged[:m], counts[s:s + m])
        np.matmul(below[:, s:s + m], staged[:m], out=part)
        sums += part
    return counts, sums


def _kth_ranks(counts: np.ndarray, orders: np.ndarray, windows: np.ndarray, ks: tuple[int, ...],
               prefix: np.ndarray) -> list[np.ndarray]:
    """For each array (row of ``orders``: its steps in rank order) and each resample (column of ``counts``, shape
    (steps + 1, resamples): how often each step was drawn, a last row of zeros) the rank of the resample's
    ``k``-th smallest draw, for each ``k`` of ``ks``: the first rank whose cumulative count exceeds ``k``; arrays
    x resamples. ``windows``: per array, the steps of the ranks from :func:`_window_start` on (the zero row past
    the last rank); ``prefix``: per array and resample, the draws of the steps ranked below the window.

    The cumulative count near the middle is binomial with an SD below sqrt(n) / 2, so only a window of
    :data:`_WINDOW_SD` SDs either side of the middle is searched; the rare resample whose ``k``-th draw falls
    outside the window is counted in full. The window is searched in two levels: the counts summed in blocks of
    :data:`_BLOCK_RANKS` ranks give the block holding the ``k``-th draw, then the cumulative counts inside that
    block give its rank (:func:`_ranks_in_blocks`). All sums are of integers, so they are exact in any order and
    the ranks are those of a full cumulative count. Block sums of uint8 counts are uint16 (exact), cumulative
    counts int32; the cumulative sum over blocks is a loop (numpy's cumsum along that axis takes twice as long).
    """
    n_arr, width = windows.shape
    k_cols = counts.shape[1]
    g = _BLOCK_RANKS
    n_blocks = width // g
    a = _window_start(orders.shape[1], ks)
    blocks = counts[windows.ravel()].reshape(n_arr, n_blocks, g, k_cols)
    small = counts.dtype == np.uint8 and g <= 257  # block sums of uint8 counts fit in uint16
    sums = blocks.sum(axis=2, dtype=np.uint16 if small else np.int32).astype(np.int32, copy=False)
    cum = np.empty(sums.shape, np.int32)  # cumulative draws at the end of each block
    np.add(sums[:, 0], prefix, out=cum[:, 0])
    for b in range(1, n_blocks):
        np.add(cum[:, b - 1], sums[:, b], out=cum[:, b])
    out = []
    for k in ks:
        blk = np.count_nonzero(cum <= k, axis=1)  # the block of the k-th draw
        np.minimum(blk, n_blocks - 1, out=blk)
        before = np.take_along_axis(cum, np.maximum(blk - 1, 0)[:, None, :], axis=1)[:, 0]
        left = k - np.where(blk > 0, before, prefix)  # draws of that block ranked at or below the k-th
        out.append(a + blk * g + _ranks_in_blocks(blocks, blk, left, sums))
    outside = (prefix > min(ks)) | (cum[:, -1] <= max(ks))
    for i in np.flatnonzero(outside.any(axis=1)):
        miss = outside[i]
        full = np.cumsum(counts[:, miss][orders[i]], axis=0, dtype=np.int64)
        for j, k in zip(out, ks, strict=True):
            j[i, miss] = np.count_nonzero(full <= k, axis=0)
    return out


_BYTE_ONES = np.uint64(0x0101010101010101)
_HIGH_BITS = np.uint64(0x8080808080808080)


def _ranks_in_blocks(blocks: np.ndarray, blk: np.ndarray, left: np.ndarray, sums: np.ndarray) -> np.ndarray:
    """For each array and resample, the number of ranks of its block ``blk`` (of ``blocks``: arrays x blocks x
    ranks x resamples) whose cumulative count is at most ``left``.

    uint8 counts in blocks of a multiple of 8 ranks whose sums are below 128 (the mean is the block's 16
    ranks): eight counts are one 64-bit word, whose product with 0x0101...01 holds their cumulative counts in
    its bytes (none exceeds 127, so there is no carry), and those at most ``left`` are the set high bits of
    (128 + left) x 0x0101...01 minus that product (per byte 128 + left - cumulative count, from 0 to 255: no
    borrow), counted by one more product; a dozen operations on one word per 8 ranks instead of a cumulative sum
    along the block's ranks (numpy is slow along a short last axis). Other counts, or resamples whose block sum
    exceeds 127: that cumulative sum. ``left`` outside 0..block sum - 1 (resamples outside the window) gives an
    arbitrary rank."""
    n_arr, _, g, k_cols = blocks.shape
    arr = np.arange(n_arr)[:, None]
    cols = np.arange(k_cols)
    inner = blocks[arr, blk, :, cols]  # (arrays, resamples, g), contiguous
    if blocks.dtype == np.uint8 and g % 8 == 0 and g < 256:
        words = inner.view(np.uint64)
        below = np.clip(left, -1, 127).astype(np.int64)  # -1: none of the block's ranks
        hits = np.zeros(left.shape, np.uint64)  # per byte, the ranks at or below ``left``, summed over the words
        for w in range(g // 8):
            cum = words[..., w] * _BYTE_ONES
            hits += (((below + 128).astype(np.uint64) * _BYTE_ONES - cum) & _HIGH_BITS) >> np.uint64(7)
            if w < g // 8 - 1:
                below -= (cum >> np.uint64(56)).astype(below.dtype)
                np.maximum(below, -1, out=below)
        rank = ((hits * _BYTE_ONES) >> np.uint64(56)).astype(np.int64)  # the sum of the bytes (at most g)
        if sums.max() <= 127:
            return rank
        big = np.take_along_axis(sums, blk[:, None, :], axis=1)[:, 0] > 127
        rank[big] = np.count_nonzero(np.cumsum(inner[big], axis=1, dtype=np.int64) <= left[big][:, None], axis=1)
        return rank
    return np.count_nonzero(np.cumsum(inner, axis=2, dtype=np.int64) <= left[..., None], axis=2)


class _MedianPlan:
    """What the bootstrap medians of arrays of one size need whatever the draws (:func:`_resampled_medians`): each
    array's order and sorted values, its window of ranks and the steps ranked below it; and the medians, filled in
    one block of resamples at a time (:meth:`block`, which blocks may run in any order and in threads)."""

    def __init__(self, xs: list[np.ndarray], n_boot: int) -> None:
        n = self.n = xs[0].size
        lo, hi = (n - 1) // 2, n // 2
        self.ks = ks = (lo,) if hi == lo else (lo, hi)
        values = np.stack(xs)  # float32 values are exact in the stack's float64
        # any order of equal values gives the same medians, but -0.0 equals 0.0 with other bits: with a -0.0 among
        # the values the stable sort (the earlier code's, so the same bits), else the 4 times faster default sort
        signed_zero = bool(np.signbit(values[values == 0]).any())
        self.orders = orders = np.argsort(values, axis=1, kind="stable" if signed_zero else None)
        del values
        self.ordered = [x[o] for x, o in zip(xs, orders, strict=True)]
        a = _window_start(n, ks)
        width = _window_blocks(n, ks) * _BLOCK_RANKS
        self.windows = np.full((len(xs), width), n, np.intp)  # ranks past the last: the zero row of the counts
        self.windows[:, :n - a] = orders[:, a:a + width]
        self.below = np.zeros((len(xs) + 1, n), np.float32)  # per array, the steps ranked below its window; all
        np.put_along_axis(self.below[:-1], orders[:, :a], 1.0, axis=1)
        self.below[-1] = 1.0
        self.medians = [np.empty(n_boot, dtype=x.dtype) for x in xs]
        # int32 draws are numpy's int64 draws, value for value and with the generator left in the same state (one
        # 32-bit bounded path below 2**32), in half the memory: a one-hour session's analysis, 8 alternated fresh
        # processes, 34,300-36,600 -> 28,600-30,000 page faults, peak RSS 209-218 -> 187-192 MB
        self.draw_dtype = np.int32 if n <= np.iinfo(np.int32).max else np.int64
        self.rows = max(1, min(n_boot, _BLOCK_DRAWS // n))  # resamples per block
        self.group = max(1, _GROUP_BYTES // (width * self.rows))  # arrays searched at once

    def chunks(self, k: int) -> list[int]:
        """Resamples per array of draws in a block of ``k`` (counted while in the cache)."""
        rows = max(1, _COUNT_DRAWS // self.n)
        return [min(rows, k - s) for s in range(0, k, rows)]

    def block(self, draws: Callable[[], Iterable[np.ndarray]], start: int, k: int) -> None:
        """The medians of the ``k`` resamples from ``start`` on, drawn by ``draws()`` (called again, for the same
        draws, when a count above 255 wrapped: the product's last row, each resample's total, then differs from
        ``n``, and the block is counted again in int32)."""
        n, ks = self.n, self.ks
        counts, sums = _count_draws(draws(), n, k, self.below, np.uint8)
        if (sums[-1] != n).any():  # a step drawn more than 255 times in a resample: its count wrapped
            counts, sums = _count_draws(draws(), n, k, self.below, np.int32)
        prefixes = sums[:-1].astype(np.int32)
        for g0 in range(0, len(self.ordered), self.group):
            sl = slice(g0, g0 + self.group)
            j = _kth_ranks(counts, self.orders[sl], self.windows[sl], ks, prefixes[sl])
            for i, srt, med in zip(range(len(j[0])), self.ordered[sl], self.medians[sl], strict=True):
                med[start:start + k] = srt[j[0][i]] if len(ks) == 1 else (srt[j[0][i]] + srt[j[1][i]]) / 2.0


#: Blocks of draws per worker drawn ahead of their counting (:class:`_Blocks`; each ~8 MB of int32 draws).
_BLOCKS_AHEAD = 1


class _Blocks:
    """Where the blocks of a bootstrap are counted and ranked: at once in the calling thread (``threads`` 1), or
    on a pool of ``threads`` workers while the calling thread draws the next blocks (the generator's stream is
    sequential; counting and ranking a block, three quarters of the time, needs nothing from the other blocks).
    At most :data:`_BLOCKS_AHEAD` blocks per worker wait, drawn, for a worker: that bounds the memory.

    Measured in the analysis of a one-hour session (2 x 16 cells, 100 Hz; 12 alternated runs, 2 vCPUs): assembling
    (most of it this bootstrap) 177 -> 146 ms median with two workers, peak RSS +23 MB. It pays only with the
    analysis's heap kept for reuse (``keep_freed_memory`` in :mod:`pipeline.analysis.session_analysis`): with glibc's
    default heap, each block's fresh arrays were page faults that the threads waited on, and it gained nothing."""

    def __init__(self, threads: int) -> None:
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="insole-bootstrap") if threads > 1 else None
        self.limit = threads * (1 + _BLOCKS_AHEAD)  # blocks being counted and blocks waiting
        self.pending: deque[Future[None]] = deque()

    def __enter__(self) -> _Blocks:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            for f in self.pending:
                f.cancel()
            self.pool.shutdown()

    def run(self, rng: np.random.Generator, plan: _MedianPlan, start: int, k: int) -> None:
        """Draw ``plan``'s ``k`` resamples from ``start`` on from ``rng`` and give them their medians (before
        :meth:`wait` returns)."""
        if self.pool is None:  # drawn while counted, in the cache
            state = rng.bit_generator.state

            def draws() -> Iterator[np.ndarray]:  # the same stream again when the block is counted again
                rng.bit_generator.state = state
                return (rng.integers(0, plan.n, (m, plan.n), plan.draw_dtype) for m in plan.chunks(k))

            plan.block(draws, start, k)
            return
        drawn = [rng.integers(0, plan.n, (m, plan.n), plan.draw_dtype) for m in plan.chunks(k)]
        while len(self.pending) >= self.limit:
            self.pending.popleft().result()
        self.pending.append(self.pool.submit(plan.block, lambda: drawn, start, k))

    def wait(self) -> None:
        """Wait for every block given to :meth:`run` (raising a block's error)."""
        while self.pending:
            self.pending.popleft().result()


def _draw_medians(blocks: _Blocks, xs: list[np.ndarray], rng: np.random.Generator, n_boot: int) -> _MedianPlan:
    """Give ``blocks`` the bootstrap medians of ``xs`` (see :func:`_resampled_medians`): the plan whose medians
    are complete once ``blocks`` has waited."""
    plan = _MedianPlan(xs, n_boot)
    for start in range(0, n_boot, plan.rows):
        blocks.run(rng, plan, start, min(plan.rows, n_boot - start))
    return plan


def _resampled_medians(xs: list[np.ndarray], rng: np.random.Generator, n_boot: int, threads: int = 1
                       ) -> list[np.ndarray]:
    """Medians of ``n_boot`` bootstrap resamples of each array of ``xs`` (all of one size ``n``), every array
    resampled with the same draws ``idx = rng.integers(0, n, (n_boot, n))``; ``rng`` left where that call leaves it.

    Exactly ``np.median(x[idx], axis=1)`` for each ``x``, from counts instead of a sort: the draws are made in
    blocks of rows (numpy's generator gives the same stream as one call) and counted per step once for all
    arrays; the k-th smallest value of a resample is ``sorted(x)[j]`` with ``j`` from :func:`_kth_ranks` (the
    median is the mean of the two middle values for an even size, as numpy's). The draws ranked below each
    array's window come from one matrix product for all arrays (exact: sums of small integers). ``threads``
    above 1: blocks counted in that many threads while the next are drawn (:class:`_Blocks`), the same medians.

    The counts are uint8, a quarter of the bytes of float32 for the gathers of the windows. A count above 255
    would wrap: the product's last row, each resample's total, then differs from ``n``, and that block is
    counted again in int32. ``xs`` hold finite values (as :func:`bootstrap_si_cis` gives).
    """
    with _Blocks(threads) as blocks:
        plan = _draw_medians(blocks, xs, rng, n_boot)
        blocks.wait()
    return plan.medians


def bootstrap_si_cis(pairs: list[tuple[np.ndarray, np.ndarray]], n_boot: int = N_BOOTSTRAP, threads: int = 1
                     ) -> list[tuple[float, float] | None]:
    """Percentile-bootstrap 95 % CI of the symmetry index of the sides' medians, for each ``(left, right)`` pair
    of per-step values; steps resampled within each side: the interval of the statistic the SI reports.

    Each pair's resamples come from a generator seeded with :data:`BOOTSTRAP_SEED` (left drawn first), so a pair
    gets the same interval alone or among others; pairs with the same numbers of finite steps share the draws
    (computed once). None for a pair with fewer than 3 finite steps on either side. ``threads`` above 1: the
    draws counted in that many threads (the same intervals; see :func:`_resampled_medians`).
    """
    finite_pairs = [(finite_values(left), finite_values(right)) for left, right in pairs]  # read only
    out: list[tuple[float, float] | None] = [None] * len(pairs)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (left, right) in enumerate(finite_pairs):
        if left.size >= 3 and right.size >= 3:
            groups.setdefault((left.size, right.size), []).append(i)
    plans = []
    with _Blocks(threads) as blocks:
        for members in groups.values():
            rng = np.random.default_rng(BOOTSTRAP_SEED)
            plans.append((members, *(_draw_medians(blocks, [finite_pairs[i][side] for i in members], rng, n_boot)
                                     for side in (0, 1))))
        blocks.wait()
    for members, left, right in plans:
        for i, ml, mr in zip(members, left.medians, right.medians, strict=True):
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
    return mean_ci95_of(float(x.mean()), float(x.std(ddof=1)), x.size)


def mean_ci95_of(mean: float, sd: float, n: int) -> tuple[float, float]:
    """:func:`mean_ci95` from the mean, the SD (``ddof=1``) and the number (at least 2) of the finite values."""
    half = t_quantile(0.975, n - 1) * sd / math.sqrt(n)
    return float(mean - half), float(mean + half)


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
