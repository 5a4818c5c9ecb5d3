"""Moticon OpenGo exports: the analysis per step against the vendor's own events and total force.

The three 2023 walks carry Moticon's step events (11/15 left IC/TO, 21/25 right IC/TO) and every export the
vendor's total force; both are stored by the importer under ``vendor_events`` / ``vendor_signals`` and never read
by the analysis. One row per vendor step (an IC with the TO that follows it):

- ``ic_err_s``, ``to_err_s``: the paired detected event minus the vendor's (pairing: nearest IC within 100 ms,
  each detected IC used once; the TO is the one of the same detected step);
- ``stance_err_s``, ``swing_err_s``, ``double_support_err_s``: the same intervals built from each event list by the
  same code (:mod:`validation.matching`), detected minus vendor; the ``onset_*`` columns repeat them with the
  analysis's onset events (diagnostic definition);
- ``vendor_max_force_n`` / ``max_force_err``: the maximum of the vendor's total force between the vendor's IC and
  TO against the analysis's ``max_force`` of the paired step (relative error); ``peak1_err`` / ``peak2_err``: the
  vendor's maxima in the first / second half of the stance against the analysis's double-hump peaks, where the
  analysis found a double hump.

The 2022 live capture has hand-set markers of undocumented meaning instead of step events; it contributes the
foot-function check only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validation.matching import initial_double_support_s, match_events, steps_from_events
from validation.sessions import analyse

SIDES = ("left", "right")
OTHER = {"left": "right", "right": "left"}
STEP_COLUMNS = ["file", "side", "vendor_ic_s", "vendor_to_s", "vendor_stance_s", "vendor_swing_s",
                "vendor_double_support_s", "paired", "ic_err_s", "to_err_s",
                "stance_err_s", "swing_err_s", "double_support_err_s", "onset_ic_err_s", "onset_to_err_s",
                "onset_stance_err_s", "onset_swing_err_s", "vendor_max_force_n", "max_force_n", "max_force_err",
                "peak1_err", "peak2_err"]


def _intervals(ic: np.ndarray, to: np.ndarray, other_ic: np.ndarray, other_to: np.ndarray) -> pd.DataFrame:
    steps = steps_from_events(ic, to)
    steps["double_support_s"] = initial_double_support_s(steps["ic_s"].to_numpy(), other_ic, other_to)
    return steps


def _events(steps: pd.DataFrame, side: str, ic: str, to: str) -> tuple[np.ndarray, np.ndarray]:
    st = steps[steps["side"] == side]
    return st[ic].to_numpy(float), st[to].to_numpy(float)


def _vendor_peaks(signal: np.ndarray, ic: float, to: float) -> tuple[float, float, float]:
    """(max, max of the first half, max of the second half) of the vendor's total force in [ic, to]."""
    t, f = signal[:, 0], signal[:, 1]
    inside = (t >= ic) & (t <= to)
    if not inside.any() or not np.isfinite(to):
        return np.nan, np.nan, np.nan
    mid = ic + 0.5 * (to - ic)
    first, second = inside & (t <= mid), inside & (t > mid)
    return (float(np.nanmax(f[inside])), float(np.nanmax(f[first])) if first.any() else np.nan,
            float(np.nanmax(f[second])) if second.any() else np.nan)


def _rel(ours: float, theirs: float) -> float:
    return (ours - theirs) / theirs if np.isfinite(ours) and np.isfinite(theirs) and theirs > 0 else np.nan


def table(folder: Path, work: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per file and side summary, one row per vendor step)."""
    files, steps_rows = [], []
    for txt in sorted(folder.rglob("*.txt")):
        name = str(txt.relative_to(folder))
        a = analyse("moticon", txt, work, vendor=True)
        for side in SIDES:
            row: dict[str, Any] = {"file": name, "side": side, "error": a.error}
            if a.result is not None and a.result.metrics.side(side) is not None:
                sr = a.result.metrics.side(side)
                row.update({"events": sr.event_levels.definition, "foot_function": sr.foot_function.label,
                            "foot_function_reason": sr.foot_function.reason,
                            "reference_cohort": a.result.metrics.provenance.reference_cohort or ""})
            vic, vto = a.vendor.get(f"vendor_events/{side}/ic_s"), a.vendor.get(f"vendor_events/{side}/to_s")
            row["vendor_steps"] = 0 if vic is None else int(len(vic))
            files.append(row)
            if a.result is None or vic is None or vto is None:
                continue
            steps_rows += _step_rows(name, side, a, vic, vto)
    return pd.DataFrame(files), pd.DataFrame(steps_rows, columns=STEP_COLUMNS)


def _step_rows(name: str, side: str, a, vic: np.ndarray, vto: np.ndarray) -> list[dict[str, Any]]:
    steps = a.result.steps
    other = OTHER[side]
    v_other = (a.vendor.get(f"vendor_events/{other}/ic_s", np.array([])),
               a.vendor.get(f"vendor_events/{other}/to_s", np.array([])))
    vendor = _intervals(vic, vto, *v_other)
    ours = {kind: _intervals(*_events(steps, side, f"ic{suffix}", f"to{suffix}"),
                             *_events(steps, other, f"ic{suffix}", f"to{suffix}"))
            for kind, suffix in (("primary", "_s"), ("onset", "_onset_s"))}
    pair = {kind: match_events(o["ic_s"].to_numpy(), vendor["ic_s"].to_numpy()) for kind, o in ours.items()}
    signal = a.vendor.get(f"vendor_signals/{side}/samples")
    mine = steps[steps["side"] == side].set_index("ic_s")
    rows = []
    for i, v in vendor.iterrows():
        row: dict[str, Any] = {"file": name, "side": side, "vendor_ic_s": v["ic_s"], "vendor_to_s": v["to_s"],
                               "vendor_stance_s": v["stance_s"], "vendor_swing_s": v["swing_s"],
                               "vendor_double_support_s": v["double_support_s"],
                               "paired": bool(pair["primary"][i] >= 0)}
        for kind, prefix in (("primary", ""), ("onset", "onset_")):
            k = pair[kind][i]
            o = ours[kind].iloc[k] if k >= 0 else None
            for col, src in (("ic_err_s", "ic_s"), ("to_err_s", "to_s"), ("stance_err_s", "stance_s"),
                             ("swing_err_s", "swing_s"), ("double_support_err_s", "double_support_s")):
                if prefix and col == "double_support_err_s":
                    continue
                row[prefix + col] = float(o[src] - v[src]) if o is not None else np.nan
        k = pair["primary"][i]
        vmax, v1, v2 = _vendor_peaks(signal, v["ic_s"], v["to_s"]) if signal is not None else (np.nan,) * 3
        row["vendor_max_force_n"] = vmax
        if k >= 0 and ours["primary"].iloc[k]["ic_s"] in mine.index:
            step = mine.loc[ours["primary"].iloc[k]["ic_s"]]
            row["max_force_n"] = float(step["max_force"])
            row["max_force_err"] = _rel(float(step["max_force"]), vmax)
            row["peak1_err"] = _rel(float(step["peak1_force"]), v1)
            row["peak2_err"] = _rel(float(step["peak2_force"]), v2)
        rows.append(row)
    return rows
