"""Evidence cards and the overall tier of the back-strain section, built from analysis metrics.

Honesty rules (``shared/design/gait-evidence.md``, "How a back-strain section stays honest"):

- data quality first: a session that failed its quality gates gets no cards and no tier, and says why;
- every measurement carries its 95 % confidence interval and the number of steps behind it;
- a measurement is positioned against a *stated* reference, never labelled;
- one card per kinetic-chain link with design, population, effect (with CI) and grade;
- wording is "consistent with" / "associated with"; the words and phrases in :data:`FORBIDDEN_PATTERNS` never
  appear in generated text;
- next steps are options to discuss with a clinician, each with the grade of its evidence;
- the tier is rule-based and every rule is returned with the tier.

The output is a JSON-ready dict (see :func:`build_findings`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pipeline.interpretation.evidence import (
    CPEI_REFERENCE,
    GAIT_LBP_GRADE,
    LINKS,
    LLD_REFERENCE,
    ORTHOSES_GRADE,
)
from pipeline.interpretation.metric_lookup import SIDES, dig, number, summary
from pipeline.interpretation.statistics import bootstrap_si_ci, mean_ci95, symmetry_angle_pct, symmetry_index_pct

#: Phrases generated text must never contain (gait-evidence.md): claims of causation, diagnosis or certainty.
FORBIDDEN_PATTERNS: tuple[str, ...] = (
    r"\bcause[sd]?\b",
    r"\bcausing\b",
    r"\bdiagnos\w*",
    r"\bLLD detected\b",
    r"\bleg[- ]length (difference|discrepancy) detected\b",
    r"\bwill lead to\b",
    r"\bcorrects?\b",
    r"\bproves?\b",
)

TIER_NONE = "no notable pattern"
TIER_INTEREST = "pattern of interest"
TIER_CONCERN = "pattern of concern"
TIER_NOT_ASSESSED = "not assessed"

#: The tier rules, in the order they are applied; shown verbatim in the report and the JSON.
TIER_RULES: tuple[dict[str, str], ...] = (
    {
        "tier": TIER_NOT_ASSESSED,
        "rule": "The session failed one or more data-quality gates (no card is interpreted), or no kinetic-chain "
        "link could be assessed because the analysis did not provide the measures.",
    },
    {"tier": TIER_NONE, "rule": "No kinetic-chain link is flagged (links that could not be assessed are listed)."},
    {"tier": TIER_INTEREST, "rule": "Exactly one kinetic-chain link is flagged."},
    {"tier": TIER_CONCERN, "rule": "Two or more kinetic-chain links are flagged."},
)

TIER_CAVEAT = (
    "Every link to back pain listed here has low, very low or contradicted evidence (grades shown on each card). "
    "The tier is a prompt for a conversation with a clinician, not a conclusion about the back: insoles see neither "
    "leg length, pelvis nor spine, and low back pain is multifactorial."
)

GENERAL_LIMITS = (
    "Insoles measure pressure under the foot only; leg length, pelvis and spine are not measured.",
    "Low back pain is multifactorial; none of the patterns below is specific to it.",
    "Reference values come from other devices and populations; positions are approximate.",
)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "not available" if value is None else f"{value:.{digits}f}"


def _step_values(steps: pd.DataFrame | None, side: str, column: str) -> np.ndarray | None:
    if steps is None or column not in getattr(steps, "columns", ()) or "side" not in steps.columns:
        return None
    rows = steps["side"] == side
    if "valid" in steps.columns:
        rows &= steps["valid"].fillna(False).astype(bool)
    values = pd.to_numeric(steps.loc[rows, column], errors="coerce").to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    return values if values.size else None


def _measurement(
    metrics: Mapping[str, Any], steps: pd.DataFrame | None, side: str, name: str, label: str, step_column: str
) -> dict[str, Any]:
    """One per-side measurement: central value, 95 % CI, n, units, method; CI from steps if the summary lacks it."""
    s = summary(metrics, side, name)
    out: dict[str, Any] = {"label": label, "side": side, "metric": name, "value": None, "ci95": None, "n": None,
                           "sd": None, "units": None, "method": None, "available": False}
    if s is None:
        return out
    value = s["mean"] if s["mean"] is not None else s["median"]
    ci = s["ci95"]
    ci_source = "analysis" if ci else None
    if ci is None:
        values = _step_values(steps, side, step_column)
        if values is not None:
            ci = mean_ci95(values)
            ci_source = "t-interval of the per-step mean" if ci else None
    out.update(value=value, ci95=list(ci) if ci else None, ci_source=ci_source, n=s["n"], sd=s["sd"],
               units=s["units"], method=s["method"], available=True)
    return out


def _cpei_position(m: dict[str, Any], label: dict[str, Any] | None) -> str:
    """Where an insole CPEI sits: against the analysis's stated insole rule, with the platform means as context.

    An insole CPEI (a few cells; CoP confined to the sensor hull) reads on a different, compressed scale from a
    pressure-platform CPEI, so the platform group means of the cadet study are context only, never a cut-off.
    """
    if not m["available"]:
        return "not available"
    if label:
        return (f"{label['label']} by the analysis's insole rule (confidence {_fmt(label['confidence'], 2)}; the "
                "rule is shown below); platform group means are context only, not comparable cut-offs")
    return "no insole rule from the analysis; platform group means are context only, not comparable cut-offs"


def _labels(metrics: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for side in SIDES:
        ff = dig(metrics, side, "foot_function")
        if isinstance(ff, Mapping) and ff.get("label"):
            out[side] = {
                "label": str(ff.get("label")),
                "confidence": number(ff.get("confidence")),
                "rule": str(ff.get("rule") or "not stated by the analysis"),
            }
    return out


def _label_rule(labels: dict[str, dict[str, Any]], wanted: str) -> dict[str, Any]:
    if not labels:
        met = None
        detail = "the analysis gave no foot-function label"
    else:
        sides = [s for s, v in labels.items() if v["label"] == wanted]
        met = bool(sides)
        rules = {v["rule"] for v in labels.values()}
        if len(rules) == 1:
            detail = "; ".join(f"{s}: {v['label']} (confidence {_fmt(v['confidence'], 2)})"
                               for s, v in labels.items()) + f"; analysis rule: {rules.pop()}"
        else:
            detail = "; ".join(
                f"{s}: {v['label']} (confidence {_fmt(v['confidence'], 2)}; analysis rule: {v['rule']})"
                for s, v in labels.items()
            )
    return {
        "rule": f"Flag when the analysis labels foot function as {wanted} on at least one side.",
        "met": met,
        "detail": detail,
        "source": "analysis foot-function label (insole CPEI and lateral-medial force index; Song et al. 1996)",
    }


def _status(met: bool | None, quality_failed: bool) -> str:
    if quality_failed:
        return "withheld"
    return "not available" if met is None else "flagged" if met else "not flagged"


def _orthoses_step() -> dict[str, str]:
    return {
        "option": "Footwear with firm heel counters or foot orthoses, to discuss with a podiatrist.",
        "evidence": (
            f"Evidence that insoles or orthoses prevent or reduce low back pain is {ORTHOSES_GRADE}: Sahar et al. "
            "2007 prevention risk ratio 0.73 (0.43-1.22); Chuter et al. 2014 treatment SMD -0.74 (-1.5 to 0.03)."
        ),
    }


def _gait_assessment_step() -> dict[str, str]:
    return {
        "option": "A clinical gait assessment, to see whether the pattern under the foot is also present at the "
        "knee, hip and pelvis.",
        "evidence": "Insoles do not measure the leg, pelvis or spine; a clinician can.",
    }


def _pronation_card(metrics, steps, labels, quality_failed) -> dict[str, Any]:
    link = LINKS["pronation"]
    measurements = [
        _measurement(metrics, steps, side, "cpei_pct", "insole CPEI (%)", "cpei_pct") for side in SIDES
    ]
    for m in measurements:
        m["reference"] = (
            "The analysis's insole foot-function rule (stated below). Context: platform CPEI group means of "
            f"{CPEI_REFERENCE['source']}: "
            + ", ".join(f"{k} {v}" for k, v in CPEI_REFERENCE["group_means_pct"].items())
            + ". Lower = more medial CoP path."
        )
        m["position"] = _cpei_position(m, labels.get(m["side"]))
    rule = _label_rule(labels, "pronation")
    status = _status(rule["met"], quality_failed)
    flagged_sides = [s for s, v in labels.items() if v["label"] == "pronation"]
    if status == "flagged":
        text = (
            f"The pressure pattern under the {' and '.join(flagged_sides)} foot is consistent with pronated foot "
            "function. In a large cross-sectional study pronated foot function was associated with low back pain in "
            "women (odds ratio 1.51, 95% CI 1.10-2.07) but not in men; the chain from the foot to the pelvis is "
            "plausible with small effects (pelvic drop about +0.5 deg)."
        )
        next_steps = [_orthoses_step(), {
            "option": "Foot and hip strengthening or control exercises, to discuss with a physiotherapist.",
            "evidence": "Not evaluated for back pain in the sources of this report.",
        }, _gait_assessment_step()]
    elif status == "not flagged":
        text = "The analysis did not label foot function as pronated on either side."
        next_steps = []
    else:
        text = "Not assessed." if status == "withheld" else "Foot-function labels are not available."
        next_steps = []
    return {**link.to_dict(), "status": status, "measurements": measurements, "rules": [rule],
            "foot_function": labels, "interpretation": text, "next_steps": next_steps,
            "cpei_caveats": CPEI_REFERENCE["caveats"]}


def _supination_card(metrics, steps, labels, quality_failed) -> dict[str, Any]:
    link = LINKS["supination"]
    measurements = []
    for side in SIDES:
        m = _measurement(metrics, steps, side, "cpei_pct", "insole CPEI (%)", "cpei_pct")
        m["reference"] = "Same reference as the pronation card; higher = more lateral CoP path."
        m["position"] = _cpei_position(m, labels.get(side))
        measurements.append(m)
    lr = {side: _measurement(metrics, steps, side, "loading_rate_bw_s", "loading rate (BW/s)", "loading_rate_bw_s")
          for side in SIDES}
    for side, m in lr.items():
        other = lr["right" if side == "left" else "left"]
        m["reference"] = "The other foot of the same walk (within-subject proxy; 50-100 Hz insoles under-read)."
        if m["available"] and other["available"] and other["value"]:
            m["position"] = f"{(m['value'] / other['value'] - 1) * 100:+.0f} % relative to the other foot"
        else:
            m["position"] = "not available"
        measurements.append(m)
    rule = _label_rule(labels, "supination")
    status = _status(rule["met"], quality_failed)
    if status == "flagged":
        sides = [s for s, v in labels.items() if v["label"] == "supination"]
        text = (
            f"The pressure pattern under the {' and '.join(sides)} foot is consistent with supinated foot function. "
            "The idea that a rigid, high-arched foot transmits more impact to the spine is not supported: one study "
            "found lower lumbar acceleration with high arches and the Framingham study found no association."
        )
        next_steps = [{
            "option": "Cushioned footwear, to discuss with a podiatrist for foot comfort.",
            "evidence": "Evidence linking high arches to spinal impact is very low / contradicted.",
        }, _gait_assessment_step()]
    elif status == "not flagged":
        text = "The analysis did not label foot function as supinated on either side."
        next_steps = []
    else:
        text = "Not assessed." if status == "withheld" else "Foot-function labels are not available."
        next_steps = []
    return {**link.to_dict(), "status": status, "measurements": measurements, "rules": [rule],
            "interpretation": text, "next_steps": next_steps}


def _symmetry_measurement(metrics, steps, name: str, label: str, step_column: str) -> dict[str, Any]:
    sym = dig(metrics, "bilateral", "symmetry", name)
    left, right = summary(metrics, "left", name), summary(metrics, "right", name)
    si = number(dig(sym, "si_pct")) if isinstance(sym, Mapping) else None
    sa = number(dig(sym, "sa_pct")) if isinstance(sym, Mapping) else None
    lv = left["mean"] if left and left["mean"] is not None else (left or {}).get("median")
    rv = right["mean"] if right and right["mean"] is not None else (right or {}).get("median")
    if si is None and lv is not None and rv is not None:
        si = symmetry_index_pct(lv, rv)
        si = si if np.isfinite(si) else None
    if sa is None and lv is not None and rv is not None:
        sa = symmetry_angle_pct(lv, rv)
        sa = sa if np.isfinite(sa) else None
    lsteps, rsteps = _step_values(steps, "left", step_column), _step_values(steps, "right", step_column)
    ci = bootstrap_si_ci(lsteps, rsteps) if lsteps is not None and rsteps is not None else None
    n_left = (left or {}).get("n") if left else None
    n_right = (right or {}).get("n") if right else None
    return {
        "label": label, "side": "both", "metric": name, "value": si, "units": "% (SI, right vs left)",
        "ci95": list(ci) if ci else None,
        "ci_source": "percentile bootstrap of per-step values (2,000 resamples)" if ci else None,
        "sa_pct": sa, "n": {"left": n_left, "right": n_right}, "available": si is not None,
        "method": "SI = (R - L) / (0.5 (R + L)) x 100 (Robinson et al. 1987); SA (Zifchock et al. 2008)",
    }


def _asymmetry_card(metrics, steps, quality_failed) -> dict[str, Any]:
    link = LINKS["asymmetry"]
    stance = _symmetry_measurement(metrics, steps, "stance_time_s", "stance time symmetry", "stance_s")
    stance["reference"] = (
        f"{LLD_REFERENCE['source']}: long-leg stance {LLD_REFERENCE['long_leg_stance_change_pct']:+.1f} %"
    )
    peak = _symmetry_measurement(metrics, steps, "peak1_bw", "first force peak symmetry", "peak1_bw")
    if not peak["available"]:
        peak = _symmetry_measurement(metrics, steps, "peak1_n", "first force peak symmetry", "peak1_n")
    peak["reference"] = (
        f"{LLD_REFERENCE['source']}: long-leg peak pressure {LLD_REFERENCE['long_leg_peak_pressure_change_pct']:+.0f} %"
    )
    for m in (stance, peak):
        if not m["available"]:
            m["position"] = "not available"
            continue
        lo, hi = m["ci95"] if m["ci95"] else (m["value"], m["value"])
        side_hi = "right" if m["value"] > 0 else "left"
        excl = "95% CI excludes 0" if m["ci95"] and (lo > 0 or hi < 0) else (
            "95% CI includes 0" if m["ci95"] else "no CI available")
        m["position"] = f"{abs(m['value']):.1f} % higher on the {side_hi} ({excl})"
    lld = dig(metrics, "bilateral", "lld_pattern")
    met = None
    criteria: Any = None
    if isinstance(lld, Mapping) and lld.get("consistent") is not None:
        met = bool(lld.get("consistent"))
        criteria = lld.get("criteria")
    rule = {
        "rule": "Flag when the analysis finds the asymmetry pattern that the literature associates with a "
        "leg-length difference (longer stance and lower force peaks on one side, beyond normal asymmetry).",
        "met": met,
        "detail": "analysis criteria: " + (
            "; ".join(f"{k}: {v}" for k, v in criteria.items()) if isinstance(criteria, Mapping)
            else "not available"),
        "source": "Kaufman et al. 1996; Pereiro-Buceta et al. 2021",
    }
    status = _status(met, quality_failed)
    if status == "flagged":
        text = (
            "The left-right pattern is consistent with a leg-length difference, among other explanations (pain, "
            "injury, footwear, habit). A leg-length difference of 6 mm or more has been associated with low back "
            "pain in standing workers (low evidence); gait asymmetry itself has shown no consistent association "
            f"with back pain ({GAIT_LBP_GRADE} evidence)."
        )
        next_steps = [{
            "option": "A clinical leg-length measurement, to discuss with a clinician (insoles cannot measure leg "
            "length); a heel lift is an option only after such a measurement.",
            "evidence": "Small randomised trials of lifts; grade low.",
        }, _gait_assessment_step()]
    elif status == "not flagged":
        text = "The analysis did not find the asymmetry pattern associated with a leg-length difference."
        next_steps = []
    else:
        text = "Not assessed." if status == "withheld" else "The analysis gave no asymmetry-pattern result."
        next_steps = []
    return {**link.to_dict(), "status": status, "measurements": [stance, peak], "rules": [rule],
            "interpretation": text, "next_steps": next_steps}


def quality_status(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Normalised quality block: ``passed`` (True/False/None when the analysis gave none), failures, warnings."""
    q = metrics.get("quality") if isinstance(metrics, Mapping) else None
    if not isinstance(q, Mapping):
        return {"available": False, "passed": None, "failures": [], "warnings": [
            "This analysis version reports no data-quality gates; treat every figure with caution."],
            "strides": {}, "sync_ok": None, "saturation_pct": {}, "dropout_pct": {}}
    passed = q.get("passed")

    def texts(value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]

    def per_side(value: Any) -> dict[str, Any]:
        return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else {}

    return {
        "available": True,
        "passed": None if passed is None else bool(passed),
        "failures": texts(q.get("failures")),
        "warnings": texts(q.get("warnings")),
        "strides": per_side(q.get("strides")),
        "sync_ok": q.get("sync_ok") if isinstance(q.get("sync_ok"), bool) else None,
        "saturation_pct": per_side(q.get("saturation_pct")),
        "dropout_pct": per_side(q.get("dropout_pct")),
    }


def build_findings(metrics: Mapping[str, Any], steps: pd.DataFrame | None = None) -> dict[str, Any]:
    """Build the back-strain section from analysis metrics (and the per-step table, for confidence intervals).

    Parameters
    ----------
    metrics : mapping
        ``AnalysisResult.metrics`` (notes/analysis-contract.md); every field may be missing.
    steps : pandas.DataFrame, optional
        ``AnalysisResult.steps``; used for CIs the summaries do not carry.

    Returns
    -------
    dict
        ``{"quality", "tier", "cards", "general_next_steps", "limits", "tier_rules", "tier_caveat"}``, JSON-ready.
    """
    quality = quality_status(metrics)
    failed = quality["passed"] is False
    labels = _labels(metrics)
    cards = [
        _pronation_card(metrics, steps, labels, failed),
        _supination_card(metrics, steps, labels, failed),
        _asymmetry_card(metrics, steps, failed),
    ]
    flagged = [c["link_id"] for c in cards if c["status"] == "flagged"]
    unassessed = [c["link_id"] for c in cards if c["status"] == "not available"]
    if failed or len(unassessed) == len(cards):
        tier, applied = TIER_NOT_ASSESSED, 0
    elif not flagged:
        tier, applied = TIER_NONE, 1
    elif len(flagged) == 1:
        tier, applied = TIER_INTEREST, 2
    else:
        tier, applied = TIER_CONCERN, 3
    rules = [{**r, "applies": i == applied} for i, r in enumerate(TIER_RULES)]
    general = [{
        "option": "If back pain is present or persists, discuss it with a clinician: low back pain is "
        "multifactorial and these foot measurements are one small part of the picture.",
        "evidence": "See the grades on each card.",
    }]
    if failed:
        general.insert(0, {"option": "Repeat the recording after checking the insoles' fit and connection.",
                           "evidence": "The quality gates below name what failed."})
    return {
        "quality": quality,
        "tier": {"tier": tier, "flagged_links": flagged, "links_not_assessed": unassessed},
        "tier_rules": rules,
        "tier_caveat": TIER_CAVEAT,
        "cards": cards,
        "general_next_steps": general,
        "limits": list(GENERAL_LIMITS),
    }


def forbidden_phrases(text: str) -> list[str]:
    """Every forbidden phrase found in ``text`` (case-insensitive); empty when the wording is clean."""
    return [m.group(0) for p in FORBIDDEN_PATTERNS for m in re.finditer(p, text, flags=re.IGNORECASE)]
