"""Exports: C3D read back by ezc3d and by the independent pure-Python c3d reader; tidy CSV / Parquet round trips."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from insole.session import open_session, read_session
from pipeline.analysis import analyze_session
from pipeline.errors import ExportError
from pipeline.export import C3D_EVENT_LABELS, foot_signals, write_c3d, write_tables
from pipeline.export.c3d_file import c3d_channels

ROOT = Path(__file__).resolve().parents[1]
NEUTRAL = ROOT / "sample_recordings" / "simulated" / "neutral.h5"
PEDAR = ROOT.parent / "shared" / "datasets" / "vendor_exports" / "pedar_example.asc"
INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]

ezc3d = pytest.importorskip("ezc3d")
c3d = pytest.importorskip("c3d")


def read_with_c3d_package(path: Path) -> dict:
    """The independent reader (pure-Python ``c3d``): labels, units, rate, analog samples, events, subjects."""
    with path.open("rb") as fh, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "No point data found in file": an analog-only file is intended
        r = c3d.Reader(fh)
        analog = np.concatenate([a for _, _, a in r.read_frames()], axis=1)
        times = r.get("EVENT:TIMES").float_array
        return {
            "labels": [s.strip() for s in r.analog_labels], "rate": r.analog_rate,
            "units": [s.strip() for s in r.get("ANALOG:UNITS").string_array], "analog": analog,
            "event_s": times[:, 0] * 60 + times[:, 1],
            "event_labels": [s.strip() for s in r.get("EVENT:LABELS").string_array],
            "event_contexts": [s.strip() for s in r.get("EVENT:CONTEXTS").string_array],
            "subjects": [s.strip() for s in r.get("SUBJECTS:NAMES").string_array],
        }


def expected_events(steps: pd.DataFrame) -> pd.DataFrame:
    rows = [(t, {"left": "Left", "right": "Right"}[s.side], label)
            for s in steps.itertuples() for label, t in zip(C3D_EVENT_LABELS, (s.ic_s, s.to_s), strict=True)
            if np.isfinite(t)]  # a stance cut by the end of the recording has no toe off
    return pd.DataFrame(rows, columns=["time_s", "context", "label"]).sort_values("time_s", kind="stable")


@pytest.fixture(scope="module")
def neutral_c3d(tmp_path_factory):
    result = analyze_session(NEUTRAL)
    out = write_c3d(NEUTRAL, tmp_path_factory.mktemp("c3d") / "walk.c3d", result.steps)
    return out, result


def test_c3d_reads_back_with_both_readers_identically(neutral_c3d):
    out, result = neutral_c3d
    want = expected_events(result.steps)
    with open_session(NEUTRAL) as r:
        signals = {s: foot_signals(r, s) for s in r.sides}
    rate, grid, channels = c3d_channels(signals)
    theirs = read_with_c3d_package(out)
    ours = ezc3d.c3d(str(out))
    ev = ours["parameters"]["EVENT"]
    ez_times = np.asarray(ev["TIMES"]["value"])
    # events: both readers give the analysis' IC / TO with the standard labels and Left/Right contexts
    for times, labels, contexts in ((ez_times[0] * 60 + ez_times[1], ev["LABELS"]["value"], ev["CONTEXTS"]["value"]),
                                    (theirs["event_s"], theirs["event_labels"], theirs["event_contexts"])):
        assert len(times) == len(want) >= 2 * len(result.steps) - 2
        np.testing.assert_allclose(times, want["time_s"], atol=2e-5)  # float32 seconds
        assert list(labels) == want["label"].tolist() and list(contexts) == want["context"].tolist()
    assert set(theirs["event_labels"]) == {"Foot Strike", "Foot Off"}
    # channels: labels, units, rate and every sample (float32) agree with the session's own force and CoP
    assert theirs["labels"] == [c[0] for c in channels] == ["L_Force", "L_CoP_AP", "L_CoP_ML", "R_Force",
                                                           "R_CoP_AP", "R_CoP_ML"]
    assert theirs["units"] == ["N", "mm", "mm", "N", "mm", "mm"] and theirs["rate"] == rate == 100.0
    want_analog = np.array([c[3] for c in channels])
    np.testing.assert_allclose(theirs["analog"], want_analog, rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(ours["data"]["analogs"][0], want_analog, rtol=1e-6, atol=1e-3)
    assert theirs["subjects"] == [read_session(NEUTRAL).metadata.subject_id or ""]
    # the force channel is the cells' force: at a frame time, exactly the sum of pressure x area
    s = read_session(NEUTRAL).feet["left"]
    k = 1234
    at = int(np.argmin(np.abs(grid - s.time_s[k])))
    if abs(grid[at] - s.time_s[k]) < 1e-9:
        assert theirs["analog"][0, at] == pytest.approx((s.pressure[k] * s.layout.area_mm2).sum() / 1000, rel=1e-5)
    peak = int(np.argmax(want_analog[0]))
    assert 0 < want_analog[1, peak] < s.layout.foot_length_mm


def test_c3d_metadata_group_and_cli(tmp_path):
    out = tmp_path / "w.c3d"
    r = subprocess.run([*INSOLE, "export", "c3d", str(NEUTRAL), "-o", str(out)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert "events" in r.stdout
    params = ezc3d.c3d(str(out))["parameters"]
    assert params["INSOLE"]["SOURCE_FILE"]["value"] == ["neutral.h5"]
    md = read_session(NEUTRAL).metadata
    assert params["INSOLE"]["BODY_MASS_KG"]["value"][0] == pytest.approx(md.body_mass_kg or -1)
    r = subprocess.run([*INSOLE, "export", "c3d", str(NEUTRAL), "-o", str(out)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 1 and "already exists" in r.stderr


@pytest.mark.skipif(not PEDAR.is_file(), reason="../shared/datasets not present")
def test_c3d_of_an_imported_pedar_walk(tmp_path):
    from insole.importers import import_recording

    session = import_recording("pedar", PEDAR, tmp_path / "p.h5")
    result = analyze_session(session)
    out = write_c3d(session, tmp_path / "p.c3d", result.steps)
    theirs = read_with_c3d_package(out)
    np.testing.assert_allclose(theirs["event_s"], expected_events(result.steps)["time_s"], atol=2e-5)
    assert theirs["rate"] == 100.0 and theirs["analog"].shape[0] == 6


def test_c3d_without_events_and_a_short_session(tmp_path):
    out = write_c3d(NEUTRAL, tmp_path / "n.c3d")
    assert "EVENT" not in ezc3d.c3d(str(out))["parameters"] or \
        ezc3d.c3d(str(out))["parameters"]["EVENT"]["USED"]["value"][0] == 0
    with pytest.raises(ExportError, match="already exists"):
        write_c3d(NEUTRAL, out)


def test_tidy_tables_round_trip_csv_and_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    result = analyze_session(NEUTRAL)
    units = {c.name: c.unit for c in result.metrics.step_columns}
    session = read_session(NEUTRAL)
    for fmt, read in (("csv", pd.read_csv), ("parquet", pd.read_parquet)):
        paths = write_tables(NEUTRAL, tmp_path / fmt, fmt, result.steps, units, block_frames=1000)
        frames = read(paths["frames"])
        assert list(frames.columns) == ["side", "frame", "time_s", "cell", "value", "units"]
        for side, foot in session.feet.items():
            mine = frames[frames["side"] == side]
            wide = mine.pivot(index="frame", columns="cell", values="value").to_numpy()
            np.testing.assert_allclose(wide, foot.pressure, rtol=1e-6)
            np.testing.assert_allclose(mine.groupby("frame")["time_s"].first().to_numpy(), foot.time_s)
        cells = read(paths["cells"])
        np.testing.assert_allclose(cells[cells["side"] == "left"]["x_mm"], session.feet["left"].layout.x_mm)
        steps = read(paths["steps"])
        back = steps.pivot(index=["side", "step"], columns="variable", values="value")
        np.testing.assert_allclose(back["stance_time_s"].to_numpy(),
                                   result.steps.sort_values(["side", "step"])["stance_time_s"].to_numpy())
        assert steps.loc[steps["variable"] == "ic_s", "unit"].eq("s").all()
    with pytest.raises(ExportError, match="already exists"):
        write_tables(NEUTRAL, tmp_path / "csv", "csv")


def test_csv_export_command_without_steps(tmp_path):
    r = subprocess.run([*INSOLE, "export", "csv", str(NEUTRAL), "-o", str(tmp_path / "t"), "--no-steps"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["cells.csv", "frames.csv"]


def test_parquet_without_pyarrow_says_which_extra_and_writes_nothing(tmp_path):
    # pyarrow is the `parquet` extra, not a core dependency: a plain install blocks its import like this
    code = ("import sys; sys.modules['pyarrow'] = None\n"
            "from pipeline.cli import main; main()\n")
    out = tmp_path / "tables"
    done = subprocess.run([sys.executable, "-c", code, "export", "parquet", str(NEUTRAL), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "pip install 'open-insole[parquet]'" in done.stderr and "or export csv" in done.stderr
    assert not out.exists()
