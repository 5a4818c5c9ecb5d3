"""The validation suite (validation/) against the real third-party datasets, and its checks' ability to fail."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
sys.path.insert(0, str(ROOT))

from validation.checks import checks_of  # noqa: E402
from validation.matching import initial_double_support_s, match_events, steps_from_events  # noqa: E402

needs_datasets = pytest.mark.skipif(not DATASETS.is_dir(), reason="../shared/datasets not present")


@pytest.fixture(scope="module")
def validation_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("validation")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "validation" / "run_validation.py"), "--datasets", str(DATASETS),
         "--out", str(out)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    return proc, out


def _tables(out: Path) -> tuple[pd.DataFrame, ...]:
    return tuple(pd.read_csv(out / f"{name}.csv", keep_default_na=True)
                 for name in ("gaitndd", "gaitpdb", "moticon", "moticon_steps"))


@pytest.mark.datasets
@pytest.mark.slow
@needs_datasets
def test_validation_suite_runs_and_writes_its_tables_and_plot(validation_run):
    proc, out = validation_run
    assert proc.returncode in (0, 1), proc.stderr  # 1 = a threshold failed; anything else is a crash
    assert "Traceback" not in proc.stderr
    ndd, pdb, mot, steps = _tables(out)
    assert len(ndd) == 64 and ndd["record"].is_unique
    assert {"left_stride_s", "right_stance_s", "left_swing_s", "right_double_support_s", "left_stride_s_change_s",
            "lld_assessed", "stance_si_percentile"} <= set(ndd.columns)
    assert (ndd["left_events"] == "onset").all()  # one sensor per foot: the onset definition
    assert len(pdb) == 18 and set(pdb["group"]) == {"Co", "Pt"}
    assert pdb.loc[pdb["walk"] == "GaCo01_01", "speed_m_s"].item() == pytest.approx(1.075)
    assert (pdb["left_events"] == "threshold").all()
    assert mot["file"].nunique() == 4 and len(mot) == 8
    assert len(steps) == 42 and steps["paired"].all()  # 3 walks x 2 feet of vendor steps
    png = (out / "validation.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 40_000
    summary = json.loads((out / "summary.json").read_text())
    with open(out / "checks.csv") as fh:
        checks = list(csv.DictReader(fh))
    assert len(checks) == len(summary["checks"]) == 19
    assert summary["passed"] == all(c["passed"] == "True" for c in checks)
    assert proc.returncode == (0 if summary["passed"] else 1)
    for c in checks:
        assert ("PASS" if c["passed"] == "True" else "FAIL") + "  " + c["name"] in proc.stdout
    groups = summary["groups"]
    assert groups["gaitpdb controls"]["walks"] == 8 and sum(groups["gaitpdb controls"]["foot_function_labels"]
                                                           .values()) == 16


@pytest.mark.datasets
@pytest.mark.slow
@needs_datasets
def test_validation_thresholds_pass(validation_run):
    proc, out = validation_run
    failed = [c["name"] for c in json.loads((out / "summary.json").read_text())["checks"] if not c["passed"]]
    assert proc.returncode == 0 and not failed, failed


@pytest.mark.datasets
@pytest.mark.slow
@needs_datasets
def test_each_check_fails_when_its_figure_is_out_of_range(validation_run):
    """The real tables, each altered in the one figure a check looks at: that check (and only it) fails."""
    _, out = validation_run
    ndd, pdb, mot, steps = _tables(out)

    def failing(**tables) -> set[str]:
        t = {"ndd": ndd, "pdb": pdb, "mot": mot, "steps": steps, **tables}
        return {c.name for c in checks_of(t["ndd"], t["pdb"], t["mot"], t["steps"]) if not c.passed}

    assert failing() == set()
    controls = pdb["group"] == "Co"
    slow = pdb.copy()
    slow.loc[controls & slow["speed_m_s"].notna(), "left_stance_pct"] += 3.0  # 3 points late on every control
    assert failing(pdb=slow) == {"gaitpdb control walks with median stance within 2.5 points of the "
                                 "speed-expected value"}
    pd_long = pdb.copy()
    pd_long.loc[pdb["group"] == "Pt", "right_stance_pct"] = 78.0  # the old 80 % limit for Parkinson's is gone
    assert any(name.startswith("gaitpdb walks with cadence") for name in failing(pdb=pd_long))
    unwarned = pdb.copy()
    unwarned.loc[unwarned.index[0], "force_scale_warning"] = False
    assert any("force-scale warning" in name for name in failing(pdb=unwarned))
    flagged = pdb.copy()
    flagged.loc[controls, "lld_flagged"] = True
    assert any(name.startswith("healthy controls flagged") for name in failing(pdb=flagged))
    moved = ndd.copy()
    moved.loc[0, "left_stance_s_change_s"] = 0.004
    assert any("unchanged since before issue 13" in name for name in failing(ndd=moved))
    late = steps.copy()
    late.loc[late.index[::5], "stance_err_s"] = 0.030  # one vendor step in five 30 ms off
    assert failing(steps=late) == {"Moticon vendor steps with stance within 20 ms of the vendor's"}
    heavy = steps.copy()
    heavy["max_force_err"] = 0.08
    assert "Moticon vendor steps with the maximum force within 5% of the vendor's total force" in failing(steps=heavy)
    labelled = mot.copy()
    labelled.loc[0, "foot_function"] = "pronation"
    assert any("foot-function label" in name for name in failing(mot=labelled))


def test_event_matching_pairs_each_event_once():
    ref = np.array([1.00, 2.00, 3.00, 4.00])
    det = np.array([0.99, 1.02, 2.30, 3.05, 3.95, 9.0])
    np.testing.assert_array_equal(match_events(det, ref, window_s=0.1), [0, -1, 3, 4])  # 2.30 is 300 ms away
    assert (match_events(np.array([]), ref) == -1).all()


def test_steps_and_double_support_from_event_lists():
    steps = steps_from_events(np.array([0.0, 1.0, 2.0]), np.array([0.7, 1.6]))
    np.testing.assert_allclose(steps["stance_s"], [0.7, 0.6, np.nan])
    np.testing.assert_allclose(steps["swing_s"], [0.3, 0.4, np.nan])
    # left stance 0.0-0.7 and 1.0-1.7, right 0.5-1.2: right's IC at 0.5 meets left until 0.7
    np.testing.assert_allclose(initial_double_support_s(np.array([0.5]), np.array([0.0, 1.0]),
                                                        np.array([0.7, 1.7])), [0.2])
    np.testing.assert_allclose(initial_double_support_s(np.array([0.0, 1.0]), np.array([0.5]), np.array([1.2])),
                               [np.nan, 0.2])
