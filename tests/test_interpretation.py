"""The evidence base, the findings rules and the statistics behind the back-strain section and the comparison."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import msgspec
import numpy as np
import pytest
from scipy import stats

from insole.importers import import_recording
from pipeline.analysis import analyze_session
from pipeline.interpretation import LINKS, build_findings, forbidden_phrases
from pipeline.interpretation.evidence import CPEI_REFERENCE, LLD_REFERENCE, ORTHOSES_EVIDENCE
from pipeline.statistics import (
    cliffs_delta,
    hedges_g,
    mdc95,
    symmetry_angle_pct,
    symmetry_index_pct,
    welch_ci95,
)

EVIDENCE_NOTE = Path(__file__).resolve().parents[1].parent / "shared" / "design" / "gait-evidence.md"
SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"
#: The simulated profiles that show each pattern (the real analysis of real recorded files finds it).
PROFILE = {"neutral": "neutral", "pronation": "overpronation", "supination": "oversupination",
           "lld": "leg-length-discrepancy"}


def _findings(result):
    return build_findings(result.metrics, result.steps)


def _note() -> str:
    if not EVIDENCE_NOTE.exists():
        pytest.skip(f"{EVIDENCE_NOTE} not present")
    return EVIDENCE_NOTE.read_text(encoding="utf-8")


def _numbers(text: str) -> set[float]:
    text = text.replace("95% CI", "").replace("95 % CI", "")
    return {float(n.replace(",", "")) for n in re.findall(r"\d+(?:[.,]\d+)*", text)}


def test_every_link_has_design_population_effect_and_grade():
    assert set(LINKS) == {"pronation", "supination", "asymmetry"}
    for link in LINKS.values():
        assert link.grade and link.chain and link.limits
        for study in link.studies:
            assert study.citation and study.design and study.population and study.effect


def test_evidence_figures_are_transcribed_from_the_design_note():
    """Every number in an effect, grade or reference must occur in gait-evidence.md (no invented figures)."""
    note = _note()
    note_numbers = _numbers(note)
    texts = [s.effect for link in LINKS.values() for s in link.studies] + [s.effect for s in ORTHOSES_EVIDENCE]
    texts += [str(v) for v in CPEI_REFERENCE["group_means_pct"].values()]
    texts += [str(LLD_REFERENCE["long_leg_stance_change_pct"]),
              str(-LLD_REFERENCE["long_leg_peak_pressure_change_pct"])]
    for text in texts:
        for n in _numbers(text):
            assert n in note_numbers, f"{n!r} (in {text!r}) is not in gait-evidence.md"
    for link in LINKS.values():
        for grade in re.split(r";|\(", link.grade):
            word = grade.strip(" )")
            if word and not word.startswith(("foot", "kinetic", "leg", "gait")):
                assert word in note, f"grade {word!r} of {link.link_id} not in the note"
    for study in (s for link in LINKS.values() for s in link.studies):
        author = study.citation.split()[0].rstrip(",")
        assert author in note, f"{study.citation} is not a source in gait-evidence.md"


def test_figures_not_in_the_design_note_say_where_they_were_verified():
    """The walking-speed figures are not in gait-evidence.md; the study says where they were read (a DOI)."""
    from pipeline.interpretation.evidence import SPEED_EVIDENCE

    assert "doi:10.1016/j.jshs.2022.02.001" in SPEED_EVIDENCE.verified_in
    assert all(not s.verified_in for link in LINKS.values() for s in link.studies)  # those are from the note


def test_forbidden_phrase_detector_catches_each_phrase():
    for bad in ("flat feet causes back pain", "a diagnosis of", "LLD detected", "this will lead to pain",
                "orthotics correct it" .replace("correct", "corrects"), "leg-length difference detected"):
        assert forbidden_phrases(bad), bad
    assert forbidden_phrases("consistent with, associated with, among other explanations") == []


@pytest.mark.parametrize("pattern, flagged, tier", [
    ("neutral", [], "no notable pattern"),
    ("pronation", ["pronation"], "pattern of interest"),
    ("supination", ["supination"], "pattern of interest"),
    ("lld", ["asymmetry"], "pattern of interest"),
])
def test_tier_follows_the_stated_rules(result_factory, pattern, flagged, tier):
    f = _findings(result_factory(PROFILE[pattern], 60.0, 5))
    assert f["tier"]["flagged_links"] == flagged
    assert f["tier"]["tier"] == tier
    applied = [r for r in f["tier_rules"] if r["applies"]]
    assert len(applied) == 1 and applied[0]["tier"] == tier
    for card in f["cards"]:
        assert card["status"] == ("flagged" if card["link_id"] in flagged else "not flagged")
        assert card["rules"] and all(r["rule"] and r["source"] for r in card["rules"])
        if card["status"] == "flagged":
            assert card["next_steps"], "a flagged card offers options to discuss"
            assert all("discuss" in s["option"] or "assessment" in s["option"] for s in card["next_steps"])


def test_two_flagged_links_give_pattern_of_concern(result_factory):
    result = result_factory(PROFILE["pronation"], 60.0, 5)
    bil = result.metrics.bilateral
    both = msgspec.structs.replace(result.metrics, bilateral=msgspec.structs.replace(
        bil, lld_pattern=msgspec.structs.replace(bil.lld_pattern, consistent=True)))
    f = build_findings(both, result.steps)
    assert f["tier"]["tier"] == "pattern of concern"
    assert sorted(f["tier"]["flagged_links"]) == ["asymmetry", "pronation"]


def test_measurements_carry_ci_n_and_position_against_a_reference(result_factory):
    result = result_factory(PROFILE["pronation"], 60.0, 5)
    f = _findings(result)
    card = next(c for c in f["cards"] if c["link_id"] == "pronation")
    for m in card["measurements"]:
        lo, hi = m["ci95"]
        assert lo <= m["value"] <= hi and m["n"] == result.metrics.side(m["side"]).cpei_pct.n > 30
        ff = result.metrics.side(m["side"]).foot_function
        assert ff.label == "pronation" and ff.reference.percentile < 20
        assert m["position"].startswith("pronation: ") and "percentile" in m["position"]
        assert result.metrics.provenance.reference_cohort.split(" (")[0] in m["position"]
    asym = next(c for c in f["cards"] if c["link_id"] == "asymmetry")
    stance = asym["measurements"][0]
    # the bootstrap CI brackets the SI computed from the side medians
    assert stance["ci95"][0] <= stance["value"] <= stance["ci95"][1]
    assert stance["value"] == result.metrics.bilateral.symmetry.stance_time_s.si_pct
    assert "3.5" in stance["reference"]


def test_failed_quality_withholds_cards_and_tier(result_factory):
    f = _findings(result_factory(PROFILE["pronation"], 60.0, 5, left_only_s=8.0))
    assert f["quality"]["passed"] is False and f["quality"]["failed_sides"] == ["left"]
    assert f["tier"]["tier"] == "not assessed"
    assert all(c["status"] == "withheld" for c in f["cards"])
    assert all(c["next_steps"] == [] for c in f["cards"])


def test_links_a_device_cannot_assess_are_not_available(tmp_path):
    """One uncalibrated FSR per foot (PhysioNet gaitndd): no CoP path, so no foot-function label, and no force that
    two sensors can be compared by, so no leg-length pattern; each says why, and the stance asymmetry is still
    positioned among the shipped gaitndd controls (the subject's own recording left out)."""
    path = import_recording("gaitndd", SAMPLES / "gaitndd" / "control1.hea", tmp_path / "c1.h5")
    result = analyze_session(path)
    f = _findings(result)
    status = {c["link_id"]: c["status"] for c in f["cards"]}
    assert status == {"pronation": "not available", "supination": "not available", "asymmetry": "not available"}
    assert set(f["tier"]["links_not_assessed"]) == {"pronation", "supination", "asymmetry"}
    assert f["tier"]["tier"] == "not assessed"
    pron = next(c for c in f["cards"] if c["link_id"] == "pronation")
    assert all("one sensor" in m["position"] for m in pron["measurements"])
    asym = next(c for c in f["cards"] if c["link_id"] == "asymmetry")
    assert "uncalibrated sensors" in asym["rules"][0]["detail"]
    stance, peak = asym["measurements"]
    assert "gaitndd healthy controls" in stance["position"] and "own recordings left out" in stance["position"]
    assert "raw counts of uncalibrated sensors" in peak["position"]
    assert result.metrics.provenance.reference_cohort.startswith("gaitndd healthy controls")


def test_generated_wording_is_clean_for_every_pattern_and_quality_state(result_factory):
    for pattern, passed in itertools.product(PROFILE, (True, False)):
        result = result_factory(PROFILE[pattern], 30.0, left_only_s=None if passed else 6.0)
        f = _findings(result)
        text = repr(f)
        assert forbidden_phrases(text) == [], (pattern, passed, forbidden_phrases(text))


# ------------------------------------------------------------------------------------------------ statistics
def test_symmetry_index_and_angle_properties():
    assert symmetry_index_pct(1.0, 1.0) == 0 and symmetry_angle_pct(1.0, 1.0) == 0
    assert symmetry_index_pct(1.0, 1.1) == pytest.approx(-symmetry_index_pct(1.1, 1.0))
    assert symmetry_angle_pct(1.0, 1.1) == pytest.approx(-symmetry_angle_pct(1.1, 1.0))
    # SI of (R - L) / mean: 10 % more on the right is ~ +9.5 %
    assert symmetry_index_pct(1.0, 1.1) == pytest.approx(0.1 / 1.05 * 100)
    assert abs(symmetry_angle_pct(1.0, 1e9)) <= 50  # bounded


def test_cliffs_delta_matches_pairwise_definition():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 37), np.round(rng.normal(0.4, 1, 41), 1)
    a = np.round(a, 1)  # ties on purpose
    brute = np.mean(np.sign(b[:, None] - a[None, :]))
    assert cliffs_delta(a, b) == pytest.approx(brute)


def test_welch_ci_matches_scipy():
    rng = np.random.default_rng(4)
    a, b = rng.normal(1.0, 0.1, 30), rng.normal(1.05, 0.2, 25)
    ref = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert welch_ci95(a, b) == pytest.approx((ref.low, ref.high))


def test_hedges_g_bias_correction_and_sign():
    rng = np.random.default_rng(5)
    a, b = rng.normal(0, 1, 20), rng.normal(1, 1, 20)
    g, (lo, hi) = hedges_g(a, b)
    sp = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    d = (b.mean() - a.mean()) / sp
    assert 0 < g < d and lo < g < hi
    assert hedges_g(b, a)[0] == pytest.approx(-g)
    assert hedges_g(a, a + 0.0) == (0.0, pytest.approx(hedges_g(a, a)[1]))


def test_mdc_formula():
    assert mdc95(1.0) == pytest.approx(1.96 * np.sqrt(2))


def test_insole_cpei_is_positioned_in_the_cohort_not_against_platform_cut_offs(result_factory):
    """An insole CPEI reads on its own scale: it is placed among healthy recordings of the same insole model, never
    against platform CPEI groups (planus 21.6 ... in cadets)."""
    result = result_factory("neutral", 60.0, 5)
    card = build_findings(result.metrics, result.steps)["cards"][0]
    for m in card["measurements"]:
        ff = result.metrics.side(m["side"]).foot_function
        assert ff.label == "neutral" and 20 <= ff.reference.percentile <= 80
        assert m["position"].startswith(f"neutral: {round(ff.reference.percentile)}")
        assert "simulated walkers, not a clinical reference (16 cells)" in m["position"]
        assert "planus" not in m["position"]
        assert "are not used" in m["reference"]

def test_opposite_labels_on_the_two_feet_are_reported_as_an_insole_check(result_factory):
    """A pronated left foot beside a mirrored right insole (turned over or in the wrong shoe) reads pronated on one
    side and supinated on the other: the cards say 'inconsistent' and ask for an insole check, not a pattern."""
    result = result_factory(PROFILE["pronation"], 60.0, 5, mirrored="right")
    labels = {s: result.metrics.side(s).foot_function.label for s in ("left", "right")}
    assert labels == {"left": "pronation", "right": "supination"}
    f = _findings(result)
    cards = {c["link_id"]: c for c in f["cards"]}
    for link in ("pronation", "supination"):
        assert cards[link]["status"] == "inconsistent"
        assert "insole problem" in cards[link]["interpretation"]
        assert [s["option"] for s in cards[link]["next_steps"]] == [
            "Check that both insoles lie flat and fully forward in the shoes and are the right size, then record "
            "again."]
    assert sorted(f["tier"]["links_inconsistent"]) == ["pronation", "supination"]
    assert f["tier"]["tier"] != "pattern of concern" and "pronation" not in f["tier"]["flagged_links"]
