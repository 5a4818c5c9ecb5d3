"""PhysioNet gaitpdb: 18 walks, 8 Ultraflex force cells per foot in newtons, 100 Hz, Parkinson's and controls.

Per walk: study, group, condition, the walking speed from ``demographics.txt`` (``Speed_01`` for walk 01, ...),
the stance % expected at that speed in healthy walking (Kirtley et al. 1985), the median stance % of each side by
the primary events and by the onset events (diagnostic), cadence, the stance symmetry index, the impulse-balance
ratio and the rescale factor applied, the foot-function label and insole-CPEI percentile of each foot, and the
leg-length pattern. Every walk is positioned in the shipped gaitpdb control cohort; a control's own walks are left
out of it (leave-one-subject-out), so no control is judged against itself.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validation.references import expected_stance_pct
from validation.sessions import analyse, finite_median, metric_median

SIDES = ("left", "right")
_NAME = re.compile(r"^(?P<subject>(?P<study>Ga|Ju|Si)(?P<group>Co|Pt)\d+)_(?P<walk>\d+)$")
CONDITIONS = {"Ga": "usual walking (dual task in walk 10)", "Ju": "usual walking", "Si": "treadmill"}


def speeds(folder: Path) -> dict[tuple[str, str], float]:
    """``{(subject, walk): speed m/s}`` from ``demographics.txt`` (NaN cells left out)."""
    path = folder / "demographics.txt"
    if not path.is_file():
        return {}
    demo = pd.read_csv(path, sep="\t", encoding="latin-1", usecols=lambda c: bool(str(c).strip()))
    out = {}
    for _, r in demo.iterrows():
        for col in demo.columns:
            m = re.fullmatch(r"Speed_(\d+)", str(col))
            if m and pd.notna(r[col]):
                out[(str(r["ID"]).strip(), m.group(1))] = float(r[col])
    return out


def _stance_pct(steps: pd.DataFrame, side: str, ic: str, to: str) -> float:
    """Median stance % of ``side``'s valid steps with the events in columns ``ic``/``to`` (stride from ``ic``)."""
    st = steps[steps["side"] == side]
    ics, tos = st[ic].to_numpy(float), st[to].to_numpy(float)
    stride = np.append(ics[1:], np.nan) - ics
    pct = 100.0 * (tos - ics) / stride
    return finite_median(pct[st["valid"].to_numpy(bool)])


def table(folder: Path, work: Path) -> pd.DataFrame:
    """One row per walk (see the module description)."""
    speed = speeds(folder)
    rows = []
    for txt in sorted(folder.glob("*_*.txt")):
        m = _NAME.match(txt.stem)
        if m is None:
            continue
        a = analyse("gaitpdb", txt, work)
        v = speed.get((m["subject"], m["walk"]), np.nan)
        walk = m["walk"]
        condition = "dual task" if (m["study"] == "Ga" and walk == "10") else CONDITIONS[m["study"]]
        row: dict[str, Any] = {"walk": txt.stem, "subject": m["subject"], "study": m["study"], "group": m["group"],
                               "condition": condition, "speed_m_s": v,
                               "expected_stance_pct": float(expected_stance_pct(v)) if np.isfinite(v) else np.nan,
                               "error": a.error}
        result = a.result
        if result is not None:
            strides = []
            for side in SIDES:
                sr = result.metrics.side(side)
                stride = metric_median(result, side, "stride_time_s")
                strides.append(stride)
                ff = sr.foot_function
                row.update({
                    f"{side}_strides": int(len(result.valid_steps(side))),
                    f"{side}_stance_pct": metric_median(result, side, "stance_pct"),
                    f"{side}_onset_stance_pct": _stance_pct(result.steps, side, "ic_onset_s", "to_onset_s"),
                    f"{side}_events": sr.event_levels.definition,
                    f"{side}_foot_function": ff.label,
                    f"{side}_cpei_pct": ff.median_cpei_pct if ff.median_cpei_pct is not None else np.nan,
                    f"{side}_cpei_percentile": ff.reference.percentile if ff.reference else np.nan,
                    f"{side}_peak1_force_bw": metric_median(result, side, "peak1_force"),
                    f"{side}_force_unit": sr.peak1_force.unit,
                })
            row["stance_pct"] = float(np.nanmean([row["left_stance_pct"], row["right_stance_pct"]]))
            row["onset_stance_pct"] = float(np.nanmean([row["left_onset_stance_pct"],
                                                        row["right_onset_stance_pct"]]))
            row["cadence_steps_per_min"] = (120.0 / float(np.nanmean(strides))
                                            if np.any(np.isfinite(strides)) else float("nan"))
            bil = result.metrics.bilateral
            scale, lld, sym = bil.force_scale, bil.lld_pattern, bil.symmetry.stance_time_s
            row.update({
                "stance_si_pct": sym.si_pct,
                "stance_si_percentile": sym.reference.percentile if sym.reference else np.nan,
                "impulse_ratio": scale.ratio if scale is not None and scale.ratio is not None else np.nan,
                "rescale_factor": scale.rescale_factor if scale is not None else np.nan,
                "force_scale_warning": any(q.code.value == "force_scale" for q in result.metrics.quality.warnings),
                "lld_assessed": lld.assessed,
                "lld_flagged": bool(lld.consistent),
                "lld_reason": lld.reason,
                "cohort_left_out": bool(sym.reference.left_out) if sym.reference else False,
                "reference_cohort": result.metrics.provenance.reference_cohort or "",
            })
        rows.append(row)
    return pd.DataFrame(rows)
