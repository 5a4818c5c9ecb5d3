"""Follow-up across visits: each key measure of one subject over its sessions, with the change rule of
``insole compare``.

For every visit (ordered by the recording time stored in the file, :mod:`pipeline.report.history_inputs`) and
every key measure and side: the mean over valid steps with its Student-t 95 % CI. Every consecutive pair of
visits, and the first against the latest, is compared by :func:`pipeline.report.comparison.compare_results`,
the very function behind ``insole compare``: the same compatibility check (sessions of different sensor layouts,
cell counts or units are not compared), the same quality withholding, the same MDC95 and the same verdict (a
change is beyond measurement variability only when |change| > MDC95 = 1.96 x sqrt(2) x SEM and its Welch 95 % CI
excludes zero; Haley & Fragala-Pinkham 2006, Weir 2005). The MDC band drawn around the first visit's mean is, at
each visit, the MDC95 of the first visit against that visit (:func:`pipeline.report.comparison.compare_values`).

Key measures (chosen here: what a follow-up of gait and loading is read for): cadence, stride time, stance %,
double support, gait speed (insoles with an IMU), first and second force peak and loading rate, per side.
Symmetry indices (stance time, step time, first force peak, loading rate) are drawn with their bootstrap 95 % CI
but carry no verdict: ``insole compare`` has no per-step symmetry index to compare, so it defines no MDC for one;
the per-side verdicts of the measure say which side changed.

Condition changes are read from the session metadata: the ``condition`` field (``shoes``, ``orthotic``, ...;
the session format has no separate shoe or orthosis field) differing from the previous visit's, ignoring case
and surrounding spaces.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.analysis.metric_catalogue import METRIC_SPECS
from pipeline.errors import ReportError
from pipeline.interpretation import STATISTICS_REFERENCES
from pipeline.report.comparison import METHODS as COMPARE_METHODS
from pipeline.report.comparison import compare_results, compare_values
from pipeline.report.history_inputs import FailedVisit, HistoryError, Visit, parse_utc, refuse_mixed, subjects_of
from pipeline.report.report_data import document_header, jsonable, session_info
from pipeline.statistics import mean_ci95

SCHEMA = "insole-history"
SCHEMA_VERSION = 1
SIDES = ("left", "right")
BEYOND = "change beyond measurement variability"

#: Key measures drawn over visits, in order (per side; those absent from every visit are left out).
KEY_MEASURES = ("cadence_steps_per_min", "stride_time_s", "stance_pct", "double_support_s", "gait_speed_m_s",
                "peak1_force", "peak2_force", "loading_rate")
#: Relative difference of two visits' force rescale factors (pipeline.analysis.force_scale) above which the
#: comparison is caveated: 1 %, this tool's choice (the analysis rescales by 1 / ratio outside 0.9-1.1, so two walks
#: on either side of that bound differ by about 10 % in every body-weight figure).
RESCALE_TOLERANCE = 0.01
#: Decimals shown per unit (a unit not listed: 2).
DIGITS = {"s": 3, "% stride": 1, "steps/min": 1, "m/s": 2, "BW": 3, "BW/s": 2, "N": 0, "N/s": 0}
#: Symmetry indices drawn over visits (no verdict: see the module notes).
KEY_SYMMETRY = ("stance_time_s", "step_time_s", "peak1_force", "loading_rate")

METHODS = (
    "Visits are ordered by the recording time stored in each session file (created_utc), not by file name; files "
    "without a readable recording time follow, by name.",
    "Per visit and side: mean over the valid steps of the analysis with its Student-t 95 % confidence interval "
    "(whiskers).",
    "Every consecutive pair of visits and the first against the latest visit are compared exactly as "
    "'insole compare' compares two sessions (the rule below); the shaded band is the first visit's mean +- the "
    "MDC95 of the first visit against each visit.",
    *COMPARE_METHODS,
    "Symmetry indices (Robinson et al. 1987) are drawn with their bootstrap 95 % CI; the comparison defines no MDC "
    "for them, so they carry no verdict.",
    "A condition change is marked where the session's condition field (e.g. shoes, orthotic) differs from the "
    "previous visit's (case and surrounding spaces ignored).",
)


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def order_visits(visits: Sequence[Visit]) -> list[Visit]:
    """Visits by recording time (created_utc of the file); undated ones after, by name."""
    def key(v: Visit) -> tuple:
        t = parse_utc(v.metrics.session.created_utc)
        return (0, t.isoformat(), v.shown) if t is not None else (1, "", v.shown)
    return sorted(visits, key=key)


def _visit_info(k: int, v: Visit, previous: Visit | None) -> dict[str, Any]:
    info = session_info(v.metrics)
    t = parse_utc(info.get("created_utc"))
    cond, prev_cond = info.get("condition"), previous.metrics.session.condition if previous else None
    q = v.metrics.quality
    fs = v.metrics.bilateral.force_scale
    return {
        "visit": k + 1,
        "source": v.shown,
        "origin": v.origin,
        "report_href": v.report_href,
        "recorded_utc": info.get("created_utc"),
        "date": t.strftime("%Y-%m-%d") if t else None,
        "recorded_readable": t is not None,
        "session": info,
        "condition_changed": previous is not None and _norm(cond) != _norm(prev_cond),
        "previous_condition": prev_cond,
        "quality_passed": q.passed,
        "quality_failures": [f.message for f in q.failures],
        "steps_valid": {s: v.metrics.side(s).n_steps_valid for s in v.metrics.sides},
        "force_scale": {"ratio": fs.ratio, "rescale_factor": fs.rescale_factor, "status": str(fs.status),
                        "expected": [fs.expected_low, fs.expected_high]},
    }


class _ValidSteps:
    """The valid steps of each visit and side, split once: the values of
    :meth:`~pipeline.analysis.result.AnalysisResult.step_values` without filtering the table on every call."""

    def __init__(self, visits: Sequence[Visit]) -> None:
        self._frames = [{s: v.result.valid_steps(s) for s in SIDES} for v in visits]

    def values(self, k: int, side: str, column: str) -> np.ndarray:
        frame = self._frames[k][side]
        if column not in frame.columns:
            return np.zeros(0)
        x = frame[column].to_numpy(dtype=float)
        return x[np.isfinite(x)]


def _step_columns(v: Visit) -> dict[str, str]:
    return {c.name: c.unit for c in v.metrics.step_columns}


def _per_visit(visits: Sequence[Visit], steps: _ValidSteps, measure: str
               ) -> tuple[list[dict[str, Any]], str | None]:
    """Mean, CI and n per visit and side; and the unit of the first visit that has the measure."""
    unit = next((_step_columns(v)[measure] for v in visits if measure in _step_columns(v)), None)
    rows = []
    for k, v in enumerate(visits):
        row: dict[str, Any] = {"visit": k + 1}
        vu = _step_columns(v).get(measure)
        for side in SIDES:
            x = steps.values(k, side, measure) if vu is not None else np.zeros(0)
            if x.size == 0:
                row[side] = None
            elif vu != unit:
                row[side] = {"n": int(x.size), "mean": None, "ci95": None,
                             "missing": f"in {vu}, not {unit} (units of this session differ)"}
            else:
                row[side] = {"n": int(x.size), "mean": float(x.mean()), "ci95": mean_ci95(x)}
        rows.append(row)
    return rows, unit


def _band(visits: Sequence[Visit], steps: _ValidSteps, measure: str, unit: str | None,
          comparable: Mapping[int, bool],
          sem_overrides: Mapping[str, Mapping[str, Any]] | None) -> dict[str, list[dict[str, Any]]]:
    """Per side: first visit's mean +- MDC95 of (first visit, visit k), for the visits comparable with the first."""
    out: dict[str, list[dict[str, Any]]] = {}
    first = visits[0]
    if _step_columns(first).get(measure) != unit:
        return out
    for side in SIDES:
        b = steps.values(0, side, measure)
        if b.size < 2:
            continue
        pts = []
        for k, v in enumerate(visits):
            if not comparable.get(k, False) or _step_columns(v).get(measure) != unit:
                continue
            a = steps.values(k, side, measure)
            if a.size < 2:
                continue
            row = compare_values(b, a, measure, sem_overrides)
            if row["mdc95"] is not None:
                pts.append({"visit": k + 1, "centre": float(b.mean()), "mdc95": row["mdc95"],
                            "low": float(b.mean()) - row["mdc95"], "high": float(b.mean()) + row["mdc95"]})
        if pts:
            out[side] = pts
    return out


_ROW_FIELDS = ("measure", "label", "units", "side", "change", "change_pct", "change_ci95", "mdc95", "sem_source",
               "exceeds_mdc95", "ci_excludes_zero", "verdict", "quality_withheld")


def _pair(visits: Sequence[Visit], i: int, j: int, kind: str, *, allow_different_devices: bool,
          sem_overrides: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    base = {"kind": kind, "before": i + 1, "after": j + 1}
    try:
        doc = compare_results(visits[i].result, visits[j].result, allow_different_devices=allow_different_devices,
                              sem_overrides=sem_overrides)
    except ReportError as exc:  # different insoles: not compared, as insole compare refuses them
        return {**base, "comparable": False, "message": str(exc), "caveats": [], "key": [], "other_beyond": []}
    caveats = list(doc["compatibility"]["caveats"])
    fi, fj = (visits[k].metrics.bilateral.force_scale.rescale_factor for k in (i, j))
    if fi is not None and fj is not None and abs(fi - fj) > RESCALE_TOLERANCE * max(fi, fj):
        caveats.append(f"force in body weights was rescaled by the walk calibration x{fi:.3f} at visit {i + 1} and "
                       f"x{fj:.3f} at visit {j + 1} (force-scale ratio outside its expected range in one of them): "
                       "part of the change in force measures is that rescaling, not the walking")
    rows = [{k: r[k] for k in _ROW_FIELDS} | {"before_mean": r["before"]["mean"], "after_mean": r["after"]["mean"],
                                             "n_before": r["before"]["n"], "n_after": r["after"]["n"]}
            for r in doc["metrics"]]
    key = [r for r in rows if r["measure"] in KEY_MEASURES]
    key.sort(key=lambda r: (KEY_MEASURES.index(r["measure"]), SIDES.index(r["side"])))
    other = [r for r in rows if r["measure"] not in KEY_MEASURES and r["verdict"] == BEYOND]
    return {**base, "comparable": True, "message": "", "caveats": caveats, "key": key,
            "other_beyond": other, "n_other_compared": sum(1 for r in rows if r["measure"] not in KEY_MEASURES)}


def _symmetry(visits: Sequence[Visit]) -> list[dict[str, Any]]:
    out = []
    for name in KEY_SYMMETRY:
        pts, label, unit = [], None, None
        for k, v in enumerate(visits):
            sym = getattr(v.metrics.bilateral.symmetry, name)
            label, unit = label or sym.label, unit or sym.unit
            pts.append({"visit": k + 1, "si_pct": sym.si_pct if sym.available else None,
                        "ci95": list(sym.ci95) if sym.available and sym.ci95 else None,
                        "n_left": sym.n_left, "n_right": sym.n_right})
        if any(p["si_pct"] is not None for p in pts):
            out.append({"metric": name, "label": f"Symmetry index of {(label or name).lower()}", "units": "%",
                        "visits": pts})
    return out


def build_history(
    visits: Sequence[Visit],
    failed: Sequence[FailedVisit] = (),
    *,
    excluded: Sequence[FailedVisit] = (),
    subject: str | None = None,
    allow_different_devices: bool = False,
    sem_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    timestamped: bool = True,
) -> dict[str, Any]:
    """The follow-up of one subject as a JSON-ready dict (what ``history.json`` holds; the HTML is drawn from it).

    Parameters
    ----------
    visits : sequence of Visit
        The analysed visits, in any order (they are ordered by recording time).
    failed : sequence of FailedVisit
        Sessions that could not be read or analysed (listed with their reason).
    excluded : sequence of FailedVisit
        Sessions of other subjects left out by ``subject`` (listed).
    subject : str, optional
        The subject chosen (``--subject``); None when every session is the subject's.
    allow_different_devices, sem_overrides
        As for ``insole compare`` (:func:`pipeline.report.comparison.compare_results`).
    timestamped : bool
        Include the generation time (False: the document depends on its inputs only, as the batch needs).

    Raises
    ------
    HistoryError
        No visit could be analysed, or the visits belong to several subjects.
    """
    if not visits:
        reasons = "; ".join(f"{f.shown}: {f.reason}" for f in failed) or "no session given"
        raise HistoryError(f"no session could be analysed ({reasons})")
    refuse_mixed(subjects_of(visits))
    ordered = order_visits(visits)
    infos = [_visit_info(k, v, ordered[k - 1] if k else None) for k, v in enumerate(ordered)]
    n = len(ordered)
    kw = {"allow_different_devices": allow_different_devices, "sem_overrides": sem_overrides}
    pairs = [_pair(ordered, k, k + 1, "consecutive", **kw) for k in range(n - 1)]
    if n > 2:
        pairs.append(_pair(ordered, 0, n - 1, "first_vs_latest", **kw))
    comparable_with_first = {0: True}
    for k in range(1, n):
        p = pairs[0] if k == 1 else pairs[-1] if k == n - 1 else None
        comparable_with_first[k] = p["comparable"] if p is not None else _same_insoles(ordered[0], ordered[k])
    measures = []
    steps = _ValidSteps(ordered)
    for name in KEY_MEASURES:
        per_visit, unit = _per_visit(ordered, steps, name)
        if not any(r[s] for r in per_visit for s in SIDES):
            continue
        spec = METRIC_SPECS[name]
        vs_previous = {p["after"]: {r["side"]: r["verdict"] for r in p["key"] if r["measure"] == name}
                       for p in pairs if p["kind"] == "consecutive"}
        measures.append({"measure": name, "label": spec.label, "units": unit, "method": spec.method,
                         "digits": DIGITS.get(unit or "", 2),
                         "visits": per_visit, "mdc_band": _band(ordered, steps, name, unit, comparable_with_first,
                                                                sem_overrides),
                         "vs_previous": vs_previous})
    header = document_header(SCHEMA, SCHEMA_VERSION, "history")
    if not timestamped:
        header["generated_utc"] = None
    doc = {
        **header,
        "subject": {"subject_id": ordered[0].metrics.session.subject_id, "chosen_with_subject_option": subject},
        "visits": infos,
        "failed": [{"source": f.shown, "reason": f.reason} for f in failed],
        "excluded": [{"source": f.shown, "reason": f.reason} for f in excluded],
        "condition_changes": [{"visit": i["visit"], "from": i["previous_condition"],
                               "to": i["session"].get("condition")} for i in infos if i["condition_changed"]],
        "measures": measures,
        "symmetry": _symmetry(ordered),
        "comparisons": pairs,
        "methods": list(METHODS),
        "references": list(STATISTICS_REFERENCES),
    }
    return jsonable(doc)


def _same_insoles(a: Visit, b: Visit) -> bool:
    """The layouts, cell counts and units the comparison requires to be equal (:func:`check_compatibility`)."""
    from pipeline.report.comparison import check_compatibility

    try:
        return check_compatibility(a.result, b.result)["comparable"]
    except ReportError:
        return False


def render_history_html(doc: Mapping[str, Any]) -> str:
    """The self-contained HTML page of a follow-up (:func:`build_history`)."""
    from pipeline.report.history_figures import symmetry_figure, trend_figure
    from pipeline.report.html_report import environment

    figs = {m["measure"]: trend_figure(m, doc["visits"]) for m in doc["measures"]}
    sym_figs = {s["metric"]: symmetry_figure(s, doc["visits"]) for s in doc["symmetry"]}
    return environment().get_template("history.html.j2").render(doc=doc, figs=figs, sym_figs=sym_figs)


def _write(path: str | os.PathLike[str], text: str) -> Path:
    from pipeline.report.html_report import _write_text

    return _write_text(path, text)


def write_history(doc: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write the HTML page of ``doc`` to ``path`` (atomically); return the path."""
    return _write(path, render_history_html(doc))


def history_json_text(doc: Mapping[str, Any]) -> str:
    """``history.json``: the document as indented JSON."""
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def write_history_json(doc: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``history.json`` to ``path``; return the path."""
    return _write(path, history_json_text(doc))


__all__ = ["BEYOND", "KEY_MEASURES", "KEY_SYMMETRY", "SCHEMA", "SCHEMA_VERSION", "HistoryError", "build_history",
           "history_json_text", "order_visits", "render_history_html", "write_history", "write_history_json"]
