"""Evidence cards and the overall tier of the back-strain section, built from the typed analysis result.

Honesty rules (``shared/design/gait-evidence.md``, "How a back-strain section stays honest"):

- data quality first: a session that failed its quality gates gets no cards and no tier, and says why;
- every measurement carries its 95 % confidence interval and the number of steps behind it;
- a measurement is positioned against a *stated* reference, never labelled;
- one card per kinetic-chain link with design, population, effect (with CI) and grade;
- wording is "consistent with" / "associated with"; the words and phrases in :data:`FORBIDDEN_PATTERNS` never
  appear in generated text;
- next steps are options to discuss with a clinician, each with the grade of its evidence;
- the tier is rule-based and every rule is returned with the tier.

The input is :class:`~pipeline.analysis.result.SessionMetrics` (every measure present, with its status, unit and
step count); the output is a JSON-ready dict, part of the report document (see :func:`build_findings`).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from pipeline.analysis.result import Quality, SessionMetrics
from pipeline.interpretation.cards import (
    asymmetry_card,
    foot_function_labels,
    pronation_card,
    speed_card,
    supination_card,
)

SIDES = ("left", "right")

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
        "link could be assessed (no reference cohort for the insole, a device that cannot give the measures, "
        "contradictory labels).",
    },
    {"tier": TIER_NONE, "rule": "No assessed kinetic-chain link is flagged; the links not assessed are listed beside "
     "the result, which says nothing about them."},
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
    "Positions are against healthy people recorded with the same insole model (the cohort named beside each); "
    "published effects come from other devices and populations, and their populations are named on each card.",
)


def quality_status(quality: Quality) -> dict[str, Any]:
    """The quality block of the report: passed, failure and warning messages, per-side figures."""

    def per_side(attr: str) -> dict[str, Any]:
        return {s: getattr(q, attr) for s in SIDES if (q := quality.side(s)) is not None}

    return {
        "passed": quality.passed,
        "failures": [f.message for f in quality.failures],
        "warnings": [w.message for w in quality.warnings],
        "failed_sides": sorted(quality.failed_sides()),
        "strides": per_side("strides"),
        "sync_ok": quality.sync_ok,
        "saturation_pct": per_side("saturation_pct"),
        "dropout_pct": per_side("dropout_pct"),
    }


def build_findings(metrics: SessionMetrics, steps: pd.DataFrame | None = None) -> dict[str, Any]:
    """Build the back-strain section from the analysis result (and the per-step table, for bootstrap CIs).

    Parameters
    ----------
    metrics : SessionMetrics
        ``AnalysisResult.metrics``.
    steps : pandas.DataFrame, optional
        ``AnalysisResult.steps``; used for the bootstrap CI of symmetry indices.

    Returns
    -------
    dict
        ``{"quality", "tier", "cards", "context_cards", "general_next_steps", "limits", "tier_rules",
        "tier_caveat"}``, JSON-ready; ``context_cards`` (walking speed) are shown but not counted in the tier.
    """
    quality = quality_status(metrics.quality)
    failed = not metrics.quality.passed
    labels = foot_function_labels(metrics)
    cards = [
        pronation_card(metrics, labels, failed),
        supination_card(metrics, labels, failed),
        asymmetry_card(metrics, failed),
    ]
    flagged = [c["link_id"] for c in cards if c["status"] == "flagged"]
    unassessed = [c["link_id"] for c in cards if c["status"] in ("not available", "inconsistent")]
    inconsistent = [c["link_id"] for c in cards if c["status"] == "inconsistent"]
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
    elif inconsistent:
        general.insert(0, {"option": "Check the insoles and their fit: the two feet were labelled in opposite "
                           "directions, which is more often an insole problem than foot function.",
                           "evidence": "See the foot-function cards."})
    return {
        "quality": quality,
        "tier": {"tier": tier, "flagged_links": flagged, "links_not_assessed": unassessed,
                 "links_inconsistent": inconsistent, "links_assessed": len(cards) - len(unassessed),
                 "links_total": len(cards)},
        "tier_rules": rules,
        "tier_caveat": TIER_CAVEAT,
        "cards": cards,
        "context_cards": [speed_card(metrics, failed)],
        "general_next_steps": general,
        "limits": list(GENERAL_LIMITS),
    }


def forbidden_phrases(text: str) -> list[str]:
    """Every forbidden phrase found in ``text`` (case-insensitive); empty when the wording is clean."""
    return [m.group(0) for p in FORBIDDEN_PATTERNS for m in re.finditer(p, text, flags=re.IGNORECASE)]
