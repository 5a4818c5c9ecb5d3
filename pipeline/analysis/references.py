"""Positions against a reference cohort: which cohort covers a session, and where its metrics sit in it.

The cohort is the one the caller gives (``analyze_session(..., cohort=Cohort | path)``; it must cover the
session's insoles, else :class:`~pipeline.norms.cohort.CohortError`), or with ``cohort="auto"`` the shipped cohort
whose device family covers both recorded feet (:mod:`pipeline.norms.registry`), or none. Every computed metric and
symmetry index then carries its position (:func:`pipeline.norms.position.position`), the subject's own recordings
left out; the foot-function label and the leg-length pattern are built from those positions.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np

from pipeline.analysis.foot_source import FootSource
from pipeline.analysis.result import Metric, Symmetry
from pipeline.norms.cohort import Cohort, CohortError, CohortMetric, load_cohort
from pipeline.norms.position import position, quantile
from pipeline.norms.registry import cohort_for

#: The peak-force measure of the leg-length pattern (defined for every step, unlike the double-hump peaks).
LLD_PEAK_METRIC = "max_force"


def resolve_cohort(cohort: Cohort | str | Path | None, feet: dict[str, FootSource]) -> Cohort | None:
    """The cohort that applies to a session with ``feet``.

    Raises
    ------
    CohortError
        A given cohort cannot be read or covers other insoles than the session's.
    """
    if cohort is None or not feet:
        return None
    if isinstance(cohort, str) and cohort == "auto":
        found = {id(c): c for src in feet.values()
                 if (c := cohort_for(src.layout.layout_id, src.n_sensors, src.units)) is not None}
        covered = all(cohort_for(s.layout.layout_id, s.n_sensors, s.units) is not None for s in feet.values())
        return next(iter(found.values())) if len(found) == 1 and covered else None
    chosen = cohort if isinstance(cohort, Cohort) else load_cohort(cohort)
    for side, src in feet.items():
        if not chosen.device.covers(src.layout.layout_id, src.n_sensors, src.units):
            raise CohortError(
                f"cohort {chosen.name!r} covers {chosen.device.describe()}, not the {side} insole of this session "
                f"({src.layout.layout_id}, {src.n_sensors} cells, {src.units}); build a cohort of this insole model "
                "with `insole norms build`")
    return chosen


def with_reference(metric: Metric, cohort: Cohort | None, subject: str | None) -> Metric:
    """``metric`` with its position in ``cohort`` (unchanged when there is no cohort value to compare with)."""
    entry = cohort.metrics.get(metric.name) if cohort is not None else None
    if entry is None or not metric.available or entry.unit != metric.unit:
        return metric
    ref = position(cohort, entry, metric.median, metric.ci95, subject)
    return msgspec.structs.replace(metric, reference=ref) if ref is not None else metric


def _absolute(metric: CohortMetric) -> CohortMetric:
    return msgspec.structs.replace(metric, entries=[msgspec.structs.replace(e, value=abs(e.value))
                                                     for e in metric.entries])


def symmetry_with_reference(sym: Symmetry, cohort: Cohort | None, subject: str | None) -> Symmetry:
    """``sym`` with the position of its |SI| among the cohort's healthy |SI| (unchanged without a cohort)."""
    entry = cohort.symmetry.get(sym.metric) if cohort is not None else None
    if entry is None or not sym.available:
        return sym
    ci = None
    if sym.ci95 is not None:  # the interval of |SI|
        lo, hi = sym.ci95
        ci = (0.0, max(abs(lo), abs(hi))) if lo <= 0 <= hi else tuple(sorted((abs(lo), abs(hi))))
    ref = position(cohort, _absolute(entry), abs(float(sym.si_pct)), ci, subject)
    return msgspec.structs.replace(sym, reference=ref) if ref is not None else sym


def healthy_asymmetry(cohort: Cohort | None, metric: str, q: float, subject: str | None) -> tuple[float, int] | None:
    """The cohort's ``q`` quantile of healthy |SI| of ``metric`` (subject left out), with its n; None without."""
    entry = cohort.symmetry.get(metric) if cohort is not None else None
    if entry is None:
        return None
    found = quantile(_absolute(entry), q, subject)
    return None if found is None or not np.isfinite(found[0]) else found
