"""Before/after comparison: statistics, MDC, device/layout refusal and caveats, JSON structure, CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from pipeline.errors import ReportError
from pipeline.interpretation import forbidden_phrases
from pipeline.report.comparison import (
    check_compatibility,
    comparison_json,
    load_sem_file,
    render_comparison_html,
)

INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*INSOLE, *args], capture_output=True, text=True, timeout=300)


ROW_KEYS = {"measure", "label", "units", "side", "before", "after", "change", "change_pct", "change_ci95",
            "hedges_g", "hedges_g_ci95", "cliffs_delta", "cliffs_delta_magnitude", "sem", "sem_source", "mdc95",
            "exceeds_mdc95", "ci_excludes_zero", "verdict", "quality_withheld"}


def test_comparison_json_structure(result_factory):
    before = result_factory("neutral", 30.0, 1, metadata={"condition": "barefoot", "subject_id": "P1"})
    after = result_factory("neutral", 30.0, 2, metadata={"condition": "orthotic", "subject_id": "P1"})
    doc = comparison_json(before, after)
    assert set(doc) == {"schema", "schema_version", "kind", "software", "generated_utc", "before", "after",
                        "compatibility", "metrics", "methods", "references"}
    assert doc["schema"] == "insole-comparison" and doc["kind"] == "comparison"
    assert doc["before"]["session"]["condition"] == "barefoot" and doc["after"]["session"]["condition"] == "orthotic"
    assert set(doc["compatibility"]) == {"comparable", "different_devices", "caveats", "differences"}
    assert doc["compatibility"]["comparable"] is True and doc["compatibility"]["caveats"] == []
    measures = {(r["measure"], r["side"]) for r in doc["metrics"]}
    assert ("stance_time_s", "left") in measures and ("cpei_pct", "right") in measures
    assert ("heel_peak_pressure", "left") in measures
    assert not {m for m, _ in measures} & {"ic_s", "to_s", "ic_threshold_s", "step", "bout", "max_gap_s"}
    for row in doc["metrics"]:
        assert set(row) == ROW_KEYS
        assert set(row["before"]) == {"n", "mean", "sd", "median"} and row["before"]["n"] > 10
        assert len(row["change_ci95"]) == 2 and isinstance(row["mdc95"], float)
        assert isinstance(row["exceeds_mdc95"], bool) and "Weir 2005" in row["sem_source"]
    labels = {r["measure"]: r["label"] for r in doc["metrics"]}
    assert labels["heel_pti"] == "heel: pressure-time integral" and labels["peak1_force"] == "First force peak"
    assert not [lab for lab in labels.values() if re.search(r"[a-z]_[a-z]", lab)]  # human names, not column names
    units = {r["measure"]: r["units"] for r in doc["metrics"]}
    assert units["stance_time_s"] == "s" and units["peak1_force"] == "BW" and units["heel_pti"] == "kPa s"
    json.dumps(doc, allow_nan=False)
    assert any("Haley" in r for r in doc["references"]) and any("Hedges" in r for r in doc["references"])


def test_a_real_change_exceeds_the_mdc_and_identical_sessions_do_not(result_factory):
    before = result_factory("neutral", 60.0, 5)
    slower = result_factory("neutral", 60.0, 5, device_params="speed_m_s=0.9")  # longer strides and stance
    doc = comparison_json(before, slower)
    stride = [r for r in doc["metrics"] if r["measure"] == "stride_time_s"]
    assert len(stride) == 2
    for r in stride:
        assert r["change"] > 0.05
        assert r["exceeds_mdc95"] and r["ci_excludes_zero"] and r["verdict"] == "change beyond measurement variability"
        assert r["hedges_g"] > 2 and r["cliffs_delta"] > 0.9
    same = comparison_json(before, before)
    for r in same["metrics"]:
        assert r["change"] == pytest.approx(0.0, abs=1e-12) and r["exceeds_mdc95"] is False
        assert r["verdict"] == "within measurement variability" and r["cliffs_delta"] == pytest.approx(0.0)


def test_mdc_uses_the_pooled_within_session_sem(result_factory):
    before, after = result_factory("neutral", 30.0, 1), result_factory("neutral", 30.0, 2)
    doc = comparison_json(before, after)
    r = next(r for r in doc["metrics"] if r["measure"] == "stride_time_s" and r["side"] == "left")
    assert r["before"]["n"] == before.metrics.left.stride_time_s.n
    b, a = before.step_values("left", "stride_time_s"), after.step_values("left", "stride_time_s")
    sem = np.sqrt((b.var(ddof=1) / b.size + a.var(ddof=1) / a.size) / 2)
    assert r["sem"] == pytest.approx(sem) and r["mdc95"] == pytest.approx(1.96 * np.sqrt(2) * sem)


def test_published_sem_overrides(result_factory, tmp_path):
    path = tmp_path / "sem.json"
    path.write_text(json.dumps({"stride_time_s": {"sem": 0.5, "source": "Example et al. 2020, test-retest, n = 20"}}))
    sem = load_sem_file(path)
    doc = comparison_json(result_factory("neutral", 60.0, 5),
                          result_factory("neutral", 60.0, 5, device_params="speed_m_s=0.9"), sem_overrides=sem)
    r = next(r for r in doc["metrics"] if r["measure"] == "stride_time_s")
    assert r["sem"] == 0.5 and "Example et al. 2020" in r["sem_source"] and r["exceeds_mdc95"] is False
    for bad, msg in (([1, 2], "JSON object"), ({"stance_time_s": {"sem": -1, "source": "a"}}, "positive"),
                     ({"stance_time_s": {"sem": 1}}, "source"), ({"stance_s": {"sem": 1, "source": "a"}},
                                                                 "'stance_s' is not a per-step measure")):
        path.write_text(json.dumps(bad))
        with pytest.raises(ReportError, match=msg):
            load_sem_file(path)
    path.write_text("{not json")
    with pytest.raises(ReportError, match="cannot read"):
        load_sem_file(path)


def test_different_layouts_are_refused_unless_allowed(result_factory):
    before, after = result_factory("neutral", 30.0, 1), result_factory("neutral", 30.0, 1, sensors=8)
    with pytest.raises(ReportError, match=r"different insoles .*sensor layout: generic-16 before, generic-8 after"):
        comparison_json(before, after)
    doc = comparison_json(before, after, allow_different_devices=True)
    assert doc["compatibility"]["different_devices"] is True and doc["compatibility"]["comparable"] is False
    assert doc["compatibility"]["caveats"][0].startswith("DIFFERENT INSOLES")
    text = render_comparison_html(before, after, allow_different_devices=True)
    assert 'id="device-banner"' in text and text.index('id="device-banner"') < text.index('id="sessions"')


def test_other_differences_are_caveated(result_factory):
    before = result_factory("neutral", 30.0, 1, metadata={"subject_id": "A"})
    after = result_factory("neutral", 30.0, 1, rate_hz=200.0, metadata={"subject_id": "B"})
    compat = check_compatibility(before, after)
    text = " ".join(compat["caveats"])
    assert "sampling rate differs (100 vs 200 Hz)" in text and "not a within-person comparison" in text
    assert compat["comparable"] is True


def test_measures_in_different_units_are_not_compared(result_factory):
    """Body mass known before (force in BW) but not after (N): force measures would compare BW with N."""
    before = result_factory("neutral", 30.0, 1)
    after = result_factory("neutral", 30.0, 2, metadata={"body_mass_kg": None})
    assert after.metrics.left.peak1_force.unit == "N"
    doc = comparison_json(before, after)
    measures = {r["measure"] for r in doc["metrics"]}
    assert "peak1_force" not in measures and "impulse" not in measures and "stance_time_s" in measures
    assert any(c.startswith("First force peak is not compared: BW before, N after") for c in
               doc["compatibility"]["caveats"])


def test_failed_quality_rows_are_not_interpreted_and_banner_shown(result_factory):
    before = result_factory("neutral", 60.0, 1)
    after = result_factory("neutral", 60.0, 2, left_only_s=8.0)
    doc = comparison_json(before, after)
    rows = doc["metrics"]
    assert all(r["quality_withheld"] for r in rows if r["side"] == "left")
    assert not any(r["quality_withheld"] for r in rows if r["side"] == "right")
    assert all(r["verdict"].startswith("not interpreted") for r in rows if r["side"] == "left")
    text = render_comparison_html(before, after)
    assert 'id="quality-banner-after"' in text and "steady-state strides" in text


def test_comparison_html_escapes_and_wording(result_factory):
    evil = "<script>alert(1)</script>"
    text = render_comparison_html(result_factory("neutral", 30.0, 1, metadata={"notes": evil, "condition": evil}),
                                  result_factory("overpronation", 30.0, 2, metadata={"notes": evil}))
    assert "<script" not in text.lower() and "&lt;script&gt;" in text
    assert forbidden_phrases(text) == []
    assert text.count('data-figure="dist-') >= 8


def test_cli_compare_real_sessions(session_factory, tmp_path):
    before = session_factory("neutral", duration_s=30, seed=1)
    after = session_factory("overpronation", duration_s=30, seed=2)
    out, js = tmp_path / "c.html", tmp_path / "c.json"
    r = run("compare", str(before), str(after), "-o", str(out), "--json", str(js))
    assert r.returncode == 0, r.stderr
    doc = json.loads(js.read_text())
    assert doc["compatibility"]["comparable"]
    assert {m["measure"] for m in doc["metrics"]} >= {"stance_time_s", "stride_time_s"}
    assert all(m["before"]["n"] > 10 for m in doc["metrics"])
    assert 'id="changes"' in out.read_text()


def test_cli_compare_refuses_different_sensor_layouts(session_factory, tmp_path):
    before = session_factory("neutral", duration_s=20, seed=1)
    after = session_factory("neutral", duration_s=20, seed=1, sensors=8)
    r = run("compare", str(before), str(after), "-o", str(tmp_path / "c.html"))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "different insoles" in r.stderr and "--allow-different-devices" in r.stderr
    assert not (tmp_path / "c.html").exists()
    r = run("compare", str(before), str(after), "-o", str(tmp_path / "c.html"), "--allow-different-devices")
    assert r.returncode == 0, r.stderr
    assert "DIFFERENT INSOLES" in (tmp_path / "c.html").read_text()
