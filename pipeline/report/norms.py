"""Healthy reference values beside the report's tables: the cohort's reference interval per measure, and published
values where the cohort has none (stride-time variability).

The cohort is the one the analysis positioned the session in: the result's provenance names it
(``reference_cohort``) with the SHA-256 of its content (``reference_cohort_sha256``). The report takes the cohort the
result carries, or a shipped cohort with that SHA-256, and uses nothing else: intervals and percentiles always come
from the same values. The interval of each measure leaves the session's subject out, as the positions do
(:func:`pipeline.norms.position.reference_interval`). Without a covering cohort the report says so, naming the
device: ``no reference for this device (LAYOUT, N cells, UNITS)``.

The cohorts hold one value per measure and foot (the median of the foot's steady-state steps), not force curves, so
no healthy band is drawn on the mean force curves; the figure's caption says so.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pipeline.analysis.result import AnalysisResult
from pipeline.norms.cohort import Cohort
from pipeline.norms.position import MIN_VALUES_CENTRAL_95, reference_interval
from pipeline.norms.registry import cohort_for, shipped_cohorts

#: Published healthy stride-time variability. Hausdorff, Zemany, Peng & Goldberger 1999 (J Appl Physiol
#: 86(3):1040-1047, Results, "Stride time variability measures"): CV = 1.3 +- 0.1 % in healthy young adults and
#: 2.1 +- 0.1 % in 11-14 year old children (values as printed there; checked in the source text, and in
#: shared/design/gait-evidence.md). Published values, not a cohort of this insole: walk length, stride filtering and
#: age change a CV.
PUBLISHED_STRIDE_TIME_CV = (
    {"population": "healthy young adults", "cv_pct": 1.3, "spread_pct": 0.1},
    {"population": "healthy children aged 11-14", "cv_pct": 2.1, "spread_pct": 0.1},
)
PUBLISHED_STRIDE_TIME_CV_SOURCE = ("Hausdorff JM, Zemany L, Peng C-K, Goldberger AL. Maturation of gait dynamics: "
                                   "stride-to-stride variability and its temporal organization in children. "
                                   "J Appl Physiol 1999;86(3):1040-1047")

CURVE_BAND_NOTE = ("The reference cohort holds one value per measure and foot (each foot's median), not force "
                   "curves, so no healthy band is drawn on this figure; the healthy range of each force measure is "
                   "in the table below.")


def cohort_sha256(cohort: Cohort) -> str:
    """SHA-256 of a cohort's file content (what the provenance records)."""
    return hashlib.sha256(cohort.to_json()).hexdigest()


def _device_text(result: AnalysisResult) -> str:
    feet = {s: f for s in ("left", "right") if (f := result.metrics.session.foot(s)) is not None}
    texts = {s: f"{f.layout_id or 'layout not given'}, {f.n_sensors} cell{'s' if f.n_sensors != 1 else ''}, "
                f"{f.units or 'units not given'}" for s, f in feet.items()}
    if len(set(texts.values())) == 1:
        return next(iter(texts.values()))
    return "; ".join(f"{s}: {t}" for s, t in texts.items())


def reference_cohort(result: AnalysisResult) -> tuple[Cohort | None, str]:
    """The cohort the result was positioned in, or None with the reason shown in the report."""
    prov = result.metrics.provenance
    if not prov.reference_cohort_sha256:
        feet = [f for s in ("left", "right") if (f := result.metrics.session.foot(s)) is not None]
        if feet and all(cohort_for(f.layout_id, f.n_sensors, f.units) is not None for f in feet):
            return None, ("no reference: the analysis was run without a reference cohort (--cohort none), although "
                          "a shipped cohort covers this device")
        return None, f"no reference for this device ({_device_text(result)})"
    for c in (result.cohort, *shipped_cohorts()):
        if c is not None and cohort_sha256(c) == prov.reference_cohort_sha256:
            return c, ""
    return None, (f"no reference shown: the cohort the analysis used ({prov.reference_cohort}, SHA-256 "
                  f"{prov.reference_cohort_sha256[:12]}...) is not available to the report; re-run the report with "
                  "the same --cohort file")


def cohort_info(cohort: Cohort) -> dict[str, Any]:
    """What the report says about the cohort (once per table)."""
    return {"name": cohort.name, "label": cohort.label(), "n_subjects": cohort.n_subjects,
            "n_recordings": cohort.n_recordings, "datasets": sorted({s.dataset for s in cohort.sources if s.dataset}),
            "description": cohort.description, "device": cohort.device.describe(), "sha256": cohort_sha256(cohort),
            "notes": list(cohort.notes)}


def interval_for(cohort: Cohort | None, name: str, unit: str, subject: str | None) -> dict[str, Any]:
    """The reference interval of metric ``name`` (in ``unit``) as a JSON-ready dict; ``available`` False with a
    ``reason`` when the cohort cannot give one."""
    if cohort is None:
        return {"available": False, "reason": "no reference cohort"}
    entry = cohort.metrics.get(name)
    if entry is None:
        return {"available": False, "reason": "the cohort holds no values of this measure"}
    if entry.unit != unit:
        return {"available": False,
                "reason": f"the cohort's values are in {entry.unit}, this session's in {unit or 'no unit'}"}
    ri = reference_interval(entry, subject)
    if ri is None:
        return {"available": False, "reason": "too few cohort values for a reference interval"}
    return {"available": True, "unit": unit, "low": ri.low, "high": ri.high, "q1": ri.q1, "median": ri.median,
            "q3": ri.q3, "n": ri.n, "n_subjects": ri.n_subjects, "rule": ri.rule, "left_out": ri.left_out}


def add_intervals(rows: list[dict[str, Any]], cohort: Cohort | None, subject: str | None, unit_key: str = "units"
                  ) -> None:
    """Attach ``reference_interval`` to every table row (in place)."""
    for row in rows:
        row["reference_interval"] = interval_for(cohort, row["metric"], row.get(unit_key) or "", subject)


def stride_time_cv(temporal_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The subject's stride-time CV per side beside the published healthy values (labelled as published)."""
    row = next((r for r in temporal_rows if r["metric"] == "stride_time_s"), None)
    subject = {}
    for side in ("left", "right"):
        cell = (row or {}).get(side)
        subject[side] = ({"cv_pct": cell.get("cv_pct"), "n": cell.get("n")}
                         if cell and cell.get("status") == "computed" else None)
    return {"label": "Stride-time variability (coefficient of variation)", "unit": "%", "kind": "published",
            "published": [dict(p) for p in PUBLISHED_STRIDE_TIME_CV], "source": PUBLISHED_STRIDE_TIME_CV_SOURCE,
            "subject": subject,
            "caveat": ("published values from other walks and devices, not a cohort of this insole; the session's "
                       "CV is over its steady-state strides (first and last strides of a bout and turns dropped), "
                       "and walk length and age change a CV")}


def norms_section(result: AnalysisResult, cohort: Cohort | None, reason: str) -> dict[str, Any]:
    """The report's ``norms`` block: which cohort (or why none), the interval rule and the force-curve note."""
    rule = ""
    if cohort is not None:
        n_max = max((len(m.entries) for m in cohort.metrics.values()), default=0)
        kind = ("the central 95 % is shown" if n_max >= MIN_VALUES_CENTRAL_95 else
                f"this cohort has at most {n_max} values per measure, so every range shown is the observed range")
        rule = (f"Healthy range: the 2.5th to 97.5th percentile of the cohort's values (rank p(n+1), CLSI EP28-A3c) "
                f"when there are at least {MIN_VALUES_CENTRAL_95} values, else the observed range (lowest to highest "
                f"value), since fewer values cannot place those percentiles inside the sample; {kind}. The darker "
                "band is the cohort's middle half (quartiles); markers are this subject's medians per foot with "
                "their 95 % CI; percentiles are mid-rank, with a 95 % interval combining the value's CI and the "
                "cohort's size (Clopper-Pearson). The subject's own recordings are left out of the cohort.")
    return {
        "covered": cohort is not None,
        "reason": reason,
        "cohort": cohort_info(cohort) if cohort is not None else None,
        "interval_rule": rule,
        "curve_band": False,
        "curve_note": CURVE_BAND_NOTE if cohort is not None else f"No healthy band: {reason}.",
    }
