"""Import one third-party file and analyse it, reporting (not raising) what went wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from insole.errors import InsoleError
from insole.importers import import_recording
from insole.session import open_session
from pipeline.analysis import AnalysisResult, analyze_session
from pipeline.errors import PipelineError


@dataclass
class Analysed:
    """The analysis of one imported file: the result (None on error), the error text, and the file's vendor groups
    (``vendor_events/...``, ``vendor_signals/...``) read for comparison only, never given to the analysis."""

    result: AnalysisResult | None
    error: str = ""
    vendor: dict[str, np.ndarray] = field(default_factory=dict)


def analyse(fmt: str, src: Path, work: Path, *, vendor: bool = False, cohort: Any = "auto") -> Analysed:
    """Import ``src`` with the ``fmt`` importer into ``work`` and analyse it with ``cohort``."""
    out = work / f"{fmt}-{src.stem}.h5"
    found: dict[str, np.ndarray] = {}
    try:
        import_recording(fmt, src, out, overwrite=True)
        if vendor:
            with open_session(out) as sf:
                for name in sf.extras():
                    if name.startswith(("vendor_events/", "vendor_signals/")):
                        found[name] = np.asarray(sf.read_extra(name))
        return Analysed(analyze_session(out, cohort=cohort), "", found)
    except (InsoleError, PipelineError) as exc:
        return Analysed(None, f"{type(exc).__name__}: {exc}", found)
    except Exception as exc:  # noqa: BLE001 - a crash on one file is reported in its row and fails the checks
        return Analysed(None, f"unexpected {type(exc).__name__}: {exc}", found)
    finally:
        out.unlink(missing_ok=True)


def metric_median(result: AnalysisResult, side: str, name: str) -> float:
    """Median of a per-side metric of the typed result (NaN when the foot or the value is missing)."""
    sr = result.metrics.side(side)
    value = sr.metric(name).median if sr is not None else None
    return float("nan") if value is None else float(value)


def finite_median(x: Any) -> float:
    a = np.asarray(x, dtype=np.float64)
    a = a[np.isfinite(a)]
    return float(np.median(a)) if a.size else float("nan")
