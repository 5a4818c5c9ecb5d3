"""Strides, phases, left-right pairing and steady-state selection.

Definitions (``shared/design/gait-evidence.md``): stride = IC to the next ipsilateral IC; step = contralateral IC
to IC; stance = IC to TO; swing = TO to the next IC; initial double support = IC (ipsi) to TO (contra); terminal
double support = IC (contra) to TO (ipsi); single support = stance - double support (= contralateral swing);
cadence = 120 / stride time (steps/min). Pairing: the contralateral IC must fall at 35-65 % of the ipsilateral
stride.

Validity of a stride (timing): both ICs and the TO known, stance 0.25-2 s, swing >= 0.15 s and no data gap longer
than 0.15 s inside it (a whole swing could hide in a longer gap). Steady state: a bout is a run of consecutive
valid strides; the first and last stride of every bout are dropped, and strides more than 3 robust SD
(1.4826 x MAD, at least 1 % of the median) from the median stride time are dropped as turns or stumbles, as the
evidence note asks ("drop the first and last strides of a bout and turns (outlier strides) from summary
statistics, and say so"; median +- 3 SD as in the outlier removal of Hausdorff et al. 1999).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.analysis.step_table import StepTable

#: Plausible stance duration (s) and minimum swing (s) (gait-evidence.md, "A method that works").
MIN_STANCE_S, MAX_STANCE_S, MIN_SWING_S = 0.25, 2.0, 0.15
#: Contralateral IC window as a share of the ipsilateral stride.
PAIRING_WINDOW = (0.35, 0.65)
#: Outlier rule for steady state: robust SDs from the median stride time.
OUTLIER_ROBUST_SD = 3.0

STEADY_STATE_RULE = (
    "summaries use steady-state strides: timing valid (stance 0.25-2 s, swing >= 0.15 s, no gap > 0.15 s), "
    "first and last stride of each bout dropped, strides > 3 robust SD (1.4826 x MAD, at least 1 % of the median) "
    "from the median stride time dropped as turns/outliers"
)


def max_gap_between(time_s: np.ndarray, contiguous: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Longest missing interval (s) between frames ``a[i]`` and ``b[i]`` (vectorised with a sparse gap list)."""
    gap_at = np.flatnonzero(~contiguous)  # pair (i, i+1) broken
    if gap_at.size == 0 or a.size == 0:
        return np.zeros(a.size)
    gap_len = time_s[gap_at + 1] - time_s[gap_at]
    lo = np.searchsorted(gap_at, a)
    hi = np.searchsorted(gap_at, b)
    res = np.zeros(a.size)
    has = hi > lo
    if has.any():
        res[has] = _range_max(gap_len, lo[has], hi[has])
    return res


def _range_max(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Maximum of ``values[lo[i]:hi[i]]`` for every i (sparse table, O(n log n) build, vectorised queries)."""
    table = [values]
    k = 1
    while (1 << k) <= len(values):
        prev = table[-1]
        half = 1 << (k - 1)
        table.append(np.maximum(prev[:-half], prev[half:]))
        k += 1
    length = hi - lo
    level = np.floor(np.log2(np.maximum(length, 1))).astype(int)
    out = np.empty(len(lo))
    for lv in np.unique(level):
        sel = level == lv
        t = table[lv]
        out[sel] = np.maximum(t[lo[sel]], t[hi[sel] - (1 << lv)])
    return out


@dataclass
class SideSteps:
    """Per-step timing of one foot (arrays of equal length, one entry per stance)."""

    side: str
    ic_idx: np.ndarray
    to_idx: np.ndarray
    ic_s: np.ndarray
    to_s: np.ndarray
    max_gap_s: np.ndarray  # longest gap inside stance + following swing


def side_table(s: SideSteps) -> StepTable:
    """Stride, stance and swing of one foot, with timing validity (before pairing and steady-state selection)."""
    n = len(s.ic_s)
    next_ic = np.append(s.ic_s[1:], np.nan)
    stride = next_ic - s.ic_s
    stance = s.to_s - s.ic_s
    swing = next_ic - s.to_s
    reasons = np.full(n, "", dtype=object)
    checks = [
        (~np.isfinite(s.ic_s) | ~np.isfinite(s.to_s), "event unknown (gap or recording edge)"),
        (~np.isfinite(next_ic), "no next contact"),
        (np.isfinite(stance) & ((stance < MIN_STANCE_S) | (stance > MAX_STANCE_S)), "stance outside 0.25-2 s"),
        (np.isfinite(swing) & (swing < MIN_SWING_S), "swing < 0.15 s"),
        (s.max_gap_s > MIN_SWING_S, "data gap > 0.15 s"),
    ]
    for bad, why in checks:
        reasons = np.where(bad & (reasons == ""), why, reasons)
    ok = reasons == ""
    return StepTable(
        {
            "side": s.side,
            "step": np.arange(n),
            "ic_s": s.ic_s,
            "to_s": s.to_s,
            "stance_time_s": stance,
            "swing_time_s": swing,
            "stride_time_s": stride,
            "stance_pct": 100.0 * stance / stride,
            "swing_pct": 100.0 * swing / stride,
            "cadence_steps_per_min": 120.0 / stride,
            "max_gap_s": s.max_gap_s,
            "timing_ok": ok,
            "exclusion": reasons,
        },
        n_rows=n,
    )


def steady_state(table: StepTable) -> StepTable:
    """Add ``bout``, ``steady`` and ``valid`` columns to one side's table, in place (:data:`STEADY_STATE_RULE`)."""
    ok = table["timing_ok"]
    n = len(ok)
    bout = np.cumsum(np.concatenate([[ok[0]] if n else [], ok[1:] & ~ok[:-1]])) if n else np.array([], int)
    bout = np.where(ok, bout, 0)
    first = ok & np.concatenate([[True], ~ok[:-1]]) if n else ok
    last = ok & np.concatenate([~ok[1:], [True]]) if n else ok
    stride = table["stride_time_s"]
    core = ok & ~first & ~last
    reasons = table["exclusion"].copy()
    reasons = np.where(ok & (first | last), "first/last stride of a bout", reasons)
    outlier = np.zeros(n, bool)
    if core.sum() >= 3:
        med = np.median(stride[core])
        rsd = max(1.4826 * np.median(np.abs(stride[core] - med)), 0.01 * med)
        outlier = core & (np.abs(stride - med) > OUTLIER_ROBUST_SD * rsd)
        reasons = np.where(outlier, "outlier stride (turn?)", reasons)
    steady = core & ~outlier
    out = table  # columns are added in place (no copy of a day-long table)
    out["bout"] = bout
    out["steady"] = steady
    out["exclusion"] = reasons
    out["valid"] = steady
    return out


def pair_sides(left: StepTable, right: StepTable) -> tuple[StepTable, StepTable]:
    """Bilateral timing: step time, double/single support and pairing phase, for each side against the other.

    Adds ``step_time_s`` (from the previous contralateral IC), ``contra_ic_pct`` (contralateral IC as % of the
    stride), ``paired`` (inside 35-65 %), ``double_support_initial_s``, ``double_support_terminal_s``,
    ``double_support_s`` and ``single_support_s``.
    """
    return _pair(left, right), _pair(right, left)


def _pair(ipsi: StepTable, contra: StepTable) -> StepTable:
    out = ipsi  # columns are added in place
    ic = ipsi["ic_s"]
    to = ipsi["to_s"]
    stride = ipsi["stride_time_s"]
    cic = contra["ic_s"]
    cto = contra["to_s"]
    c_ok = np.isfinite(cic)
    cic_f = cic[c_ok]
    cto_known = cto[np.isfinite(cto)]
    nan = np.full(len(ic), np.nan)
    if cic_f.size == 0 or len(ic) == 0:
        for col in ("step_time_s", "contra_ic_pct", "double_support_initial_s", "double_support_terminal_s",
                    "double_support_s", "single_support_s"):
            out[col] = nan
        out["paired"] = False
        return out
    # contralateral IC inside this stride (first one after IC)
    j = np.searchsorted(cic_f, ic, side="right")
    j_ok = j < cic_f.size
    c_in = np.where(j_ok, cic_f[np.minimum(j, cic_f.size - 1)], np.nan)
    phase = (c_in - ic) / stride
    paired = np.isfinite(phase) & (phase >= PAIRING_WINDOW[0]) & (phase <= PAIRING_WINDOW[1])
    # previous contralateral IC (step time)
    jp = j - 1
    prev_c = np.where(jp >= 0, cic_f[np.maximum(jp, 0)], np.nan)
    step = ic - prev_c
    # initial double support: contralateral TO after this IC, before this TO
    k = np.searchsorted(cto_known, ic, side="right")
    c_to_next = np.where(k < cto_known.size, cto_known[np.minimum(k, max(cto_known.size - 1, 0))], np.nan) \
        if cto_known.size else nan
    ds_init = np.where(c_to_next < to, c_to_next - ic, np.nan)
    ds_term = np.where(c_in < to, to - c_in, np.nan)
    ds = ds_init + ds_term
    out["step_time_s"] = np.where(step < stride, step, np.nan) if np.isfinite(stride).any() else step
    out["contra_ic_pct"] = 100.0 * phase
    out["paired"] = paired
    out["double_support_initial_s"] = np.where(paired, ds_init, np.nan)
    out["double_support_terminal_s"] = np.where(paired, ds_term, np.nan)
    out["double_support_s"] = np.where(paired, ds, np.nan)
    out["single_support_s"] = np.where(paired, (to - ic) - ds, np.nan)
    return out
