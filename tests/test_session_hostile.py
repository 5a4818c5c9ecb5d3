"""Hostile and damaged session files (issue 14, items 4, 13 and 14): ``insole info`` and ``insole analyze`` in real
processes answer with one line naming the file, the dataset or attribute and the problem, never with a traceback, a
MemoryError, minutes of work or an endless wait; and the caps admit the largest sessions the recorder writes."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hostile_sessions import VARIANTS, damage_metadata, interrupted_recording, make_variant, run, with_unknown_filter

from insole.errors import SessionFileError
from insole.layouts import builtin_layout
from insole.session import RecordingWriter, SessionMetadata, open_session
from insole.session.dataset_limits import declared_bytes
from insole.session.format import MAX_FRAME_DATASET_BYTES
from insole.simulator.session import simulate_session


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "base.h5"
    simulate_session(path, profile="neutral", duration_s=12, seed=1)
    return path


def one_line_error(r) -> str:
    assert r.returncode == 1, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "MemoryError" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.mark.parametrize("name", list(VARIANTS))
def test_info_and_analyze_name_the_problem_in_one_line(base, tmp_path, name):
    path, expected = make_variant(base, tmp_path, name)
    for command in ("info", "analyze"):
        line = one_line_error(run(command, str(path), timeout=120))  # hang guard: the old code took minutes
        assert line.startswith(f"error: {path}: ") and expected in line, (command, line)


def test_implausible_pressure_is_refused_where_it_is_read(base, tmp_path):
    """Pressure x 1e30 (a scale or unit error): the frame and cell are named when the analysis reads them."""
    import h5py

    path = tmp_path / "scaled.h5"
    path.write_bytes(base.read_bytes())
    with h5py.File(path, "r+") as f:
        f["left/pressure"][...] = f["left/pressure"][()] * np.float32(1e30) + np.float32(1e30)
    line = one_line_error(run("analyze", str(path)))
    assert re.search(rf"{re.escape(str(path))}: /left/pressure frame 0, cell 1: [0-9.]+e\+3\d kPa is outside the "
                     r"plausible range -101.325 to 10000 kPa", line), line
    with open_session(path) as sf:  # the right foot is fine and stays readable
        assert sf.read("right").pressure.max() < 10_000


def test_unknown_compression_filter_is_refused_by_info_and_analyze(tmp_path):
    path = with_unknown_filter(tmp_path)
    for command in ("info", "analyze"):
        line = one_line_error(run(command, str(path)))
        assert f"{path}: /left/pressure is compressed with filter 32123" in line, line


def test_damaged_interrupted_recording_is_refused_without_waiting(tmp_path):
    """One flipped byte in the metadata of a killed crash-safe recording used to keep ``insole info`` in HDF5's
    retry loop forever (back-off doubling from 1 ns, 100 attempts)."""
    good = interrupted_recording(tmp_path / "killed.h5", seconds=2.0)
    bad = damage_metadata(good, tmp_path / "damaged.h5")
    r = run("info", str(bad), timeout=60)  # the hang guard: the unbounded version never returned
    line = one_line_error(r)
    assert line.startswith(f"error: {bad}: ")
    ok = run("info", str(good), timeout=60)  # the undamaged one still opens
    assert ok.returncode == 0 and "complete: NO" in ok.stdout, ok.stderr


def test_caps_admit_a_24_hour_two_foot_recording(tmp_path):
    """A day at 100 Hz with 16 cells on both feet, written by the recorder's own writer (float32 pressure,
    uint32 sequence, uint64 device time), passes every cap and validates, time checked."""
    path = tmp_path / "day.h5"
    n, block = 24 * 3600 * 100, 1_000_000
    with RecordingWriter(path, SessionMetadata(), atomic=False, crash_safe=True) as w:
        for side in ("left", "right"):
            w.add_foot(side, builtin_layout(16), units="kPa", sampling_rate_hz=100)
        w.start_appending()
        zeros = np.zeros((block, 16), np.float32)
        for lo in range(0, n, block):
            k = min(block, n - lo)
            idx = np.arange(lo, lo + k)
            for side in ("left", "right"):
                w.append(side, idx / 100.0, zeros[:k], sequence=idx.astype(np.uint32),
                         device_time_us=(idx * 10_000).astype(np.uint64), saturated=np.zeros(k, np.uint8))
    with open_session(path) as sf:
        assert [sf.foot_info(s).n_frames for s in sf.sides] == [n, n]
        assert sf.completeness.complete
    import h5py

    with h5py.File(path) as f:
        assert declared_bytes(f["left/pressure"]) == n * 16 * 4 < MAX_FRAME_DATASET_BYTES


def test_reader_refuses_gap_tables_far_larger_than_the_frames(base, tmp_path):
    import h5py

    path = tmp_path / "gaps.h5"
    path.write_bytes(base.read_bytes())
    with h5py.File(path, "r+") as f:
        n = f["left/time_s"].shape[0]
        for name in ("start_s", "end_s", "n_frames", "cause", "message"):
            f[f"left/gaps/{name}"].resize(2 * max(n, f["right/time_s"].shape[0]) + 17, axis=0)
    with pytest.raises(SessionFileError, match=r"/left/gaps declares \d+ gaps for at most \d+ frames"):
        open_session(path)
