"""The analysis on real third-party recordings, imported by the real importers: force scaling, cohorts, what is
not assessed and why, and gaits that are not walking.

Agreement with the datasets' references (stance vs speed, vendor events and forces, controls flagged) is measured
by ``validation/`` (tests/test_validation.py); here are the behaviours a user meets on one recording.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from insole.importers import import_recording
from pipeline.analysis import analyze_session
from pipeline.analysis.result import MetricStatus, QualityCode
from pipeline.cli import cli
from pipeline.errors import AnalysisError

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_recordings"
DATASETS = ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    return {
        "gaitpdb": import_recording("gaitpdb", SAMPLES / "gaitpdb" / "GaCo01_01.txt", root / "gaco01.h5"),
        "moticon": import_recording("moticon", SAMPLES / "moticon" / "230927_102114.txt", root / "moticon.h5"),
        "gaitndd": import_recording("gaitndd", SAMPLES / "gaitndd" / "control1.hea", root / "control1.h5"),
    }


def test_body_weight_figures_are_checked_by_the_impulse_balance_and_rescaled(imported):
    """gaitpdb forces sum to ~1.3 x body weight x stride time per stride: a warning naming the ratio, and every BW
    figure divided by it, so a stride's impulse balances again."""
    result = analyze_session(imported["gaitpdb"])
    scale = result.metrics.bilateral.force_scale
    assert scale.status == MetricStatus.COMPUTED and scale.ratio > 1.1 and scale.n_strides >= 10
    assert scale.rescale_factor == pytest.approx(1.0 / scale.ratio)
    warning = next(q for q in result.metrics.quality.warnings if q.code == QualityCode.FORCE_SCALE)
    assert f"{scale.ratio:.2f} x body weight" in warning.message and f"{scale.rescale_factor:.3f}" in warning.message
    left, right = result.metrics.left, result.metrics.right
    assert left.impulse.unit == "BW s"
    stride = 0.5 * (left.stride_time_s.median + right.stride_time_s.median)
    assert (left.impulse.median + right.impulse.median) / stride == pytest.approx(1.0, abs=0.05)
    assert 0.9 <= left.peak1_force.median <= 1.4  # a walking first peak once the scale is fixed


def test_a_session_without_body_mass_reports_newtons_and_says_why(imported):
    result = analyze_session(imported["moticon"])
    assert result.metrics.session.body_mass_kg is None
    for side in ("left", "right"):
        sr = result.metrics.side(side)
        assert sr.peak1_force.unit == "N" and sr.impulse.unit == "N s" and sr.loading_rate.unit == "N/s"
        assert sr.peak_pressure.unit == "kPa"  # cell areas are known: pressures stay pressures
    scale = result.metrics.bilateral.force_scale
    assert scale.status != MetricStatus.COMPUTED and "body mass" in scale.reason
    said = [q.message for q in result.metrics.quality.warnings if q.code == QualityCode.FORCE_UNITS]
    assert len(said) == 1 and "no body mass" in said[0] and "--body-mass-kg" in said[0]
    assert "body mass" in result.metrics.provenance.force_units_rule


def test_per_cell_forces_without_cell_areas_are_not_called_pressures(imported):
    """gaitpdb records newtons per cell and publishes no cell areas: no kPa is invented."""
    sr = analyze_session(imported["gaitpdb"]).metrics.left
    assert sr.peak_pressure.unit == "N" and sr.peak_pressure.label.startswith("Peak cell")
    assert sr.regions and all(r.pressure_unit == "N" for r in sr.regions)


def test_no_cohort_means_not_assessed_with_the_reason(imported):
    """Moticon ships no cohort; with --cohort none the gaitpdb walk has none either: no label, no flag."""
    for result in (analyze_session(imported["moticon"]), analyze_session(imported["gaitpdb"], cohort=None)):
        m = result.metrics
        assert m.provenance.reference_cohort is None
        for side in ("left", "right"):
            ff = m.side(side).foot_function
            assert ff.label == "not assessed" and "no reference cohort" in ff.reason and ff.reference is None
            assert m.side(side).cpei_pct.reference is None
        lld = m.bilateral.lld_pattern
        assert lld.consistent is None and lld.reason
    positioned = analyze_session(imported["gaitpdb"]).metrics  # the shipped gaitpdb cohort, subject left out
    assert positioned.left.cpei_pct.reference.left_out
    assert positioned.left.foot_function.label in {"pronation", "neutral", "supination"}


def test_one_statistic_one_interval(imported):
    """The symmetry index is computed from the side medians and its bootstrap CI is of that same statistic."""
    for name in ("gaitndd", "gaitpdb"):
        sym = analyze_session(imported[name]).metrics.bilateral.symmetry
        for s in (sym.stance_time_s, sym.swing_time_s, sym.max_force):
            assert s.ci95[0] <= s.si_pct <= s.ci95[1], (name, s.metric, s.si_pct, s.ci95)


@pytest.mark.datasets
@pytest.mark.skipif(not (DATASETS / "gaitndd").is_dir(), reason="gaitndd not present")
def test_every_gaitndd_control_symmetry_lies_inside_its_interval(tmp_path):
    """gaitndd control3 used to read SI 10.86 % with a CI of 9.76-10.76 %: never again, on any control."""
    for k in range(1, 17):
        path = import_recording("gaitndd", DATASETS / "gaitndd" / f"control{k}.hea", tmp_path / f"c{k}.h5")
        sym = analyze_session(path).metrics.bilateral.symmetry
        for s in (sym.stance_time_s, sym.swing_time_s, sym.stride_time_s):
            assert s.ci95[0] <= s.si_pct <= s.ci95[1], (k, s.metric, s.si_pct, s.ci95)
        path.unlink()


def test_running_is_recognised_and_not_interpreted(session_factory, tmp_path):
    """Flight phases (stance under half the stride, feet in step): a quality failure that says running, never a
    clock problem, and a report that interprets nothing."""
    path = session_factory("running", 30.0, 3)
    result = analyze_session(path)
    assert result.metrics.left.stance_pct.median < 45
    codes = {q.code for q in result.metrics.quality.failures}
    assert QualityCode.NOT_WALKING in codes and QualityCode.SYNC not in codes
    message = next(q.message for q in result.metrics.quality.failures if q.code == QualityCode.NOT_WALKING)
    assert "running" in message and "clock" not in message
    out = CliRunner().invoke(cli, ["report", str(path), "-o", str(tmp_path / "r.html"), "--json",
                                   str(tmp_path / "r.json")])
    assert out.exit_code == 0, out.output
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["back_strain"]["tier"]["tier"] == "not assessed"
    assert all(c["status"] == "withheld" for c in doc["back_strain"]["cards"])
    assert "as in running" in (tmp_path / "r.html").read_text()


def test_standing_is_refused_with_a_clear_error(session_factory, tmp_path):
    path = session_factory("standing", 20.0, 1)
    with pytest.raises(AnalysisError, match="never unloads.*standing or sitting"):
        analyze_session(path)
    out = CliRunner().invoke(cli, ["report", str(path), "-o", str(tmp_path / "r.html")])
    assert out.exit_code != 0 and not (tmp_path / "r.html").exists()


def test_the_primary_events_follow_the_insole(imported):
    """Several cells: threshold events; one footswitch: onset events. Both definitions stay in the step table."""
    defs = {name: analyze_session(path).metrics.left.event_levels.definition for name, path in imported.items()}
    assert defs == {"gaitpdb": "threshold", "moticon": "threshold", "gaitndd": "onset"}
    steps = analyze_session(imported["gaitpdb"]).steps
    valid = steps[steps["valid"].astype(bool)]
    np.testing.assert_array_equal(valid["to_s"], valid["to_threshold_s"])
    assert (valid["to_onset_s"] - valid["to_threshold_s"]).median() > 0.02  # onset toe off lands later
