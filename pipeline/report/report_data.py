"""The content of the session report as one JSON-ready dict: the HTML report is rendered from it.

``report_json(result)`` reads the typed :class:`~pipeline.analysis.result.AnalysisResult` (every measure is
present with its status, unit, method and step count) and lays it out for the report: tables of rows, the
back-strain findings, what a failed quality gate withholds. Numbers are plain floats or None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec
import numpy as np

from insole.provenance import utc_now_iso
from pipeline import __version__
from pipeline.analysis.metric_catalogue import PLANTAR_METRICS, SIDE_METRICS
from pipeline.analysis.result import AnalysisResult, Metric, Quality, SessionMetrics
from pipeline.interpretation import REFERENCES, build_findings
from pipeline.report import norms

SCHEMA = "insole-report"
SCHEMA_VERSION = 3
SIDES = ("left", "right")

#: Per-side metrics of the temporal table, in the order shown.
TEMPORAL_METRICS = tuple(m.name for m in SIDE_METRICS if m.group in ("temporal", "spatial"))
#: Per-side metrics of the force, CoP and foot-function table.
KINETIC_METRICS = ("peak1_force", "valley_force", "peak2_force", "loading_rate", "impulse", "peak_pressure",
                   "cpei_pct", "cop_path_length_pct", "lmfi_loading", "lmfi_midstance", "lmfi_terminal",
                   "lmfi_preswing")
#: Measures drawn in the symmetry chart (positive quantities where a symmetry angle means something); every other
#: computed symmetry is listed in the table only.
SYMMETRY_CHART_METRICS = (
    "stride_time_s", "stance_time_s", "swing_time_s", "step_time_s", "single_support_s", "peak1_force",
    "valley_force", "peak2_force", "loading_rate", "impulse", "cop_path_length_pct",
)

#: Measures of the one-page summary's key-figure table (when the analysis computed them for a foot).
KEY_FIGURES = ("stride_time_s", "stance_pct", "cadence_steps_per_min", "gait_speed_m_s", "stride_length_m",
               "peak1_force", "peak2_force", "cop_path_length_pct")

METHODS = (
    "Events, strides and phases: initial contact and foot-off from each foot's total force, by the definition "
    "named under the temporal table (threshold crossings of the stance level for insoles with several cells, "
    "load onset for single-sensor footswitches; both are in the per-step table). Stride = initial contact to the "
    "next ipsilateral initial contact; stance = initial contact to foot-off; cadence = 120 / mean stride time.",
    "Summaries: mean +- SD over valid steps (first and last strides of a bout and turns excluded by the analysis); "
    "95 % confidence intervals are the analysis's own, or a Student-t interval of the per-step mean.",
    "Force curves: every valid stance resampled to 101 points (0-100 % stance); the band is +- 1 SD across steps.",
    "CoP gait lines: per-step centre of pressure in the foot frame (share of foot length, share of forefoot width, "
    "medial positive), drawn on a generic foot outline scaled to the recorded foot length; the black line is the "
    "mean. Insoles give no common ground frame for both feet, so no butterfly diagram is drawn.",
    "Regional map: the analysis's peak pressure per region, placed on the outline by the region's name "
    "(heel / midfoot / forefoot / toes, medial / lateral); dots are the sensor centres.",
    "Symmetry: symmetry index SI = (R - L) / (0.5 (R + L)) x 100 (Robinson et al. 1987) and the bounded symmetry "
    "angle SA = (45 deg - atan(L / R)) / 90 deg x 100 (Zifchock et al. 2008); some asymmetry is normal "
    "(Riskowski 2012).",
    "Loading rate is measured above the midsole at 50-100 Hz: it is a within-subject, between-side proxy, not an "
    "impact measurement (Woodard et al. 1999 for the definition).",
    "Back-strain section: one evidence card per kinetic-chain link from shared/design/gait-evidence.md, with the "
    "tier rules shown beside the tier.",
)


def jsonable(obj: Any) -> Any:
    """Recursively convert numpy scalars/arrays to Python, NaN/inf to None, tuples to lists, keys to str."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if obj is None or isinstance(obj, str):
        return obj
    return str(obj)


def metric_cell(m: Metric | None) -> dict[str, Any] | None:
    """One side's cell of a table: the metric's values, status and reason (None when the foot is absent)."""
    return None if m is None else msgspec.to_builtins(m)


def _rows(metrics: SessionMetrics, names: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        cells = {s: (metrics.side(s).metric(name) if metrics.side(s) is not None else None) for s in SIDES}
        shown = next((c for c in cells.values() if c is not None), None)
        rows.append({"metric": name, "label": shown.label if shown else name, "units": shown.unit if shown else "",
                     "method": shown.method if shown else "",
                     "left": metric_cell(cells["left"]), "right": metric_cell(cells["right"])})
    return rows


def symmetry_rows(metrics: SessionMetrics) -> list[dict[str, Any]]:
    """Symmetry of every metric the analysis could compare (chart measures first)."""
    rows = [{"metric": sym.metric, "label": sym.label, "units": sym.unit, "si_pct": sym.si_pct, "sa_pct": sym.sa_pct,
             "n_left": sym.n_left, "n_right": sym.n_right, "in_chart": sym.metric in SYMMETRY_CHART_METRICS}
            for sym in metrics.bilateral.symmetry.items() if sym.available]
    order = {m: i for i, m in enumerate(SYMMETRY_CHART_METRICS)}
    rows.sort(key=lambda r: (not r["in_chart"], order.get(r["metric"], 0)))
    return rows


def withheld_figures(quality: Quality, sides: list[str]) -> dict[str, dict[str, Any]]:
    """Which figures a failed quality gate withholds, and why.

    A failure of one side withholds that side's per-foot figures; a failure of no particular side (sync)
    withholds every figure. Any failure withholds the symmetry chart and the back-strain cards.
    """
    if quality.passed:
        return {}
    reason = "; ".join(f.message for f in quality.failures)
    affected = quality.failed_sides(sides)
    out = {"symmetry": {"sides": sorted(sides), "reason": reason},
           "back_strain": {"sides": sorted(sides), "reason": reason}}
    for fig in ("force_curves", "cop", "regions"):
        out[fig] = {"sides": sorted(affected & set(sides)), "reason": reason}
    return out


def session_info(metrics: SessionMetrics) -> dict[str, Any]:
    """Subject, session and per-foot device information for the report."""
    s = metrics.session
    info = {k: getattr(s, k) for k in ("subject_id", "condition", "notes", "body_mass_kg", "foot_length_mm",
                                       "shoe_size_eu", "created_utc", "source", "duration_s", "file")}
    info["feet"] = {}
    for side in SIDES:
        f = s.foot(side)
        if f is not None:
            info["feet"][side] = {"layout_id": f.layout_id, "layout_geometry": f.layout_geometry,
                                  "n_sensors": f.n_sensors, "sampling_rate_hz": f.sampling_rate_hz, "units": f.units,
                                  "device_model": f.device_model, "device_serial": f.device_serial_number}
    return info


def report_json(result: AnalysisResult) -> dict[str, Any]:
    """The session report as a JSON-ready dict (same content as the HTML report, without the figures)."""
    metrics = result.metrics
    sides = metrics.sides
    findings = build_findings(metrics, result.steps)
    side_results = {s: metrics.side(s) for s in sides}
    bil = metrics.bilateral
    cohort, no_cohort = norms.reference_cohort(result)
    subject = metrics.session.subject_id
    temporal, kinetics = _rows(metrics, TEMPORAL_METRICS), _rows(metrics, KINETIC_METRICS)
    bilateral = {name: {**msgspec.to_builtins(getattr(bil, name)), "metric": name}
                 for name in ("cadence_steps_per_min", "double_support_s", "double_support_pct")}
    for rows in (temporal, kinetics):
        norms.add_intervals(rows, cohort, subject)
    norms.add_intervals(list(bilateral.values()), cohort, subject, unit_key="unit")
    doc = {
        **document_header(SCHEMA, SCHEMA_VERSION, "session"),
        "session": session_info(metrics),
        "sides": sides,
        "steps": {s: {"detected": r.n_steps_detected, "valid": r.n_steps_valid, "analysed": r.analysed,
                      "reason": r.reason} for s, r in side_results.items()},
        "events": {s: {"definition": r.event_levels.definition, "source": r.event_levels.definition_source,
                       "ic_share": r.event_levels.ic_share, "to_share": r.event_levels.to_share}
                   for s, r in side_results.items() if r.event_levels is not None},
        "provenance": msgspec.to_builtins(metrics.provenance),
        "quality": findings["quality"],
        "withheld": withheld_figures(metrics.quality, sides),
        "norms": norms.norms_section(result, cohort, no_cohort),
        "temporal": temporal,
        "bilateral": bilateral,
        "stride_time_cv": norms.stride_time_cv(temporal),
        "key_figures": [r["metric"] for name in KEY_FIGURES for r in temporal + kinetics
                        if r["metric"] == name and any((r[s] or {}).get("status") == "computed" for s in SIDES)],
        "kinetics": kinetics,
        "symmetry": symmetry_rows(metrics),
        "lld_pattern": msgspec.to_builtins(bil.lld_pattern),
        "foot_function": {s: msgspec.to_builtins(r.foot_function) for s, r in side_results.items()
                          if r.foot_function is not None},
        "regions": {s: {g.name: msgspec.to_builtins(g) for g in r.regions} for s, r in side_results.items()
                    if r.regions},
        "region_rule": {s: r.region_rule for s, r in side_results.items()},
        "curves": {"force_steps": {s: c.n_steps for s, c in result.curves.items()}},
        "plantar": plantar_json(metrics),
        "back_strain": findings,
        "methods": list(METHODS),
        "references": list(REFERENCES),
    }
    return jsonable(doc)


#: The vendor-report measures of the plantar section (per-step metrics of the catalogue), in the order shown.
PLANTAR_TABLE = tuple(m.name for m in PLANTAR_METRICS)


def plantar_json(metrics: SessionMetrics) -> dict[str, Any]:
    """The plantar section: per side the cell maps, masks (with the cells in each) and strike pattern, every
    clinical mask the layout has no cell for, and the table of the vendor-report measures."""
    from pipeline.analysis.plantar import MASKS

    sides: dict[str, Any] = {}
    for s in metrics.sides:
        sr = metrics.side(s)
        if sr is None or sr.plantar is None:
            continue
        p = msgspec.to_builtins(sr.plantar)
        held = {m.name for m in sr.plantar.masks}
        coarse = {m.name for m in sr.plantar.masks if m.coarse}
        p["masks_without_cells"] = [spec.label for spec in MASKS if spec.name not in held
                                    and spec.band not in coarse]
        sides[s] = p
    return {"sides": sides, "measures": _rows(metrics, PLANTAR_TABLE)}


def document_header(schema: str, schema_version: int, kind: str) -> dict[str, Any]:
    """The fields every report JSON document starts with: schema, kind, software and generation time (UTC)."""
    return {
        "schema": schema,
        "schema_version": schema_version,
        "kind": kind,
        "software": {"name": "insole", "version": __version__},
        "generated_utc": utc_now_iso(),
    }
