"""Importers: real third-party files in, valid session files out, samples kept exactly, clear errors on bad input."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from insole.errors import ImportSourceError, InsoleError
from insole.importers import FORMATS, detect_format, import_recording
from insole.session import GapCause, SessionMetadata, frames_lost, gap_intervals_s, open_session, read_session

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_recordings"
DATASETS = ROOT.parent / "shared" / "datasets"
INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]

needs_datasets = pytest.mark.skipif(not DATASETS.is_dir(), reason="../shared/datasets not present")


def decode_212(raw: bytes) -> np.ndarray:
    """Independent format-212 decoder (WFDB signal(5)): 3 bytes -> 2 12-bit two's-complement samples."""
    b = np.frombuffer(raw[: len(raw) // 3 * 3], np.uint8).reshape(-1, 3).astype(np.int64)
    first = b[:, 0] | ((b[:, 1] & 0x0F) << 8)
    second = b[:, 2] | ((b[:, 1] >> 4) << 8)
    s = np.column_stack([first, second]).ravel()
    return np.where(s >= 2048, s - 4096, s)


def moticon_cells(path: Path) -> tuple[list[str], list[list[str]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    names = [c.split("[")[0].strip() for c in [ln for ln in lines if ln.startswith("#")][-1][2:].split("\t")]
    return names, [ln.split("\t") for ln in lines if ln and not ln.startswith("#")]


# --------------------------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("record", ["control1", "hunt13"])
def test_gaitndd_round_trip_keeps_digital_samples(tmp_path, record):
    hea = SAMPLES / "gaitndd" / f"{record}.hea"
    out = import_recording("gaitndd", hea, tmp_path / "s.h5")
    s = read_session(out)
    assert s.attrs["source"] == "imported" and s.attrs["source_format"] == "gaitndd"
    header = hea.read_text().splitlines()
    for ext, side, line in ((".let", "left", header[1]), (".rit", "right", header[2])):
        n = int(header[0].split()[3])
        truth = decode_212((hea.with_suffix(ext)).read_bytes())[:n]
        foot = s.feet[side]
        assert foot.units == "raw" and foot.sampling_rate_hz == 300.0 and foot.pressure.shape == (n, 1)
        stored = foot.pressure[:, 0]
        invalid = truth == -2048
        assert np.array_equal(np.isnan(stored), invalid)
        assert np.array_equal(stored[~invalid].astype(np.int64), truth[~invalid])
        assert foot.attrs["adc_gain"] == float(line.split()[2])
        assert foot.attrs["invalid_samples"] == int(invalid.sum())
        runs = np.count_nonzero(np.diff(np.r_[0, invalid.astype(int)]) == 1)
        assert len(foot.gaps) == runs and all(g.cause is GapCause.INVALID_SAMPLES for g in foot.gaps)
        assert all("-2048" in g.message for g in foot.gaps) and frames_lost(foot.gaps) == int(invalid.sum())
        np.testing.assert_allclose(foot.time_s, np.arange(n) / 300.0)
    if record == "hunt13":
        assert s.feet["right"].attrs["invalid_samples"] > 0  # the excerpt was chosen to contain the invalid code


def test_gaitndd_metadata_and_provenance(tmp_path):
    hea = SAMPLES / "gaitndd" / "control1.hea"
    s = read_session(import_recording("gaitndd", hea, tmp_path / "s.h5"))
    assert s.metadata.subject_id == "control1"
    assert s.metadata.body_mass_kg == 95.0  # subject-description.txt: control1 weighs 95 kg
    assert s.metadata.foot_length_mm == pytest.approx(0.152 * 1940)
    assert "unverified" in s.metadata.notes
    assert s.attrs["source_sha256"] == hashlib.sha256(hea.read_bytes()).hexdigest()
    for name in ("control1.let", "control1.rit", "subject-description.txt"):
        digest = hashlib.sha256((hea.parent / name).read_bytes()).hexdigest()
        assert f"{name} sha256={digest}" in s.attrs["source_companions"]
    assert "mid-foot" in s.attrs["import_assumptions"] and s.attrs["importer_version"].startswith("1 ")


@pytest.mark.parametrize("walk", ["GaCo01_01", "GaPt03_01"])
def test_gaitpdb_round_trip_keeps_forces_to_the_printed_precision(tmp_path, walk):
    src = SAMPLES / "gaitpdb" / f"{walk}.txt"
    s = read_session(import_recording("gaitpdb", src, tmp_path / "s.h5"))
    table = np.loadtxt(src, delimiter="\t")
    for side, cols in (("left", slice(1, 9)), ("right", slice(9, 17))):
        foot = s.feet[side]
        assert foot.units == "N" and foot.sampling_rate_hz == 100.0
        np.testing.assert_array_equal(foot.time_s, table[:, 0])
        # float32 storage; the text has 2 decimals, and rounding the stored value gives the source number back
        np.testing.assert_array_equal(np.round(foot.pressure.astype(np.float64), 2), table[:, cols])
        assert foot.layout.layout_id == "gaitpdb-8"
    assert s.metadata.subject_id == walk.split("_")[0]


def test_gaitpdb_geometry_in_foot_frame(tmp_path):
    s = read_session(import_recording("gaitpdb", SAMPLES / "gaitpdb" / "GaCo01_01.txt", tmp_path / "s.h5"))
    lay = s.feet["left"].layout
    assert np.array_equal(lay.x_mm, s.feet["right"].layout.x_mm)  # same foot frame for both feet
    assert lay.x_mm[0] < lay.x_mm[1] < lay.x_mm[7]  # sensor 1 heel, sensor 8 toe
    assert lay.y_mm[2] > 0 > lay.y_mm[1]  # |X| = 300 is medial (positive), |X| = 700 lateral
    assert s.metadata.body_mass_kg == 83.0  # demographics.txt: GaCo01 weight 83 kg, height 1.80 m
    assert lay.foot_length_mm == pytest.approx(0.152 * 1800)


def test_moticon_round_trip_pressure_imu_and_vendor_events(tmp_path):
    src = SAMPLES / "moticon" / "230927_102114.txt"
    out = import_recording("moticon", src, tmp_path / "s.h5")
    s = read_session(out)
    names, rows = moticon_cells(src)
    t = np.array([float(r[0]) for r in rows])
    for side in ("left", "right"):
        first = names.index(f"{side} pressure 1")
        has = np.array([r[first] != "" for r in rows])
        source = np.array([[float(c) for c in r[first : first + 16]] for r, h in zip(rows, has, strict=True) if h])
        imu = np.array([[float(c) for c in r[first + 16 : first + 22]] for r, h in zip(rows, has, strict=True) if h])
        foot = s.feet[side]
        assert foot.units == "kPa"
        np.testing.assert_array_equal(foot.time_s, t[has])
        np.testing.assert_array_equal(foot.pressure.astype(np.float64), source * 10.0)  # 0.25 N/cm2 steps: exact
        empty_runs = np.count_nonzero(np.diff(np.r_[0, (~has).astype(int)]) == 1)
        no_data = [g for g in foot.gaps if g.cause is GapCause.NO_DATA]
        assert len(no_data) == empty_runs > 0 and all("had no data" in g.message for g in no_data)
        assert frames_lost(no_data) == int((~has).sum())
        # the IMU block, through the session API: m/s2 and rad/s, one sample per frame, foot sensor frame
        assert foot.imu is not None and foot.imu.frame == "foot" and foot.imu.frame_aligned
        np.testing.assert_array_equal(foot.imu.time_s, t[has])
        np.testing.assert_allclose(foot.imu.acc_m_s2, imu[:, :3] * 9.80665, rtol=1e-6)
        np.testing.assert_allclose(foot.imu.gyr_rad_s, np.radians(imu[:, 3:]), rtol=1e-6)
        assert foot.imu.gyr_range_rad_s == pytest.approx(np.radians(32768 * 0.07))
        assert np.all(np.abs(imu[:, 3:]) < 32768 * 0.07)  # this walk never saturates the gyroscope
        with h5py.File(out) as f:
            assert isinstance(f[f"{side}/imu"], h5py.Group)
            steps = np.array([r[names.index(f"{side} steps")] for r in rows])
            code = 11 if side == "left" else 21
            np.testing.assert_array_equal(f[f"vendor_events/{side}/ic_s"][()], t[steps == f"{code}.00"])
            np.testing.assert_array_equal(f[f"vendor_events/{side}/to_s"][()], t[steps == f"{code + 4}.00"])
            assert f["vendor_events"].attrs["vendor_computed"]
    # the layout derived from the vendor's force/COP: heel cells 1-4 behind midfoot 5-8 behind forefoot 9-16
    x = s.feet["left"].layout.x_mm
    assert x[:4].max() < x[4:8].min() and x[4:8].max() < x[8:].min() + 30


def test_csv_round_trip_and_built_in_layout(tmp_path):
    src = SAMPLES / "csv" / "diy_example.csv"
    s = read_session(import_recording("csv", src, tmp_path / "s.h5"))
    lines = [ln for ln in src.read_text().splitlines() if not ln.startswith("#")]
    table = np.array([ln.split(",") for ln in lines[1:]], dtype=np.float64)
    np.testing.assert_array_equal(s.feet["left"].time_s, table[:, 0])
    np.testing.assert_array_equal(np.round(s.feet["left"].pressure.astype(np.float64), 2), table[:, 1:17])
    np.testing.assert_array_equal(np.round(s.feet["right"].pressure.astype(np.float64), 2), table[:, 17:33])
    assert s.feet["left"].layout.layout_id == "generic-16" and s.metadata.subject_id == "SIM-neutral-1"


def test_csv_long_form_custom_sensors_and_gaps(tmp_path):
    src = tmp_path / "long.csv"
    src.write_text(
        "# insole-csv: 1\n# sampling_rate_hz: 50\n# units: N\n# foot_length_mm: 250\n"
        "# sensor: heel x_mm=30 y_mm=0 area_mm2=400\n# sensor: fore x_mm=180 y_mm=10 area_mm2=500\n"
        "time_s,side,heel,fore\n0.00,left,10.5,0\n0.00,right,1,2\n0.02,left,11,1\n0.04,left,12,3\n0.02,right,3,4\n"
    )
    s = read_session(import_recording("csv", src, tmp_path / "s.h5"))
    np.testing.assert_array_equal(s.feet["left"].pressure, [[10.5, 0], [11, 1], [12, 3]])
    np.testing.assert_array_equal(s.feet["right"].time_s, [0.0, 0.02])
    np.testing.assert_array_equal(s.feet["left"].layout.x_mm, [30, 180])
    wide = tmp_path / "wide.csv"
    wide.write_text("# insole-csv: 1\n# sampling_rate_hz: 50\n# units: raw\n# layout: generic-8\n"
                    "time_s," + ",".join(f"left_s{i}" for i in range(1, 9)) + "\n"
                    + "\n".join(f"{k * 0.02:.2f}," + ("," * 7 if k in (2, 3) else ",".join(["5"] * 8))
                                for k in range(6)) + "\n")
    s = read_session(import_recording("csv", wide, tmp_path / "w.h5"))
    assert s.feet["left"].n_frames == 4 and list(s.feet) == ["left"]
    np.testing.assert_allclose(gap_intervals_s(s.feet["left"].gaps), [[0.04, 0.06]])
    assert [(g.cause, g.n_frames) for g in s.feet["left"].gaps] == [(GapCause.NO_DATA, 2)]


def test_user_metadata_overrides_source(tmp_path):
    out = import_recording("gaitpdb", SAMPLES / "gaitpdb" / "GaCo01_01.txt", tmp_path / "s.h5",
                           metadata=SessionMetadata(subject_id="X7", body_mass_kg=70.0))
    s = read_session(out)
    assert s.metadata.subject_id == "X7" and s.metadata.body_mass_kg == 70.0
    assert s.metadata.foot_length_mm == pytest.approx(0.152 * 1800)  # not given: kept from the source


def test_detect_format_on_samples():
    assert detect_format(SAMPLES / "gaitndd" / "control1.hea") == "gaitndd"
    assert detect_format(SAMPLES / "gaitpdb" / "GaCo01_01.txt") == "gaitpdb"
    assert detect_format(SAMPLES / "moticon" / "230927_102114.txt") == "moticon"
    assert detect_format(SAMPLES / "csv" / "diy_example.csv") == "csv"


def test_imported_samples_are_current():
    """The committed .h5 samples hold what the importers make of the committed sources today."""
    for h5 in sorted(SAMPLES.glob("[gm]*/*.h5")):
        s = read_session(h5)
        assert s.attrs["source"] == "imported"
        src = h5.parent / s.attrs["source_file"]
        assert hashlib.sha256(src.read_bytes()).hexdigest() == s.attrs["source_sha256"], h5


def test_committed_v1_samples_migrate_to_what_a_fresh_import_writes(tmp_path):
    """The committed samples are format version 1 (prose gap causes): read through the migration, their gaps are
    the records the importers write today, cause codes and frame counts included."""
    checked = 0
    for h5 in sorted(SAMPLES.glob("[gm]*/*.h5")):
        with open_session(h5) as reader:
            if reader.format_version != 1:
                continue
            old = {side: reader.gaps(side) for side in reader.sides}
            fmt, src = reader.attrs["source_format"], h5.parent / reader.attrs["source_file"]
        new = read_session(import_recording(fmt, src, tmp_path / f"{h5.stem}.h5"))
        assert new.attrs["format_version"] == 2
        for side, gaps in old.items():
            assert gaps == new.feet[side].gaps, (h5, side)
            assert all(g.cause is not GapCause.OTHER for g in gaps), h5
            checked += len(gaps)
    assert checked > 10  # hunt13 (invalid samples) and the Moticon export (empty and missing rows) have gaps


# --------------------------------------------------------------------------------------------- bad input
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*INSOLE, *args], capture_output=True, text=True, timeout=120)


def test_header_without_signal_files(tmp_path):
    shutil.copy(SAMPLES / "gaitndd" / "control1.hea", tmp_path)
    with pytest.raises(ImportSourceError, match=r"control1\.hea.*signal file control1\.let is missing"):
        import_recording("gaitndd", tmp_path / "control1.hea", tmp_path / "s.h5")
    r = _cli("import", "gaitndd", str(tmp_path / "control1.hea"), "-o", str(tmp_path / "s.h5"))
    assert r.returncode == 1 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    assert "control1.let is missing" in r.stderr and not (tmp_path / "s.h5").exists()


def test_truncated_signal_file(tmp_path):
    for ext in (".hea", ".let", ".rit"):
        shutil.copy(SAMPLES / "gaitndd" / f"control1{ext}", tmp_path)
    let = tmp_path / "control1.let"
    let.write_bytes(let.read_bytes()[:1000])
    with pytest.raises(ImportSourceError, match=r"control1\.let: is truncated: 1000 bytes"):
        import_recording("gaitndd", tmp_path / "control1.hea", tmp_path / "s.h5")


def test_missing_header(tmp_path):
    with pytest.raises(ImportSourceError, match=r"nothing\.hea: WFDB header not found"):
        import_recording("gaitndd", tmp_path / "nothing.hea", tmp_path / "s.h5")


def test_truncated_gaitpdb_file(tmp_path):
    src = tmp_path / "GaCo01_01.txt"
    src.write_bytes((SAMPLES / "gaitpdb" / "GaCo01_01.txt").read_bytes()[:5000])
    with pytest.raises(ImportSourceError, match=r"GaCo01_01\.txt: line \d+ has \d+ tab-separated columns.*truncated"):
        import_recording("gaitpdb", src, tmp_path / "s.h5")


def test_truncated_moticon_file(tmp_path):
    src = tmp_path / "m.txt"
    src.write_bytes((SAMPLES / "moticon" / "230927_102114.txt").read_bytes()[:30000])
    with pytest.raises(ImportSourceError, match=r"m\.txt: data row \d+ has \d+ columns.*truncated"):
        import_recording("moticon", src, tmp_path / "s.h5")


@pytest.mark.parametrize(
    ("fmt", "src", "expect"),
    [
        ("gaitpdb", "moticon/230927_102114.txt", r"looks like a moticon file: try 'insole import moticon"),
        ("moticon", "gaitpdb/GaCo01_01.txt", r"not a Moticon OpenGo text export.*looks like a gaitpdb file"),
        ("csv", "gaitpdb/GaCo01_01.txt", r"insole-csv: 1.*looks like a gaitpdb file"),
        ("gaitndd", "gaitpdb/GaCo01_01.txt", r"GaCo01_01\.hea: WFDB header not found"),
        ("gaitpdb", "gaitndd/control1.let", r"control1\.let: line 1 has"),
    ],
)
def test_wrong_format_chosen(tmp_path, fmt, src, expect):
    with pytest.raises(ImportSourceError, match=expect):
        import_recording(fmt, SAMPLES / src, tmp_path / "s.h5")
    assert not (tmp_path / "s.h5").exists()


def test_unknown_columns(tmp_path):
    src = tmp_path / "m.txt"
    src.write_text((SAMPLES / "moticon" / "230927_102114.txt").read_text(encoding="utf-8")
                   .replace("left steps[]", "left footsteps[]"), encoding="utf-8")
    with pytest.raises(ImportSourceError, match=r"m\.txt: unknown column\(s\) 'left footsteps'"):
        import_recording("moticon", src, tmp_path / "s.h5")
    csv = tmp_path / "c.csv"
    csv.write_text("# insole-csv: 1\n# sampling_rate_hz: 100\n# units: kPa\n# layout: generic-8\n"
                   "time_s,left_s1,left_s2,left_s3,left_s4,left_s5,left_s6,left_s7,left_s8,left_temp\n")
    with pytest.raises(ImportSourceError, match=r"c\.csv: unknown column\(s\) 'left_temp'"):
        import_recording("csv", csv, tmp_path / "s.h5")
    csv.write_text("# insole-csv: 1\n# sampling_rate_hz: 100\n# units: kPa\n# layout: generic-8\n"
                   "time_s,left_s1,left_s2\n0,1,2\n")
    with pytest.raises(ImportSourceError, match=r"missing sensor column\(s\) left_s3"):
        import_recording("csv", csv, tmp_path / "s.h5")


def test_csv_header_problems(tmp_path):
    csv = tmp_path / "c.csv"
    cases = {
        "# insole-csv: 1\n# units: kPa\n# layout: generic-8\ntime_s\n": "sampling_rate_hz: ...' is missing",
        "# insole-csv: 1\n# sampling_rate_hz: 100\n# units: psi\n# layout: generic-8\n": "units 'psi' unknown",
        "# insole-csv: 1\n# sampling_rate_hz: 100\n# units: N\ntime_s,left_s1\n0,1\n": "sensor geometry is missing",
        "# insole-csv: 2\n": "version '2' not supported",
        "time_s,left_s1\n0,1\n": "first line must be '# insole-csv: 1'",
    }
    for text, expect in cases.items():
        csv.write_text(text)
        with pytest.raises(ImportSourceError, match=expect):
            import_recording("csv", csv, tmp_path / "s.h5")


def test_errors_are_insole_errors_and_existing_output_is_kept(tmp_path):
    assert issubclass(ImportSourceError, InsoleError)
    out = tmp_path / "s.h5"
    out.write_bytes(b"keep me")
    r = _cli("import", "gaitpdb", str(SAMPLES / "gaitpdb" / "GaCo01_01.txt"), "-o", str(out))
    assert r.returncode == 1 and "already exists" in r.stderr and out.read_bytes() == b"keep me"
    r = _cli("import", "gaitpdb", str(SAMPLES / "gaitpdb" / "GaCo01_01.txt"), "-o", str(out), "--overwrite",
             "--subject", "P1", "--body-mass-kg", "71")
    assert r.returncode == 0, r.stderr
    assert "left 6000 frames x 8 sensors (N" in r.stdout
    md = read_session(out).metadata
    assert (md.subject_id, md.body_mass_kg) == ("P1", 71.0)
    r = _cli("import", "nope", "x", "-o", str(out))
    assert r.returncode == 2 and "nope" in r.stderr


# --------------------------------------------------------------------------------------------- all datasets
@pytest.mark.datasets
@needs_datasets
def test_every_dataset_file_imports(tmp_path):
    """All 64 gaitndd records, all 18 gaitpdb walks, all 4 Moticon exports and every vendor export (pedar, F-Scan,
    XSENSOR, stappone; tests/test_vendor_importers.py checks their values) convert to valid sessions."""
    cases = [("gaitndd", p) for p in sorted((DATASETS / "gaitndd").glob("*.hea"))]
    cases += [("gaitpdb", p) for p in sorted((DATASETS / "gaitpdb").glob("*_*.txt"))]
    cases += [("moticon", p) for p in sorted((DATASETS / "moticon_opengo").rglob("*.txt"))]
    vendor = {"pedar_example.asc": "pedar", "fscan_testL.asf": "fscan", "xsensor_data.csv": "xsensor",
              "stappone_example.csv": "stappone"}
    cases += [(vendor[p.name], p) for p in sorted((DATASETS / "vendor_exports").iterdir()) if p.name in vendor]
    counts = {f: sum(1 for g, _ in cases if g == f) for f in FORMATS if f != "csv"}
    assert counts == {"gaitndd": 64, "gaitpdb": 18, "moticon": 4, "pedar": 1, "fscan": 1, "xsensor": 1,
                      "stappone": 1}
    assert len([p for p in (DATASETS / "vendor_exports").iterdir() if p.suffix in (".asc", ".asf", ".csv")]) == 4
    out = tmp_path / "s.h5"
    for fmt, src in cases:
        import_recording(fmt, src, out, overwrite=True, **({"side": "left"} if fmt == "stappone" else {}))
        s = read_session(out)
        assert s.attrs["source_file"] == src.name and s.attrs["source_format"] == fmt
        if fmt in vendor.values():
            assert set(s.feet) == ({"left"} if fmt in ("fscan", "stappone") else {"left", "right"}), src
            continue
        assert set(s.feet) == {"left", "right"}, src
        assert s.attrs["source_file"] == src.name and s.attrs["source_format"] == fmt
        if fmt == "gaitndd":
            assert all(f.n_frames == 90000 for f in s.feet.values()), src
        elif fmt == "gaitpdb":
            n = len(src.read_text().splitlines())
            assert all(f.n_frames == n for f in s.feet.values()), src
            assert np.all(np.isfinite(s.feet["left"].pressure)), src
        else:
            assert all(f.units == "kPa" and f.pressure.shape[1] == 16 for f in s.feet.values()), src


@pytest.mark.datasets
@needs_datasets
def test_moticon_hand_set_markers_are_kept_apart(tmp_path):
    """The 2022 live capture has 'Left/Right Events' markers instead of step codes: stored as markers, not IC/TO."""
    src = DATASETS / "moticon_opengo" / "walk_data_with_events" / "text_export.txt"
    out = import_recording("moticon", src, tmp_path / "s.h5")
    names, rows = moticon_cells(src)
    with h5py.File(out) as f:
        assert "ic_s" not in f["vendor_events/left"] and f["vendor_events"].attrs["vendor_computed"]
        for side, col in (("left", "Left Events"), ("right", "Right Events")):
            j = names.index(col)
            marked = [(float(r[0]), int(float(r[j]))) for r in rows if r[j]]
            np.testing.assert_array_equal(f[f"vendor_events/{side}/marker_s"][()], [m[0] for m in marked])
            np.testing.assert_array_equal(f[f"vendor_events/{side}/marker_code"][()], [m[1] for m in marked])
        assert f["left"].attrs["device_insole_size"] == "3"
    s = read_session(out)
    # size-3 insole: areas fitted from this file's own total-force column, smaller than the size-7 cells
    assert "fit rejected" not in s.attrs["source_area_fit"]
    assert s.feet["left"].layout.area_mm2.sum() < 100 * 214


def test_sample_recordings_simulated_profiles():
    """Every simulator profile is in sample_recordings, small, valid, with ground truth; the folder stays small."""
    from insole.simulator.profiles import PROFILES

    for profile in PROFILES:
        path = SAMPLES / "simulated" / f"{profile}.h5"
        assert path.stat().st_size < 1_000_000, path
        s = read_session(path)
        assert s.attrs["source"] == "simulated" and s.truth_params["name"] == profile
        assert 59.0 <= s.duration_s <= 62.0 and set(s.feet) == {"left", "right"}
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 15_000_000


def test_gaps_follow_the_recorder_convention(tmp_path):
    """A row missing from a Moticon export is a gap from the first to the last missing frame time."""
    s = read_session(import_recording("moticon", SAMPLES / "moticon" / "230927_102114.txt", tmp_path / "s.h5"))
    foot = s.feet["left"]
    missing = [g for g in foot.gaps if g.cause is GapCause.MISSING_ROWS]
    assert len(missing) == 1 and missing[0].n_frames == 1
    np.testing.assert_allclose([missing[0].start_s, missing[0].end_s], [16.44, 16.44])  # export: 16.43 -> 16.45 s


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"hello\n",
        (SAMPLES / "gaitndd" / "control1.let").read_bytes()[:3000],
        (SAMPLES / "simulated" / "neutral.h5").read_bytes()[:3000],
        (SAMPLES / "moticon" / "230927_102114.txt").read_bytes().replace(b"\t6.50\t", b"\tabc\t", 1),
        (SAMPLES / "gaitpdb" / "GaCo01_01.txt").read_bytes()[:300] + b"\x00\xff" * 50,
    ],
    ids=["empty", "text", "format212", "hdf5", "bad-number", "binary-tail"],
)
def test_garbage_gives_import_source_error(tmp_path, fmt, garbage):
    """Whatever the bytes, an importer raises ImportSourceError naming the file, never another exception."""
    for ext in (".txt", ".hea", ".csv"):
        src = tmp_path / f"in{ext}"
        src.write_bytes(garbage)
        with pytest.raises(ImportSourceError) as info:
            import_recording(fmt, src, tmp_path / "s.h5")
        assert info.value.path.endswith(("in.txt", "in.hea", "in.csv", ".let", ".rit")), info.value
        assert not (tmp_path / "s.h5").exists()


def test_user_foot_length_scales_the_layout(tmp_path):
    src = SAMPLES / "moticon" / "230927_102114.txt"
    default = read_session(import_recording("moticon", src, tmp_path / "a.h5"))
    given = read_session(import_recording("moticon", src, tmp_path / "b.h5",
                                          metadata=SessionMetadata(foot_length_mm=286.0)))
    np.testing.assert_allclose(given.feet["left"].layout.x_mm, default.feet["left"].layout.x_mm * 286.0 / 260.0)
    assert given.metadata.foot_length_mm == 286.0 and default.metadata.foot_length_mm is None
    assert "given by the user" in given.feet["left"].attrs["layout_assumption"]
    pdb = read_session(import_recording("gaitpdb", SAMPLES / "gaitpdb" / "GaCo01_01.txt", tmp_path / "c.h5",
                                        metadata=SessionMetadata(foot_length_mm=250.0)))
    assert pdb.feet["right"].layout.foot_length_mm == 250.0


def test_auto_format(tmp_path):
    r = _cli("import", "auto", str(SAMPLES / "gaitndd" / "hunt13.hea"), "-o", str(tmp_path / "a.h5"))
    assert r.returncode == 0 and "(gaitndd: left 18000 frames x 1 sensors (raw" in r.stdout, r.stderr
    (tmp_path / "x.bin").write_bytes(b"\x00\x01")
    with pytest.raises(ImportSourceError, match="format not recognised"):
        import_recording("auto", tmp_path / "x.bin", tmp_path / "b.h5")


def test_info_shows_provenance_of_imported_sessions():
    r = _cli("info", str(SAMPLES / "moticon" / "230927_102114.h5"))
    assert r.returncode == 0, r.stderr
    assert "imported from moticon file 230927_102114.txt" in r.stdout
    assert "vendor reference data (not used by analysis): /vendor_events, /vendor_signals" in r.stdout
