"""Per-step vertical force curve: resampling to % stance and its landmarks (Moticon gait-report parity).

Landmarks on the curve resampled to 101 points (0-100 % stance): first peak = maximum over 0-50 % stance,
second peak = maximum over 50-100 %, mid-stance valley = minimum between the two peaks, each with its timing in
% stance. They exist only when the curve has a real double hump: both peaks inside their half (not at its edge)
and the valley at least :data:`HUMP_PROMINENCE` (5 %, our choice) of the higher peak below the lower one; a
plateau or single-hump curve (shuffling, a saturating footswitch) gets NaN instead of a peak that is only the end
of a window. Maximum and mean force and the impulse (time integral over stance) use the recorded frames.
Loading rate (Woodard et al. 1999, as in ``shared/design/gait-evidence.md``, "Shock absorption"): average =
slope between 20 % and 80 % of the first peak; instantaneous = maximum of the derivative of the zero-phase
low-pass filtered force (4th-order Butterworth, 20 Hz or 0.4 x the sampling rate if lower, forwards and
backwards; "filter only where a derivative is taken") between those two points. Both in force units per second
(body weights per second when body mass is known). At 50-100 Hz insoles see the load above the midsole: the
loading rate is a within-subject, between-side proxy only.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from pipeline.analysis.lowpass import zero_phase_lowpass

N_POINTS = 101
#: Minimum depth of the mid-stance valley below the lower peak, as a share of the higher peak.
HUMP_PROMINENCE = 0.05
#: Low-pass cut-off of the force before its derivative is taken (instantaneous loading rate).
DERIVATIVE_CUTOFF_HZ = 20.0


#: Steps processed at once by the curve functions (bounds their temporary memory on day-long recordings).
STEP_BATCH = 4096
#: Steps resampled at once by :func:`resample_stance_many`: its half-dozen float64 temporaries of 101 points per
#: step stay in the cache (a one-hour foot's force curves: 13.4 ms in batches of 4,096 steps, 5.4 ms in 512).
RESAMPLE_STEPS = 512
#: Frames processed at once by the per-frame helpers (:func:`frame_durations`).
FRAME_BLOCK = 1 << 20
#: Frames whose derivative :func:`gradient_at` computes at once.
GRADIENT_BLOCK = 1 << 16


def resample_stance(time_s: np.ndarray, values: np.ndarray, start_s: np.ndarray, stop_s: np.ndarray,
                    n_points: int = N_POINTS) -> np.ndarray:
    """Values at ``n_points`` equally spaced instants from each step's start to stop; shape (n_steps, n_points),
    float32, computed in batches of :data:`RESAMPLE_STEPS` steps.

    Linear interpolation between frames; NaN frames make their neighbourhood NaN (never interpolated across).
    """
    return resample_stance_many(time_s, [values], start_s, stop_s, n_points)[0]


def resample_stance_many(time_s: np.ndarray, values: list[np.ndarray], start_s: np.ndarray, stop_s: np.ndarray,
                         n_points: int = N_POINTS) -> list[np.ndarray]:
    """:func:`resample_stance` of several per-frame arrays sampled at the same ``time_s``: the frames and weights
    of the instants are found once for all of them."""
    out = [np.empty((len(start_s), n_points), np.float32) for _ in values]
    u = np.linspace(0.0, 1.0, n_points)
    for a in range(0, len(start_s), RESAMPLE_STEPS):
        start, stop = start_s[a : a + RESAMPLE_STEPS], stop_s[a : a + RESAMPLE_STEPS]
        flat = (start[:, None] + u[None, :] * (stop - start)[:, None]).ravel()
        j, t0, t1 = frames_around(time_s, flat, start, stop, n_points)
        w = np.clip((flat - t0) / np.where(t1 > t0, t1 - t0, 1.0), 0.0, 1.0)
        w_before = 1.0 - w
        for v, o in zip(values, out, strict=True):
            o[a : a + RESAMPLE_STEPS] = (v[j] * w_before + v[j + 1] * w).reshape(len(start), n_points)
    return out


def frames_around(time_s: np.ndarray, flat: np.ndarray, start: np.ndarray, stop: np.ndarray, n_points: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the instants ``flat`` (``n_points`` per step, row-major, from each step's ``start`` to its ``stop``) of
    the strictly increasing ``time_s`` (at least 2 frames): ``j = clip(searchsorted(time_s, flat, "right") - 1, 0,
    len(time_s) - 2)`` (the frame at or before each instant) with ``time_s[j]`` and ``time_s[j + 1]``.

    The same ``j`` as that search, found faster: each step's first and last frames are searched (2 searches per
    step instead of ``n_points``), each instant's frame is guessed from the step's own frame rate, and every guess is
    checked against its two frames (``time_s[j] <= x < time_s[j + 1]``, or the clipped ends); the instants guessed
    wrong (gaps, jitter) are searched. 7.9 ms against 17.3 ms for 3,300 steps of 101 points in an hour at 100 Hz
    (the two frames' times included).
    """
    n = len(time_s)
    ends = np.clip(np.searchsorted(time_s, np.concatenate([start, stop]), side="right") - 1, 0, n - 2)
    first, last = ends[: len(start)], ends[len(start):]
    t_first, t_last = time_s[first], time_s[last]
    span = t_last - t_first
    rate = np.where(span > 0, (last - first) / np.where(span > 0, span, 1.0), 0.0)  # frames per second
    with np.errstate(invalid="ignore"):  # a NaN instant: any guess (it is checked, and searched)
        guess = ((flat.reshape(len(start), n_points) - t_first[:, None]) * rate[:, None]).astype(np.int64)
    guess += first[:, None]
    j = np.clip(guess, 0, n - 2, out=guess).ravel()
    t0, t1 = time_s[j], time_s[j + 1]
    wrong = np.flatnonzero(~(((j == 0) | (t0 <= flat)) & ((j == n - 2) | (flat < t1))))
    if wrong.size:
        k = np.clip(np.searchsorted(time_s, flat[wrong], side="right") - 1, 0, n - 2)
        j[wrong] = k
        t0[wrong], t1[wrong] = time_s[k], time_s[k + 1]
    return j, t0, t1


def segment_sums(values: np.ndarray, start: np.ndarray, stop: np.ndarray, op: np.ufunc = np.add,
                 axis: int = 0) -> np.ndarray:
    """``op``-reduction of ``values[start[i]:stop[i]]`` along ``axis`` (0 or 1, the segments' axis) for
    non-overlapping, sorted segments; the segments index the result along the same axis.

    For a 2-D array, numpy reduces the segments of the rows of a C-ordered array in the same order as those of
    its transpose's columns, so ``segment_sums(a, ..., axis=0)`` equals ``segment_sums(a.T copy, ..., axis=1).T``
    bit for bit; the second is about 8 times faster (contiguous segments).
    """
    n = values.shape[axis]
    if len(start) == 0:
        shape = list(values.shape)
        shape[axis] = 0
        return np.zeros(shape, values.dtype)
    idx = np.empty(2 * len(start), np.int64)
    idx[0::2] = start
    idx[1::2] = stop
    pick = (slice(None),) * axis + (slice(0, None, 2),)
    # reduceat reduces values[idx[k]:idx[k + 1]] and, for the last index, to the end: the stops only need to be
    # valid indices. A last stop at the end is dropped (its segment runs to the end by itself), and only a stop
    # past the end needs a padding row (a copy of ``values``: 35 MB for a day's force at 100 Hz)
    if idx[:-1].max(initial=0) < n and idx[-1] <= n:
        return op.reduceat(values, idx if idx[-1] < n else idx[:-1], axis=axis)[pick]
    pad_shape = list(values.shape)
    pad_shape[axis] = 1
    pad = np.concatenate([values, np.zeros(pad_shape, values.dtype)], axis=axis)
    return op.reduceat(pad, idx, axis=axis)[pick]


def step_force_stats(time_s: np.ndarray, force: np.ndarray, start_idx: np.ndarray, stop_idx: np.ndarray,
                     sampling_rate_hz: float) -> dict[str, np.ndarray]:
    """Maximum, mean and impulse of force over each step's frames ``[start_idx, stop_idx)``.

    The impulse sums force x frame duration; frame durations are capped at 1.5 sample periods so a gap is not
    counted as load. One float32 copy of the force is the only signal-sized temporary: NaN (and infinities, as
    ``np.nan_to_num`` does) are replaced and the durations multiplied in, :data:`FRAME_BLOCK` frames at a time,
    element by element the same values as ``nan_to_num(force) * frame_durations(...)`` over the whole signal.
    """
    f = force.astype(np.float32, copy=True)
    for a in range(0, len(f), FRAME_BLOCK):
        np.nan_to_num(f[a : a + FRAME_BLOCK], nan=0.0, copy=False)  # in place, on a view
    count = np.maximum(stop_idx - start_idx, 1)
    out = {
        "max": segment_sums(f, start_idx, stop_idx, np.maximum).astype(np.float64),
        "mean": segment_sums(f, start_idx, stop_idx).astype(np.float64) / count,
    }
    for a, b, dt in _duration_blocks(time_s, sampling_rate_hz):
        f[a:b] *= dt
    out["impulse"] = segment_sums(f, start_idx, stop_idx).astype(np.float64)
    return out


def frame_durations(time_s: np.ndarray, sampling_rate_hz: float) -> np.ndarray:
    """Each frame's duration (to the next frame; the last one a sample period), capped at 1.5 sample periods, as
    float32: ``np.minimum(np.diff(time_s, append=...), cap).astype(np.float32)`` computed in blocks of
    :data:`FRAME_BLOCK` frames (element by element the same values, without three float64 arrays of the
    recording's length)."""
    out = np.empty(len(time_s), np.float32)
    for a, b, dt in _duration_blocks(time_s, sampling_rate_hz):
        out[a:b] = dt
    return out


def _duration_blocks(time_s: np.ndarray, sampling_rate_hz: float) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(a, b, durations of frames a:b)`` (float32, as :func:`frame_durations`) for blocks of :data:`FRAME_BLOCK`
    frames."""
    n = len(time_s)
    cap = 1.5 / sampling_rate_hz
    for a in range(0, n, FRAME_BLOCK):
        b = min(a + FRAME_BLOCK, n)
        d = np.diff(time_s[a : b + 1]) if b < n else np.diff(time_s[a:], append=time_s[-1] + 1.0 / sampling_rate_hz)
        yield a, b, np.minimum(d, cap).astype(np.float32)


def _first_crossing(curve: np.ndarray, level: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Fractional index where each row first reaches ``level`` before ``limit`` (NaN if never)."""
    n = curve.shape[1]
    cols = np.arange(n)[None, :]
    above = (curve >= level[:, None]) & (cols <= limit[:, None])
    hit = above.any(axis=1)
    k = np.argmax(above, axis=1)
    rows = np.arange(len(curve))
    prev = np.maximum(k - 1, 0)
    y0, y1 = curve[rows, prev], curve[rows, k]
    frac = np.where((k > 0) & (y1 > y0), (level - y0) / np.where(y1 > y0, y1 - y0, 1.0), 0.0)
    return np.where(hit, prev + np.where(k > 0, frac, 0.0), np.nan)


def curve_landmarks(curves: np.ndarray, stance_s: np.ndarray) -> dict[str, np.ndarray]:
    """Peaks, valley and loading rates of force curves (see :func:`_landmarks`), in batches of steps."""
    parts = [_landmarks(curves[a : a + STEP_BATCH].astype(np.float64), stance_s[a : a + STEP_BATCH])
             for a in range(0, max(len(curves), 1), STEP_BATCH)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _landmarks(curves: np.ndarray, stance_s: np.ndarray) -> dict[str, np.ndarray]:
    """Peaks, valley and loading rates of force curves sampled at 0..100 % stance.

    Parameters
    ----------
    curves : numpy.ndarray, shape (n_steps, 101)
    stance_s : numpy.ndarray, shape (n_steps,)

    Returns
    -------
    dict of numpy.ndarray
        ``peak1``, ``peak1_pct``, ``peak2``, ``peak2_pct``, ``valley``, ``valley_pct`` (NaN without a double
        hump), ``loading_rate`` (average 20-80 %, per second) and ``x20`` / ``x80``, the fractional curve indices
        where the loading reaches 20 % / 80 % of the first peak (the window of the instantaneous loading rate).
    """
    n_steps, n = curves.shape
    if n_steps == 0:
        return {k: np.zeros(0) for k in ("peak1", "peak1_pct", "peak2", "peak2_pct", "valley", "valley_pct",
                                          "loading_rate", "x20", "x80")}
    c = np.where(np.isfinite(curves), curves, -np.inf)
    half = n // 2
    rows = np.arange(n_steps)
    i1 = np.argmax(c[:, : half + 1], axis=1)
    i2 = half + np.argmax(c[:, half:], axis=1)
    p1 = curves[rows, i1]
    p2 = curves[rows, i2]
    cols = np.arange(n)[None, :]
    between = (cols >= i1[:, None]) & (cols <= i2[:, None])
    cv = np.where(between & np.isfinite(curves), curves, np.inf)
    iv = np.argmin(cv, axis=1)
    valley = curves[rows, iv]
    pct_per_point = 100.0 / (n - 1)
    double = ((i1 > 0) & (i1 < half) & (i2 > half) & (i2 < n - 1)
              & (np.minimum(p1, p2) - valley >= HUMP_PROMINENCE * np.maximum(p1, p2)))
    p1, p2, valley = (np.where(double, v, np.nan) for v in (p1, p2, valley))
    x20 = _first_crossing(curves, 0.2 * np.nan_to_num(p1, nan=np.inf), i1)
    x80 = _first_crossing(curves, 0.8 * np.nan_to_num(p1, nan=np.inf), i1)
    dt_point = stance_s / (n - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        lr = 0.6 * p1 / ((x80 - x20) * dt_point)
    lr = np.where(np.isfinite(lr) & (lr > 0), lr, np.nan)
    return {
        "peak1": p1,
        "peak1_pct": np.where(double, i1 * pct_per_point, np.nan),
        "peak2": p2,
        "peak2_pct": np.where(double, i2 * pct_per_point, np.nan),
        "valley": valley,
        "valley_pct": np.where(double, iv * pct_per_point, np.nan),
        "loading_rate": lr,
        "x20": x20,
        "x80": x80,
    }


def instantaneous_loading_rate(time_s: np.ndarray, force: np.ndarray, sampling_rate_hz: float,
                               t20_s: np.ndarray, t80_s: np.ndarray) -> np.ndarray:
    """Maximum dF/dt of the zero-phase filtered force between ``t20_s`` and ``t80_s`` of each step (per second).

    The force is low-passed forwards and backwards (4th-order Butterworth at :data:`DERIVATIVE_CUTOFF_HZ`, or
    0.4 x the sampling rate if that is lower; :func:`pipeline.analysis.lowpass.zero_phase_lowpass`, the same filter
    as ``scipy.signal.sosfiltfilt`` without importing scipy.signal); frames without a valid value count as 0 for
    the filter. NaN where the window is unknown.
    """
    force = np.asarray(force)
    f = force if force.dtype == np.float32 else force.astype(np.float64)
    if not np.isfinite(f).all():  # only then a copy (nan_to_num always makes one: 35 MB for a day at 100 Hz)
        f = np.nan_to_num(f, nan=0.0)
    out = np.full(len(t20_s), np.nan)
    if len(f) < 16 or len(t20_s) == 0:
        return out
    cutoff = min(DERIVATIVE_CUTOFF_HZ, 0.4 * sampling_rate_hz)
    filtered = zero_phase_lowpass(f, cutoff, sampling_rate_hz, order=4)
    del f
    ok = np.isfinite(t20_s) & np.isfinite(t80_s) & (t80_s > t20_s)
    a = np.searchsorted(time_s, np.where(ok, t20_s, 0.0), side="left")
    b = np.maximum(np.searchsorted(time_s, np.where(ok, t80_s, 0.0), side="right"), a + 1)
    b = np.minimum(b, len(time_s))
    a = np.minimum(a, b - 1)
    a, b = a[ok], b[ok]
    if len(a) == 0:
        return out
    # the derivative only where it is used: the frames of each window, one after the other
    lengths = b - a
    starts = np.cumsum(lengths) - lengths  # where each window begins in the concatenation
    frames = np.repeat(a - starts, lengths) + np.arange(int(lengths.sum()))
    deriv = gradient_at(filtered, time_s, frames)
    peak = np.maximum.reduceat(deriv, starts)
    out[ok] = np.where(peak > 0, peak, np.nan)
    return out


def gradient_at(values: np.ndarray, time_s: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """``np.gradient(values, time_s)[frames]`` without the whole-signal arrays (bit-identical: the same formulas,
    second-order central differences inside, one-sided at the ends, the uniform-spacing case as numpy detects it).
    """
    n = len(values)
    if n < 2:
        raise ValueError("a gradient needs at least 2 samples")
    first = time_s[1] - time_s[0]
    uniform = all(bool(np.all(np.diff(time_s[i:i + (1 << 20) + 1]) == first)) for i in range(0, n - 1, 1 << 20))
    out = np.empty(len(frames))
    for a in range(0, len(frames), GRADIENT_BLOCK):  # element by element: blocks bound the formula's temporaries
        out[a : a + GRADIENT_BLOCK] = _gradient_at(values, time_s, frames[a : a + GRADIENT_BLOCK], uniform, first)
    return out


def _gradient_at(values: np.ndarray, time_s: np.ndarray, frames: np.ndarray, uniform: bool,
                 first: float) -> np.ndarray:
    """:func:`gradient_at` of one block of ``frames`` (``uniform`` and ``first``: the whole signal's spacing)."""
    n = len(values)
    out = np.empty(len(frames))
    inner = (frames > 0) & (frames < n - 1)
    i = frames[inner]
    if uniform:
        out[inner] = (values[i + 1] - values[i - 1]) / (2.0 * first)
    else:
        dx1, dx2 = time_s[i] - time_s[i - 1], time_s[i + 1] - time_s[i]
        out[inner] = (-dx2 / (dx1 * (dx1 + dx2)) * values[i - 1] + (dx2 - dx1) / (dx1 * dx2) * values[i]
                      + dx1 / (dx2 * (dx1 + dx2)) * values[i + 1])
    at_start, at_end = frames == 0, frames == n - 1
    out[at_start] = (values[1] - values[0]) / first
    out[at_end] = (values[n - 1] - values[n - 2]) / (time_s[n - 1] - time_s[n - 2])  # == first when uniform
    return out
