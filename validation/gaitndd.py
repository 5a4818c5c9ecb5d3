"""PhysioNet gaitndd: 64 five-minute walks, one force-sensing resistor per foot, 300 Hz (Hausdorff et al. 2000).

Per record and side: median stride, stance, swing and initial double support (s), stance %, valid strides, the
event definition used, and the change of the medians against the committed baseline from before issue 13
(``baseline/gaitndd-medians-before-issue13.csv``). Per record: the stance symmetry index and its position among
the shipped gaitndd controls (the subject's own recording left out), and whether the leg-length pattern and the
foot-function labels were assessed (they are not on uncalibrated one-sensor insoles, each with its reason).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validation.references import CONSISTENCY_S
from validation.sessions import analyse, finite_median, metric_median

SIDES = ("left", "right")
BASELINE = Path(__file__).resolve().parent / "baseline" / "gaitndd-medians-before-issue13.csv"
MEDIANS = ("stride_s", "stance_s", "swing_s")


def _groups(folder: Path) -> dict[str, str]:
    groups = {}
    table = folder / "subject-description.txt"
    if table.is_file():
        for ln in table.read_text().splitlines()[1:]:
            cells = ln.split("\t")
            if len(cells) > 1:
                groups[cells[0]] = cells[1].replace("subjects", "als")
    return groups


def table(folder: Path, work: Path) -> pd.DataFrame:
    """One row per record (see the module description)."""
    groups = _groups(folder)
    rows = []
    for hea in sorted(folder.glob("*.hea")):
        a = analyse("gaitndd", hea, work)
        row: dict[str, Any] = {"record": hea.stem, "group": groups.get(hea.stem, ""), "error": a.error}
        result = a.result
        consistent = result is not None
        if result is not None:
            valid = result.steps[result.steps["valid"].astype(bool)]
            for side in SIDES:
                v = result.valid_steps(side)
                d = (v["stance_time_s"] + v["swing_time_s"] - v["stride_time_s"]).abs()
                consistent &= bool((d[np.isfinite(d)] < CONSISTENCY_S).all())
                stride = metric_median(result, side, "stride_time_s")
                stance = metric_median(result, side, "stance_time_s")
                row.update({
                    f"{side}_strides": int(len(v)),
                    f"{side}_stride_s": stride,
                    f"{side}_stance_s": stance,
                    f"{side}_swing_s": metric_median(result, side, "swing_time_s"),
                    f"{side}_double_support_s": finite_median(valid.loc[valid["side"] == side,
                                                                        "double_support_initial_s"]),
                    f"{side}_stance_pct": 100.0 * stance / stride if stride > 0 else float("nan"),
                    f"{side}_events": result.metrics.side(side).event_levels.definition,
                    f"{side}_foot_function": result.metrics.side(side).foot_function.label,
                })
            sym = result.metrics.bilateral.symmetry.stance_time_s
            lld = result.metrics.bilateral.lld_pattern
            row.update({
                "stance_si_pct": sym.si_pct,
                "stance_si_percentile": sym.reference.percentile if sym.reference else np.nan,
                "stance_si_cohort_left_out": bool(sym.reference.left_out) if sym.reference else False,
                "lld_assessed": lld.assessed,
                "lld_flagged": bool(lld.consistent),
                "lld_reason": lld.reason,
            })
        row["stride_eq_stance_plus_swing"] = consistent
        rows.append(row)
    return with_baseline(pd.DataFrame(rows))


def with_baseline(ndd: pd.DataFrame, baseline: Path = BASELINE) -> pd.DataFrame:
    """Add ``<side>_<median>_change_s``: now minus the baseline (NaN without a baseline row)."""
    if not baseline.is_file() or "record" not in ndd:
        return ndd
    base = pd.read_csv(baseline).set_index("record")
    out = ndd.copy()
    for side in SIDES:
        for name in MEDIANS:
            col = f"{side}_{name}"
            if col in out:
                ref = out["record"].map(base[col]) if col in base else np.nan
                out[f"{col}_change_s"] = out[col] - ref
    return out
