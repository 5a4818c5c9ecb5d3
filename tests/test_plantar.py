"""Plantar pressure pictures through the real analysis on real recordings: per-cell maps, clinical masks, strike
pattern, and the plantar figures in the rendered report."""

from __future__ import annotations

import base64
import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from insole.session import read_session
from pipeline.analysis import analyze_session
from pipeline.analysis.curve_summary import drawn_rows
from pipeline.analysis.foot_function import STRIKE_LIMITS
from pipeline.analysis.plantar import MASKS
from pipeline.analysis.regions import REGION_BOUNDS
from pipeline.analysis.result import MetricStatus
from pipeline.report.html_report import render_report_html

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"
MULTI_CELL = {
    "gaitpdb": SAMPLES / "gaitpdb" / "GaCo01_01.h5",
    "moticon": SAMPLES / "moticon" / "230927_102114.h5",
    "simulated": SAMPLES / "simulated" / "neutral.h5",
}
GAITNDD = SAMPLES / "gaitndd" / "control1.h5"


@pytest.fixture(scope="module")
def results():
    return {name: analyze_session(path) for name, path in {**MULTI_CELL, "gaitndd": GAITNDD}.items()}


def _floor(p: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Each cell's unloaded level as documented (median over the frames in the lowest fifth of total force)."""
    force = p @ factor
    return np.median(p[force <= np.percentile(force, 20)], axis=0)


def _independent_cell_means(path: Path, result, side: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean over the analysis's valid unsaturated steps of each cell's peak and PTI, from the raw session frames."""
    foot = read_session(path).feet[side]
    t = np.asarray(foot.time_s, float)
    p = np.nan_to_num(np.asarray(foot.pressure, np.float64), nan=0.0)
    factor = foot.layout.area_mm2 / 1000.0 if foot.units == "kPa" else np.ones(foot.layout.n_sensors)
    assert len(t) <= 1 << 16  # the floor then uses every frame (no subsampling)
    p = np.maximum(p - _floor(p, factor), 0.0)
    dt = np.minimum(np.diff(t, append=t[-1] + 1.0 / foot.sampling_rate_hz), 1.5 / foot.sampling_rate_hz)
    steps = result.valid_steps(side)
    steps = steps[~steps["saturated"].to_numpy(bool)]
    peaks, ptis = [], []
    # the contact's frames: from the last unloaded frame at or before the loading onset to the last frame before
    # the first unloaded frame at or after the unloading end (the onset-definition events bracket the contact)
    # (where an onset is unknown, e.g. the force did not reach the swing floor, the threshold event stands in: the
    # frames between the two carry little load, hence the tolerance of the comparison)
    ic = steps["ic_onset_s"].fillna(steps["ic_s"]).to_numpy(float)
    to = steps["to_onset_s"].fillna(steps["to_s"]).to_numpy(float)
    first = np.searchsorted(t, ic, side="right") - 1
    stop = np.searchsorted(t, to, side="left")
    for a, b in zip(first, stop, strict=True):
        peaks.append(p[a:b].max(axis=0))
        ptis.append((p[a:b] * dt[a:b, None]).sum(axis=0))
    return np.mean(peaks, axis=0), np.mean(ptis, axis=0), len(steps)


@pytest.mark.parametrize("name", sorted(MULTI_CELL))
def test_cell_maps_are_the_means_of_the_raw_frames_over_the_valid_steps(results, name):
    result = results[name]
    for side in result.metrics.sides:
        maps = result.metrics.side(side).plantar.maps
        assert maps.status is MetricStatus.COMPUTED and maps.n_steps >= 5
        peak, pti, n = _independent_cell_means(MULTI_CELL[name], result, side)
        assert maps.n_steps == n
        assert len(maps.peak_pressure) == len(maps.x_mm) == result.layouts[side].n_sensors
        np.testing.assert_allclose(maps.peak_pressure, peak, rtol=1e-4, atol=1e-3 * peak.max())
        np.testing.assert_allclose(maps.pti, pti, rtol=5e-3, atol=1e-3 * pti.max())
        assert maps.unit == result.metrics.side(side).pressure_unit and maps.pti_unit == f"{maps.unit} s"


def test_one_sensor_insole_has_no_maps_masks_or_strike_pattern_and_says_why(results):
    for side in results["gaitndd"].metrics.sides:
        pl = results["gaitndd"].metrics.side(side).plantar
        assert pl.maps.status is MetricStatus.NOT_APPLICABLE and "one sensor" in pl.maps.reason
        assert pl.masks == [] and pl.strike.status is MetricStatus.NOT_APPLICABLE
        for name in ("rearfoot_loading_s", "cop_start_ap_pct"):
            assert results["gaitndd"].metrics.side(side).metric(name).status is MetricStatus.NOT_APPLICABLE


@pytest.mark.parametrize("name", sorted(MULTI_CELL))
def test_masks_hold_exactly_the_cells_inside_their_definition(results, name):
    result = results[name]
    specs = {m.name: m for m in MASKS}
    for side in result.metrics.sides:
        layout = result.layouts[side]
        x = np.asarray(layout.x_mm) / layout.foot_length_mm
        y_mm = np.asarray(layout.y_mm)
        y = y_mm / layout.forefoot_width_mm
        masks = result.metrics.side(side).plantar.masks
        seen = np.concatenate([np.asarray(m.cells) - 1 for m in masks])
        assert sorted(seen) == list(range(layout.n_sensors))  # every cell in exactly one mask
        for m in masks:
            assert m.cells, m.name  # no mask without a cell
            idx = np.asarray(m.cells) - 1
            if m.coarse:  # a heel or toe cell on the foot axis: no side
                lo, hi = REGION_BOUNDS[m.name]
                assert np.all((x[idx] >= lo) & (x[idx] < hi) & (np.abs(y_mm[idx]) < 0.5))
                continue
            spec = specs[m.name]
            lo, hi = REGION_BOUNDS[spec.band]
            assert np.all((x[idx] >= lo) & (x[idx] < hi) & (y[idx] > spec.y_lo) & (y[idx] <= spec.y_hi)), m.name
            peak = np.asarray(result.metrics.side(side).plantar.maps.peak_pressure)[idx]
            assert m.peak_pressure >= peak.max() - 1e-6  # the mean of per-step maxima is at least the max of means
    names = {m.name for m in results["gaitpdb"].metrics.left.plantar.masks}
    # gaitpdb's heel and toe cells lie on the foot axis: whole heel and toes, no medial/lateral split invented
    assert {"heel", "toes"} <= names and not names & {"heel_medial", "heel_lateral", "hallux", "lesser_toes"}
    assert {m.name for m in results["moticon"].metrics.left.plantar.masks} == set(specs)


def test_simulated_heel_strike_and_a_reversed_stance_forefoot_strike_are_recovered(tmp_path):
    """The simulator loads the heel first at every initial contact (its region weights: the heel carries all load
    at 0 % stance): a rearfoot strike. Reversing every true stance's frames in time makes the load start under the
    toes: a forefoot strike."""
    path = SAMPLES / "simulated" / "neutral.h5"
    heel = analyze_session(path)
    for side in heel.metrics.sides:
        st = heel.metrics.side(side).plantar.strike
        assert st.pattern == "rearfoot" and st.rearfoot == st.n_steps > 40, st
    session = read_session(path)
    feet = {}
    for side, foot in session.feet.items():
        p = np.array(foot.pressure, copy=True)
        t = np.asarray(foot.time_s)
        for ic, to in zip(session.truth[side]["ic_s"], session.truth[side]["to_s"], strict=True):
            rows = np.flatnonzero((t >= ic) & (t < to))
            p[rows] = p[rows[::-1]]
        feet[side] = dataclasses.replace(foot, pressure=p)
    reversed_walk = analyze_session(dataclasses.replace(session, feet=feet))
    for side in reversed_walk.metrics.sides:
        st = reversed_walk.metrics.side(side).plantar.strike
        assert st.pattern == "forefoot" and st.forefoot >= 0.9 * st.n_steps, st
        start = reversed_walk.step_values(side, "cop_start_ap_pct")
        assert np.median(start) > 100 * STRIKE_LIMITS[1]
        # the gait line now runs from the toes to the heel
        assert (reversed_walk.metrics.side(side).cop_start_ap_pct.median
                > reversed_walk.metrics.side(side).cop_end_ap_pct.median)


def test_phase_loading_and_loading_times_follow_the_curves(results):
    r = results["simulated"]
    for side in r.metrics.sides:
        curves = r.curves[side]
        steps = r.valid_steps(side)
        window = (curves.stance_pct >= 17) & (curves.stance_pct < 50)
        # the steps whose curves the result keeps (the drawn ones), and the mean curve of every valid step
        drawn = steps.iloc[drawn_rows(curves.n_steps)]
        np.testing.assert_allclose(drawn["midstance_force"], curves.force.drawn[:, window].astype(float).mean(axis=1),
                                   rtol=1e-5)
        np.testing.assert_allclose(steps["midstance_force"].mean(), curves.force.mean[window].mean(), rtol=1e-5)
        stance = steps["stance_time_s"].to_numpy(float)
        for col in ("rearfoot_loading_s", "forefoot_loading_s"):
            v = steps[col].to_numpy(float)
            assert np.all((v > 0.2 * stance) & (v <= stance + 0.02)), col


@pytest.mark.parametrize("name", ["gaitpdb", "moticon", "simulated", "gaitndd"])
def test_plantar_figures_are_in_the_report_or_say_why_not(results, name):
    html = render_report_html(results[name])
    keys = ("pressure_peak", "pressure_pti", "masks", "cop_ends", "cop_stance")
    for key in keys:
        fig = re.search(rf'<figure data-figure="{key}">\s*<img src="data:image/svg\+xml;base64,([^"]+)"', html)
        if name == "moticon":  # 5 steady-state strides per foot: a failed quality gate withholds the figures
            assert fig is None and f'data-withheld="{key}"' in html, key
        elif name == "gaitndd":
            assert fig is None
            assert re.search(rf'data-missing="{key}">[^<]*not applicable: the insole has one sensor', html), key
        else:
            assert fig is not None, key
            svg = base64.b64decode(fig.group(1)).decode()
            assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert ('data-withheld="force_steps"' if name == "moticon" else 'data-figure="force_steps"') in html
    if name in ("gaitpdb", "simulated"):
        assert re.search(r"mean of \d+ valid steps", html) and 'data-table="masks-left"' in html


def test_a_result_written_before_the_plantar_fields_still_reads(results):
    """metrics.json of the same schema version without the plantar record and the metrics added with it decodes;
    the missing metrics say why they are missing."""
    import json

    from pipeline.analysis.metric_catalogue import PLANTAR_METRICS
    from pipeline.analysis.result import SessionMetrics
    from pipeline.analysis.result.records import WRITTEN_EARLIER

    doc = json.loads(results["gaitpdb"].metrics.to_json())
    for spec in PLANTAR_METRICS:
        del doc["bilateral"]["symmetry"][spec.name]
        for side in ("left", "right"):
            doc[side].pop("plantar", None)
            del doc[side][spec.name]
    old = SessionMetrics.from_json(json.dumps(doc))
    assert old.left.plantar is None
    m = old.left.metric("midstance_force")
    assert m.status is MetricStatus.NOT_COMPUTED and m.reason == WRITTEN_EARLIER and not m.available
    assert old.left.stance_time_s == results["gaitpdb"].metrics.left.stance_time_s


def test_unknown_cell_positions_give_no_pictures_and_say_why():
    """The same simulated walk with its layout replaced by a placeholder (positions unknown)."""
    from insole.layouts import placeholder_layout

    session = read_session(SAMPLES / "simulated" / "neutral.h5")
    feet = {s: dataclasses.replace(f, layout=placeholder_layout(f.layout.n_sensors, f.layout.foot_length_mm))
            for s, f in session.feet.items()}
    result = analyze_session(dataclasses.replace(session, feet=feet))
    for side in result.metrics.sides:
        pl = result.metrics.side(side).plantar
        assert pl.maps.status is MetricStatus.NOT_APPLICABLE and "not known" in pl.maps.reason
        assert pl.masks == [] and pl.strike.status is MetricStatus.NOT_APPLICABLE
    from pipeline.report.report_data import report_json

    doc = report_json(result)["plantar"]
    assert all("not known" in p["maps"]["reason"] for p in doc["sides"].values())
    assert all(row["left"]["status"] == "not_applicable" for row in doc["measures"]
               if row["metric"].startswith(("cop_", "rearfoot", "forefoot")))
