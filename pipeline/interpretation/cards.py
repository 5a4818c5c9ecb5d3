"""The three evidence cards of the back-strain section, one per kinetic-chain link, from the typed result.

Each card carries the person's measurements (value, 95 % CI, n, unit, method, or why not available), the stated
reference and where the value sits against it, the rule and whether it is met, the interpretation and the options
to discuss; :mod:`.findings` combines them into the tier.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.analysis.result import Metric, SessionMetrics, Symmetry
from pipeline.interpretation.evidence import (
    CPEI_REFERENCE,
    GAIT_LBP_GRADE,
    LINKS,
    LLD_REFERENCE,
    ORTHOSES_GRADE,
)
from pipeline.statistics import bootstrap_si_ci

SIDES = ("left", "right")


def _fmt(value: float | None, digits: int = 1) -> str:
    return "not available" if value is None else f"{value:.{digits}f}"


def _step_values(steps: pd.DataFrame | None, side: str, column: str):
    """Finite per-step values of ``column`` over the valid steps of ``side`` (None without steps)."""
    if steps is None or column not in steps.columns:
        return None
    rows = (steps["side"] == side) & steps["valid"].to_numpy(bool)
    values = steps.loc[rows, column].to_numpy(dtype=float)
    values = values[pd.notna(values)]
    return values if values.size else None


def _measurement(metrics: SessionMetrics, side: str, name: str, label: str) -> dict[str, Any]:
    """One per-side measurement: central value, 95 % CI, n, units, method (or why it is not available)."""
    sr = metrics.side(side)
    out: dict[str, Any] = {"label": label, "side": side, "metric": name, "value": None, "ci95": None, "n": None,
                           "sd": None, "units": None, "method": None, "available": False, "reason": ""}
    if sr is None:
        out["reason"] = f"the {side} foot was not recorded"
        return out
    m: Metric = sr.metric(name)
    out.update(units=m.unit, method=m.method, reason=m.reason)
    if not m.available:
        return out
    out.update(value=m.central, ci95=list(m.ci95) if m.ci95 else None, ci_source="analysis" if m.ci95 else None,
               n=m.n, sd=m.sd, available=True)
    return out


def _cpei_position(m: dict[str, Any], label: dict[str, Any] | None) -> str:
    """Where an insole CPEI sits: against the analysis's stated insole rule, with the platform means as context.

    An insole CPEI (a few cells; CoP confined to the sensor hull) reads on a different, compressed scale from a
    pressure-platform CPEI, so the platform group means of the cadet study are context only, never a cut-off.
    """
    if not m["available"]:
        return f"not available: {m['reason']}" if m.get("reason") else "not available"
    if label:
        return (f"{label['label']} by the analysis's insole rule (confidence {_fmt(label['confidence'], 2)}; the "
                "rule is shown below); platform group means are context only, not comparable cut-offs")
    return "no insole rule from the analysis; platform group means are context only, not comparable cut-offs"


def foot_function_labels(metrics: SessionMetrics) -> dict[str, dict[str, Any]]:
    out = {}
    for side in metrics.sides:
        ff = metrics.side(side).foot_function
        if ff is not None:
            out[side] = {"label": ff.label, "confidence": ff.confidence, "rule": ff.rule, "reason": ff.reason}
    return out


def _label_rule(labels: dict[str, dict[str, Any]], wanted: str) -> dict[str, Any]:
    if not labels:
        met = None
        detail = "the analysis gave no foot-function label"
    else:
        sides = [s for s, v in labels.items() if v["label"] == wanted]
        met = bool(sides)
        if all(v["label"] == "undetermined" for v in labels.values()):
            met = None  # nothing was assessed
        rules = {v["rule"] for v in labels.values()}
        why = {s: f"; {v['reason']}" if v["reason"] else "" for s, v in labels.items()}
        if len(rules) == 1:
            detail = "; ".join(f"{s}: {v['label']} (confidence {_fmt(v['confidence'], 2)}{why[s]})"
                               for s, v in labels.items()) + f"; analysis rule: {rules.pop()}"
        else:
            detail = "; ".join(
                f"{s}: {v['label']} (confidence {_fmt(v['confidence'], 2)}{why[s]}; analysis rule: {v['rule']})"
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


def pronation_card(metrics: SessionMetrics, labels, quality_failed) -> dict[str, Any]:
    link = LINKS["pronation"]
    measurements = [_measurement(metrics, side, "cpei_pct", "insole CPEI (%)") for side in SIDES]
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


def supination_card(metrics: SessionMetrics, labels, quality_failed) -> dict[str, Any]:
    link = LINKS["supination"]
    measurements = []
    for side in SIDES:
        m = _measurement(metrics, side, "cpei_pct", "insole CPEI (%)")
        m["reference"] = "Same reference as the pronation card; higher = more lateral CoP path."
        m["position"] = _cpei_position(m, labels.get(side))
        measurements.append(m)
    lr = {side: _measurement(metrics, side, "loading_rate", "loading rate") for side in SIDES}
    for side, m in lr.items():
        other = lr["right" if side == "left" else "left"]
        if m["units"]:
            m["label"] = f"loading rate ({m['units']})"
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


def _symmetry_measurement(metrics: SessionMetrics, steps: pd.DataFrame | None, name: str, label: str
                          ) -> dict[str, Any]:
    sym: Symmetry = getattr(metrics.bilateral.symmetry, name)
    lsteps, rsteps = _step_values(steps, "left", name), _step_values(steps, "right", name)
    ci = bootstrap_si_ci(lsteps, rsteps) if sym.available and lsteps is not None and rsteps is not None else None
    return {
        "label": label, "side": "both", "metric": name, "value": sym.si_pct, "units": "% (SI, right vs left)",
        "measure_units": sym.unit, "ci95": list(ci) if ci else None,
        "ci_source": "percentile bootstrap of per-step values (2,000 resamples)" if ci else None,
        "sa_pct": sym.sa_pct, "n": {"left": sym.n_left, "right": sym.n_right}, "available": sym.available,
        "reason": sym.reason,
        "method": "SI = (R - L) / (0.5 (R + L)) x 100 (Robinson et al. 1987); SA (Zifchock et al. 2008)",
    }


def asymmetry_card(metrics: SessionMetrics, steps: pd.DataFrame | None, quality_failed) -> dict[str, Any]:
    link = LINKS["asymmetry"]
    stance = _symmetry_measurement(metrics, steps, "stance_time_s", "stance time symmetry")
    stance["reference"] = (
        f"{LLD_REFERENCE['source']}: long-leg stance {LLD_REFERENCE['long_leg_stance_change_pct']:+.1f} %"
    )
    peak = _symmetry_measurement(metrics, steps, "peak1_force", "first force peak symmetry")
    peak["reference"] = (
        f"{LLD_REFERENCE['source']}: long-leg peak pressure {LLD_REFERENCE['long_leg_peak_pressure_change_pct']:+.0f} %"
    )
    for m in (stance, peak):
        if not m["available"]:
            m["position"] = f"not available: {m['reason']}" if m["reason"] else "not available"
            continue
        lo, hi = m["ci95"] if m["ci95"] else (m["value"], m["value"])
        side_hi = "right" if m["value"] > 0 else "left"
        excl = "95% CI excludes 0" if m["ci95"] and (lo > 0 or hi < 0) else (
            "95% CI includes 0" if m["ci95"] else "no CI available")
        m["position"] = f"{abs(m['value']):.1f} % higher on the {side_hi} ({excl})"
    lld = metrics.bilateral.lld_pattern
    met = lld.consistent
    detail = ("analysis criteria: " + "; ".join(f"{k}: {v}" for k, v in msgspec_items(lld.criteria))
              if lld.criteria is not None else f"not assessed: {lld.reason}")
    rule = {
        "rule": "Flag when the analysis finds the asymmetry pattern that the literature associates with a "
        "leg-length difference (longer stance and lower force peaks on one side, beyond normal asymmetry).",
        "met": met,
        "detail": detail,
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
        text = "Not assessed." if status == "withheld" else f"The asymmetry pattern was not assessed: {lld.reason}."
        next_steps = []
    return {**link.to_dict(), "status": status, "measurements": [stance, peak], "rules": [rule],
            "interpretation": text, "next_steps": next_steps}


def msgspec_items(record: Any) -> list[tuple[str, Any]]:
    """(field, value) pairs of a record, in field order."""
    return [(f, getattr(record, f)) for f in record.__struct_fields__]
