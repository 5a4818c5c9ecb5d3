"""A reference cohort: the distribution of each metric in real healthy recordings of one device family.

A cohort holds, per metric, one value per recorded foot (the median of that foot's steady-state steps) with the
subject and recording it came from, and per symmetry index one value per recording; the device family it covers
(layout ids, cell count, stored units); and its provenance (every source file with its SHA-256, the datasets, n,
the software that built it). Keeping the values themselves, not only quantiles, makes exact mid-rank percentiles
and leave-one-subject-out positions possible, which matter with the small n of real reference data.

Files are JSON (schema ``insole-cohort`` version 1), written by ``insole norms build`` (:mod:`.build`).
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from pipeline.errors import PipelineError

SCHEMA = "insole-cohort"
SCHEMA_VERSION = 1


class CohortError(PipelineError, ValueError):
    """A cohort file cannot be used: unreadable, malformed, another schema, or another device family."""


class _Record(msgspec.Struct, frozen=True, kw_only=True):
    pass


class CohortEntry(_Record):
    """One value of the cohort: the median of one foot (or one recording, for symmetry) of one subject."""

    subject: str
    recording: str
    side: str
    value: float


class CohortMetric(_Record):
    """The cohort's values of one metric, in ``unit``."""

    name: str
    unit: str
    entries: list[CohortEntry]

    def values(self, leave_out_subject: str | None = None) -> list[float]:
        """The values, without those of ``leave_out_subject`` (leave-one-subject-out positions)."""
        return [e.value for e in self.entries if leave_out_subject is None or e.subject != leave_out_subject]

    @property
    def n_subjects(self) -> int:
        """Distinct subjects behind the values."""
        return len({e.subject for e in self.entries})


class DeviceFamily(_Record):
    """The insoles a cohort covers: their layout ids, cell count and stored pressure units."""

    layout_ids: list[str]
    n_sensors: int
    units: str

    def covers(self, layout_id: str, n_sensors: int, units: str) -> bool:
        """True for a foot recorded with an insole of this family."""
        return layout_id in self.layout_ids and n_sensors == self.n_sensors and units == self.units

    def describe(self) -> str:
        """``gaitpdb-8 (8 cells, N)``."""
        cells = "1 cell" if self.n_sensors == 1 else f"{self.n_sensors} cells"
        return f"{', '.join(self.layout_ids)} ({cells}, {self.units})"


class CohortSource(_Record):
    """One recording the cohort was built from: the original recording's file name and SHA-256 (the file an
    imported session was converted from, or the session file itself when it was recorded by this software)."""

    file: str
    sha256: str
    subject: str
    dataset: str = ""


class Cohort(_Record):
    """A reference cohort (see the module description)."""

    schema: str
    schema_version: int
    name: str
    description: str
    device: DeviceFamily
    sources: list[CohortSource]
    n_subjects: int
    n_recordings: int
    built_utc: str
    software: str
    metrics: dict[str, CohortMetric]
    symmetry: dict[str, CohortMetric]
    notes: list[str] = []

    def label(self) -> str:
        """``name (n subjects, n recordings, device)``: how the cohort is named beside every position."""
        return (f"{self.name} ({self.n_subjects} subjects, {self.n_recordings} recordings, "
                f"{self.device.describe()})")

    def to_json(self) -> bytes:
        """The cohort file's content."""
        return msgspec.json.format(msgspec.json.encode(self), indent=1) + b"\n"

    def save(self, path: str | Path) -> Path:
        """Write the cohort to ``path``; return the path."""
        out = Path(path)
        try:
            out.write_bytes(self.to_json())
        except OSError as exc:
            raise CohortError(f"{out}: cannot write the cohort ({exc.strerror or exc})") from None
        return out


class _Head(msgspec.Struct):
    schema: str = ""
    schema_version: int = 0


def load_cohort(path: str | Path) -> Cohort:
    """Read and validate a cohort file.

    Raises
    ------
    CohortError
        The file is missing or unreadable, not JSON, not a cohort, of another schema version, or malformed (the
        message names the field).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise CohortError(f"{p}: cannot read the cohort file ({exc.strerror or exc})") from None
    try:
        head = msgspec.json.decode(data, type=_Head)
    except msgspec.DecodeError as exc:
        raise CohortError(f"{p}: not a cohort file ({exc}); build one with "
                          "`insole norms build FOLDER -o FILE`") from None
    if head.schema != SCHEMA:
        raise CohortError(f"{p}: schema {head.schema!r} is not {SCHEMA!r}; build a cohort with "
                          "`insole norms build`")
    if head.schema_version != SCHEMA_VERSION:
        raise CohortError(f"{p}: cohort schema version {head.schema_version} cannot be read (reads {SCHEMA_VERSION})")
    try:
        cohort = msgspec.json.decode(data, type=Cohort)
    except msgspec.ValidationError as exc:
        raise CohortError(f"{p}: malformed cohort: {exc}") from None
    if not cohort.metrics or cohort.n_recordings < 1:
        raise CohortError(f"{p}: the cohort holds no recording")
    return cohort
