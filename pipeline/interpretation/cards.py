"""The three evidence cards of the back-strain section, one per kinetic-chain link, from the typed result.

Each card carries the person's measurements (value, 95 % CI, n, unit, method, or why not available), the stated
reference and where the value sits against it, the rule and whether it is met, the interpretation and the options
to discuss; :mod:`.findings` combines them into the tier.
"""

from __future__ import annotations

from typing import Any

import msgspec

from pipeline.analysis.foot_function import NOT_ASSESSED
from pipeline.analysis.references import LLD_PEAK_METRIC
from pipeline.analysis.result import CohortPosition, Metric, SessionMetrics, Symmetry
from pipeline.interpretation.evidence import (
    CPEI_REFERENCE,
    GAIT_LBP_GRADE,
    LINKS,
    LLD_REFERENCE,
    ORTHOSES_GRADE,
    SPEED_EVIDENCE,
    SPEED_GRADE,
)

SIDES = ("left", "right")


def _fmt(value: float | None, digits: int = 1) -> str:
    return "not available" if value is None else f"{value:.{digits}f}"


def describe_position(ref: CohortPosition | None, what: str = "", *, cohort: str | None = None,
                      unit: str = "") -> str:
    """``23rd percentile (95 % interval 8-47) of <cohort>``, or why there is no position.

    ``cohort`` is the session's reference cohort (``provenance.reference_cohort``) when the value has no position
    in it; ``unit`` the value's unit (raw counts are never compared between subjects' sensors).
    """
    if ref is None:
        if cohort is None:
            return "no reference cohort of healthy recordings covers this insole model: not positioned"
        if unit == "counts":
            return ("not positioned: raw counts of uncalibrated sensors depend on each sensor's gain, so the "
                    "reference cohort holds no values of this measure")
        return "not positioned: the reference cohort holds no values of this measure"
    ci = f" (95 % interval {ref.percentile_ci[0]:.0f}-{ref.percentile_ci[1]:.0f})" if ref.percentile_ci else ""
    out = " (the subject's own recordings left out)" if ref.left_out else ""
    return f"{what}{_ordinal(ref.percentile)} percentile{ci} of {ref.cohort}, n = {ref.n}{out}"


def _ordinal(pct: float) -> str:
    n = int(round(pct))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _measurement(metrics: SessionMetrics, side: str, name: str, label: str) -> dict[str, Any]:
    """One per-side measurement: central value, 95 % CI, n, units, method, cohort position (or why not)."""
    sr = metrics.side(side)
    out: dict[str, Any] = {"label": label, "side": side, "metric": name, "value": None, "ci95": None, "n": None,
                           "sd": None, "units": None, "method": None, "available": False, "reason": "",
                           "reference_position": None}
    if sr is None:
        out["reason"] = f"the {side} foot was not recorded"
        return out
    m: Metric = sr.metric(name)
    out.update(units=m.unit, method=m.method, reason=m.reason)
    if not m.available:
        return out
    out.update(value=m.central, ci95=list(m.ci95) if m.ci95 else None, ci_source="analysis" if m.ci95 else None,
               n=m.n, sd=m.sd, available=True,
               reference_position=msgspec.to_builtins(m.reference) if m.reference else None)
    return out


def _cpei_position(m: dict[str, Any], label: dict[str, Any] | None) -> str:
    """Where an insole CPEI sits: its percentile among healthy recordings of the same insole model, or why not."""
    if not m["available"]:
        return f"not available: {m['reason']}" if m.get("reason") else "not available"
    if label and label["label"] != NOT_ASSESSED:
        return f"{label['label']}: " + describe_position(label["reference"])
    return f"not assessed: {label['reason']}" if label else "not assessed"


def foot_function_labels(metrics: SessionMetrics) -> dict[str, dict[str, Any]]:
    out = {}
    for side in metrics.sides:
        ff = metrics.side(side).foot_function
        if ff is not None:
            out[side] = {"label": ff.label, "reference": ff.reference, "rule": ff.rule, "reason": ff.reason,
                         "percentile": ff.reference.percentile if ff.reference else None}
    return out


def contradictory(labels: dict[str, dict[str, Any]]) -> bool:
    """One foot pronated and the other supinated: more often an insole or fit problem than foot function."""
    found = {v["label"] for v in labels.values()}
    return {"pronation", "supination"} <= found


CONTRADICTION = ("one foot is labelled pronated and the other supinated: feet rarely differ that much, so this "
                 "more often means an insole problem (a shifted, folded or badly fitted insole, or a calibration "
                 "fault) than foot function; check the insoles and their fit before reading the labels")


def _label_rule(labels: dict[str, dict[str, Any]], wanted: str) -> dict[str, Any]:
    assessed = {s: v for s, v in labels.items() if v["label"] != NOT_ASSESSED}
    if not assessed:
        met = None
        detail = "; ".join(f"{s}: not assessed ({v['reason']})" for s, v in labels.items()) or \
            "the analysis gave no foot-function label"
    else:
        met = any(v["label"] == wanted for v in assessed.values())
        parts = []
        for s, v in labels.items():
            if v["label"] == NOT_ASSESSED:
                parts.append(f"{s}: not assessed ({v['reason']})")
            else:
                parts.append(f"{s}: {v['label']} ({describe_position(v['reference'], 'insole CPEI at the ')})")
        detail = "; ".join(parts) + f"; rule: {next(iter(labels.values()))['rule']}"
    return {
        "rule": f"Flag when the insole CPEI of at least one foot falls in the {_FIFTH[wanted]} fifth of healthy "
        "people recorded with the same insole model.",
        "met": met,
        "detail": detail,
        "source": "Song et al. 1996 (CPEI); Menz et al. 2013 (quintiles of the sample); the reference cohort named",
    }


_FIFTH = {"pronation": "lowest", "supination": "highest"}


def _status(met: bool | None, quality_failed: bool, inconsistent: bool = False) -> str:
    if quality_failed:
        return "withheld"
    if inconsistent:
        return "inconsistent"
    return "not available" if met is None else "flagged" if met else "not flagged"


def _orthoses_step() -> dict[str, str]:
    return {
        "option": "Footwear with firm heel counters or foot orthoses, to discuss with a podiatrist.",
        "evidence": (
            f"Evidence that insoles or orthoses prevent or reduce low back pain is {ORTHOSES_GRADE}: Sahar et al. "
            "2007 prevention risk ratio 0.73 (0.43-1.22); Chuter et al. 2014 treatment SMD -0.74 (-1.5 to 0.03)."
        ),
    }


def _insole_check_step() -> dict[str, str]:
    return {
        "option": "Check that both insoles lie flat and fully forward in the shoes and are the right size, then "
        "record again.",
        "evidence": "Opposite foot-function labels on the two feet are unusual in walking.",
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
        m["reference"] = ("Healthy people recorded with the same insole model (the reference cohort named in the "
                          "position); lower = more medial CoP path. Platform CPEI values (e.g. "
                          + ", ".join(f"{k} {v}" for k, v in CPEI_REFERENCE["group_means_pct"].items())
                          + " in cadets) are on another scale and are not used.")
        m["position"] = _cpei_position(m, labels.get(m["side"]))
    rule = _label_rule(labels, "pronation")
    status = _status(rule["met"], quality_failed, contradictory(labels))
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
    elif status == "inconsistent":
        text = f"Not interpreted: {CONTRADICTION}."
        next_steps = [_insole_check_step()]
    else:
        text = "Not assessed." if status == "withheld" else f"Not assessed: {rule['detail']}."
        next_steps = []
    return {**link.to_dict(), "status": status, "measurements": measurements, "rules": [rule],
            "foot_function": labels, "interpretation": text, "next_steps": next_steps,
            "cpei_caveats": CPEI_REFERENCE["caveats"]}


def supination_card(metrics: SessionMetrics, labels, quality_failed) -> dict[str, Any]:
    link = LINKS["supination"]
    measurements = []
    for side in SIDES:
        m = _measurement(metrics, side, "cpei_pct", "insole CPEI (%)")
        m["reference"] = "Same reference cohort as the pronation card; higher = more lateral CoP path."
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
    status = _status(rule["met"], quality_failed, contradictory(labels))
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
    elif status == "inconsistent":
        text = f"Not interpreted: {CONTRADICTION}."
        next_steps = [_insole_check_step()]
    else:
        text = "Not assessed." if status == "withheld" else f"Not assessed: {rule['detail']}."
        next_steps = []
    return {**link.to_dict(), "status": status, "measurements": measurements, "rules": [rule],
            "interpretation": text, "next_steps": next_steps}


def _symmetry_measurement(metrics: SessionMetrics, name: str, label: str) -> dict[str, Any]:
    sym: Symmetry = getattr(metrics.bilateral.symmetry, name)
    return {
        "label": label, "side": "both", "metric": name, "value": sym.si_pct, "units": "% (SI, right vs left)",
        "measure_units": sym.unit, "ci95": list(sym.ci95) if sym.ci95 else None,
        "ci_source": "percentile bootstrap of the SI of the side medians (2,000 resamples)" if sym.ci95 else None,
        "sa_pct": sym.sa_pct, "n": {"left": sym.n_left, "right": sym.n_right}, "available": sym.available,
        "reason": sym.reason,
        "reference_position": msgspec.to_builtins(sym.reference) if sym.reference else None,
        "method": "SI = (R - L) / (0.5 (R + L)) x 100 of the side medians (Robinson et al. 1987); SA (Zifchock "
                  "et al. 2008)",
    }


def asymmetry_card(metrics: SessionMetrics, quality_failed) -> dict[str, Any]:
    link = LINKS["asymmetry"]
    stance = _symmetry_measurement(metrics, "stance_time_s", "stance time symmetry")
    peak = _symmetry_measurement(metrics, LLD_PEAK_METRIC, "peak force symmetry (maximum force)")
    for m in (stance, peak):
        m["reference"] = ("Healthy asymmetry with the same insole model: |SI| of the reference cohort (95th "
                          "percentile shown in the rule). Effect size for comparison: "
                          f"{LLD_REFERENCE['source']}: long-leg stance "
                          f"{LLD_REFERENCE['long_leg_stance_change_pct']:+.1f} %, peak pressure "
                          f"{LLD_REFERENCE['long_leg_peak_pressure_change_pct']:+.0f} %")
    for m in (stance, peak):
        if not m["available"]:
            m["position"] = f"not available: {m['reason']}" if m["reason"] else "not available"
            continue
        lo, hi = m["ci95"] if m["ci95"] else (m["value"], m["value"])
        side_hi = "right" if m["value"] > 0 else "left"
        excl = "95% CI excludes 0" if m["ci95"] and (lo > 0 or hi < 0) else (
            "95% CI includes 0" if m["ci95"] else "no CI available")
        ref = getattr(metrics.bilateral.symmetry, m["metric"]).reference
        where = describe_position(ref, "|SI| at the ", cohort=metrics.provenance.reference_cohort,
                                  unit=m["measure_units"])
        m["position"] = f"{abs(m['value']):.1f} % higher on the {side_hi} ({excl}); {where}"
    lld = metrics.bilateral.lld_pattern
    met = lld.consistent
    c = lld.criteria
    if c is not None and c.healthy_stance_si_pct is not None:
        detail = (f"stance SI {c.stance_si_pct:+.1f} % vs healthy 95th percentile {c.healthy_stance_si_pct:.1f} % "
                  f"({'beyond' if c.stance_criterion else 'within'}); peak-force SI {c.peak_si_pct:+.1f} % vs "
                  f"{c.healthy_peak_si_pct:.1f} % ({'beyond' if c.peak_criterion else 'within'}"
                  f"{', opposite side' if c.peak_criterion else ''}); cohort n = {c.n_cohort}")
    else:
        detail = f"not assessed: {lld.reason}"
    rule = {
        "rule": "Flag when one foot has both a longer stance and a lower peak force, each asymmetry beyond the 95th "
        "percentile of healthy people recorded with the same insole model (the pattern the literature associates "
        "with a leg-length difference).",
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
        text = "Not assessed." if status == "withheld" else f"Not assessed: {lld.reason}."
        next_steps = []
    return {**link.to_dict(), "status": status, "measurements": [stance, peak], "rules": [rule],
            "interpretation": text, "next_steps": next_steps}


def msgspec_items(record: Any) -> list[tuple[str, Any]]:
    """(field, value) pairs of a record, in field order."""
    return [(f, getattr(record, f)) for f in record.__struct_fields__]


def speed_card(metrics: SessionMetrics, quality_failed: bool) -> dict[str, Any]:
    """The walking-speed card: gait speed and stride length from the insole IMU, against the reference cohort of
    the same insole model when there is one. Context for the screen, not a kinetic-chain link: it is not counted
    in the tier."""
    measurements = []
    for side in SIDES:
        for name, label in (("gait_speed_m_s", "gait speed (m/s)"), ("stride_length_m", "stride length (m)")):
            m = _measurement(metrics, side, name, label)
            m["reference"] = ("Healthy people recorded with the same insole model (the reference cohort named in "
                              "the position)")
            if not m["available"]:
                m["position"] = f"not available: {m['reason']}" if m["reason"] else "not available"
            else:
                ref = metrics.side(side).metric(name).reference
                m["position"] = describe_position(ref, cohort=metrics.provenance.reference_cohort, unit=m["units"])
            measurements.append(m)
    speeds = [m for m in measurements if m["metric"] == "gait_speed_m_s"]
    available = [m for m in speeds if m["available"]]
    positioned = [m for m in available if m["reference_position"]]
    if not available:
        met, detail = None, "; ".join(f"{m['side']}: {m['position']}" for m in speeds)
    elif len(positioned) < len(available):
        met, detail = None, ("the speed is shown but not positioned: no reference cohort of this insole model "
                             "holds gait speeds")
    else:
        met = all(m["reference_position"]["percentile"] < 20 for m in positioned)
        detail = "; ".join(f"{m['side']}: {m['position']}" for m in positioned)
    rule = {
        "rule": "Flag when the gait speed of every foot with IMU figures is in the lowest fifth of healthy people "
        "recorded with the same insole model.",
        "met": met, "detail": detail, "source": f"{SPEED_EVIDENCE.citation}; the reference cohort named",
    }
    status = _status(met, quality_failed)
    if status == "flagged":
        text = ("Walking is slower than in most healthy people recorded with this insole. People with persistent "
                "low back pain walk more slowly and with shorter strides on average; slower walking is also "
                "common with age, other pain and many conditions, so this is a prompt to ask, not a finding "
                "about the back.")
    elif status == "not flagged":
        text = "The walking speed is within the range of healthy people recorded with this insole."
    elif status == "withheld":
        text = "Not assessed."
    else:
        text = f"Not assessed: {detail}."
    return {
        "link_id": "walking_speed", "title": "Walking speed and stride length",
        "chain": ["persistent low back pain", "slower walking, shorter strides (an association, seen in "
                  "cross-sectional studies)"],
        "grade": SPEED_GRADE, "studies": [SPEED_EVIDENCE.to_dict()],
        "limits": ["Speed and stride length come from the insole's inertial sensor, integrated stride by stride "
                   "between the still moments of stance; they are reported only for strides that pass the "
                   "integration gates, with their number.", "The card is context for the screen and is not "
                   "counted in its result."],
        "status": status, "measurements": measurements, "rules": [rule], "interpretation": text,
        "next_steps": [],
    }
