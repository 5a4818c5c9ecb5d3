"""The session report: JSON structure, self-containment, escaping, wording, quality handling, units of the data.

Every result here comes from the real analysis of a real session file: simulated by the real simulator and
recorder, or imported from the third-party excerpts in ``sample_recordings/`` with the real importers.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from pathlib import Path

import markupsafe
import pytest
from click.testing import CliRunner

from insole.importers import import_recording
from insole.session import read_session
from pipeline import __version__
from pipeline.analysis import analyze_session
from pipeline.cli import cli
from pipeline.errors import ReportError
from pipeline.interpretation import forbidden_phrases
from pipeline.report import render_report_html, report_json, write_report, write_report_json

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"
NUM = (int, float)
OPT_NUM = (int, float, type(None))
OPT_STR = (str, type(None))
METRIC_KEYS = {"name", "label", "unit", "method", "status", "reason", "n", "median", "mean", "sd", "cv_pct", "ci95",
               "reference"}


def _check_report_structure(doc: dict) -> None:
    """Snapshot of the report JSON: keys and types (never the numbers)."""
    assert set(doc) == {
        "schema", "schema_version", "kind", "software", "generated_utc", "session", "sides", "steps", "events",
        "provenance",
        "quality", "withheld", "temporal", "bilateral", "kinetics", "symmetry", "lld_pattern", "foot_function",
        "regions", "region_rule", "curves", "plantar", "back_strain", "methods", "references", "norms",
        "stride_time_cv", "key_figures",
    }
    assert set(doc["plantar"]) == {"sides", "measures"}
    for p in doc["plantar"]["sides"].values():
        assert set(p) == {"maps", "strike", "masks", "mask_rule", "masks_without_cells"}
    assert doc["schema"] == "insole-report" and doc["schema_version"] == 3 and doc["kind"] == "session"
    assert doc["software"] == {"name": "insole", "version": __version__}
    s = doc["session"]
    assert set(s) == {"subject_id", "condition", "notes", "body_mass_kg", "foot_length_mm", "shoe_size_eu",
                      "created_utc", "source", "duration_s", "file", "feet"}
    for key in ("subject_id", "condition", "notes", "created_utc", "source", "file"):
        assert isinstance(s[key], OPT_STR)
    for foot in s["feet"].values():
        assert set(foot) == {"layout_id", "layout_geometry", "n_sensors", "sampling_rate_hz", "units",
                             "device_model", "device_serial"}
    assert set(doc["quality"]) == {"passed", "failures", "warnings", "failed_sides", "strides", "sync_ok",
                                   "saturation_pct", "dropout_pct"}
    for row in doc["temporal"] + doc["kinetics"]:
        assert set(row) == {"metric", "label", "units", "left", "right", "method", "reference_interval"}
        ri = row["reference_interval"]
        assert set(ri) == ({"available", "unit", "low", "high", "q1", "median", "q3", "n", "n_subjects", "rule",
                            "left_out"} if ri["available"] else {"available", "reason"})
        for cell in (row["left"], row["right"]):
            assert cell is None or set(cell) == METRIC_KEYS
            assert cell is None or cell["status"] in {"computed", "not_applicable", "not_computed"}
            assert cell is None or (cell["status"] == "computed") == (cell["reason"] == "")
    assert [r["metric"] for r in doc["temporal"]][:3] == ["stride_time_s", "stance_time_s", "swing_time_s"]
    for row in doc["symmetry"]:
        assert set(row) == {"metric", "label", "units", "si_pct", "sa_pct", "n_left", "n_right", "in_chart"}
        assert isinstance(row["sa_pct"], OPT_NUM)
    assert set(doc["norms"]) == {"covered", "reason", "cohort", "interval_rule", "curve_band", "curve_note"}
    assert doc["norms"]["covered"] == (doc["provenance"]["reference_cohort"] is not None)
    assert doc["norms"]["curve_band"] is False  # no shipped cohort holds force curves
    assert set(doc["stride_time_cv"]) == {"label", "unit", "kind", "published", "source", "subject", "caveat"}
    assert set(doc["key_figures"]) <= {r["metric"] for r in doc["temporal"] + doc["kinetics"]}
    bs = doc["back_strain"]
    assert set(bs) == {"quality", "tier", "tier_rules", "tier_caveat", "cards", "context_cards", "general_next_steps",
                       "limits"}
    assert bs["tier"]["tier"] in {"no notable pattern", "pattern of interest", "pattern of concern", "not assessed"}
    assert [c["link_id"] for c in bs["cards"]] == ["pronation", "supination", "asymmetry"]
    for card in bs["cards"]:
        assert {"status", "grade", "chain", "studies", "measurements", "rules", "interpretation", "next_steps",
                "limits", "title"} <= set(card)
        assert card["status"] in {"flagged", "not flagged", "not available", "withheld", "inconsistent"}
        for m in card["measurements"]:
            assert {"label", "side", "value", "ci95", "n", "reference", "position", "available"} <= set(m)
            assert m["ci95"] is None or (len(m["ci95"]) == 2 and all(isinstance(v, NUM) for v in m["ci95"]))
    assert all(isinstance(r, str) for r in doc["references"] + doc["methods"])
    json.dumps(doc, allow_nan=False)  # strict JSON: no NaN / inf anywhere


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """Real third-party excerpts imported by the real importers: gaitndd (raw counts of one FSR per foot) and
    Moticon (kPa from 16 cells, no body mass: newtons), keyed by the force unit they give."""
    root = tmp_path_factory.mktemp("imported")
    out = {}
    for unit, fmt, src in (("counts", "gaitndd", SAMPLES / "gaitndd" / "control1.hea"),
                           ("N", "moticon", SAMPLES / "moticon" / "230927_102114.txt")):
        out[unit] = import_recording(fmt, src, root / f"{fmt}.h5")
    return out


@pytest.mark.parametrize("unit", ["BW", "N", "counts"])
def test_kinetics_and_asymmetry_rows_are_filled_in_the_unit_of_the_data(unit, imported, neutral_session, tmp_path,
                                                                       simulated_cohort):
    """The raw-count bug: force rows and the asymmetry card must not depend on the force unit's name. The simulated
    session is reported against a cohort file of simulated walkers (``--cohort``), the imports against the shipped
    cohorts (gaitndd) or none (no Moticon cohort is shipped)."""
    path = neutral_session if unit == "BW" else imported[unit]
    extra = ["--cohort", str(simulated_cohort(16).save(tmp_path / "cohort.json"))] if unit == "BW" else []
    out = CliRunner().invoke(cli, ["report", str(path), "-o", str(tmp_path / "r.html"), "--json",
                                   str(tmp_path / "r.json"), *extra])
    assert out.exit_code == 0, out.output
    doc = json.loads((tmp_path / "r.json").read_text())
    _check_report_structure(doc)
    force_rows = {r["metric"]: r for r in doc["kinetics"]}
    for name, unit_of in (("peak1_force", unit), ("valley_force", unit), ("peak2_force", unit),
                          ("impulse", f"{unit} s"), ("loading_rate", f"{unit}/s")):
        row = force_rows[name]
        assert row["units"] == unit_of, row
        for side in ("left", "right"):
            assert row[side]["status"] == "computed" and row[side]["n"] >= 3 and row[side]["median"] > 0, row
    asym = next(c for c in doc["back_strain"]["cards"] if c["link_id"] == "asymmetry")
    peak = next(m for m in asym["measurements"] if m["metric"] == "max_force")
    assert peak["available"] and peak["value"] is not None and peak["measure_units"] == unit
    # interpreted with calibrated force and a cohort, unless a quality gate failed (the 60 s Moticon excerpt has
    # < 10 strides per foot); two uncalibrated sensors cannot be compared by force
    expected = {"BW": {"flagged", "not flagged"}, "N": {"withheld"}, "counts": {"not available"}}[unit]
    assert asym["status"] in expected, asym["rules"][0]["detail"]
    assert doc["quality"]["passed"] is (unit != "N")
    if unit == "counts":
        assert "uncalibrated sensors" in asym["rules"][0]["detail"]
    text = (tmp_path / "r.html").read_text()
    assert '<td>First force peak<span class="muted method"><br>' in text and f"<td>{unit}</td>" in text


def test_metrics_that_do_not_apply_say_so(imported):
    """A one-sensor insole has no centre-of-pressure path: the report says why instead of showing 0.0 %."""
    result = analyze_session(imported["counts"])
    doc = report_json(result)
    rows = {r["metric"]: r for r in doc["kinetics"]}
    for name in ("cop_path_length_pct", "cpei_pct", "lmfi_terminal"):
        for side in ("left", "right"):
            cell = rows[name][side]
            assert cell["status"] == "not_applicable" and "one sensor" in cell["reason"] and cell["median"] is None
    assert result.steps["cop_path_length_pct"].isna().all()  # and not 0.0 in the per-step table
    text = render_report_html(result)
    assert 'data-status="not_applicable"' in text and "not applicable: the insole has one sensor" in text
    for fig in ("cop", "regions"):  # the figure says why it is not drawn
        assert re.search(rf'data-missing="{fig}">[^<]*not applicable: the insole has one sensor', text), fig
    pron = next(c for c in doc["back_strain"]["cards"] if c["link_id"] == "pronation")
    assert pron["status"] == "not available" and "one sensor" in pron["rules"][0]["detail"]


def test_json_structure_of_a_real_session(neutral_session, tmp_path, simulated_cohort):
    result = analyze_session(neutral_session, cohort=simulated_cohort(16))
    doc = json.loads(write_report_json(result, tmp_path / "r.json").read_text())
    _check_report_structure(doc)
    assert doc["session"]["subject_id"] == "SIM-neutral-1" and doc["session"]["feet"]["left"]["n_sensors"] == 16
    assert doc["sides"] == ["left", "right"]
    assert doc["steps"]["left"]["valid"] == result.metrics.left.n_steps_valid > 20
    assert doc["temporal"][0]["left"]["n"] == result.metrics.left.stride_time_s.n
    assert set(doc["regions"]["left"]) >= {"heel", "forefoot", "medial", "lateral"}
    assert doc["back_strain"]["tier"]["tier"] == "no notable pattern"
    assert doc["events"]["left"]["definition"] == "threshold" and doc["events"]["left"]["to_share"] == 0.15
    assert doc["provenance"]["reference_cohort"].startswith(
        "simulated walkers, not a clinical reference (16 cells) (10 subjects")


def test_html_is_self_contained_and_has_every_section(neutral_session, tmp_path):
    out = write_report(analyze_session(neutral_session), tmp_path / "report.html")
    text = out.read_text(encoding="utf-8")
    assert not list(tmp_path.glob("*.partial"))
    for section in ("summary", "quality", "temporal", "force", "cop", "regions", "symmetry", "back-strain",
                    "methods", "references", "software"):
        assert f'id="{section}"' in text, section
    for fig in ("force_curves", "cop", "regions", "symmetry"):
        assert f'data-figure="{fig}"' in text, fig
    for side in ("left", "right"):  # the event definition and its source, under the temporal table
        assert re.search(rf'data-events="{side}">Events, {side} foot: threshold definition &mdash;\s+IC at 5 %', text)
    # no external resources and no script at all
    assert "<script" not in text.lower()
    for attr in re.findall(r'(?:src|href)="([^"]*)"', text):
        assert attr.startswith(("data:", "#")), attr
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text
    assert "@media print" in text
    assert f"by insole {__version__}" in text


def test_every_figure_says_how_and_from_how_many_steps(neutral_session):
    result = analyze_session(neutral_session)
    n = {s: result.curves[s].n_steps for s in ("left", "right")}
    text = render_report_html(result)
    captions = re.findall(r'<figure data-figure="(\w+)">.*?<figcaption>(.*?)</figcaption>', text, flags=re.S)
    assert {k for k, _ in captions} == {"force_curves", "cop", "regions", "symmetry", "pressure_peak", "pressure_pti",
                                        "masks", "cop_ends", "cop_stance", "force_steps"}
    for key, cap in captions:
        assert len(cap) > 60, key
        assert f"left {n['left']}" in cap and f"right {n['right']}" in cap, (key, cap)
    assert "n left" in text  # the symmetry table gives n per side


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_strings_from_the_file_are_escaped(result_factory):
    result = result_factory("neutral", 30.0, metadata={"subject_id": XSS, "condition": "<i>x</i>",
                                                        "notes": "<b>bold</b> & <iframe src=//evil>"})
    text = render_report_html(result)
    assert "<script" not in text.lower() and "<iframe" not in text and "onerror=alert" not in text.replace(
        "onerror=alert(1)&gt;", "")
    assert "<b>bold" not in text and "<i>x</i>" not in text
    assert str(markupsafe.escape(XSS)) in text  # shown as text, every character preserved
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;iframe" in text


def test_failed_quality_of_one_foot_is_prominent_and_withholds_its_figures(result_factory):
    result = result_factory("overpronation", 60.0, left_only_s=8.0)
    q = result.metrics.quality
    assert not q.passed and q.failed_sides() == {"left"}
    doc = report_json(result)
    assert doc["withheld"]["force_curves"]["sides"] == ["left"]
    assert doc["withheld"]["back_strain"]
    text = render_report_html(result)
    banner = text.index('id="quality-banner"')
    assert banner < text.index('id="summary"'), "the failure banner comes before everything else"
    assert html.escape(q.failures[0].message) in text and "steady-state strides" in q.failures[0].message
    assert 'data-withheld="force_curves"' in text and 'data-withheld="back_strain"' in text
    assert 'data-figure="symmetry"' not in text
    assert 'data-figure="force_curves"' in text  # the right foot is still shown
    assert 'data-status="withheld"' in text and "not assessed" in text


def test_unaligned_clocks_withhold_every_figure(result_factory):
    result = result_factory("neutral", 60.0, right_shift_s=0.54)  # half a stride: no double support left
    q = result.metrics.quality
    assert not q.passed and [f.code for f in q.failures] == ["sync"] and q.failures[0].side is None
    text = render_report_html(result)
    for fig in ("force_curves", "cop", "regions", "symmetry"):
        assert f'data-figure="{fig}"' not in text, fig
    assert "clocks are probably not aligned" in text


@pytest.mark.parametrize("profile", ["neutral", "overpronation", "oversupination", "leg-length-discrepancy"])
@pytest.mark.parametrize("failed", [False, True])
def test_no_forbidden_wording_in_any_report(result_factory, profile, failed):
    result = result_factory(profile, 30.0, left_only_s=6.0 if failed else None)
    assert result.metrics.quality.passed is not failed
    text = html.unescape(re.sub(r"<[^>]+>", " ", render_report_html(result)))
    assert forbidden_phrases(text) == []
    assert forbidden_phrases(json.dumps(report_json(result))) == []


def test_write_errors_are_clear(neutral_session, tmp_path):
    result = analyze_session(neutral_session)
    with pytest.raises(ReportError, match="does not exist"):
        write_report(result, tmp_path / "missing" / "r.html")
    with pytest.raises(ReportError, match="is a folder"):
        write_report(result, tmp_path)


def test_one_foot_report(neutral_session):
    sess = read_session(neutral_session)  # the recorded file, with the left foot left out
    result = analyze_session(dataclasses.replace(sess, feet={"right": sess.feet["right"]}))
    doc = report_json(result)
    _check_report_structure(doc)
    assert doc["sides"] == ["right"] and doc["symmetry"] == []
    assert doc["bilateral"]["double_support_s"]["status"] == "not_applicable"
    text = render_report_html(result)
    assert "symmetry needs both feet" in text and "not applicable (one foot)" in text
