"""First, simple session analysis: events from total force by a fixed-share threshold, and temporal summaries.

This is the foundation's placeholder; the analysis-core issue replaces the event detector and adds force
curves, CoP, regions, indices, symmetry and quality gates behind the same API.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insole.session_file import Session, read_session
from pipeline import __version__
from pipeline.errors import AnalysisError


@dataclass(frozen=True)
class AnalysisParams:
    """Parameters of the analysis (stored in the provenance of every result).

    Attributes
    ----------
    on_share : float
        Contact threshold as a share of the robust stance force (95th percentile of total force).
    """

    on_share: float = 0.05


@dataclass
class AnalysisResult:
    """Per-step table and per-side summaries of one session."""

    steps: pd.DataFrame
    metrics: dict[str, Any]
    session: Session = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metrics."""
        return self.metrics


def _total_force(session: Session, side: str) -> np.ndarray:
    foot = session.feet[side]
    if foot.units == "kPa":
        return np.nansum(foot.pressure * foot.layout.area_mm2[None, :], axis=1) / 1000.0
    return np.nansum(foot.pressure, axis=1)


def _summary(x: np.ndarray) -> dict[str, float | int]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"median": None, "mean": None, "sd": None, "n": 0}
    return {
        "median": float(np.median(x)),
        "mean": float(np.mean(x)),
        "sd": float(np.std(x, ddof=1)) if x.size > 1 else None,
        "n": int(x.size),
    }


def analyze_session(source: str | Path | Session, params: AnalysisParams | None = None) -> AnalysisResult:
    """Analyse a session file (or a loaded :class:`~insole.session_file.Session`)."""
    params = params or AnalysisParams()
    session = source if isinstance(source, Session) else read_session(source)
    rows = []
    per_side: dict[str, Any] = {}
    for side, foot in session.feet.items():
        force = _total_force(session, side)
        level = np.nanpercentile(force, 95)
        if not level > 0:
            continue
        on = force > params.on_share * level
        edges = np.diff(on.astype(np.int8))
        ic_idx = np.flatnonzero(edges == 1) + 1
        to_idx = np.flatnonzero(edges == -1) + 1
        t = foot.time_s
        ic = t[ic_idx]
        to = np.array([t[to_idx[to_idx > i][0]] if np.any(to_idx > i) else np.nan for i in ic_idx])
        stride = np.append(np.diff(ic), np.nan)
        stance = to - ic
        swing = np.append(ic[1:] - to[:-1], np.nan) if len(ic) else np.array([])
        valid = np.isfinite(stride) & np.isfinite(stance) & (stance > 0.25) & (stance < 2.0)
        rows.append(
            pd.DataFrame(
                {"side": side, "ic_s": ic, "to_s": to, "stance_s": stance, "swing_s": swing, "stride_s": stride,
                 "valid": valid}
            )
        )
        per_side[side] = {
            "stride_time_s": _summary(stride[valid]),
            "stance_time_s": _summary(stance[valid]),
            "swing_time_s": _summary(swing[valid]),
        }
    if not rows:
        raise AnalysisError(f"{session.path}: no foot shows any load; nothing to analyse")
    steps = pd.concat(rows, ignore_index=True)
    digest = hashlib.sha256(Path(session.path).read_bytes()).hexdigest() if Path(session.path).exists() else ""
    metrics = {
        **per_side,
        "provenance": {"software": f"insole {__version__}", "parameters": asdict(params), "input_sha256": digest},
    }
    return AnalysisResult(steps, metrics, session)
