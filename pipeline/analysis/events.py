"""Initial contact (IC) and toe off (TO) of one foot from its total force.

Method (``shared/design/gait-evidence.md``, "Events from insole force"; thresholds from Catalfamo et al. 2008,
Salis et al. 2021 and Blades et al. 2023, who report 1-20 ms IC and 5-10 ms FO errors for threshold methods):

1. Baseline: a running minimum of the force over ``baseline_window_s`` (lower envelope: the swing floor),
   smoothed by a running mean of the same length, so slow drift of the sensors is removed.
2. Levels: stance level ``L`` = 95th percentile of the baseline-corrected force; swing noise ``sd`` = robust SD
   (1.4826 x MAD) of the frames below 10 % of ``L``; the swing floor (median of those frames) is subtracted too.
   With a calibrated foot and a known body weight ``BW``, ``L`` is replaced by ``BW`` when the insole reads at
   least 30 % of it (thresholds in body weight, as in the source).
3. Hysteresis: contact on above ``max(on_share x L, noise_sd_on x sd)``, off below
   ``max(off_share x L, noise_sd_off x sd)`` (5 % / 3 % of the stance level and at least 3 SD above the noise).
4. Contact runs: off-intervals shorter than ``merge_gap_s`` (50 ms) are merged; runs shorter than
   ``min_blip_s`` are dropped as noise.
5. Refinement to the onset of loading / unloading: IC moves back to the last frame whose force is at or below
   the onset level ``max(noise_sd_onset x sd, onset_share x L)``, TO forward to the first such frame; at most
   ``max_refine_s`` away, else the threshold crossing is kept. The event time is then placed between that
   unloaded frame and the first clearly loaded frame (above twice the onset level) by extrapolating the slope of
   the clearly loaded frames back to zero force (sub-sample timing, never outside that bracket).
6. No event across a gap: an event whose refinement interval spans missing frames (time step above 1.5 sample
   periods, or frames without any valid cell) is unknown (NaN), as is any event at the edge of the recording.

Secondary threshold-style events (crossings of 5 % / 10 % of the stance level, interpolated) are kept beside the
onsets for comparison with vendor reports.

Validity (stance 0.25-2 s, swing >= 0.15 s) is applied when strides are built (:mod:`.strides`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from pipeline.errors import AnalysisError


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) indices of the True runs of ``mask``."""
    d = np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


class _Mask:
    """A boolean per-frame mask stored as its True runs, with vectorised "previous / next True frame" queries.

    Storing runs instead of per-frame index arrays keeps memory per step, not per frame.
    """

    def __init__(self, mask: np.ndarray) -> None:
        self.n = len(mask)
        self.starts, self.stops = _runs(mask)

    def prev(self, p: np.ndarray) -> np.ndarray:
        """Last True frame at or before each ``p`` (-1 if none)."""
        k = np.searchsorted(self.starts, p, side="right") - 1
        if len(self.starts) == 0:
            return np.full(len(p), -1)
        kk = np.maximum(k, 0)
        out = np.where(p < self.stops[kk], p, self.stops[kk] - 1)
        return np.where(k >= 0, out, -1)

    def next(self, p: np.ndarray) -> np.ndarray:
        """First True frame at or after each ``p`` (``n`` if none)."""
        k = np.searchsorted(self.stops, p, side="right")
        if len(self.starts) == 0:
            return np.full(len(p), self.n)
        kk = np.minimum(k, len(self.starts) - 1)
        return np.where(k < len(self.starts), np.maximum(p, self.starts[kk]), self.n)


def _zero_offset(f1: np.ndarray, f2: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """Time from zero force to ``f1`` on the line through ``f1`` and ``f2`` (one frame ``dt`` apart)."""
    slope = (f2.astype(np.float64) - f1) / np.where(dt > 0, dt, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(slope > 0, np.maximum(f1, 0.0) / slope, 0.5 * dt)


def hysteresis(x: np.ndarray, on: float, off: float) -> np.ndarray:
    """Two-threshold contact state: True from a frame above ``on`` until the next frame below ``off``.

    Frames in between (and NaN frames) keep the previous state; the state before the first decision is False.
    Vectorised with a forward fill of the last decision's index.
    """
    decided = (x > on) | (x < off)
    idx = np.where(decided, np.arange(len(x), dtype=np.int32 if len(x) < 2**31 - 1 else np.int64), 0)
    np.maximum.accumulate(idx, out=idx)
    state = x[idx] > on
    state[: np.argmax(decided) if decided.any() else len(x)] = False
    return state


def running_baseline(force: np.ndarray, window_frames: int) -> np.ndarray:
    """Lower envelope of ``force``: running minimum then running mean, both over ``window_frames`` (NaN-safe)."""
    f = np.where(np.isfinite(force), force, np.inf).astype(np.float32)
    low = minimum_filter1d(f, size=max(window_frames, 1), mode="nearest")
    del f
    if not np.isfinite(low).all():
        finite = np.isfinite(low)
        if not finite.any():
            return np.zeros_like(low)
        low = np.interp(np.arange(len(low)), np.flatnonzero(finite), low[finite]).astype(np.float32)
    return uniform_filter1d(low, size=max(window_frames, 1), mode="nearest")


@dataclass
class ContactEventDetection:
    """Detect IC and TO in a total-force signal (gaitmap style: parameters here, results with a trailing ``_``).

    Parameters
    ----------
    on_share, off_share : float
        Hysteresis thresholds as shares of the stance level (5 % and 3 %).
    noise_sd_on, noise_sd_off, noise_sd_onset : float
        Minimum thresholds in swing-noise SDs.
    onset_share : float
        Onset level for the refinement, as a share of the stance level.
    baseline_window_s : float
        Window of the running-minimum baseline.
    merge_gap_s, min_blip_s, max_refine_s : float
        See the module description.
    threshold_ic_share, threshold_to_share : float
        Levels (shares of the stance level) of the secondary, threshold-style events ``ic_threshold_s_`` /
        ``to_threshold_s_``: the crossing times of 5 % (loading) and 10 % (unloading). Vendor software reports
        such threshold events (the Moticon exports' events sit at about 5 % and 10-15 % of the stance level);
        the primary events are the onsets, which is what force plates and the simulator's truth define.

    Attributes
    ----------
    ic_idx_, to_idx_ : numpy.ndarray of int
        Frame of each IC (last unloaded frame) and TO (first unloaded frame after stance).
    ic_s_, to_s_ : numpy.ndarray of float
        Event times; NaN where the event is unknown (gap, recording edge).
    force_ : numpy.ndarray (float32)
        Baseline-corrected force.
    stance_level_, noise_sd_, threshold_on_, threshold_off_, onset_level_ : float
        Levels used, in force units (kept with the result).
    """

    on_share: float = 0.05
    off_share: float = 0.03
    noise_sd_on: float = 4.0
    noise_sd_off: float = 3.0
    noise_sd_onset: float = 3.0
    onset_share: float = 0.005
    baseline_window_s: float = 4.0
    merge_gap_s: float = 0.05
    min_blip_s: float = 0.08
    max_refine_s: float = 0.15
    threshold_ic_share: float = 0.05
    threshold_to_share: float = 0.10

    def detect(
        self,
        time_s: np.ndarray,
        force: np.ndarray,
        sampling_rate_hz: float,
        body_weight: float | None = None,
    ) -> ContactEventDetection:
        """Run the detection; returns ``self``.

        Parameters
        ----------
        time_s, force : numpy.ndarray
            Per-frame time and total force (any units; NaN for invalid frames).
        sampling_rate_hz : float
            Nominal rate (defines what a gap is).
        body_weight : float, optional
            Body weight in the force's units (only for calibrated force).

        Raises
        ------
        AnalysisError
            Constant signal or no load.
        """
        fs = float(sampling_rate_hz)
        n = len(force)
        finite = np.isfinite(force)
        if finite.sum() < 10:
            raise AnalysisError("fewer than 10 valid frames of force")
        fb = force.astype(np.float32) - running_baseline(force, int(round(self.baseline_window_s * fs)))
        level = float(np.nanpercentile(fb, 95))
        if not level > 0:
            raise AnalysisError("the force signal is constant (no loading and unloading): no walking to analyse")
        swing = fb < 0.1 * level
        floor = float(np.median(fb[swing])) if swing.any() else 0.0
        fb -= np.float32(floor)
        sd = float(1.4826 * np.median(np.abs(fb[swing] - np.median(fb[swing])))) if swing.any() else 0.0
        level = float(np.nanpercentile(fb, 95))
        if body_weight is not None and np.isfinite(body_weight) and level >= 0.3 * body_weight:
            level = float(body_weight)
        on = max(self.on_share * level, self.noise_sd_on * sd)
        off = min(max(self.off_share * level, self.noise_sd_off * sd), 0.9 * on)
        onset = min(max(self.noise_sd_onset * sd, self.onset_share * level), off)

        # contiguity: frame i and i+1 are neighbours without missing data between them
        contiguous = (np.diff(time_s) <= 1.5 / fs) & finite[:-1] & finite[1:]

        state = hysteresis(fb, on, off)  # fb is NaN where the force is
        starts, stops = _runs(state)
        # merge short off-intervals, then drop short blips
        if len(starts) > 1:
            short = (time_s[np.minimum(starts[1:], n - 1)] - time_s[stops[:-1] - 1]) < self.merge_gap_s
            keep_start = np.concatenate([[True], ~short])
            keep_stop = np.concatenate([~short, [True]])
            starts, stops = starts[keep_start], stops[keep_stop]
        dur = time_s[stops - 1] - time_s[starts]
        long_enough = dur >= self.min_blip_s
        starts, stops = starts[long_enough], stops[long_enough]

        low = _Mask(fb <= onset)
        max_ref = max(int(round(self.max_refine_s * fs)), 1)

        ic = low.prev(np.maximum(starts - 1, 0))
        ic = np.where((starts > 0) & (ic >= 0) & (starts - ic <= max_ref), ic, np.maximum(starts - 1, 0))
        to = low.next(np.minimum(stops, n - 1))
        to = np.where((stops < n) & (to < n) & (to - stops <= max_ref), to, np.minimum(stops, n - 1))
        ic_known = (starts > 0) & contiguous[np.minimum(ic, n - 2)] & (fb[ic] <= off)
        to_known = (stops < n) & contiguous[np.maximum(to - 1, 0)] & (fb[to] <= off)
        # an event is also unknown when frames are missing between it and the threshold crossing
        gap_at = np.flatnonzero(~contiguous)  # pair (i, i + 1) broken; sparse

        def gaps_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return np.searchsorted(gap_at, b) - np.searchsorted(gap_at, a)

        ic_known &= gaps_between(ic, np.maximum(starts, ic)) == 0
        to_known &= gaps_between(np.minimum(stops - 1, to), to) == 0

        self.ic_idx_ = ic.astype(np.int64)
        self.to_idx_ = to.astype(np.int64)
        self.run_start_idx_ = starts
        self.run_stop_idx_ = stops
        # the true onset lies between the last unloaded frame and the first clearly loaded one (above twice the
        # onset level): extrapolate the slope of the clearly loaded frames back to zero force, inside that bracket
        clear = _Mask(fb > 2.0 * onset)
        a1 = np.minimum(clear.next(np.minimum(ic + 1, n - 1)), starts)
        a1 = np.clip(a1, ic + 1, n - 1)
        a2 = np.minimum(a1 + 1, n - 1)
        ic_t = time_s[a1] - _zero_offset(fb[a1], fb[a2], time_s[a2] - time_s[a1])
        ic_t = np.clip(ic_t, time_s[ic], time_s[a1])
        b1 = np.maximum(clear.prev(np.maximum(to - 1, 0)), stops - 1)
        b1 = np.clip(b1, 0, np.maximum(to - 1, 0))
        b2 = np.maximum(b1 - 1, 0)
        to_t = time_s[b1] + _zero_offset(fb[b1], fb[b2], time_s[b1] - time_s[b2])
        to_t = np.clip(to_t, time_s[b1], time_s[to])
        # threshold-style events (for comparison with vendor software that reports threshold crossings)
        self.ic_threshold_s_, self.to_threshold_s_ = self._threshold_events(
            time_s, fb, starts, stops, self.threshold_ic_share * level, self.threshold_to_share * level,
            ic_known, to_known)
        self.ic_s_ = np.where(ic_known, ic_t, np.nan)
        self.to_s_ = np.where(to_known, to_t, np.nan)
        self.force_ = fb
        self.stance_level_ = level
        self.noise_sd_ = sd
        self.threshold_on_ = on
        self.threshold_off_ = off
        self.onset_level_ = onset
        self.contiguous_ = contiguous
        return self

    @staticmethod
    def _threshold_events(time_s, fb, starts, stops, lvl_ic, lvl_to, ic_known, to_known):
        """Interpolated upward crossing of ``lvl_ic`` and downward crossing of ``lvl_to`` within each contact."""
        n = len(fb)
        k = np.clip(_Mask(fb >= lvl_ic).next(starts), 1, n - 1)
        f0, f1 = fb[k - 1].astype(float), fb[k].astype(float)
        w = np.clip((lvl_ic - f0) / np.where(f1 > f0, f1 - f0, 1.0), 0.0, 1.0)
        ic = time_s[k - 1] + w * (time_s[k] - time_s[k - 1])
        j = np.clip(_Mask(fb >= lvl_to).prev(np.maximum(stops - 1, 0)), 0, n - 2)
        g0, g1 = fb[j].astype(float), fb[j + 1].astype(float)
        v = np.clip((g0 - lvl_to) / np.where(g0 > g1, g0 - g1, 1.0), 0.0, 1.0)
        to = time_s[j] + v * (time_s[j + 1] - time_s[j])
        ok_ic = ic_known & (k < stops)
        ok_to = to_known & (j >= starts)
        return np.where(ok_ic, ic, np.nan), np.where(ok_to, to, np.nan)

    def levels(self) -> dict[str, float]:
        """The thresholds used, for the provenance of the result."""
        return {
            "stance_level": self.stance_level_,
            "noise_sd": self.noise_sd_,
            "threshold_on": self.threshold_on_,
            "threshold_off": self.threshold_off_,
            "onset_level": self.onset_level_,
        }
