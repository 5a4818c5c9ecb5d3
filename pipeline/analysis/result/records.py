"""The base record, the metric status and the two per-measure records: :class:`Metric` and :class:`Symmetry`."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

import msgspec

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


class CohortPosition(_Record):
    """Where a value sits in a reference cohort of real healthy recordings of the same device family.

    ``percentile`` is the mid-rank percentile of the value among the cohort's ``n`` values (one per foot or
    recording); ``percentile_ci`` spans the value's own 95 % CI and the cohort's sampling (Clopper-Pearson 95 %
    bounds of the ranks). ``left_out``: the subject's own recordings were left out of the cohort.
    """

    cohort: str
    n: int
    percentile: float
    percentile_ci: tuple[float, float] | None = None
    left_out: bool = False


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
    reference : CohortPosition or None
        The median's position in the reference cohort of this device family, when one covers the metric.
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
    reference: CohortPosition | None = None

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
    ci95: tuple[float, float] | None = None
    reference: CohortPosition | None = None

    @property
    def available(self) -> bool:
        """True when the symmetry index was computed."""
        return self.status is MetricStatus.COMPUTED and self.si_pct is not None


def side_attr(obj: Any, name: str) -> Any:
    """``getattr(obj, name)`` for a side name, refusing anything but ``"left"`` and ``"right"``."""
    if name not in SIDES:
        raise KeyError(f"side must be 'left' or 'right', got {name!r}")
    return getattr(obj, name)


#: Why a metric added after a result was written is missing from it (results stay readable: see
#: :func:`added_later`).
WRITTEN_EARLIER = "not in this result: it was written by an earlier version of the analysis; analyse the session again"


def added_later(kind: type, name: str, label: str, unit: str) -> Any:
    """The default of a metric field added to a result of the same schema version: a record saying it is absent.

    Older ``metrics.json`` files (same ``schema_version``) decode with these fields ``not_computed``, the reason
    :data:`WRITTEN_EARLIER`; new files always carry them.
    """
    if kind is Metric:
        return msgspec.field(default_factory=lambda: Metric(name=name, label=label, unit=unit, method="",
                                                            status=MetricStatus.NOT_COMPUTED, reason=WRITTEN_EARLIER))
    return msgspec.field(default_factory=lambda: Symmetry(metric=name, label=label, unit=unit,
                                                          status=MetricStatus.NOT_COMPUTED, reason=WRITTEN_EARLIER))
