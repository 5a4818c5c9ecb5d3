"""Vendor exports (pedar, F-Scan, XSENSOR, stappone): real files in, the source values out exactly, clear errors."""

from __future__ import annotations

import csv
import hashlib
import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from insole.errors import ImportSourceError
from insole.importers import detect_format, import_recording
from insole.importers.pedar_layout import known_sizes, pedar_layout, supported_sizes
from insole.importers.xsensor import KPA_PER_MMHG
from insole.session import GapCause, open_session, read_session

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT.parent / "shared" / "datasets" / "vendor_exports"
SAMPLES = ROOT / "sample_recordings" / "vendor_exports"
INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]

needs_vendor = pytest.mark.skipif(not VENDOR.is_dir(), reason="../shared/datasets/vendor_exports not present")


def source(name: str) -> Path:
    """The full export when the datasets are there, else the committed excerpt."""
    return VENDOR / name if (VENDOR / name).is_file() else SAMPLES / name


# ------------------------------------------------------------------------------------ independent parsers
def pedar_table(path: Path) -> np.ndarray:
    lines = path.read_text(encoding="latin-1").splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("time[secs]")) + 1
    return np.array([ln.split() for ln in lines[start:] if ln.strip()], float)


def fscan_frames(path: Path) -> tuple[np.ndarray, np.ndarray]:
    text = path.read_text(encoding="latin-1")
    body = text.split("ASCII_DATA @@", 1)[1].split("@@")[0]
    frames = re.split(r"\s*Frame \d+\s*\n", body)[1:]
    arr = np.array([[[np.nan if c == "B" else float(c) for c in row.split(",")] for row in fr.strip().splitlines()]
                    for fr in frames])
    return arr, ~np.isnan(arr[0])


def xsensor_frames(path: Path) -> dict[str, np.ndarray]:
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    out: dict[str, list] = {"left": [], "right": []}
    rows = int(next(ln for ln in lines if ln.startswith("Rows,")).split(",")[1])
    cols = int(next(ln for ln in lines if ln.startswith("Columns,")).split(",")[1])
    side = None
    for i, ln in enumerate(lines):
        if ln.startswith("SENSOR,"):
            side = "left" if "-LF" in ln else "right"
        elif ln.startswith("SENSELS") and side is not None:
            data = [x for x in lines[i + 1:i + 1 + 2 * rows] if x.strip(",")]
            out[side].append([[float(v) for v in x.split(",")[:cols]] for x in data])
            side = None
    return {k: np.array(v).reshape(len(v), -1) for k, v in out.items()}


# ------------------------------------------------------------------------------------ round trips
@needs_vendor
def test_pedar_round_trip_and_published_geometry(tmp_path):
    src = VENDOR / "pedar_example.asc"
    s = read_session(import_recording("pedar", src, tmp_path / "p.h5"))
    table = pedar_table(src)
    for side, cells in (("left", slice(1, 100)), ("right", slice(100, 199))):
        foot = s.feet[side]
        assert foot.units == "kPa" and foot.sampling_rate_hz == 100.0 and foot.pressure.shape == (1505, 99)
        np.testing.assert_allclose(foot.pressure, table[:, cells], atol=5e-4)  # printed to 0.001 kPa
        np.testing.assert_array_equal(foot.time_s, table[:, 0])
        assert foot.layout.geometry == "specified" and foot.layout.layout_id == "pedar-99-y"
        assert foot.attrs["device_insole_size"] == "y" and not foot.gaps
    lay = s.feet["left"].layout
    # hallux cells (83, 84, 90, 91, 96) are distal and medial; heel cells 1-5 proximal
    assert lay.x_mm[[82, 83, 89, 90, 95]].min() > 0.8 * lay.foot_length_mm > lay.x_mm[:5].max()
    assert lay.y_mm[[82, 83]].mean() > 0 > lay.y_mm[[86, 87, 88]].mean()
    assert s.attrs["source_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert s.attrs["importer"] == "insole.importers.pedar" and s.attrs["importer_version"].startswith("1 ")
    assert "pressuRe" in s.attrs["import_assumptions"]


def test_pedar_sizes_with_and_without_a_layout():
    assert supported_sizes() == ["u", "v", "w", "x", "y", "z"]
    lengths = [known_sizes()[s].insole_length_mm for s in supported_sizes()]
    assert np.all(np.diff(lengths) > 10) and 220 < lengths[0] < lengths[-1] < 300
    for wide in ("uw", "vw", "xw"):
        assert known_sizes()[wide].area_spread > 0.15
        with pytest.raises(KeyError):
            pedar_layout(wide)
    layout, info = pedar_layout("y")
    assert layout.n_sensors == 99 and info.area_spread < 0.06


@needs_vendor
@pytest.mark.parametrize("sensor, expect", [("uw-1865l-1870r", "size 'uw' has no published cell layout"),
                                            ("q-1865l", "size 'q' has no published")])
def test_pedar_refuses_sizes_it_has_no_layout_for(tmp_path, sensor, expect):
    text = (VENDOR / "pedar_example.asc").read_text(encoding="latin-1")
    bad = tmp_path / "size.asc"
    bad.write_text(text.replace("y-1865l-1870r-pxf306-11mar2021", sensor, 1), encoding="latin-1")
    with pytest.raises(ImportSourceError, match=expect):
        import_recording("pedar", bad, tmp_path / "o.h5")
    assert not (tmp_path / "o.h5").exists()


@needs_vendor
def test_fscan_round_trip_outline_and_geometry(tmp_path):
    src = VENDOR / "fscan_testL.asf"
    s = read_session(import_recording("fscan", src, tmp_path / "f.h5"))
    assert list(s.feet) == ["left"]
    foot = s.feet["left"]
    arr, inside = fscan_frames(src)
    assert foot.pressure.shape == (205, int(inside.sum())) == (205, 955)
    np.testing.assert_array_equal(foot.pressure, arr[:, inside])
    np.testing.assert_allclose(np.diff(foot.time_s), 0.032)
    assert foot.units == "kPa" and foot.sampling_rate_hz == pytest.approx(31.25)
    lay = foot.layout
    assert lay.geometry == "specified" and np.all(lay.area_mm2 == 25.8064)
    assert lay.foot_length_mm == pytest.approx(60 * 5.08)
    rows = np.nonzero(inside)[0]
    np.testing.assert_allclose(lay.x_mm, (rows.max() - rows + 0.5) * 5.08)
    # loading: heel at the back, forefoot in front; the lateral midfoot (low columns of a left foot) carries load
    peak = foot.pressure.max(axis=0)
    assert lay.x_mm[np.argmax(peak)] > 0.5 * lay.foot_length_mm or lay.x_mm[np.argmax(peak)] < 0.3 * 305
    mid = (lay.x_mm > 0.35 * 305) & (lay.x_mm < 0.55 * 305)
    assert peak[mid & (lay.y_mm < 0)].mean() > 3 * peak[mid & (lay.y_mm > 0)].mean()
    assert s.attrs["source_start_time"] == "2017-02-16T11:26:22"


@needs_vendor
def test_fscan_pairs_the_left_and_right_files(tmp_path):
    text = (VENDOR / "fscan_testL.asf").read_text(encoding="latin-1")
    (tmp_path / "walkL.asf").write_text(text, encoding="latin-1")
    # a right foot of the same recording: the same movie seen as the other foot, its frames doubled
    right = re.sub(r"(?m)^([\dB][\d,B]*)$", lambda m: ",".join(c if c == "B" else str(2 * int(c))
                                                            for c in m[1].split(",")), text)
    (tmp_path / "walkR.asf").write_text(right.replace("FrasP01L.fsx", "FrasP01R.fsx"), encoding="latin-1")
    s = read_session(import_recording("fscan", tmp_path / "walkL.asf", tmp_path / "both.h5"))
    assert set(s.feet) == {"left", "right"}
    np.testing.assert_array_equal(s.feet["right"].pressure, 2 * s.feet["left"].pressure)
    np.testing.assert_array_equal(s.feet["right"].time_s, s.feet["left"].time_s)
    np.testing.assert_allclose(s.feet["right"].layout.y_mm, -s.feet["left"].layout.y_mm)  # mirrored matrix
    assert "walkR.asf sha256=" in s.attrs["source_companions"]
    with pytest.raises(ImportSourceError, match="also a left foot"):
        import_recording("fscan", tmp_path / "walkL.asf", tmp_path / "x.h5", pair=tmp_path / "walkL.asf")
    (tmp_path / "walk.asf").write_text(text.replace("FrasP01L.fsx", "Fras.fsx"), encoding="latin-1")
    with pytest.raises(ImportSourceError, match="--side"):
        import_recording("fscan", tmp_path / "walk.asf", tmp_path / "y.h5")
    assert list(read_session(import_recording("fscan", tmp_path / "walk.asf", tmp_path / "y.h5",
                                              side="right")).feet) == ["right"]


@needs_vendor
def test_xsensor_round_trip_mmhg_to_kpa_and_vendor_fields(tmp_path):
    src = VENDOR / "xsensor_data.csv"
    out = import_recording("xsensor", src, tmp_path / "x.h5")
    s = read_session(out)
    truth = xsensor_frames(src)
    assert KPA_PER_MMHG == 101.325 / 760
    for side in ("left", "right"):
        foot = s.feet[side]
        assert foot.units == "kPa" and foot.pressure.shape == (101, 341)
        np.testing.assert_allclose(foot.pressure / KPA_PER_MMHG, truth[side], atol=0.005, rtol=1e-6)  # 0.01 mmHg
        assert foot.layout.geometry == "specified" and np.allclose(foot.layout.area_mm2, 73.96)
    stamps = [ln.split(",")[1].strip() for ln in src.read_text(encoding="utf-8-sig").splitlines()
              if ln.startswith("Time,")]
    secs = np.array([int(h) * 3600 + int(m) * 60 + float(x) for h, m, x in (t.split(":") for t in stamps)])
    np.testing.assert_allclose(s.feet["left"].time_s, secs - secs[0], atol=1e-9)
    with open_session(out) as r:
        attrs = r.extra_attrs("vendor_signals/left")
        assert attrs["gait_stride_time"] == "1092" and "Left Heel (36 cells)" in attrs["regions"]
        assert r.extra_attrs("vendor_signals")["vendor_computed"]
        samples = r.read_extra("vendor_signals/left/samples")
        columns = r.extra_attrs("vendor_signals/left/samples")["columns"].split(",")
        assert samples.shape == (101, len(columns)) and samples[0, columns.index("Est. Load (N)")] == 411.67


@needs_vendor
def test_stappone_raw_channels_corrupt_flag_and_side(tmp_path):
    src = VENDOR / "stappone_example.csv"
    with pytest.raises(ImportSourceError, match="give --side left or --side right"):
        import_recording("stappone", src, tmp_path / "a.h5")
    rows = list(csv.reader(src.open()))
    rows[101][-1] = "1"  # one corrupt sample
    rows[102][-1] = "1"
    damaged = tmp_path / "stappone.csv"
    with damaged.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    s = read_session(import_recording("stappone", damaged, tmp_path / "s.h5", side="right"))
    foot = s.feet["right"]
    truth = np.array([[float(v) for v in r[11:23]] for r in rows[1:]])
    ok = ~np.isnan(foot.pressure[:, 0])
    assert foot.units == "raw" and foot.layout.geometry == "unknown" and foot.pressure.shape == (4575, 12)
    np.testing.assert_array_equal(foot.pressure[ok], truth[ok])
    assert np.flatnonzero(~ok).tolist() == [100, 101]
    gap = next(g for g in foot.gaps if g.cause is GapCause.INVALID_SAMPLES)
    assert gap.n_frames == 2 and gap.start_s == pytest.approx(foot.time_s[100])
    t_ms = np.array([int(r[1]) for r in rows[1:]])
    np.testing.assert_allclose(foot.time_s, (t_ms - t_ms[0]) / 1000)
    assert foot.sampling_rate_hz == 62.5 and s.attrs["source_start_utc"] == "2026-01-15T16:36:19.568Z"
    with open_session(tmp_path / "s.h5") as r:
        assert r.read_extra("right/imu_raw").shape == (4575, 9)


# ------------------------------------------------------------------------------------ recognition, gaps, errors
@needs_vendor
def test_auto_recognises_every_vendor_export():
    assert {f: detect_format(VENDOR / f) for f in ("pedar_example.asc", "fscan_testL.asf", "xsensor_data.csv",
                                                   "stappone_example.csv")} == {
        "pedar_example.asc": "pedar", "fscan_testL.asf": "fscan", "xsensor_data.csv": "xsensor",
        "stappone_example.csv": "stappone"}


@needs_vendor
def test_rows_missing_from_a_pedar_export_are_gaps(tmp_path):
    lines = (VENDOR / "pedar_example.asc").read_text(encoding="latin-1").splitlines(keepends=True)
    cut = tmp_path / "cut.asc"
    cut.write_text("".join(lines[:300] + lines[305:]), encoding="latin-1")  # frames 290..294 gone
    s = read_session(import_recording("pedar", cut, tmp_path / "c.h5"))
    for foot in s.feet.values():
        assert [(g.cause, g.n_frames) for g in foot.gaps] == [(GapCause.MISSING_ROWS, 5)]
        assert foot.gaps[0].start_s == pytest.approx(2.91) and foot.gaps[0].end_s == pytest.approx(2.95)


@needs_vendor
@pytest.mark.parametrize("name, damage, expect", [
    ("pedar_example.asc", lambda b: b[:-700], r"line 1515: data line has \d+ cells, expected 199 \(truncated file\?\)"),
    ("pedar_example.asc", lambda b: b.replace(b" 40.000\t", b" 4O.000\t", 1), r"line 11, cell 3: '4O.000' is not a"),
    ("fscan_testL.asf", lambda b: b[:300000], r"truncated file\?"),
    ("fscan_testL.asf", lambda b: b.replace(b"\nFrame 7\n", b"\nFrame seven\n"), r"line \d+: expected 'Frame N'"),
    ("xsensor_data.csv", lambda b: b[:900000], r"line \d+: .*(truncated file\?|lacks a complete)"),
    ("stappone_example.csv", lambda b: b[:-20], r"line 4576: data line has \d+ cells, expected 24 \(truncated"),
])
def test_damaged_exports_give_one_line_errors_naming_file_and_line(tmp_path, name, damage, expect):
    bad = tmp_path / name
    bad.write_bytes(damage((VENDOR / name).read_bytes()))
    r = subprocess.run([*INSOLE, "import", "auto", str(bad), "-o", str(tmp_path / "o.h5"), "--side", "left"]
                       if name.startswith("stappone") else [*INSOLE, "import", "auto", str(bad), "-o",
                                                            str(tmp_path / "o.h5")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and not (tmp_path / "o.h5").exists()
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}: ") and re.search(expect, lines[0]), r.stderr


def test_options_that_do_not_apply_are_refused(tmp_path):
    with pytest.raises(ImportSourceError, match="--side does not apply to pedar"):
        import_recording("pedar", source("pedar_example.asc"), tmp_path / "o.h5", side="left")


# ------------------------------------------------------------------------------------ analysis on the imports
@needs_vendor
def test_analysis_runs_on_two_foot_imports_and_says_why_the_excerpt_is_too_short(tmp_path):
    out = import_recording("pedar", VENDOR / "pedar_example.asc", tmp_path / "p.h5")
    r = subprocess.run([*INSOLE, "analyze", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert re.search(r"left: \d+ strides, median stride 1\.\d+ s", r.stdout) and "cadence" in r.stdout
    out = import_recording("xsensor", VENDOR / "xsensor_data.csv", tmp_path / "x.h5")
    r = subprocess.run([*INSOLE, "analyze", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "no walking detected" in r.stderr and len(r.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------------------------ bounded memory
def _big_pedar(path: Path, n_frames: int) -> None:
    """A generated pedar export of ``n_frames`` (both feet, 99 cells, 2.5 kPa steps)."""
    head = ("File name:  big.sol\tdate/time  01.01.24 10.00\nsensor type:  x-0000l-0000r-test \n"
            f"total time [secs]:  {n_frames / 100:.3f}\ttime per frame [secs]:  0.01000\tscanning rate [Hz]:   100\n"
            "pressure values in  kPa\n\nmask definition: \n"
            "left insole: " + "".join(f"{i}," for i in range(1, 100)) + "\n"
            "right insole: " + "".join(f"{i}," for i in range(1, 100)) + "\n\n"
            "time[secs]    \t" + "\t".join(f"{i:7d}" for i in (*range(1, 100), *range(1, 100))) + "\n")
    rng = np.random.default_rng(0)
    with path.open("w", encoding="latin-1") as fh:
        fh.write(head)
        for start in range(0, n_frames, 5000):
            n = min(5000, n_frames - start)
            t = (np.arange(start, start + n) + 1) / 100
            values = rng.integers(0, 160, (n, 198)) * 2.5
            fh.write("\n".join(f"{a:12.5f}\t" + "\t".join(f"{v:7.3f}" for v in row) for a, row in zip(t, values,
                                                                                                       strict=True)))
            fh.write("\n")


@pytest.mark.slow
def test_large_exports_are_read_with_bounded_memory(tmp_path):
    big = tmp_path / "big.asc"
    _big_pedar(big, 60_000)  # ~95 MB of text, 47 MB as float32
    size_mb = big.stat().st_size / 1e6
    tracemalloc.start()
    t0 = time.perf_counter()
    out = import_recording("pedar", big, tmp_path / "big.h5")
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    with open_session(out) as r:
        assert r.foot_info("left").n_frames == r.foot_info("right").n_frames == 60_000
        last = r.read("right", 59_999, 60_000)
    assert last.time_s[0] == pytest.approx(600.0)
    print(f"\nstreamed import: {size_mb:.0f} MB of pedar ASCII in {elapsed:.1f} s "
          f"({size_mb / elapsed:.1f} MB/s), peak traced memory {peak / 1e6:.1f} MB")
    assert peak < 40e6 < size_mb * 1e6 / 2


# ------------------------------------------------------------------------------------ committed excerpts
@pytest.mark.parametrize("name, fmt, options", [("pedar_example.asc", "pedar", {}), ("fscan_testL.asf", "fscan", {}),
                                                ("xsensor_data.csv", "xsensor", {}),
                                                ("stappone_example.csv", "stappone", {"side": "left"})])
def test_committed_excerpts_are_current_and_recognised(tmp_path, name, fmt, options):
    src = SAMPLES / name
    committed = read_session(SAMPLES / (Path(name).stem + ".h5"))
    assert committed.attrs["source_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert detect_format(src) == fmt
    fresh = read_session(import_recording(fmt, src, tmp_path / "x.h5", **options))
    for side, foot in fresh.feet.items():
        np.testing.assert_array_equal(committed.feet[side].pressure, foot.pressure)
        np.testing.assert_array_equal(committed.feet[side].time_s, foot.time_s)
    assert "MIT License" in (SAMPLES / "LICENSE.md").read_text() and "Telfer" in (SAMPLES / "README.md").read_text()
    assert sum(p.stat().st_size for p in SAMPLES.glob(Path(name).stem + ".*")) < 450_000
