"""The session-level records and :class:`SessionMetrics`, the content of ``metrics.json``, with its JSON schema."""

from __future__ import annotations

from typing import Any

import msgspec

from pipeline.analysis.result.bilateral import Bilateral
from pipeline.analysis.result.quality import Quality
from pipeline.analysis.result.records import SIDES, _Record, side_attr
from pipeline.analysis.result.side import SideResult
from pipeline.errors import AnalysisError

SCHEMA = "insole-analysis"
#: Version of the ``metrics.json`` schema; a reader refuses another version with a clear message.
SCHEMA_VERSION = 2


class Provenance(_Record):
    """Where the result came from: software, input file, parameters, the rules applied and the reference cohort.

    ``reference_cohort`` names the cohort every position is in (:meth:`pipeline.norms.cohort.Cohort.label`) and
    ``reference_cohort_sha256`` is the SHA-256 of its file content; both None when no cohort covered the session.
    """

    software: str
    analysed_utc: str
    input_path: str
    input_sha256: str
    parameters: dict[str, float | int | str]
    steady_state_rule: str
    events_method: str
    cop_min_force_share: float
    foot_function_rule: str
    force_units_rule: str
    region_rule: str
    reference_cohort: str | None = None
    reference_cohort_sha256: str | None = None


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
        return side_attr(self, name)


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
        return side_attr(self, name)

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


def json_schema() -> dict[str, Any]:
    """JSON schema (draft 2020-12) of ``metrics.json``, generated from the types."""
    schema = msgspec.json.schema(SessionMetrics)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "insole analysis result",
            **schema}
