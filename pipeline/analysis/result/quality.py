"""The data-quality gates of a result, as records: issues with a code and a side, per-side figures, limits."""

from __future__ import annotations

from enum import StrEnum

from pipeline.analysis.result.records import SIDES, _Record, side_attr


class QualityCode(StrEnum):
    """Kinds of quality findings (so that consumers never parse the message)."""

    FEW_STRIDES = "few_strides"
    SATURATION = "saturation"
    DROPOUTS = "dropouts"
    SYNC = "sync"
    ONE_FOOT = "one_foot"
    NOT_ANALYSED = "not_analysed"
    FORCE_SCALE = "force_scale"
    FORCE_UNITS = "force_units"
    METADATA = "metadata"
    INTERRUPTED = "interrupted"
    IMU = "imu"
    DEAD_CELLS = "dead_cells"
    NOT_WALKING = "not_walking"


class QualityIssue(_Record):
    """One quality warning or failure; ``side`` is None when it concerns both feet or the session."""

    code: QualityCode
    side: str | None
    message: str


class SideQuality(_Record):
    """Quality figures of one foot; ``dead_cells`` names the cells that never carried load (empty: all did)."""

    strides: int
    saturation_pct: float
    dropout_pct: float
    dead_cells: str = ""


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
        return side_attr(self, name)

    def failed_sides(self, sides: list[str] | tuple[str, ...] = SIDES) -> set[str]:
        """Sides a failure concerns (a failure of no particular side concerns every side)."""
        out: set[str] = set()
        for f in self.failures:
            out.update([f.side] if f.side in sides else sides)
        return out
