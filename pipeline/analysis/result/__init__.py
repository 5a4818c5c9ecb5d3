"""The typed, versioned result of an analysis: what the report, interpretation, comparison, batch and scripts read.

Two layers:

- :class:`SessionMetrics` (schema ``insole-analysis``, :data:`SCHEMA_VERSION`): every summary of the session as
  frozen, typed records. It is what ``metrics.json`` holds, and it round-trips through JSON without loss
  (:meth:`SessionMetrics.to_json` / :meth:`SessionMetrics.from_json`). The JSON schema is generated from these
  types (:func:`json_schema`) and documented in ``docs/analysis-result.md``.
- :class:`AnalysisResult`: that summary plus the per-step table (numpy columns, :class:`StepTable`, with the
  columns listed in ``metrics.step_columns``; a pandas DataFrame on request), the summarised
  stance-normalised curves (:class:`StanceCurves`) and the sensor layouts, which are too large for JSON.

Every per-side metric of :data:`~pipeline.analysis.metric_catalogue.SIDE_METRICS` is always present, as a
:class:`Metric` with a :class:`MetricStatus`: ``computed`` (with its statistics, unit, method and number of
steps), ``not_applicable`` (the device cannot measure it, e.g. a centre-of-pressure path from a one-sensor insole)
or ``not_computed`` (it applies, but there were no usable steps); the latter two say why in ``reason``. Metric names
never change with units: the unit is a field.

msgspec is used for the records: typed, frozen structs with strict decoding, JSON encoding about ten times faster
than the standard library, and a JSON schema generated from the same types, in a small dependency-free package.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from insole.layouts import SensorLayout
from pipeline.analysis.result.bilateral import (
    Bilateral,
    ForceScaleCheck,
    ImuConsistency,
    LldCriteria,
    LldPattern,
    SymmetryTable,
    SyncCheck,
)
from pipeline.analysis.result.curves import CurveSummary, StanceCurves
from pipeline.analysis.result.plantar import CellMaps, Plantar, PlantarMask, StrikePattern
from pipeline.analysis.result.quality import Quality, QualityCode, QualityIssue, QualityLimits, SideQuality
from pipeline.analysis.result.records import CohortPosition, Metric, MetricStatus, Symmetry, finite
from pipeline.analysis.result.session import (
    SCHEMA,
    SCHEMA_VERSION,
    FootSummary,
    Provenance,
    SessionMetrics,
    SessionSummary,
    StepColumn,
    json_schema,
)
from pipeline.analysis.result.side import EventLevels, FootFunction, ImuCheck, RegionSummary, SideResult
from pipeline.analysis.result.steps_csv import write_steps_csv
from pipeline.analysis.step_table import StepTable

if TYPE_CHECKING:  # pipeline.norms imports this package; pandas only when a DataFrame is asked for
    import pandas as pd

    from pipeline.norms.cohort import Cohort


@dataclass
class AnalysisResult:
    """Result of :func:`~pipeline.analysis.analyze_session`.

    Parameters
    ----------
    metrics : SessionMetrics
        Every summary (what ``metrics.json`` holds).
    steps : StepTable or pandas.DataFrame
        One row per detected stance of either foot; columns and units in ``metrics.step_columns`` and
        ``docs/analysis-result.md``. The analysis gives a :class:`~pipeline.analysis.step_table.StepTable`; a
        stored analysis read back (``steps.csv``) may give a DataFrame.
    curves : dict of str to StanceCurves
        Per side: the stance-normalised force and CoP curves of the valid steps, summarised (mean, SD and the
        drawn steps' curves; :mod:`pipeline.analysis.result.curves`).
    layouts : dict of str to SensorLayout
        Per side.
    path : Path
        The analysed file.
    cohort : Cohort or None
        The reference cohort every position was computed in (the one ``metrics.provenance.reference_cohort``
        names), kept so that a report can show the cohort's reference intervals; None without one.

    Attributes
    ----------
    table : StepTable
        The per-step table as numpy columns (what the analysis, ``steps.csv`` and :meth:`step_values` read).
    steps : pandas.DataFrame
        The same table as a DataFrame, made on first use (importing pandas: ``insole analyze`` never does).
    """

    def __init__(self, metrics: SessionMetrics, steps: StepTable | pd.DataFrame,
                 curves: dict[str, StanceCurves] | None = None, layouts: dict[str, SensorLayout] | None = None,
                 path: Path | None = None, cohort: Cohort | None = None) -> None:
        self.metrics = metrics
        if isinstance(steps, StepTable):
            self.table, self._frame = steps, None
        else:
            self.table, self._frame = StepTable.from_pandas(steps), steps
        self.curves: dict[str, StanceCurves] = curves if curves is not None else {}
        self.layouts: dict[str, SensorLayout] = layouts if layouts is not None else {}
        self.path = path
        self.cohort = cohort

    def __repr__(self) -> str:
        return f"AnalysisResult(path={self.path!r}, steps={self.table!r})"

    @property
    def steps(self) -> pd.DataFrame:
        """The per-step table as a pandas DataFrame (made once, on first use, from :attr:`table`)."""
        if self._frame is None:
            self._frame = self.table.to_pandas()
        return self._frame

    def valid_steps(self, side: str) -> pd.DataFrame:
        """The steps of ``side`` used in the summaries (a DataFrame)."""
        s = self.steps
        return s[(s["side"] == side) & s["valid"].to_numpy(bool)]

    def write_metrics(self, path: str | Path) -> Path:
        """Write ``metrics.json`` (:meth:`SessionMetrics.to_json`) to ``path``; return the path."""
        out = Path(path)
        out.write_bytes(self.metrics.to_json() + b"\n")
        return out

    def write_steps(self, path: str | Path) -> Path:
        """Write the per-step table as CSV (``steps.csv``; columns and units in ``metrics.step_columns``)."""
        return write_steps_csv(self.table, path)

    def step_values(self, side: str, column: str) -> np.ndarray:
        """Finite values of ``column`` over the valid steps of ``side`` (empty when the column is absent)."""
        t = self.table
        if column not in t:
            return np.zeros(0)
        keep = (t["side"] == side) & np.asarray(t["valid"], bool)
        v = np.asarray(t[column], dtype=float)[keep]
        return v[np.isfinite(v)]


__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "AnalysisResult",
    "Bilateral",
    "CellMaps",
    "CohortPosition",
    "CurveSummary",
    "EventLevels",
    "FootFunction",
    "FootSummary",
    "ForceScaleCheck",
    "ImuCheck",
    "ImuConsistency",
    "LldCriteria",
    "LldPattern",
    "Metric",
    "MetricStatus",
    "Plantar",
    "PlantarMask",
    "Provenance",
    "Quality",
    "QualityCode",
    "QualityIssue",
    "QualityLimits",
    "RegionSummary",
    "SessionMetrics",
    "SessionSummary",
    "SideQuality",
    "SideResult",
    "StanceCurves",
    "StepColumn",
    "StrikePattern",
    "Symmetry",
    "SymmetryTable",
    "SyncCheck",
    "finite",
    "json_schema",
]
