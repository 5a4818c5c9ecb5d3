"""The content of the session report as one JSON-ready dict: the HTML report is rendered from it.

``report_json(result)`` follows notes/analysis-contract.md and tolerates every missing field (the value becomes
None and the HTML says "not available"). Numbers are plain floats or None (NaN and inf become None).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from insole.provenance import utc_now_iso
from pipeline import __version__
from pipeline.interpretation import REFERENCES, build_findings
from pipeline.interpretation.metric_lookup import SIDES, dig, number, summary
from pipeline.interpretation.statistics import symmetry_angle_pct, symmetry_index_pct

SCHEMA = "insole-report"
SCHEMA_VERSION = 1

#: (metric name, label, default units) of the temporal table, in the order shown.
TEMPORAL_METRICS = (
    ("stride_time_s", "Stride time", "s"),
    ("stance_time_s", "Stance time", "s"),
    ("swing_time_s", "Swing time", "s"),
    ("stance_pct", "Stance (% of stride)", "%"),
)
#: (metric name, label, default units) of the force, CoP and foot-function table.
KINETIC_METRICS = (
    ("peak1_bw", "First force peak", "BW"),
    ("valley_bw", "Mid-stance valley", "BW"),
    ("peak2_bw", "Second force peak", "BW"),
    ("loading_rate_bw_s", "Loading rate (20-80 % of first peak)", "BW/s"),
    ("impulse_bw_s", "Impulse", "BW s"),
    ("cpei_pct", "Insole CPEI", "%"),
    ("cop_path_length_pct", "CoP path length", "% foot length"),
)
#: Newton variants the analysis uses when body mass is unknown (``peak1_bw`` -> ``peak1_n``).
NEWTON_VARIANTS = {"peak1_bw": ("peak1_n", "N"), "valley_bw": ("valley_n", "N"), "peak2_bw": ("peak2_n", "N"),
                   "loading_rate_bw_s": ("loading_rate_n_s", "N/s"), "impulse_bw_s": ("impulse_n_s", "N s")}
#: (metric, label) of the bilateral summaries.
BILATERAL_METRICS = (
    ("cadence_steps_per_min", "Cadence", "steps/min"),
    ("double_support_s", "Double support", "s"),
)

METHODS = (
    "Events, strides and phases: initial contact and foot-off from each foot's total force by the analysis "
    "(its own method strings are shown beside each metric where it gives them). Stride = initial contact to the "
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


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    s = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return s if s.strip() else None


def session_info(result: Any) -> dict[str, Any]:
    """Subject, session and per-foot device information from ``metrics["session"]``, else the loaded Session."""
    metrics = getattr(result, "metrics", {}) or {}
    ms = metrics.get("session") if isinstance(metrics.get("session"), Mapping) else {}
    sess = getattr(result, "session", None)
    md = getattr(sess, "metadata", None)
    attrs = getattr(sess, "attrs", {}) or {}

    def pick(key: str, default: Any = None) -> Any:
        v = ms.get(key)
        if v is None and isinstance(ms.get("metadata"), Mapping):
            v = ms["metadata"].get(key)
        if v is None and md is not None:
            v = getattr(md, key, None)
        if v is None:
            v = attrs.get(key)
        return default if v is None else v

    info: dict[str, Any] = {
        "subject_id": _text(pick("subject_id")),
        "condition": _text(pick("condition")),
        "notes": _text(pick("notes")),
        "body_mass_kg": number(pick("body_mass_kg")),
        "foot_length_mm": number(pick("foot_length_mm")),
        "shoe_size_eu": number(pick("shoe_size_eu")),
        "created_utc": _text(pick("created_utc")),
        "source": _text(pick("source")),
        "duration_s": number(ms.get("duration_s", getattr(sess, "duration_s", None))),
        "file": _text(getattr(sess, "path", None) and getattr(sess.path, "name", str(sess.path))),
        "feet": {},
    }
    layouts = getattr(result, "layouts", None) or {}
    for side in SIDES:
        foot_ms = {}
        for container in (ms.get("feet"), ms.get("devices"), ms):
            if isinstance(container, Mapping) and isinstance(container.get(side), Mapping):
                foot_ms = container[side]
                break
        foot = (getattr(sess, "feet", None) or {}).get(side)
        side_maps = any(isinstance(v, Mapping) and side in v for v in ms.values())
        if not foot_ms and foot is None and side not in layouts and not side_maps:
            continue
        fattrs = getattr(foot, "attrs", {}) or {}
        layout = layouts.get(side) or getattr(foot, "layout", None)

        def fpick(key: str, attr: str | None = None, _f=foot_ms, _a=fattrs, _foot=foot, _side=side) -> Any:
            v = _f.get(key)
            if v is None:  # per-side maps at the top of metrics["session"]: {"layout_ids": {"left": ...}}
                stem = key.removesuffix("_hz").removesuffix("_id")
                for k in (key + "s", f"{stem}_ids", f"{stem}s_hz", f"{stem}s", key):
                    if isinstance(ms.get(k), Mapping) and ms[k].get(_side) is not None:
                        v = ms[k][_side]
                        break
            if v is None and attr and _foot is not None:
                v = getattr(_foot, attr, None)
            if v is None:
                v = _a.get(key)
            return v

        info["feet"][side] = {
            "layout_id": _text(fpick("layout_id") or getattr(layout, "layout_id", None)),
            "n_sensors": int(fpick("n_sensors") or getattr(layout, "n_sensors", 0) or 0) or None,
            "sampling_rate_hz": number(fpick("sampling_rate_hz", "sampling_rate_hz")),
            "units": _text(fpick("units", "units")),
            "device_model": _text(fpick("device_model") or dig(foot_ms, "device", "model")),
            "device_serial": _text(fpick("device_serial_number") or fpick("device_serial")
                                   or dig(foot_ms, "device", "serial_number")),
        }
    return info


def _rows(metrics: Mapping[str, Any], spec) -> list[dict[str, Any]]:
    rows = []
    present = {name for side in SIDES for name in (metrics.get(side) or {})}
    for name, label, units in spec:
        if name not in present and name in NEWTON_VARIANTS and NEWTON_VARIANTS[name][0] in present:
            name, units = NEWTON_VARIANTS[name]
        left, right = summary(metrics, "left", name), summary(metrics, "right", name)
        rows.append({"metric": name, "label": label,
                     "units": (left or right or {}).get("units") or units,
                     "left": left, "right": right,
                     "method": (left or right or {}).get("method")})
    return rows


def _lmfi_rows(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    names = sorted({k for side in SIDES for k in (metrics.get(side) or {}) if str(k).startswith("lmfi")})
    return [{"metric": n, "label": "Lateral-medial force index, " + n[5:].replace("_", " ") if len(n) > 5 else n,
             "units": "", "left": summary(metrics, "left", n), "right": summary(metrics, "right", n),
             "method": "(F_lat - F_med) / (F_lat + F_med) (Buldt et al. 2018)"} for n in names]


#: Measures drawn in the symmetry chart (positive quantities where a symmetry angle means something); every other
#: symmetry the analysis reports is listed in the table only.
SYMMETRY_CHART_METRICS = (
    "stride_time_s", "stance_time_s", "swing_time_s", "step_time_s", "single_support_s", "peak1_bw", "peak1_n",
    "valley_bw", "valley_n", "peak2_bw", "peak2_n", "loading_rate_bw_s", "loading_rate_n_s", "impulse_bw_s",
    "impulse_n_s", "cop_path_length_pct",
)
EXTRA_LABELS = {
    "step_time_s": "Step time", "single_support_s": "Single support", "double_support_s": "Double support",
    "swing_pct": "Swing (% of stride)", "cadence_steps_per_min": "Cadence", "max_force_bw": "Maximum force",
    "mean_force_bw": "Mean force", "loading_rate_inst_bw_s": "Instantaneous loading rate",
    "cop_width_pct": "CoP width", "cop_ap_excursion_pct": "CoP AP excursion", "cop_velocity_mm_s": "CoP velocity",
}


def present_both(metrics: Mapping[str, Any], name: str) -> set[str]:
    """``{name}`` when both sides carry the metric, else the empty set."""
    return {name} if summary(metrics, "left", name) and summary(metrics, "right", name) else set()


def symmetry_rows(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Symmetry per metric: the analysis's values where given, else computed here from the side means."""
    given = dig(metrics, "bilateral", "symmetry")
    labels = {n: lab for n, lab, _ in TEMPORAL_METRICS + KINETIC_METRICS}
    labels.update({alt: labels[n] for n, (alt, _) in NEWTON_VARIANTS.items()})
    labels.update(EXTRA_LABELS)
    rows = []
    names = list(given.keys()) if isinstance(given, Mapping) else []
    for name, _, _ in TEMPORAL_METRICS + KINETIC_METRICS:
        if name not in present_both(metrics, name):
            name = NEWTON_VARIANTS.get(name, (name,))[0]
        if name not in names and summary(metrics, "left", name) and summary(metrics, "right", name):
            names.append(name)
    for name in names:
        g = given.get(name) if isinstance(given, Mapping) else None
        left, right = summary(metrics, "left", name), summary(metrics, "right", name)
        if isinstance(g, Mapping):
            si, sa = number(g.get("si_pct")), number(g.get("sa_pct"))
            n_l, n_r = g.get("n_left"), g.get("n_right")
            source = "analysis"
        else:
            lv = left["mean"] if left and left["mean"] is not None else (left or {}).get("median")
            rv = right["mean"] if right and right["mean"] is not None else (right or {}).get("median")
            si = number(symmetry_index_pct(lv, rv)) if lv is not None and rv is not None else None
            sa = number(symmetry_angle_pct(lv, rv)) if lv is not None and rv is not None else None
            n_l, n_r = (left or {}).get("n"), (right or {}).get("n")
            source = "computed by the report from the side means"
        rows.append({"metric": str(name), "label": labels.get(str(name), str(name).replace("_", " ")),
                     "si_pct": si, "sa_pct": sa, "n_left": number(n_l), "n_right": number(n_r), "source": source,
                     "in_chart": str(name) in SYMMETRY_CHART_METRICS})
    order = {m: i for i, m in enumerate(SYMMETRY_CHART_METRICS)}
    rows.sort(key=lambda r: (not r["in_chart"], order.get(r["metric"], 0)))
    return rows


def withheld_figures(quality: Mapping[str, Any], sides: list[str]) -> dict[str, dict[str, Any]]:
    """Which figures a failed quality gate withholds, and why.

    A failure naming one side withholds that side's per-foot figures; a failure naming neither side (sync,
    overall) withholds every figure. Any failure withholds the symmetry chart and the back-strain cards.
    """
    if quality.get("passed") is not False:
        return {}
    failures = list(quality.get("failures") or ["the analysis reports a failed quality gate without a reason"])
    reason = "; ".join(failures)
    affected: set[str] = set()
    for f in failures:
        named = [s for s in SIDES if re.search(rf"\b{s}\b", f, flags=re.IGNORECASE)]
        affected.update(named or sides)
    out = {"symmetry": {"sides": sorted(sides), "reason": reason},
           "back_strain": {"sides": sorted(sides), "reason": reason}}
    for fig in ("force_curves", "cop", "regions"):
        out[fig] = {"sides": sorted(affected & set(sides)), "reason": reason}
    return out


def report_json(result: Any) -> dict[str, Any]:
    """The session report as a JSON-ready dict (same content as the HTML report, without the figures)."""
    metrics = getattr(result, "metrics", None) or {}
    steps = getattr(result, "steps", None)
    curves = getattr(result, "curves", None) or {}
    sides = [s for s in SIDES if isinstance(metrics.get(s), Mapping)]
    findings = build_findings(metrics, steps)
    quality = findings["quality"]
    regions = {s: metrics[s]["regions"] for s in sides if isinstance(metrics[s].get("regions"), Mapping)}
    foot_function = {s: metrics[s]["foot_function"] for s in sides
                     if isinstance(metrics[s].get("foot_function"), Mapping)}
    curve_counts = {}
    for s in SIDES:
        arr = (curves.get(s) or {}).get("force") if isinstance(curves, Mapping) else None
        if arr is not None and np.ndim(arr) == 2:
            curve_counts[s] = int(np.shape(arr)[0])
    n_steps = {}
    if steps is not None and hasattr(steps, "columns") and "side" in steps.columns:
        for s in SIDES:
            rows = steps["side"] == s
            n_steps[s] = {"detected": int(rows.sum()),
                          "valid": int((rows & steps["valid"].astype(bool)).sum()) if "valid" in steps else None}
    bilateral = {name: {"label": label, "units": units, "summary": _bilateral_summary(metrics, name)}
                 for name, label, units in BILATERAL_METRICS}
    lld = dig(metrics, "bilateral", "lld_pattern")
    doc = {
        **document_header(SCHEMA, SCHEMA_VERSION, "session"),
        "session": session_info(result),
        "sides": sides,
        "steps": n_steps,
        "provenance": metrics.get("provenance") if isinstance(metrics.get("provenance"), Mapping) else {},
        "quality": quality,
        "withheld": withheld_figures(quality, sides),
        "temporal": _rows(metrics, TEMPORAL_METRICS),
        "bilateral": bilateral,
        "kinetics": _rows(metrics, KINETIC_METRICS) + _lmfi_rows(metrics),
        "symmetry": symmetry_rows(metrics),
        "lld_pattern": {"consistent": lld.get("consistent"), "criteria": lld.get("criteria")}
        if isinstance(lld, Mapping) else None,
        "foot_function": foot_function,
        "regions": regions,
        "curves": {"force_steps": curve_counts},
        "back_strain": findings,
        "methods": list(METHODS),
        "references": list(REFERENCES),
    }
    return jsonable(doc)


def _bilateral_summary(metrics: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    raw = dig(metrics, "bilateral", name)
    if not isinstance(raw, Mapping):
        return None
    return summary({"b": {name: raw}}, "b", name)


def document_header(schema: str, schema_version: int, kind: str) -> dict[str, Any]:
    """The fields every report JSON document starts with: schema, kind, software and generation time (UTC)."""
    return {
        "schema": schema,
        "schema_version": schema_version,
        "kind": kind,
        "software": {"name": "insole", "version": __version__},
        "generated_utc": utc_now_iso(),
    }
