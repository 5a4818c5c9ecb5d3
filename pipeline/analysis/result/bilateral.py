"""Both feet together: symmetry of every metric, the leg-length-difference pattern, the clock check."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from pipeline.analysis.metric_catalogue import SIDE_METRIC_NAMES, SIDE_METRICS
from pipeline.analysis.result.records import Metric, Symmetry, _Record


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


class Bilateral(_Record):
    """Measures of both feet together. With one foot, every entry says so (status ``not_applicable``)."""

    cadence_steps_per_min: Metric
    double_support_s: Metric
    double_support_pct: Metric
    symmetry: SymmetryTable  # type: ignore[valid-type]
    lld_pattern: LldPattern
    sync: SyncCheck | None = None
