"""Summarised stance curves (pipeline/analysis/curve_summary.py) on the curves of real recordings: the same means,
SDs and drawn steps as computed from the full curves, also when the steps are summed in many batches."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from pipeline.analysis import analyze_session, assemble, curve_summary
from pipeline.analysis.curve_summary import defined_steps, drawn_rows, stance_curves

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"


@pytest.fixture(scope="module")
def captured():
    """Every detected step's force and CoP curves and the valid mask per foot, as the analysis hands them over
    (gaitpdb: 8 cells, force in BW; simulated neutral: 16 cells, kPa), and the analysis results."""
    seen: dict[str, list[tuple]] = {}
    real = assemble.stance_curves
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        for name, path in (("gaitpdb", SAMPLES / "gaitpdb" / "GaCo01_01.h5"),
                           ("simulated", SAMPLES / "simulated" / "neutral.h5")):
            calls: list[tuple] = []

            def keep(force, cop_ap, cop_ml, valid, unit, _calls=calls):
                _calls.append((force.copy(), cop_ap.copy(), cop_ml.copy(), np.asarray(valid, bool).copy(), unit))
                return real(force, cop_ap, cop_ml, valid, unit)

            mp.setattr(assemble, "stance_curves", keep)
            seen[name] = calls
            out[name] = analyze_session(path)
    return {name: (out[name], seen[name]) for name in out}


def _full(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD per point of the rows of ``a`` from the whole float64 array at once (what the report's figures
    computed before the summaries)."""
    a = a.astype(float)
    finite = np.isfinite(a)
    count = finite.sum(axis=0)
    mean = np.divide(np.where(finite, a, 0.0).sum(axis=0), count, out=np.full(a.shape[1], np.nan), where=count > 0)
    dev = np.where(finite, a - mean[None, :], 0.0)
    sd = np.sqrt(np.divide((dev**2).sum(axis=0), count - 1, out=np.full(a.shape[1], np.nan), where=count > 1))
    return mean, sd


@pytest.mark.parametrize("name", ["gaitpdb", "simulated"])
@pytest.mark.parametrize("batch", [None, 7])
def test_summaries_equal_those_of_the_full_curves(captured, name, batch, monkeypatch):
    if batch:  # many batches (a day's session has ~20 of 4096 steps; these recordings fit in one)
        monkeypatch.setattr(curve_summary, "STEP_BATCH", batch)
    result, calls = captured[name]
    assert len(calls) == 2
    for force, ap, ml, valid, unit in calls:
        c = stance_curves(force, ap, ml, valid, unit)
        assert c.n_steps == valid.sum() > 10 and c.force_unit == unit
        sets = {"force": (force, valid), "force_defined": (force, valid & defined_steps(force)),
                "cop_ap": (ap, valid & defined_steps(ap)), "cop_ml": (ml, valid & defined_steps(ap)),
                "cop_ml_defined": (ml, valid & defined_steps(ml))}
        for field, (curves, rows) in sets.items():
            s = getattr(c, field)
            rows_kept = curves[rows]
            mean, sd = _full(rows_kept)
            assert s.n_steps == len(rows_kept), field
            np.testing.assert_array_equal(s.mean, mean, err_msg=field)  # to the bit, NaN where NaN
            np.testing.assert_array_equal(s.sd, sd, err_msg=field)
            with warnings.catch_warnings():  # numpy's own nanmean, as a second reference: warns at all-NaN points
                warnings.simplefilter("ignore", RuntimeWarning)
                np.testing.assert_allclose(s.mean, np.nanmean(rows_kept.astype(float), axis=0), rtol=1e-12)
            np.testing.assert_array_equal(s.drawn, rows_kept[drawn_rows(len(rows_kept))], err_msg=field)
            assert s.drawn.dtype == np.float32 and s.n_drawn == min(s.n_steps, curve_summary.MAX_STEPS_DRAWN)
        assert c.cop_ml_defined is c.cop_ml  # both CoP coordinates come from the same loaded frames
    assert {s: result.curves[s].n_steps for s in result.curves} == {
        s: len(result.valid_steps(s)) for s in result.curves}


def test_drawn_steps_are_evenly_spaced_with_first_and_last(captured, monkeypatch):
    monkeypatch.setattr(curve_summary, "MAX_STEPS_DRAWN", 9)
    force, ap, ml, valid, unit = captured["simulated"][1][0]
    c = stance_curves(force, ap, ml, valid, unit)
    kept = force[valid]
    assert c.force.n_drawn == 9 < c.n_steps
    np.testing.assert_array_equal(c.force.drawn[0], kept[0])
    np.testing.assert_array_equal(c.force.drawn[-1], kept[-1])
    rows = drawn_rows(len(kept))
    assert np.ptp(np.diff(rows)) <= 1  # evenly spaced to within rounding


def test_ml_gait_line_steps_of_their_own_when_they_differ_from_ap(captured):
    force, ap, ml, valid, unit = captured["gaitpdb"][1][0]
    ml = ml.copy()
    first = int(np.flatnonzero(valid & defined_steps(ap))[0])
    ml[first] = np.nan  # this step's ML gait line undefined, its AP gait line defined
    c = stance_curves(force, ap, ml, valid, unit)
    assert c.cop_ml_defined is not c.cop_ml
    assert c.cop_ml_defined.n_steps == c.cop_ml.n_steps - 1 == c.cop_ap.n_steps - 1


def test_no_valid_step_and_a_single_step(captured):
    force, ap, ml, valid, unit = captured["gaitpdb"][1][0]
    none = stance_curves(force, ap, ml, np.zeros_like(valid), unit)
    assert none.n_steps == none.force.n_steps == 0 and none.force.drawn.shape == (0, force.shape[1])
    assert np.isnan(none.force.mean).all() and np.isnan(none.force.sd).all()
    one = np.zeros_like(valid)
    one[np.flatnonzero(valid)[0]] = True
    single = stance_curves(force, ap, ml, one, unit)
    assert single.force.n_steps == 1 and np.isnan(single.force.sd).all()
    np.testing.assert_array_equal(single.force.mean, force[one][0].astype(float))
