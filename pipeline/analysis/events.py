"""Initial contact (IC) and toe off (TO) of one foot from its total force: two definitions, one primary.

Every reference the project can check against defines its events by a force threshold, each its own: force plates
10-20 N, Tekscan the minimum + 10 % of the range, Moticon its vendor thresholds, PhysioNet gaitndd the authors'
footswitch algorithm (``shared/design/gait-evidence.md``, "Events from insole force"). Two definitions are
computed for every contact and both are kept in the per-step table:

``threshold`` (primary for insoles with several cells)
    IC where the force rises through 5 % of the stance level, TO where it falls through 15 % (interpolated between
    frames). In-shoe insoles carry residual load after the foot leaves the ground (shoe upper, toe spring, lacing
    preload), which decays over 50-150 ms; a threshold above that tail finds toe off where the references do.
    The shares were set on real reference data, not on the simulator: against Moticon's own events (42 steps of
    three OpenGo exports) per-step stance agrees within 20 ms for 95 % of steps (load onset: 2 %), and on the 8
    PhysioNet gaitpdb control walks median stance is within 2.5 points of the speed-expected value of Kirtley et
    al. 1985 (stance % = 64.2 - 3.5 x speed in m/s) on 8 of 8 walks (load onset: 0 of 8, +6 points on average).
    Small samples: see ``docs/analysis-validation.md``.
``onset`` (primary for single-sensor footswitch insoles)
    The onset of loading / unloading: IC at the last frame at the swing floor before the contact, TO at the first
    frame back at it, placed between that frame and the first clearly loaded one by extrapolating the loaded
    frames' slope to zero. On the 1-FSR footswitch recordings of PhysioNet gaitndd this is the definition that
    agrees with the database authors' per-stride tables (footswitch accuracy against a force plate: IC 0 +- 3 ms,
    FO -1 +- 8 ms, Hausdorff, Ladin & Wei 1995); the threshold definition would shorten their stance by a median
    20 ms. On multi-cell insoles it follows the residual in-shoe load and puts toe off late (Moticon: stance
    +80 ms against the vendor's events).

Common steps:

1. Baseline: a running minimum of the force over ``baseline_window_s`` (lower envelope: the swing floor),
   smoothed by a running mean of the same length, so slow drift of the sensors is removed.
2. Levels: stance level ``L`` = 95th percentile of the baseline-corrected force; swing noise ``sd`` = robust SD
   (1.4826 x MAD) of the frames below 10 % of ``L``; the swing floor (median of those frames) is subtracted too.
   The threshold events use this measured ``L`` (never body weight: an insole's scale error would move them).
3. Contacts: hysteresis, on above ``max(on_share x L', noise_sd_on x sd)``, off below ``max(off_share x L',
   noise_sd_off x sd)`` (5 % / 3 %, at least 4 / 3 SD above the noise; ``L'`` is body weight when a calibrated
   foot reads at least 30 % of it); off-intervals shorter than ``merge_gap_s`` (50 ms) are merged, contacts
   shorter than ``min_blip_s`` dropped.
4. No event across a gap: an onset event whose interval to the contact spans missing frames (time step above 1.5
   sample periods, or frames without any valid cell), or a threshold crossing whose nearest valid frames are more
   than 2.5 sample periods apart, is unknown (NaN), as is any event at the edge of the recording.

Validity (stance 0.25-2 s, swing >= 0.15 s) is applied when strides are built (:mod:`.strides`). Threshold-style
methods are not the most accurate in every comparison (Catalfamo et al. 2008 found the F-Scan force threshold the
least accurate of their methods against a force plate, IC 42 +- 11 ms); the choice here is agreement with the
references this project can check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.analysis.running import running_mean, running_minimum
from pipeline.errors import AnalysisError

#: The event definitions (see the module description); ``auto`` picks ``onset`` for one-sensor footswitch insoles.
DEFINITIONS = ("threshold", "onset")
#: Shares of the stance level of the threshold definition: IC rising through 5 %, TO falling through 15 %.
THRESHOLD_IC_SHARE, THRESHOLD_TO_SHARE = 0.05, 0.15
#: A threshold crossing is interpolated between valid frames at most this many sample periods apart (one missing
#: frame at the crossing still gives its time within a sample period; a longer gap leaves the event unknown).
MAX_CROSSING_BRACKET = 2.5
#: Added to the threshold definition's source for insoles that send raw counts.
RAW_COUNTS_NOTE = ("; on raw counts of force-sensing resistors (compressive response) toe off comes later: 8-23 ms "
                   "on the simulator's FSR model, no real reference; calibrate the insole (insole calibrate)")
#: Where each definition's parameters come from (stored with every result).
DEFINITION_SOURCES = {
    "threshold": "IC at 5 % / TO at 15 % of the stance level; set on Moticon vendor events (42 steps) and on the "
                 "Kirtley et al. 1985 speed-stance relation (8 gaitpdb control walks), real data",
    "onset": "onset of loading / unloading at the swing floor; agrees with PhysioNet gaitndd's footswitch tables "
             "(1-FSR insoles; Hausdorff, Ladin & Wei 1995)",
}


def definition_for(n_sensors: int, requested: str = "auto") -> str:
    """The event definition for an insole with ``n_sensors`` cells: ``requested`` unless ``auto``.

    Raises
    ------
    AnalysisError
        An unknown definition.
    """
    if requested == "auto":
        return "onset" if n_sensors == 1 else "threshold"
    if requested not in DEFINITIONS:
        raise AnalysisError(f"event definition {requested!r} is not known; choose auto, {' or '.join(DEFINITIONS)}")
    return requested


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


#: Frames handled at once by :func:`hysteresis` (bounds its temporaries).
HYSTERESIS_BLOCK = 1 << 20


def hysteresis(x: np.ndarray, on: float, off: float) -> np.ndarray:
    """Two-threshold contact state: True from a frame above ``on`` until the next frame below ``off``.

    Frames in between (and NaN frames) keep the previous state; the state before the first decision is False.
    Vectorised with a forward fill of the last decision's index; the index array is the only signal-sized
    temporary besides the masks (it is filled and read :data:`HYSTERESIS_BLOCK` frames at a time).
    """
    n = len(x)
    decided = (x > on) | (x < off)
    dtype = np.int32 if n < 2**31 - 1 else np.int64
    idx = np.empty(n, dtype)
    for a in range(0, n, HYSTERESIS_BLOCK):
        b = min(n, a + HYSTERESIS_BLOCK)
        np.multiply(decided[a:b], np.arange(a, b, dtype=dtype), out=idx[a:b])  # the frame if decided, else 0
    np.maximum.accumulate(idx, out=idx)
    state = np.empty(n, bool)
    for a in range(0, n, HYSTERESIS_BLOCK):
        np.greater(x[idx[a : a + HYSTERESIS_BLOCK]], on, out=state[a : a + HYSTERESIS_BLOCK])
    state[: np.argmax(decided) if decided.any() else n] = False
    return state


def running_baseline(force: np.ndarray, window_frames: int) -> np.ndarray:
    """Lower envelope of ``force``: running minimum then running mean, both over ``window_frames`` (NaN-safe)."""
    f = np.where(np.isfinite(force), force, np.inf).astype(np.float32, copy=False)
    low = running_minimum(f, max(window_frames, 1))
    del f
    if not np.isfinite(low).all():
        finite = np.isfinite(low)
        if not finite.any():
            return np.zeros_like(low)
        low = np.interp(np.arange(len(low)), np.flatnonzero(finite), low[finite]).astype(np.float32)
    return running_mean(low, max(window_frames, 1))


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
        Levels (shares of the measured stance level) of the threshold definition: IC rising through 5 %, TO
        falling through 15 % (see the module description for their source).
    definition : {"threshold", "onset"}
        Which definition gives ``ic_s_`` / ``to_s_``; the other is kept in its own attributes.

    Attributes
    ----------
    ic_idx_, to_idx_ : numpy.ndarray of int
        Frame of each contact's loading onset (last unloaded frame) and unloading end (first unloaded frame after
        it): the frames of the contact, whichever definition times it.
    ic_s_, to_s_ : numpy.ndarray of float
        Event times of the chosen definition; NaN where the event is unknown (gap, recording edge).
    ic_onset_s_, to_onset_s_, ic_threshold_s_, to_threshold_s_ : numpy.ndarray of float
        Both definitions' event times.
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
    threshold_ic_share: float = THRESHOLD_IC_SHARE
    threshold_to_share: float = THRESHOLD_TO_SHARE
    definition: str = "threshold"

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
        baseline = running_baseline(force, int(round(self.baseline_window_s * fs)))
        fb = np.subtract(force.astype(np.float32, copy=False), baseline, out=baseline)  # in the baseline's array
        del baseline
        level = float(np.nanpercentile(fb, 95))
        if not level > 0:
            raise AnalysisError("the force signal is constant (no loading and unloading): no walking to analyse")
        swing = fb < 0.1 * level
        floor = float(np.median(fb[swing])) if swing.any() else 0.0
        fb -= np.float32(floor)
        sd = float(1.4826 * np.median(np.abs(fb[swing] - np.median(fb[swing])))) if swing.any() else 0.0
        level = float(np.nanpercentile(fb, 95))
        measured_level = level
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
        # threshold events, relative to the measured stance level (an insole's scale error cannot move them)
        self.ic_threshold_s_, self.to_threshold_s_ = self._threshold_events(
            time_s, fb, starts, stops, ic, to, self.threshold_ic_share * measured_level,
            self.threshold_to_share * measured_level, fs)
        self.ic_onset_s_ = np.where(ic_known, ic_t, np.nan)
        self.to_onset_s_ = np.where(to_known, to_t, np.nan)
        if self.definition not in DEFINITIONS:
            raise AnalysisError(f"event definition {self.definition!r} is not known; choose {' or '.join(DEFINITIONS)}")
        if self.definition == "threshold":
            self.ic_s_, self.to_s_ = self.ic_threshold_s_, self.to_threshold_s_
        else:
            self.ic_s_, self.to_s_ = self.ic_onset_s_, self.to_onset_s_
        self.force_ = fb
        self.stance_level_ = level
        self.measured_level_ = measured_level
        self.noise_sd_ = sd
        self.threshold_on_ = on
        self.threshold_off_ = off
        self.onset_level_ = onset
        self.contiguous_ = contiguous
        return self

    @staticmethod
    def _threshold_events(time_s, fb, starts, stops, ic_from, to_from, lvl_ic, lvl_to, sampling_rate_hz):
        """Interpolated first rising crossing of ``lvl_ic`` after each contact's loading onset (frame ``ic_from``)
        and last falling crossing of ``lvl_to`` before its unloading end (frame ``to_from``), between the valid
        frames either side of the crossing; NaN at the recording's edges, when the crossing is not inside the
        contact, and where those frames are more than :data:`MAX_CROSSING_BRACKET` sample periods apart (missing
        data)."""
        n = len(fb)
        finite = np.isfinite(fb)
        above_ic, above_to = finite & (fb >= lvl_ic), finite & (fb >= lvl_to)
        a1 = _Mask(above_ic).next(np.clip(ic_from, 0, n - 1))  # first valid frame at or above, after the onset
        a0 = _Mask(finite & ~above_ic).prev(np.clip(a1 - 1, 0, n - 1))  # last valid frame below, before it
        b0 = _Mask(above_to).prev(np.clip(to_from, 0, n - 1))  # last valid frame at or above, before the end
        b1 = _Mask(finite & ~above_to).next(np.clip(b0 + 1, 0, n - 1))  # first valid frame below, after it
        ok_ic = (starts > 0) & (a0 >= 0) & (a1 < stops) & (a1 > 0)
        ok_to = (stops < n) & (b0 >= starts) & (b1 < n) & (b0 >= 0)
        a0, a1, b0, b1 = (np.clip(x, 0, n - 1) for x in (a0, a1, b0, b1))
        bracket = MAX_CROSSING_BRACKET / sampling_rate_hz
        ok_ic &= (time_s[a1] - time_s[a0]) <= bracket
        ok_to &= (time_s[b1] - time_s[b0]) <= bracket
        f0, f1 = fb[a0].astype(float), fb[a1].astype(float)
        w = np.clip((lvl_ic - f0) / np.where(f1 > f0, f1 - f0, 1.0), 0.0, 1.0)
        ic = time_s[a0] + w * (time_s[a1] - time_s[a0])
        g0, g1 = fb[b0].astype(float), fb[b1].astype(float)
        v = np.clip((g0 - lvl_to) / np.where(g0 > g1, g0 - g1, 1.0), 0.0, 1.0)
        to = time_s[b0] + v * (time_s[b1] - time_s[b0])
        return np.where(ok_ic, ic, np.nan), np.where(ok_to, to, np.nan)

    def levels(self) -> dict[str, float]:
        """The thresholds used, for the provenance of the result."""
        return {
            "stance_level": self.stance_level_,
            "noise_sd": self.noise_sd_,
            "threshold_on": self.threshold_on_,
            "threshold_off": self.threshold_off_,
            "onset_level": self.onset_level_,
            "measured_level": self.measured_level_,
        }
