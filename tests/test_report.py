"""The session report: JSON structure, self-containment, escaping, wording, quality handling, real sessions."""

from __future__ import annotations

import html
import json
import re

import markupsafe
import pytest
from contract_results import make_result

from pipeline.analysis import analyze_session
from pipeline.errors import ReportError
from pipeline.interpretation import forbidden_phrases
from pipeline.report import render_report_html, report_json, write_report, write_report_json

NUM = (int, float)
OPT_NUM = (int, float, type(None))
OPT_STR = (str, type(None))
SUMMARY_KEYS = {"median", "mean", "sd", "n", "cv_pct", "ci95", "units", "method"}


def _check_summary(s):
    if s is not None:
        assert set(s) == SUMMARY_KEYS
        assert isinstance(s["mean"], OPT_NUM) and isinstance(s["n"], int | None)


def _check_report_structure(doc: dict) -> None:
    """Snapshot of the report JSON: keys and types (never the numbers)."""
    assert set(doc) == {
        "schema", "schema_version", "kind", "software", "generated_utc", "session", "sides", "steps", "provenance",
        "quality", "withheld", "temporal", "bilateral", "kinetics", "symmetry", "lld_pattern", "foot_function",
        "regions", "curves", "back_strain", "methods", "references",
    }
    assert doc["schema"] == "insole-report" and doc["schema_version"] == 1 and doc["kind"] == "session"
    assert set(doc["software"]) == {"name", "version"}
    s = doc["session"]
    assert set(s) == {"subject_id", "condition", "notes", "body_mass_kg", "foot_length_mm", "shoe_size_eu",
                      "created_utc", "source", "duration_s", "file", "feet"}
    for key in ("subject_id", "condition", "notes", "created_utc", "source", "file"):
        assert isinstance(s[key], OPT_STR)
    for foot in s["feet"].values():
        assert set(foot) == {"layout_id", "n_sensors", "sampling_rate_hz", "units", "device_model", "device_serial"}
    assert set(doc["quality"]) == {"available", "passed", "failures", "warnings", "strides", "sync_ok",
                                   "saturation_pct", "dropout_pct"}
    for row in doc["temporal"] + doc["kinetics"]:
        assert set(row) == {"metric", "label", "units", "left", "right", "method"}
        _check_summary(row["left"])
        _check_summary(row["right"])
    assert [r["metric"] for r in doc["temporal"]][:3] == ["stride_time_s", "stance_time_s", "swing_time_s"]
    for row in doc["symmetry"]:
        assert set(row) == {"metric", "label", "si_pct", "sa_pct", "n_left", "n_right", "source", "in_chart"}
        assert isinstance(row["sa_pct"], OPT_NUM)
    bs = doc["back_strain"]
    assert set(bs) == {"quality", "tier", "tier_rules", "tier_caveat", "cards", "general_next_steps", "limits"}
    assert bs["tier"]["tier"] in {"no notable pattern", "pattern of interest", "pattern of concern", "not assessed"}
    assert [c["link_id"] for c in bs["cards"]] == ["pronation", "supination", "asymmetry"]
    for card in bs["cards"]:
        assert {"status", "grade", "chain", "studies", "measurements", "rules", "interpretation", "next_steps",
                "limits", "title"} <= set(card)
        assert card["status"] in {"flagged", "not flagged", "not available", "withheld"}
        for m in card["measurements"]:
            assert {"label", "side", "value", "ci95", "n", "reference", "position", "available"} <= set(m)
            assert m["ci95"] is None or (len(m["ci95"]) == 2 and all(isinstance(v, NUM) for v in m["ci95"]))
    assert all(isinstance(r, str) for r in doc["references"] + doc["methods"])
    json.dumps(doc, allow_nan=False)  # strict JSON: no NaN / inf anywhere


def test_json_structure_of_a_full_contract_result():
    doc = report_json(make_result("pronation"))
    _check_report_structure(doc)
    assert doc["sides"] == ["left", "right"]
    assert doc["steps"]["left"] == {"detected": 40, "valid": 40}
    assert doc["back_strain"]["tier"]["tier"] == "pattern of interest"
    assert set(doc["regions"]["left"]) >= {"heel_medial", "forefoot_lateral"}


def test_json_structure_with_the_current_analysis(neutral_session, tmp_path):
    """Whatever the installed analysis fills, the report JSON keeps its structure and says what is missing."""
    result = analyze_session(neutral_session)
    out = write_report_json(result, tmp_path / "r.json")
    doc = json.loads(out.read_text())
    _check_report_structure(doc)
    assert doc["session"]["subject_id"] == "SIM-neutral-1" and doc["session"]["feet"]["left"]["n_sensors"] == 16
    assert doc["temporal"][0]["left"]["n"] > 20


def test_html_is_self_contained_and_has_every_section(tmp_path):
    out = write_report(make_result("neutral"), tmp_path / "report.html")
    text = out.read_text(encoding="utf-8")
    assert not list(tmp_path.glob("*.partial"))
    for section in ("summary", "quality", "temporal", "force", "cop", "regions", "symmetry", "back-strain",
                    "methods", "references", "software"):
        assert f'id="{section}"' in text, section
    for fig in ("force_curves", "cop", "regions", "symmetry"):
        assert f'data-figure="{fig}"' in text, fig
    # no external resources and no script at all
    assert "<script" not in text.lower()
    for attr in re.findall(r'(?:src|href)="([^"]*)"', text):
        assert attr.startswith(("data:", "#")), attr
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text
    assert "@media print" in text
    assert "insole 0." in text or "insole " in text


def test_every_figure_says_how_and_from_how_many_steps():
    text = render_report_html(make_result("neutral", n_steps=33))
    captions = re.findall(r'<figure data-figure="(\w+)">.*?<figcaption>(.*?)</figcaption>', text, flags=re.S)
    assert {k for k, _ in captions} == {"force_curves", "cop", "regions", "symmetry"}
    for key, cap in captions:
        assert len(cap) > 60, key
        assert "left 33" in cap and "right 33" in cap, (key, cap)
    assert "n left" in text  # the symmetry table gives n per side


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_strings_from_the_file_are_escaped():
    result = make_result("neutral", subject_id=XSS, notes="<b>bold</b> & <iframe src=//evil>", condition="<i>x</i>")
    result.metrics["quality"]["warnings"] = ["<script>warn()</script>"]
    result.metrics["left"]["regions"]["<svg onload=alert(1)>"] = {"peak_pressure_kpa": 10.0}
    text = render_report_html(result)
    assert "<script" not in text.lower() and "<iframe" not in text and "onerror=alert" not in text.replace(
        "onerror=alert(1)&gt;", "")
    assert "<svg onload" not in text and "<b>bold" not in text and "<i>x</i>" not in text
    assert str(markupsafe.escape(XSS)) in text  # shown as text, every character preserved
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;iframe" in text


def test_failed_quality_is_prominent_and_withholds_affected_figures():
    result = make_result("pronation", quality_passed=False, failures=("left: 6 strides, fewer than 10",))
    doc = report_json(result)
    assert doc["withheld"]["force_curves"]["sides"] == ["left"]
    assert doc["withheld"]["back_strain"]
    text = render_report_html(result)
    banner = text.index('id="quality-banner"')
    assert banner < text.index('id="summary"'), "the failure banner comes before everything else"
    assert "left: 6 strides, fewer than 10" in text
    assert 'data-withheld="force_curves"' in text and 'data-withheld="back_strain"' in text
    assert 'data-figure="symmetry"' not in text
    assert 'data-figure="force_curves"' in text  # the right foot is still shown
    assert 'data-status="withheld"' in text and "not assessed" in text

    result = make_result("neutral", quality_passed=False, failures=("no double support: feet not synchronised",))
    text = render_report_html(result)
    for fig in ("force_curves", "cop", "regions", "symmetry"):
        assert f'data-figure="{fig}"' not in text, fig


def test_missing_fields_show_not_available():
    result = make_result("neutral")
    result.curves = {}
    result.layouts = {}
    for side in ("left", "right"):
        for key in ("regions", "foot_function", "cpei_pct"):
            result.metrics[side].pop(key)
    del result.metrics["quality"], result.metrics["bilateral"]
    text = render_report_html(result)
    assert text.count("not available") > 10
    assert 'data-missing="force_curves"' in text and 'data-missing="cop"' in text
    assert "This analysis version reports no data-quality gates" in text
    doc = report_json(result)
    assert doc["back_strain"]["tier"]["tier"] in {"not assessed", "no notable pattern"}


@pytest.mark.parametrize("pattern", ["neutral", "pronation", "supination", "lld"])
@pytest.mark.parametrize("passed", [True, False])
def test_no_forbidden_wording_in_any_report(pattern, passed):
    result = make_result(pattern, quality_passed=passed, failures=() if passed else ("right: saturated 12 %",))
    text = html.unescape(re.sub(r"<[^>]+>", " ", render_report_html(result)))
    assert forbidden_phrases(text) == []
    assert forbidden_phrases(json.dumps(report_json(result))) == []


def test_no_forbidden_wording_with_real_simulated_profiles(session_factory):
    for profile in ("neutral", "overpronation", "oversupination", "leg-length-discrepancy"):
        result = analyze_session(session_factory(profile, duration_s=30))
        text = html.unescape(re.sub(r"<[^>]+>", " ", render_report_html(result)))
        assert forbidden_phrases(text) == [], profile


def test_write_errors_are_clear(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        write_report(make_result("neutral"), tmp_path / "missing" / "r.html")
    with pytest.raises(ReportError, match="is a folder"):
        write_report(make_result("neutral"), tmp_path)


def _malformed(case: str):
    r = make_result("pronation", n_steps=12)
    m = r.metrics
    if case == "side_not_a_dict":
        m["left"] = "garbage"
    elif case == "summary_fields_wrong_types":
        m["left"]["stance_time_s"] = {"median": "fast", "mean": float("nan"), "sd": [1], "n": "x", "ci95": [1]}
        m["right"]["cpei_pct"] = {"median": float("inf"), "ci95": None}
    elif case == "quality_wrong_types":
        m["quality"] = {"passed": False, "failures": "one string", "strides": [3, 4], "sync_ok": "yes",
                        "saturation_pct": None}
    elif case == "regions_and_labels_odd":
        m["left"]["regions"] = {"heel": "n/a", "forefoot": {"peak_pressure_kpa": None}, "??": {}}
        m["right"]["foot_function"] = {"label": None, "confidence": "high"}
    elif case == "bilateral_odd":
        m["bilateral"] = {"symmetry": {"stance_time_s": "n/a"}, "lld_pattern": "yes", "cadence_steps_per_min": 5}
    elif case == "curves_odd":
        r.curves = {"left": {"force": [[1.0, 2.0]], "cop_ap": None}, "right": {"force": [[float("nan")] * 101]}}
    elif case == "steps_odd":
        r.steps = r.steps.drop(columns=["valid"]).assign(cpei_pct="x")
    elif case == "one_foot":
        del m["right"]
        r.curves.pop("right")
    return r


@pytest.mark.parametrize("case", ["side_not_a_dict", "summary_fields_wrong_types", "quality_wrong_types",
                                  "regions_and_labels_odd", "bilateral_odd", "curves_odd", "steps_odd", "one_foot"])
def test_malformed_analysis_fields_do_not_crash_the_report(case):
    result = _malformed(case)
    doc = report_json(result)
    json.dumps(doc, allow_nan=False)
    text = render_report_html(result)
    assert 'id="back-strain"' in text and "not available" in text


def test_session_info_accepts_per_side_maps():
    """metrics["session"] may give layout ids, rates and units as {side: value} maps (contract wording)."""
    result = make_result("neutral")
    del result.metrics["session"]["feet"]
    result.metrics["session"].update(layout_ids={"left": "moticon-16", "right": "moticon-16"},
                                     sampling_rates_hz={"left": 50, "right": 50}, units={"left": "N", "right": "N"})
    result.layouts = {}
    feet = report_json(result)["session"]["feet"]
    assert feet["left"]["layout_id"] == "moticon-16" and feet["right"]["sampling_rate_hz"] == 50.0
    assert feet["left"]["units"] == "N"
