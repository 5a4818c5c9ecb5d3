"""Calibration: fit from known loads, record with it (raw kept), recalibrate later; bad calibrations refused."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from insole.calibration import Calibration, CalibrationError, find_calibration, fit_calibration
from insole.session import read_session

INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]
LOADS_KPA = [0, 25, 50, 100, 200, 400, 800]


def run(*args):
    return subprocess.run([*INSOLE, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def calibration_file(tmp_path_factory):
    """The documented procedure on a simulated insole in a simulated bladder."""
    d = tmp_path_factory.mktemp("cal")
    steps = []
    for load in LOADS_KPA:
        out = d / f"load_{load:03d}.h5"
        r = run("record", "--device", f"sim://neutral?seed=7&units=raw&realtime=0&static_kpa={load}",
                "--duration-s", "3", "-o", str(out), "--quiet")
        assert r.returncode == 0, r.stderr
        steps += ["--step", f"{load}:{out}"]
    cal_path = d / "SIM-neutral-left-7.json"
    r = run("calibrate", "fit", *steps, "-o", str(cal_path))
    assert r.returncode == 0, r.stderr
    return cal_path


def test_calibrated_recording_matches_true_pressure_and_keeps_raw(calibration_file, tmp_path):
    cal_dir = calibration_file.parent
    raw_path, ref_path = tmp_path / "raw.h5", tmp_path / "ref.h5"
    common = "sim://neutral?seed=7&realtime=0&noise_kpa=0"
    # found automatically by serial number in the calibration folder
    r = run("record", "--device", f"{common}&units=raw", "--duration-s", "20", "-o", str(raw_path), "--quiet",
            "--calibration-dir", str(cal_dir))
    assert r.returncode == 0, r.stderr
    assert run("record", "--device", common, "--duration-s", "20", "-o", str(ref_path), "--quiet").returncode == 0
    cal_foot = read_session(raw_path).feet["left"]
    ref_foot = read_session(ref_path).feet["left"]
    assert cal_foot.units == "kPa" and "calibration" not in cal_foot.attrs
    n = min(cal_foot.n_frames, ref_foot.n_frames)
    got, true = cal_foot.pressure[:n], ref_foot.pressure[:n]
    loaded = true > 20
    rel = np.abs(got[loaded] - true[loaded]) / true[loaded]
    # 12-bit counts quantise ~0.3 % at 100 kPa; ADC noise of 2 counts adds the rest
    assert np.median(rel) < 0.02 and np.percentile(rel, 95) < 0.08
    import h5py

    with h5py.File(raw_path) as f:
        g = f["left"]
        assert g["raw"].shape == g["pressure"].shape and g["raw"].attrs["units"] == "raw"
        assert g["calibration"].attrs["source"].endswith("SIM-neutral-left-7.json")
        stored = Calibration.from_dict(json.loads(g["calibration"].attrs["json"]))
        np.testing.assert_allclose(stored.apply(g["raw"][:500]), g["pressure"][:500], rtol=1e-5, atol=1e-3)


def test_recalibrating_a_raw_session(calibration_file, tmp_path):
    raw_path = tmp_path / "raw.h5"
    r = run("record", "--device", "sim://neutral?seed=7&units=raw&realtime=0", "--duration-s", "5",
            "-o", str(raw_path), "--quiet", "--calibration-dir", str(tmp_path))  # empty folder: stays raw
    assert r.returncode == 0
    assert read_session(raw_path).feet["left"].units == "raw"
    out = tmp_path / "kpa.h5"
    r = run("calibrate", "apply", str(raw_path), "--calibration", str(calibration_file), "-o", str(out))
    assert r.returncode == 0, r.stderr
    before, after = read_session(raw_path).feet["left"], read_session(out).feet["left"]
    assert after.units == "kPa"
    np.testing.assert_array_equal(after.time_s, before.time_s)
    cal = Calibration.load(calibration_file)
    np.testing.assert_allclose(after.pressure, cal.apply(before.pressure), rtol=1e-5, atol=1e-3)
    assert not list(tmp_path.glob("*.partial"))


def test_fit_rejects_bad_input(tmp_path):
    raw = np.array([[10.0, 12.0], [100.0, 90.0], [200.0, 80.0]])  # cell 2 goes down with load
    with pytest.raises(CalibrationError, match="cells 2 do not respond"):
        fit_calibration([(0, raw[:1]), (50, raw[1:2]), (100, raw[2:3])])
    with pytest.raises(CalibrationError, match="3 or more loads"):
        fit_calibration([(0, raw[:1]), (50, raw[1:2])])
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something-else"}')
    with pytest.raises(CalibrationError, match="not an insole calibration"):
        Calibration.load(bad)
    msg = run("calibrate", "fit", "--step", "fifty:x.h5", "--step", "0:y.h5", "-o", str(tmp_path / "c.json"))
    assert msg.returncode == 1 and "LOAD_KPA:FILE.h5" in msg.stderr


def test_calibration_curve_is_monotone_and_exact_at_points():
    counts = np.array([[12.0, 15.0], [320.0, 300.0], [600.0, 560.0], [1400.0, 1300.0]])
    cal = Calibration(np.array([0.0, 25.0, 50.0, 150.0]), counts)
    np.testing.assert_allclose(cal.apply(counts), np.tile([[0.0], [25.0], [50.0], [150.0]], (1, 2)), atol=1e-9)
    grid = np.linspace(0, 2000, 500)[:, None].repeat(2, axis=1)
    kpa = cal.apply(grid)
    assert np.all(np.diff(kpa, axis=0) >= 0) and kpa[0, 0] == 0 and kpa[-1, 0] > 150


def test_find_calibration_prefers_serial_then_model(tmp_path):
    (tmp_path / "MODEL-X.json").write_text("{}")
    assert find_calibration("SN1", "MODEL-X", tmp_path) == tmp_path / "MODEL-X.json"
    (tmp_path / "SN1.json").write_text("{}")
    assert find_calibration("SN1", "MODEL-X", tmp_path) == tmp_path / "SN1.json"
    assert find_calibration("../../etc/passwd", "unknown", tmp_path) is None
