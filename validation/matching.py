"""Event pairing and per-step intervals from event lists.

The same functions turn the analysis's events and the vendor's events into stance, swing and double support, so
the two are compared like with like.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from validation.references import MATCH_WINDOW_S


def match_events(detected: np.ndarray, reference: np.ndarray, window_s: float = MATCH_WINDOW_S) -> np.ndarray:
    """Index into ``detected`` of the event paired with each ``reference`` event (-1 if none within ``window_s``).

    Pairs are taken greedily by distance, each detected event used at most once.
    """
    det = np.asarray(detected, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    out = np.full(ref.shape, -1, dtype=np.int64)
    if det.size == 0 or ref.size == 0:
        return out
    d = np.abs(det[None, :] - ref[:, None])
    d[~np.isfinite(d)] = np.inf
    pairs = np.argwhere(d <= window_s)
    pairs = pairs[np.argsort(d[pairs[:, 0], pairs[:, 1]], kind="stable")]
    used_r: set[int] = set()
    used_d: set[int] = set()
    for r, k in pairs:
        if r not in used_r and k not in used_d:
            out[r] = k
            used_r.add(int(r))
            used_d.add(int(k))
    return out


def event_differences(detected: np.ndarray, reference: np.ndarray, window_s: float = MATCH_WINDOW_S) -> np.ndarray:
    """Signed detected - reference (s) for each reference event, NaN where none was paired."""
    k = match_events(detected, reference, window_s)
    det = np.asarray(detected, dtype=np.float64)
    out = np.full(k.shape, np.nan)
    ok = k >= 0
    out[ok] = det[k[ok]] - np.asarray(reference, dtype=np.float64)[ok]
    return out


def steps_from_events(ic_s: np.ndarray, to_s: np.ndarray) -> pd.DataFrame:
    """One row per initial contact with its toe off (the first TO after it and before the next IC), stance and
    swing (to the next IC); NaN where the next event is missing."""
    ic = np.sort(np.asarray(ic_s, dtype=np.float64)[np.isfinite(ic_s)])
    to = np.sort(np.asarray(to_s, dtype=np.float64)[np.isfinite(to_s)])
    nxt = np.append(ic[1:], np.inf)
    k = np.searchsorted(to, ic, side="right")
    has = k < to.size
    own_to = np.full(ic.shape, np.nan)
    own_to[has] = to[k[has]]
    own_to[own_to >= nxt] = np.nan
    next_ic = np.where(np.isfinite(nxt), nxt, np.nan)
    return pd.DataFrame({"ic_s": ic, "to_s": own_to, "stance_s": own_to - ic, "swing_s": next_ic - own_to})


def initial_double_support_s(ic_s: np.ndarray, other_ic_s: np.ndarray, other_to_s: np.ndarray) -> np.ndarray:
    """Per initial contact: time until the other foot's toe off, when the other foot was in stance at that IC.

    This is the initial double-support interval of that side's stance (Perry & Burnfield 2010); summed over both
    sides it gives double support per stride, like column 12 of the PhysioNet gaitndd ``.ts`` tables.
    """
    ic = np.asarray(ic_s, dtype=np.float64)
    other = steps_from_events(other_ic_s, other_to_s)
    o_ic, o_to = other["ic_s"].to_numpy(), other["to_s"].to_numpy()
    k = np.searchsorted(o_ic, ic, side="right") - 1
    out = np.full(ic.shape, np.nan)
    has = (k >= 0) & np.isfinite(ic)
    ds = o_to[k[has]] - ic[has]
    out[has] = np.where((ds > 0) & (ds < 1.0), ds, np.nan)
    return out
