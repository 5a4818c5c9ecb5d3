"""The validation suite (validation/run_validation.py) against the real third-party datasets."""

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
sys.path.insert(0, str(ROOT / "validation"))

import run_validation as rv  # noqa: E402

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


@pytest.mark.datasets
@pytest.mark.slow
@needs_datasets
def test_validation_suite_runs_and_writes_its_table_and_plot(validation_run):
    proc, out = validation_run
    assert proc.returncode in (0, 1), proc.stderr  # 1 = a threshold failed; anything else is a crash
    assert "Traceback" not in proc.stderr
    ndd = pd.read_csv(out / "gaitndd.csv")
    assert len(ndd) == 64 and ndd["record"].is_unique
    assert {"left_stride_s", "right_stance_s", "left_swing_s", "right_double_support_s"} <= set(ndd.columns)
    assert len(pd.read_csv(out / "gaitpdb.csv")) == 18
    mot = pd.read_csv(out / "moticon.csv")
    assert mot["file"].nunique() == 4 and len(mot) == 8
    vendor = mot[mot["reference"].str.startswith("vendor")]
    assert vendor["ic_vendor_n"].sum() == 42 and vendor["to_vendor_n"].sum() == 42  # 3 walks x 2 feet
    png = (out / "validation.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    summary = json.loads((out / "summary.json").read_text())
    with open(out / "checks.csv") as fh:
        checks = list(csv.DictReader(fh))
    assert len(checks) == len(summary["checks"]) == 9
    events = pd.read_csv(out / "moticon_events.csv")
    assert (events["reference"].str.startswith("vendor") & (events["event"] == "ic")).sum() == 42
    assert summary["passed"] == all(c["passed"] == "True" for c in checks)
    assert proc.returncode == (0 if summary["passed"] else 1)
    for c in checks:
        assert ("PASS" if c["passed"] == "True" else "FAIL") + "  " + c["name"] in proc.stdout


@pytest.mark.datasets
@pytest.mark.slow
@needs_datasets
def test_validation_thresholds_pass(validation_run):
    proc, out = validation_run
    failed = [c["name"] for c in json.loads((out / "summary.json").read_text())["checks"] if not c["passed"]]
    assert proc.returncode == 0 and not failed, failed


def test_event_matching_pairs_each_event_once():
    ref = np.array([1.00, 2.00, 3.00, 4.00])
    det = np.array([0.99, 1.02, 2.30, 3.05, 3.95, 9.0])
    diff = rv.match_events(det, ref, window_s=0.1)
    np.testing.assert_allclose(diff, [-0.01, np.nan, 0.05, -0.05])  # 2.30 is 300 ms away: a miss
    assert np.isnan(rv.match_events(np.array([]), ref)).all()


def test_initial_double_support_from_steps():
    # left stance 0.0-0.7, right stance 0.5-1.2, left again 1.0-1.7: double support 0.5-0.7 and 1.0-1.2
    steps = pd.DataFrame({"side": ["left", "right", "left"], "ic_s": [0.0, 0.5, 1.0], "to_s": [0.7, 1.2, 1.7]})
    np.testing.assert_allclose(rv.initial_double_support_s(steps, "right"), [0.2])
    np.testing.assert_allclose(rv.initial_double_support_s(steps, "left"), [np.nan, 0.2])


def test_checks_fail_on_out_of_range_figures():
    ndd = pd.DataFrame({"left_stride_s": [3.0] * 64, "right_stride_s": [1.1] * 64, "left_stance_pct": [60.0] * 64,
                        "right_stance_pct": [60.0] * 64, "stride_eq_stance_plus_swing": [True] * 64})
    pdb = pd.DataFrame({"cadence_steps_per_min": [110.0] * 18, "left_stance_pct": [62.0] * 17 + [78.0],
                        "right_stance_pct": [62.0] * 18, "group": ["Co"] * 17 + ["Pt"]})
    ev = [("ic", d) for d in (5.0, -10.0, 0.0, 10.0)] + [("to", d) for d in (30.0, 40.0, -30.0, np.nan)]
    events = pd.DataFrame({"reference": "vendor step events", "event": [e for e, _ in ev],
                           "diff_ms": [d for _, d in ev]})
    result = {c.name: c.passed for c in rv.checks_of(ndd, pdb, events)}
    assert not result["gaitndd records with both median strides in 0.8-2.0 s"]
    assert result["gaitndd records with stance 50-75 % of stride on both sides"]
    name = "gaitpdb walks with cadence 70-140 steps/min and stance 50-75 % (PD 50-80 %) on both sides"
    assert result[name]  # a Parkinson's walk at 78 % stance is within its limit
    pdb.loc[:2, "left_stance_pct"] = 78.0  # ... controls at 78 % are not: 15 of 18 < 16
    assert not {c.name: c.passed for c in rv.checks_of(ndd, pdb, events)}[name]
    assert result["Moticon initial contact: median |detected - vendor| (ms)"]
    assert not result["Moticon toe off: median |detected - vendor| (ms)"]
    assert result["Moticon initial contact: vendor events matched within 100 ms"]
    assert not result["Moticon toe off: vendor events matched within 100 ms"]  # 3 of 4 < 90 %
    assert result["gaitndd records analysed without error"]  # no 'error' column: every record analysed
