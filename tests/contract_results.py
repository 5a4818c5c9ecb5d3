"""Synthetic analysis results that follow notes/analysis-contract.md, for testing the report and comparison.

These are *inputs* for the renderer (a realistic shape and realistic magnitudes), not expected outputs: every
number is drawn from a seeded generator around textbook values (stride ~1.1 s, stance ~62 %, double-hump force
~1.1 BW; Kirtley et al. 1985 and gait-evidence.md). ``pattern`` sets the analysis-level labels a real analysis
would produce for that walking pattern.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from insole.layouts import builtin_layout


@dataclass
class ContractResult:
    """Duck-typed ``AnalysisResult`` with every attribute of the contract."""

    steps: pd.DataFrame
    metrics: dict[str, Any]
    curves: dict[str, dict[str, Any]] = field(default_factory=dict)
    layouts: dict[str, Any] = field(default_factory=dict)
    session: Any = None

    def to_dict(self) -> dict[str, Any]:
        return self.metrics


def _summary(x: np.ndarray, units: str, method: str) -> dict[str, Any]:
    x = np.asarray(x, float)
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    half = 1.96 * sd / np.sqrt(x.size)
    return {"median": float(np.median(x)), "mean": mean, "sd": sd, "n": int(x.size),
            "cv_pct": 100 * sd / mean if mean > 0 else None, "ci95": [mean - half, mean + half], "units": units,
            "method": method}


def make_result(
    pattern: str = "neutral",
    *,
    n_steps: int = 40,
    seed: int = 0,
    subject_id: str = "P-001",
    notes: str = "synthetic fixture",
    condition: str = "shoes",
    quality_passed: bool = True,
    failures: tuple[str, ...] = (),
    layout_n: int = 16,
    sampling_rate_hz: float = 100.0,
    shift: float = 0.0,
) -> ContractResult:
    """A contract-shaped result for ``pattern`` in {"neutral", "pronation", "supination", "lld"}.

    ``shift`` adds a constant to the right and left stance time (s), to make a before/after change.
    """
    rng = np.random.default_rng(seed)
    layout = builtin_layout(layout_n, 260.0)
    label = {"neutral": "neutral", "pronation": "pronation", "supination": "supination", "lld": "neutral"}[pattern]
    cpei_mean = {"neutral": 22.5, "pronation": 15.0, "supination": 29.0, "lld": 22.5}[pattern]
    rows, metrics, curves = [], {}, {}
    x = np.linspace(0, 1, 101)
    for side in ("left", "right"):
        long_leg = pattern == "lld" and side == "right"
        stance = rng.normal(0.68 * (1.035 if long_leg else 1.0) + shift, 0.015, n_steps)
        stride = rng.normal(1.10, 0.015, n_steps)
        swing = stride - stance
        peak1 = rng.normal(1.12 * (0.88 if long_leg else 1.0), 0.04, n_steps)
        peak2 = rng.normal(1.10, 0.04, n_steps)
        valley = rng.normal(0.78, 0.03, n_steps)
        lr = rng.normal(9.0 if pattern != "supination" else 13.0, 1.0, n_steps)
        cpei = rng.normal(cpei_mean, 4.0, n_steps)
        ic = np.cumsum(stride) + (0.55 if side == "right" else 0.0)
        rows.append(pd.DataFrame({
            "side": side, "ic_s": ic, "to_s": ic + stance, "stance_s": stance, "swing_s": swing,
            "stride_s": stride, "valid": True, "peak1_bw": peak1, "peak2_bw": peak2, "valley_bw": valley,
            "loading_rate_bw_s": lr, "cpei_pct": cpei,
        }))
        m = {
            "stride_time_s": _summary(stride, "s", "IC to next ipsilateral IC"),
            "stance_time_s": _summary(stance, "s", "IC to FO"),
            "swing_time_s": _summary(swing, "s", "FO to next IC"),
            "stance_pct": _summary(100 * stance / stride, "%", "stance / stride"),
            "cpei_pct": _summary(cpei, "%", "insole CPEI (Song et al. 1996)"),
            "peak1_bw": _summary(peak1, "BW", "first peak"),
            "peak2_bw": _summary(peak2, "BW", "second peak"),
            "valley_bw": _summary(valley, "BW", "mid-stance minimum"),
            "loading_rate_bw_s": _summary(lr, "BW/s", "20-80 % of first peak (Woodard et al. 1999)"),
            "impulse_bw_s": _summary(rng.normal(0.55, 0.02, n_steps), "BW s", "integral of force"),
            "cop_path_length_pct": _summary(rng.normal(85, 3, n_steps), "% foot length", "CoP path"),
            "lmfi_terminal": _summary(rng.normal(-0.1, 0.05, n_steps), "", "(F_lat - F_med)/(F_lat + F_med)"),
            "foot_function": {"label": label, "confidence": 0.8, "rule": f"insole CPEI {cpei_mean:.0f} vs bands"},
            "regions": {
                name: {"peak_pressure_kpa": float(v), "pti_kpa_s": float(v) * 0.3, "contact_time_pct": 60.0,
                       "load_share_pct": share}
                for name, v, share in (("heel_medial", 230, 17), ("heel_lateral", 220, 16),
                                       ("midfoot_medial", 60 if label != "pronation" else 140, 4),
                                       ("midfoot_lateral", 90, 8), ("forefoot_medial", 260, 20),
                                       ("forefoot_lateral", 200, 17), ("toes_medial", 180, 12),
                                       ("toes_lateral", 90, 6))
            },
        }
        metrics[side] = m
        force = (peak1.mean() * np.exp(-((x - 0.24) / 0.12) ** 2) + peak2.mean() * np.exp(-((x - 0.78) / 0.12) ** 2)
                 + 0.55 * np.sin(np.pi * x))
        ml_shift = {"pronation": 0.1, "supination": -0.1}.get(pattern, 0.0)
        curves[side] = {
            "force": force[None, :] * rng.normal(1, 0.05, (n_steps, 1)),
            "force_units": "BW",
            "cop_ap": np.clip(x[None, :] * 0.85 + 0.05 + rng.normal(0, 0.01, (n_steps, 101)), 0, 1),
            "cop_ml": (0.15 * np.sin(np.pi * x) * (x - 0.3) + ml_shift * x)[None, :]
            + rng.normal(0, 0.01, (n_steps, 101)),
        }
    lld = pattern == "lld"
    metrics["bilateral"] = {
        "cadence_steps_per_min": _summary(rng.normal(109, 1.5, n_steps), "steps/min", "120 / stride time"),
        "double_support_s": _summary(rng.normal(0.13, 0.01, n_steps), "s", "IC to contralateral FO"),
        "symmetry": {},
        "lld_pattern": {"consistent": lld, "criteria": {"stance_si_pct": 3.5 if lld else 0.2,
                                                         "peak_si_pct": -12.0 if lld else 0.5},
                        "wording": "asymmetry pattern consistent with, among other explanations, a leg-length "
                                   "difference" if lld else "no such pattern"},
    }
    metrics["quality"] = {"passed": quality_passed, "strides": {"left": n_steps, "right": n_steps},
                          "warnings": [] if quality_passed else ["few strides"], "failures": list(failures),
                          "saturation_pct": {"left": 0.0, "right": 0.0}, "dropout_pct": {"left": 0.1, "right": 0.2},
                          "sync_ok": True}
    metrics["provenance"] = {"software": "insole test", "parameters": {"on_share": 0.05},
                             "input_sha256": "0" * 64, "analysed_utc": "2026-01-01T00:00:00Z"}
    metrics["session"] = {
        "subject_id": subject_id, "body_mass_kg": 70.0, "foot_length_mm": 260.0, "condition": condition,
        "notes": notes, "duration_s": 60.0,
        "feet": {s: {"layout_id": layout.layout_id, "n_sensors": layout.n_sensors,
                     "sampling_rate_hz": sampling_rate_hz, "units": "kPa", "device_model": "sim"}
                 for s in ("left", "right")},
    }
    return ContractResult(pd.concat(rows, ignore_index=True), metrics, curves, {"left": layout, "right": layout})
