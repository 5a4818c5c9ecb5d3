"""Simulator profiles through the real analysis into the back-strain section: the expected findings appear.

They depend on the analysis core filling ``foot_function``, ``bilateral.lld_pattern`` and ``quality``, with the
positions in the simulated test cohort (``simulated_cohort`` in conftest: the mechanism, not a clinical reference).
"""

from __future__ import annotations

from pipeline.analysis import analyze_session
from pipeline.interpretation import build_findings
from pipeline.report import render_report_html


def _findings(session_factory, simulated_cohort, profile: str):
    result = analyze_session(session_factory(profile, duration_s=60), cohort=simulated_cohort(16))
    findings = build_findings(result.metrics, result.steps)
    return result, findings, {c["link_id"]: c for c in findings["cards"]}


def test_overpronation_flags_the_pronation_card(session_factory, simulated_cohort):
    result, findings, cards = _findings(session_factory, simulated_cohort, "overpronation")
    assert findings["quality"]["passed"] is True
    assert cards["pronation"]["status"] == "flagged"
    assert cards["supination"]["status"] == "not flagged"
    assert findings["tier"]["tier"] in {"pattern of interest", "pattern of concern"}
    assert 'id="card-pronation" data-status="flagged"' in render_report_html(result)


def test_neutral_gives_no_notable_pattern(session_factory, simulated_cohort):
    result, findings, cards = _findings(session_factory, simulated_cohort, "neutral")
    assert findings["quality"]["passed"] is True
    assert all(c["status"] == "not flagged" for c in cards.values())
    assert findings["tier"]["tier"] == "no notable pattern"


def test_oversupination_flags_the_supination_card(session_factory, simulated_cohort):
    _, findings, cards = _findings(session_factory, simulated_cohort, "oversupination")
    assert cards["supination"]["status"] == "flagged" and cards["pronation"]["status"] == "not flagged"


def test_leg_length_profile_flags_the_asymmetry_card(session_factory, simulated_cohort):
    _, findings, cards = _findings(session_factory, simulated_cohort, "leg-length-discrepancy")
    assert cards["asymmetry"]["status"] == "flagged"
    stance = cards["asymmetry"]["measurements"][0]
    assert stance["value"] > 0 and stance["ci95"][0] > 0  # the right (long) leg stands longer, CI excludes 0
