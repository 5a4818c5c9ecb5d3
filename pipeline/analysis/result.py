"""The typed, versioned result of an analysis: what the report, interpretation, comparison, batch and scripts read.

Two layers:

- :class:`SessionMetrics` (schema ``insole-analysis``, :data:`SCHEMA_VERSION`): every summary of the session as
  frozen, typed records. It is what ``metrics.json`` holds, and it round-trips through JSON without loss
  (:meth:`SessionMetrics.to_json` / :meth:`SessionMetrics.from_json`). The JSON schema is generated from these
  types (:func:`json_schema`) and documented in ``docs/analysis-result.md``.
- :class:`AnalysisResult`: that summary plus the per-step table (a pandas DataFrame with the columns listed in
  ``metrics.step_columns``), the stance-normalised curves and the sensor layouts, which are too large for JSON.

Every per-side metric of :data:`~pipeline.analysis.metric_catalogue.SIDE_METRICS` is always present, as a
:class:`Metric` with a :class:`MetricStatus`: ``computed`` (with its statistics, unit, method and number of
steps), ``not_applicable`` (the device cannot measure it, e.g. a centre-of-pressure path from a one-sensor insole)
or ``not_computed`` (it applies, but there were no usable steps); the latter two say why in ``reason``. Metric names
never change with units: the unit is a field.

msgspec is used for the records: typed, frozen structs with strict decoding, JSON encoding about ten times faster
than the standard library, and a JSON schema generated from the same types, in a small dependency-free package.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pandas as pd

from insole.layouts import SensorLayout
from pipeline.analysis.metric_catalogue import BILATERAL_METRICS, SIDE_METRIC_NAMES, SIDE_METRICS
from pipeline.errors import AnalysisError

SCHEMA = "insole-analysis"
#: Version of the ``metrics.json`` schema; a reader refuses another major version with a clear message.
SCHEMA_VERSION = 1
SIDES = ("left", "right")


class _Record(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every record: frozen, keyword-only."""


class MetricStatus(StrEnum):
    """Whether a metric could be computed, and if not, why not in kind."""

    COMPUTED = "computed"
    NOT_APPLICABLE = "not_applicable"  # the device or recording cannot measure it
    NOT_COMPUTED = "not_computed"  # it applies, but no usable steps


def finite(value: Any) -> float | None:
    """A finite float, or None (NaN, infinities and None become None)."""
    if value is None:
        return None
    f = float(value)
    return f if math.isfinite(f) else None


class Metric(_Record):
    """Summary of one per-step measure over the steps used (steady-state steps of a side, or pooled).

    Attributes
    ----------
    name, label : str
        Fixed name (as in the per-step table) and human name.
    unit : str
        Unit of every value (``BW``, ``N``, ``counts``, ``s``, ``% stride``, ...).
    method : str
        How the per-step value is computed and which steps are summarised.
    status : MetricStatus
    reason : str
        Why the metric is not applicable or not computed (empty when computed).
    n : int
        Number of steps summarised.
    median, mean, sd : float or None
    cv_pct : float or None
        SD / mean x 100, for ratio-scale quantities with a positive mean only.
    ci95 : (float, float) or None
        Student-t 95 % confidence interval of the mean (n >= 2).
    """

    name: str
    label: str
    unit: str
    method: str
    status: MetricStatus = MetricStatus.COMPUTED
    reason: str = ""
    n: int = 0
    median: float | None = None
    mean: float | None = None
    sd: float | None = None
    cv_pct: float | None = None
    ci95: tuple[float, float] | None = None

    @property
    def available(self) -> bool:
        """True when the metric was computed and has a central value."""
        return self.status is MetricStatus.COMPUTED and self.median is not None

    @property
    def central(self) -> float | None:
        """The mean, else the median (None when not computed)."""
        return self.mean if self.mean is not None else self.median


class Symmetry(_Record):
    """Left-right symmetry of one metric, from the per-side medians of steady-state steps.

    ``si_pct``: symmetry index (R - L) / (0.5 (R + L)) x 100 (Robinson et al. 1987); ``sa_pct``: symmetry angle
    (45 deg - atan(L / R)) / 90 deg x 100 (Zifchock et al. 2008). Positive = right larger.
    """

    metric: str
    label: str
    unit: str
    status: MetricStatus = MetricStatus.COMPUTED
    reason: str = ""
    si_pct: float | None = None
    sa_pct: float | None = None
    left_median: float | None = None
    right_median: float | None = None
    n_left: int = 0
    n_right: int = 0

    @property
    def available(self) -> bool:
        """True when the symmetry index was computed."""
        return self.status is MetricStatus.COMPUTED and self.si_pct is not None


class FootFunction(_Record):
    """Pronation / neutral / supination label of one foot, with the rule and the indices behind it."""

    label: str
    confidence: float
    rule: str
    n: int
    median_cpei_pct: float | None = None
    median_lmfi_terminal: float | None = None
    votes: list[str] = []
    reason: str = ""


class RegionSummary(_Record):
    """Medians over the force-valid steady-state steps of one plantar region."""

    name: str
    peak_pressure: float | None
    pti: float | None
    contact_time_pct: float | None
    load_share_pct: float | None
    n: int
    pressure_unit: str
    statistic: str = "median over steps"


class EventLevels(_Record):
    """Thresholds the event detector used on one foot (units of the total force, ``force_unit``)."""

    stance_level: float | None
    noise_sd: float | None
    threshold_on: float | None
    threshold_off: float | None
    onset_level: float | None
    force_unit: str


class _SideBase(_Record):
    """Fields of a side's result that are not metrics (the metrics follow, one field per metric name)."""

    side: str
    analysed: bool
    reason: str = ""
    force_unit: str = ""
    pressure_unit: str = ""
    n_steps_detected: int = 0
    n_steps_valid: int = 0
    foot_function: FootFunction | None = None
    regions: list[RegionSummary] = []
    region_rule: str = ""
    event_levels: EventLevels | None = None

    def metrics(self) -> Iterator[Metric]:
        """Every per-side metric, in report order."""
        for name in SIDE_METRIC_NAMES:
            yield getattr(self, name)

    def metric(self, name: str) -> Metric:
        """The metric called ``name`` (one of the catalogue's names; KeyError for any other)."""
        if name not in SIDE_METRIC_NAMES:
            raise KeyError(f"no per-side metric {name!r}; known: {', '.join(SIDE_METRIC_NAMES)}")
        return getattr(self, name)


#: One foot's result: the fields of ``_SideBase`` plus one :class:`Metric` per name of ``SIDE_METRICS``
#: (``result.metrics.left.stance_time_s.median``).
SideResult = msgspec.defstruct(
    "SideResult", [(m.name, Metric) for m in SIDE_METRICS], bases=(_SideBase,), module=__name__, frozen=True,
    kw_only=True, namespace={"__doc__": "One foot's result: status, units, step counts, foot function, regions, "
                             "event thresholds, and one Metric per per-side metric name."},
)


class _SymmetryBase(_Record):
    def items(self) -> Iterator[Symmetry]:
        """Every symmetry record, in report order."""
        for name in SIDE_METRIC_NAMES:
            yield getattr(self, name)


#: Symmetry of every per-side metric (``result.metrics.bilateral.symmetry.stance_time_s.si_pct``).
SymmetryTable = msgspec.defstruct(
    "SymmetryTable", [(m.name, Symmetry) for m in SIDE_METRICS], bases=(_SymmetryBase,), module=__name__,
    frozen=True, kw_only=True, namespace={"__doc__": "Left-right symmetry of every per-side metric."},
)


class LldCriteria(_Record):
    """The criteria of the leg-length-difference asymmetry pattern and what was found."""

    stance_si_min_pct: float
    peak_si_min_pct: float
    p_max: float
    min_steps: int
    enough_steps: bool = False
    stance_si_pct: float | None = None
    stance_p: float | None = None
    peak_si_pct: float | None = None
    peak_p: float | None = None
    longer_stance_side: str | None = None
    stance_criterion: bool | None = None
    peak_criterion: bool | None = None


class LldPattern(_Record):
    """Whether the left-right pattern associated with a leg-length difference is present (never a diagnosis).

    ``consistent`` is None when the pattern was not assessed (one foot, too few steps, force not comparable);
    ``reason`` says why.
    """

    consistent: bool | None
    wording: str
    criteria: LldCriteria | None = None
    reason: str = ""

    @property
    def assessed(self) -> bool:
        """True when the pattern was assessed (``consistent`` is True or False)."""
        return self.consistent is not None


class SyncCheck(_Record):
    """Whether the two insoles' clocks look aligned (walking always shows double support)."""

    ok: bool
    paired_share: float
    median_double_support_s: float | None
    reason: str = ""


_NOT_BILATERAL = "one foot only: no bilateral measures"

#: Bilateral summary: pooled cadence, double support, symmetry and the leg-length-difference pattern.
class Bilateral(_Record):
    """Measures of both feet together. With one foot, every entry says so (status ``not_applicable``)."""

    cadence_steps_per_min: Metric
    double_support_s: Metric
    double_support_pct: Metric
    symmetry: SymmetryTable  # type: ignore[valid-type]
    lld_pattern: LldPattern
    sync: SyncCheck | None = None


class QualityCode(StrEnum):
    """Kinds of quality findings (so that consumers never parse the message)."""

    FEW_STRIDES = "few_strides"
    SATURATION = "saturation"
    DROPOUTS = "dropouts"
    SYNC = "sync"
    ONE_FOOT = "one_foot"
    NOT_ANALYSED = "not_analysed"


class QualityIssue(_Record):
    """One quality warning or failure; ``side`` is None when it concerns both feet or the session."""

    code: QualityCode
    side: str | None
    message: str


class SideQuality(_Record):
    """Quality figures of one foot."""

    strides: int
    saturation_pct: float
    dropout_pct: float


class QualityLimits(_Record):
    """The limits of the quality gates (see :mod:`pipeline.analysis.quality` for their sources)."""

    min_strides: int
    min_strides_stable: int
    saturation_warn_pct: float
    saturation_fail_pct: float
    dropout_warn_pct: float
    dropout_fail_pct: float


class Quality(_Record):
    """Data-quality gates: a failed gate means the figures should not be interpreted."""

    passed: bool
    warnings: list[QualityIssue]
    failures: list[QualityIssue]
    limits: QualityLimits
    left: SideQuality | None = None
    right: SideQuality | None = None
    sync_ok: bool | None = None

    def side(self, name: str) -> SideQuality | None:
        """The quality figures of ``name`` (``"left"`` or ``"right"``)."""
        return _side_attr(self, name)

    def failed_sides(self, sides: list[str] | tuple[str, ...] = SIDES) -> set[str]:
        """Sides a failure concerns (a failure of no particular side concerns every side)."""
        out: set[str] = set()
        for f in self.failures:
            out.update([f.side] if f.side in sides else sides)
        return out


class Provenance(_Record):
    """Where the result came from: software, input file, parameters and the rules applied."""

    software: str
    analysed_utc: str
    input_path: str
    input_sha256: str
    parameters: dict[str, float | int]
    steady_state_rule: str
    events_method: str
    cop_min_force_share: float
    foot_function_rule: str
    force_units_rule: str
    region_rule: str


class FootSummary(_Record):
    """One recorded foot: device, layout and sampling."""

    sampling_rate_hz: float
    units: str
    layout_id: str
    layout_geometry: str
    n_sensors: int
    n_frames: int
    foot_length_mm: float
    device_model: str = "unknown"
    device_serial_number: str = "unknown"
    device_firmware_version: str = "unknown"
    device: dict[str, str | int | float | bool] = {}


class SessionSummary(_Record):
    """The analysed session: file, subject metadata and feet."""

    file: str
    source: str
    created_utc: str | None
    duration_s: float
    subject_id: str | None = None
    body_mass_kg: float | None = None
    foot_length_mm: float | None = None
    shoe_size_eu: float | None = None
    condition: str | None = None
    notes: str | None = None
    left: FootSummary | None = None
    right: FootSummary | None = None

    def foot(self, name: str) -> FootSummary | None:
        """The summary of foot ``name`` (``"left"`` or ``"right"``), None when not recorded."""
        return _side_attr(self, name)


class StepColumn(_Record):
    """One column of this session's per-step table, with its resolved unit."""

    name: str
    unit: str
    description: str


class SessionMetrics(_Record):
    """Everything the analysis concludes about a session (the content of ``metrics.json``)."""

    schema: str
    schema_version: int
    session: SessionSummary
    bilateral: Bilateral
    quality: Quality
    provenance: Provenance
    step_columns: list[StepColumn]
    left: SideResult | None = None  # type: ignore[valid-type]
    right: SideResult | None = None  # type: ignore[valid-type]

    def side(self, name: str) -> Any:
        """The :data:`SideResult` of ``name`` (``"left"`` or ``"right"``), None when that foot was not recorded."""
        return _side_attr(self, name)

    @property
    def sides(self) -> list[str]:
        """Recorded feet, left first."""
        return [s for s in SIDES if getattr(self, s) is not None]

    def to_json(self, *, indent: int = 2) -> bytes:
        """The JSON document (``metrics.json``)."""
        raw = _ENCODER.encode(self)
        return msgspec.json.format(raw, indent=indent) if indent else raw

    @classmethod
    def from_json(cls, data: bytes | str, *, source: str = "metrics") -> SessionMetrics:
        """Decode and validate a ``metrics.json`` document.

        Raises
        ------
        AnalysisError
            Not an analysis result, another schema version, or a field of the wrong type (the message says which).
        """
        try:
            head = msgspec.json.decode(data, type=_Head)
        except msgspec.DecodeError as exc:
            raise AnalysisError(f"{source}: not an analysis result ({exc})") from None
        if head.schema != SCHEMA:
            raise AnalysisError(f"{source}: schema {head.schema!r} is not {SCHEMA!r}")
        if head.schema_version != SCHEMA_VERSION:
            raise AnalysisError(
                f"{source}: analysis result schema version {head.schema_version} cannot be read by this version "
                f"(reads {SCHEMA_VERSION}); analyse the session again"
            )
        try:
            return msgspec.json.decode(data, type=cls)
        except msgspec.ValidationError as exc:
            raise AnalysisError(f"{source}: invalid analysis result: {exc}") from None


class _Head(msgspec.Struct):
    schema: str = ""
    schema_version: int = 0


_ENCODER = msgspec.json.Encoder()


def _side_attr(obj: Any, name: str) -> Any:
    if name not in SIDES:
        raise KeyError(f"side must be 'left' or 'right', got {name!r}")
    return getattr(obj, name)


def json_schema() -> dict[str, Any]:
    """JSON schema (draft 2020-12) of ``metrics.json``, generated from the types."""
    schema = msgspec.json.schema(SessionMetrics)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "insole analysis result",
            **schema}


@dataclass
class StanceCurves:
    """Stance-normalised curves of one foot's valid steps, 101 points from 0 to 100 % stance.

    Attributes
    ----------
    force : numpy.ndarray, shape (n_steps, 101)
        Vertical force in ``force_unit``.
    cop_ap, cop_ml : numpy.ndarray, shape (n_steps, 101)
        Centre of pressure: AP as a share of foot length from the heel, ML as a share of forefoot width (medial
        positive); NaN where undefined (and everywhere when the layout cannot give a CoP).
    force_unit : str
    """

    force: np.ndarray
    cop_ap: np.ndarray
    cop_ml: np.ndarray
    force_unit: str

    @property
    def n_steps(self) -> int:
        """Number of steps (rows)."""
        return int(self.force.shape[0])

    @property
    def stance_pct(self) -> np.ndarray:
        """The 101 stance percentages of the columns."""
        return np.linspace(0.0, 100.0, self.force.shape[1])


@dataclass
class AnalysisResult:
    """Result of :func:`~pipeline.analysis.analyze_session`.

    Attributes
    ----------
    metrics : SessionMetrics
        Every summary (what ``metrics.json`` holds).
    steps : pandas.DataFrame
        One row per detected stance of either foot; columns and units in ``metrics.step_columns`` and
        ``docs/analysis-result.md``.
    curves : dict of str to StanceCurves
        Per side.
    layouts : dict of str to SensorLayout
        Per side.
    path : Path
        The analysed file.
    """

    metrics: SessionMetrics
    steps: pd.DataFrame
    curves: dict[str, StanceCurves] = field(default_factory=dict, repr=False)
    layouts: dict[str, SensorLayout] = field(default_factory=dict, repr=False)
    path: Path | None = None

    def valid_steps(self, side: str) -> pd.DataFrame:
        """The steps of ``side`` used in the summaries."""
        s = self.steps
        return s[(s["side"] == side) & s["valid"].to_numpy(bool)]

    def write_metrics(self, path: str | Path) -> Path:
        """Write ``metrics.json`` (:meth:`SessionMetrics.to_json`) to ``path``; return the path."""
        out = Path(path)
        out.write_bytes(self.metrics.to_json() + b"\n")
        return out

    def write_steps(self, path: str | Path) -> Path:
        """Write the per-step table as CSV (``steps.csv``; columns and units in ``metrics.step_columns``)."""
        out = Path(path)
        self.steps.to_csv(out, index=False)
        return out

    def step_values(self, side: str, column: str) -> np.ndarray:
        """Finite values of ``column`` over the valid steps of ``side`` (empty when the column is absent)."""
        if column not in self.steps.columns:
            return np.zeros(0)
        v = self.valid_steps(side)[column].to_numpy(dtype=float)
        return v[np.isfinite(v)]


__all__ = [
    "BILATERAL_METRICS",
    "AnalysisResult",
    "Bilateral",
    "EventLevels",
    "FootFunction",
    "FootSummary",
    "LldCriteria",
    "LldPattern",
    "Metric",
    "MetricStatus",
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
    "Symmetry",
    "SymmetryTable",
    "SyncCheck",
    "json_schema",
]
