"""Before/after comparison of two sessions (e.g. barefoot vs shoes, shoes vs orthotic).

For every per-step measure present in both sessions and every side: the per-step distributions, the change of the
mean with a Welch 95 % CI (Welch 1947), Hedges' g with its CI (Hedges & Olkin 1985), Cliff's delta (Cliff 1993)
and whether the change exceeds the minimal detectable change MDC95 = 1.96 x sqrt(2) x SEM (Haley &
Fragala-Pinkham 2006).

Where the SEM comes from (stated in every comparison):

- by default, the within-session standard error of the session mean, pooled over both sessions,
  ``SEM = sqrt((SD_before^2 / n_before + SD_after^2 / n_after) / 2)`` (SEM as the error of the measured value,
  Weir 2005; here the measured value is a session's mean over n steps). It reflects step-to-step variability only,
  not re-fitting the insoles on another day, so this MDC is a lower bound of a test-retest MDC;
- or, when the user supplies them, published test-retest SEMs per measure (``sem_overrides``), each with its
  source, which then take precedence.

Sessions recorded with different sensor layouts, cell counts or units are refused unless the caller explicitly
allows it, in which case every output carries the caveat; other differences (sampling rate, device model, subject)
are always caveated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
import numpy as np
import pandas as pd

from pipeline.analysis.metric_catalogue import METRIC_SPECS, REGION_COLUMNS, SIDE_METRIC_NAMES, region_column_label
from pipeline.analysis.result import AnalysisResult
from pipeline.errors import ReportError
from pipeline.interpretation import STATISTICS_REFERENCES, build_findings
from pipeline.report import figures
from pipeline.report.html_report import _write_text, environment
from pipeline.report.report_data import document_header, jsonable, session_info, withheld_figures
from pipeline.statistics import (
    cliffs_delta,
    cliffs_delta_magnitude,
    hedges_g,
    mdc95,
    welch_ci95,
)

SCHEMA = "insole-comparison"
SCHEMA_VERSION = 2

#: Measures shown first, in this order; every other per-step metric and regional measure follows by name.
LEADING_MEASURES = ("stride_time_s", "stance_time_s", "swing_time_s", "peak1_force", "valley_force", "peak2_force",
                    "loading_rate", "impulse", "cpei_pct", "cop_path_length_pct")
#: The insole properties both sessions must share, and how they read in the caveats.
DEVICE_FIELDS = {"layout_id": "sensor layout", "n_sensors": "number of cells", "units": "pressure units",
                 "sampling_rate_hz": "sampling rate", "device_model": "device model"}
_REGION_SUFFIXES = tuple(f"_{c.name}" for c in REGION_COLUMNS)


def is_measure(column: str) -> bool:
    """True for the per-step columns that are measures (metrics and regional values), not events or bookkeeping."""
    return column in SIDE_METRIC_NAMES or column.endswith(_REGION_SUFFIXES)

SEM_WITHIN_SESSION = (
    "within-session standard error of the mean, pooled over both sessions: sqrt((SD_b^2/n_b + SD_a^2/n_a)/2) "
    "(Weir 2005); step-to-step variability only, so the MDC is a lower bound of a test-retest MDC"
)

METHODS = (
    "Each session is analysed on its own; valid steps (as marked by the analysis) of each side are compared.",
    "Change = mean(after) - mean(before) with a Welch 95 % confidence interval (Welch 1947).",
    "Effect sizes: Hedges' g (bias-corrected standardised mean difference, pooled SD; Hedges & Olkin 1985) with "
    "its large-sample 95 % CI, and Cliff's delta (Cliff 1993; magnitudes after Romano et al. 2006).",
    "Minimal detectable change MDC95 = 1.96 x sqrt(2) x SEM (Haley & Fragala-Pinkham 2006). The SEM source is "
    "stated per measure.",
    "Between footwear or orthosis conditions the insole sits above a different midsole or shell: pressure and "
    "loading-rate changes partly reflect where the sensor sits, not only the load the body receives.",
    "A change is reported as beyond measurement variability only when |change| exceeds the MDC95 and its 95 % CI "
    "excludes zero; otherwise it is within measurement variability. Neither says why the gait changed.",
)


def _foot_signature(info: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {side: {k: f.get(k) for k in ("layout_id", "n_sensors", "units", "sampling_rate_hz", "device_model")}
            for side, f in (info.get("feet") or {}).items()}


def check_compatibility(before: AnalysisResult, after: AnalysisResult, allow_different_devices: bool = False
                        ) -> dict[str, Any]:
    """Compare the devices, layouts and subjects of two results.

    Raises
    ------
    ReportError
        When the layouts, cell counts or pressure units differ and ``allow_different_devices`` is False.
    """
    bi, ai = session_info(before.metrics), session_info(after.metrics)
    bs, as_ = _foot_signature(bi), _foot_signature(ai)
    blocking, caveats, differences = [], [], {}
    for side in sorted(set(bs) | set(as_)):
        if side not in bs or side not in as_:
            caveats.append(f"the {side} foot is recorded in only one of the sessions; it is not compared")
            continue
        for key in DEVICE_FIELDS:
            b, a = bs[side][key], as_[side][key]
            if b is None or a is None:
                if key in ("layout_id", "n_sensors"):
                    caveats.append(f"{side} {DEVICE_FIELDS[key]} is not recorded in both sessions; "
                                   "comparability of the insoles could not be checked")
                continue
            if b != a:
                differences[f"{side}.{key}"] = {"before": b, "after": a}
                if key in ("layout_id", "n_sensors", "units"):
                    blocking.append(f"{side} {DEVICE_FIELDS[key]}: {b} before, {a} after")
                elif key == "sampling_rate_hz":
                    caveats.append(f"{side} sampling rate differs ({b:g} vs {a:g} Hz): loading rates and event "
                                   "timing are not directly comparable")
                else:
                    caveats.append(f"{side} device model differs ({b} vs {a})")
    if bi.get("subject_id") != ai.get("subject_id"):
        caveats.append(f"subject ids differ ({bi.get('subject_id') or 'not given'} vs "
                       f"{ai.get('subject_id') or 'not given'}): this is not a within-person comparison")
    if blocking and not allow_different_devices:
        raise ReportError(
            "the sessions were recorded with different insoles (" + "; ".join(blocking) + "): pressure-derived "
            "measures are not comparable across sensor layouts. Record both conditions with the same insoles, or "
            "pass --allow-different-devices to compare anyway with a caveat on every figure."
        )
    if blocking:
        caveats.insert(0, "DIFFERENT INSOLES: " + "; ".join(blocking) + ". Pressure, CoP and CPEI measures depend on "
                       "the sensor layout; differences may reflect the devices rather than the walking.")
    return {"comparable": not blocking, "different_devices": bool(blocking), "caveats": caveats,
            "differences": differences}


def _valid_steps(result: AnalysisResult) -> pd.DataFrame:
    return result.steps[result.steps["valid"].to_numpy(bool)]


def _measures(before: AnalysisResult, after: AnalysisResult) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Measures in both sessions as (name, label, unit), and caveats for measures whose units differ."""
    bu = {c.name: c for c in before.metrics.step_columns}
    au = {c.name: c for c in after.metrics.step_columns}
    common = [c for c in bu if c in au and is_measure(c)]
    ordered = [c for c in LEADING_MEASURES if c in common] + sorted(c for c in common if c not in LEADING_MEASURES)
    out, caveats = [], []
    for name in ordered:
        label = METRIC_SPECS[name].label if name in METRIC_SPECS else (region_column_label(name) or name)
        if bu[name].unit != au[name].unit:
            caveats.append(f"{label} is not compared: {bu[name].unit} before, {au[name].unit} after (the sessions' "
                           "units differ, e.g. body mass given in only one of them)")
            continue
        out.append((name, label, bu[name].unit))
    return out, caveats


def _values(steps_of_side: pd.DataFrame, column: str) -> np.ndarray:
    """Finite values of ``column`` in the steps of one side."""
    v = pd.to_numeric(steps_of_side[column], errors="coerce").to_numpy(dtype=float)
    return v[np.isfinite(v)]


def compare_results(
    before: AnalysisResult,
    after: AnalysisResult,
    *,
    allow_different_devices: bool = False,
    sem_overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The comparison as a JSON-ready dict, plus the per-step values (key ``"_values"``) for the figures.

    Parameters
    ----------
    before, after : AnalysisResult
    allow_different_devices : bool
        Compare sessions recorded with different layouts/cell counts/units (with a caveat) instead of refusing.
    sem_overrides : mapping, optional
        ``{measure: {"sem": float, "source": str}}``: published test-retest SEMs that replace the within-session
        SEM for those measures.
    """
    compat = check_compatibility(before, after, allow_different_devices)
    bi, ai = session_info(before.metrics), session_info(after.metrics)
    bf = build_findings(before.metrics, before.steps)
    af = build_findings(after.metrics, after.steps)
    sides = ["left", "right"]
    withheld: dict[str, set[str]] = {"before": set(), "after": set()}
    for key, r in (("before", before), ("after", after)):
        w = withheld_figures(r.metrics.quality, sides)
        withheld[key] = set(w.get("force_curves", {}).get("sides", []))
    bsteps, asteps = _valid_steps(before), _valid_steps(after)
    measures, unit_caveats = _measures(before, after)
    compat["caveats"].extend(unit_caveats)
    rows, values = [], {}
    by_side = {key: {side: steps[steps["side"] == side] for side in sides}  # split once, not per measure
               for key, steps in (("before", bsteps), ("after", asteps))}
    for measure, label, units in measures:
        for side in sides:
            b, a = _values(by_side["before"][side], measure), _values(by_side["after"][side], measure)
            if b.size == 0 or a.size == 0:
                continue
            values.setdefault(measure, {"before": {}, "after": {}})
            values[measure]["before"][side] = b
            values[measure]["after"][side] = a
            row = compare_values(b, a, measure, sem_overrides)
            row.update(measure=measure, label=label, units=units, side=side)
            if side in withheld["before"] or side in withheld["after"]:
                row["verdict"] = "not interpreted: a session failed a quality gate for this side"
                row["quality_withheld"] = True
            rows.append(row)
    doc = {
        **document_header(SCHEMA, SCHEMA_VERSION, "comparison"),
        "before": {"session": bi, "quality": bf["quality"], "tier": bf["tier"]["tier"],
                   "provenance": msgspec.to_builtins(before.metrics.provenance)},
        "after": {"session": ai, "quality": af["quality"], "tier": af["tier"]["tier"],
                  "provenance": msgspec.to_builtins(after.metrics.provenance)},
        "compatibility": compat,
        "metrics": rows,
        "methods": list(METHODS),
        "references": list(STATISTICS_REFERENCES),
    }
    out = jsonable(doc)
    out["_values"] = values
    return out


def compare_values(b: np.ndarray, a: np.ndarray, measure: str,
                   sem_overrides: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The comparison of one measure of one side: per-step values ``b`` (before) and ``a`` (after), finite.

    The rule every before/after view applies (this comparison and the follow-up across visits,
    :mod:`pipeline.report.history`): change with its Welch CI, effect sizes, SEM and MDC95, and the verdict
    (beyond measurement variability when |change| > MDC95 and the CI excludes zero); see :data:`METHODS`.
    """
    diff = float(a.mean() - b.mean())
    ci = welch_ci95(b, a)
    g = hedges_g(b, a)
    delta = cliffs_delta(b, a)
    override = (sem_overrides or {}).get(measure)
    if override and override.get("sem") is not None:
        sem = float(override["sem"])
        sem_source = f"published test-retest SEM: {override.get('source') or 'source not given'}"
    elif b.size >= 2 and a.size >= 2:
        sem = float(np.sqrt((b.var(ddof=1) / b.size + a.var(ddof=1) / a.size) / 2.0))
        sem_source = SEM_WITHIN_SESSION
    else:
        sem, sem_source = None, "not available (fewer than 2 steps)"
    mdc = mdc95(sem) if sem is not None else None
    exceeds = None if mdc is None else bool(abs(diff) > mdc)
    ci_excludes_zero = None if ci is None else bool(ci[0] > 0 or ci[1] < 0)
    if exceeds and ci_excludes_zero:
        verdict = "change beyond measurement variability"
    elif exceeds is None:
        verdict = "not available"
    else:
        verdict = "within measurement variability"
    return {
        "before": {"n": int(b.size), "mean": float(b.mean()), "sd": float(b.std(ddof=1)) if b.size > 1 else None,
                   "median": float(np.median(b))},
        "after": {"n": int(a.size), "mean": float(a.mean()), "sd": float(a.std(ddof=1)) if a.size > 1 else None,
                  "median": float(np.median(a))},
        "change": diff,
        "change_pct": float(diff / b.mean() * 100.0) if b.mean() else None,
        "change_ci95": list(ci) if ci else None,
        "hedges_g": g[0] if g else None,
        "hedges_g_ci95": list(g[1]) if g else None,
        "cliffs_delta": delta,
        "cliffs_delta_magnitude": cliffs_delta_magnitude(delta) if delta is not None else None,
        "sem": sem,
        "sem_source": sem_source,
        "mdc95": mdc,
        "exceeds_mdc95": exceeds,
        "ci_excludes_zero": ci_excludes_zero,
        "verdict": verdict,
        "quality_withheld": False,
    }


def load_sem_file(path: Any) -> dict[str, dict[str, Any]]:
    """Read published SEMs: a JSON object ``{measure: {"sem": positive number, "source": text}}``.

    Raises
    ------
    ReportError
        If the file cannot be read or an entry is malformed (the message names the entry).
    """
    import json
    from pathlib import Path

    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{p}: cannot read the SEM file ({exc})") from exc
    if not isinstance(data, dict):
        raise ReportError(f'{p}: expected a JSON object like {{"stance_time_s": {{"sem": 0.012, "source": "..."}}}}')
    out = {}
    for measure, entry in data.items():
        if not is_measure(str(measure)):
            raise ReportError(f"{p}: {measure!r} is not a per-step measure; use one of {', '.join(SIDE_METRIC_NAMES)} "
                              f"or a regional measure such as heel_peak_pressure")
        sem = entry.get("sem") if isinstance(entry, dict) else None
        if isinstance(sem, bool) or not isinstance(sem, int | float) or not np.isfinite(sem) or sem <= 0:
            raise ReportError(f"{p}: entry {measure!r} needs a positive number 'sem' (and a 'source' text)")
        if not str(entry.get("source") or "").strip():
            raise ReportError(f"{p}: entry {measure!r} needs a 'source' naming the reliability study")
        out[str(measure)] = {"sem": float(sem), "source": str(entry["source"])}
    return out


def comparison_json(before: Any, after: Any, **kwargs: Any) -> dict[str, Any]:
    """:func:`compare_results` without the per-step arrays (what ``--json`` writes)."""
    doc = compare_results(before, after, **kwargs)
    doc.pop("_values", None)
    return doc


def render_comparison_html(before: Any, after: Any, **kwargs: Any) -> str:
    """The self-contained HTML comparison report."""
    doc = compare_results(before, after, **kwargs)
    values = doc.pop("_values")
    figs = {}
    for measure, v in values.items():
        row = next(r for r in doc["metrics"] if r["measure"] == measure)
        figs[measure] = figures.distributions(v["before"], v["after"], f"{row['label']} ({row['units']})")
    return environment().get_template("compare.html.j2").render(doc=doc, figs=figs)


def write_comparison(before: Any, after: Any, path: Any, **kwargs: Any) -> Any:
    """Write the HTML comparison of two results to ``path``; return the path."""
    return _write_text(path, render_comparison_html(before, after, **kwargs))


def write_comparison_json(before: Any, after: Any, path: Any, **kwargs: Any) -> Any:
    """Write :func:`comparison_json` to ``path``; return the path."""
    import json

    return _write_text(path, json.dumps(comparison_json(before, after, **kwargs), indent=2, allow_nan=False))
