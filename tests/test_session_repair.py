"""``insole repair`` (issue 14, item 17): a recording killed with ``kill -9`` is read by ``insole info`` (SWMR
fallback) but refused by plain HDF5 ("file is already open for write"); after ``insole repair FILE`` plain h5py
opens it and holds exactly the frames the reader read before, and the file says it was recovered."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from hostile_sessions import interrupted_recording, run

from insole.session import FIELDS, open_session, read_session
from insole.simulator.session import simulate_session


def _frames(path) -> dict[str, dict[str, np.ndarray]]:
    with open_session(path) as sf:
        out = {}
        for side in sf.sides:
            block = sf.read(side, fields=FIELDS)
            out[side] = {name: getattr(block, name) for name in FIELDS if getattr(block, name) is not None}
        return out


@pytest.mark.parametrize("seconds", [0.5, 2.0, 4.5])
def test_kill_9_then_repair_opens_in_plain_hdf5_with_every_frame(tmp_path, seconds):
    path = interrupted_recording(tmp_path / "killed.h5", seconds=seconds)
    with pytest.raises(OSError, match="already open for write"):
        h5py.File(path, "r").close()
    before = _frames(path)
    assert before["left"]["time_s"][-1] >= seconds - 1.5  # at most about a second behind
    info = run("info", str(path))
    assert info.returncode == 0, info.stderr
    assert f"until you run `insole repair {path}`" in info.stdout, info.stdout

    r = run("repair", str(path))
    assert r.returncode == 0 and r.stdout.startswith(f"repaired {path}: left "), (r.stdout, r.stderr)
    assert "marked as recovered" in r.stdout and not (tmp_path / "killed.h5.bak").exists()
    with h5py.File(path, "r") as f:  # plain HDF5 now: what HDFView, MATLAB and R do
        assert f.attrs["recovered"] and not f.attrs["complete"]
        for side, data in before.items():
            for name, values in data.items():
                stored = f[f"{side}/{name}"][()]
                assert np.array_equal(stored.astype(values.dtype), values, equal_nan=values.dtype.kind == "f"), name
    after = _frames(path)
    assert before.keys() == after.keys()
    for side in before:
        assert before[side].keys() == after[side].keys()
        for name in before[side]:
            assert np.array_equal(before[side][name], after[side][name], equal_nan=True), (side, name)
    s = read_session(path)
    assert s.completeness.state == "recovered"
    info = run("info", str(path))
    assert "complete: NO: the recording was interrupted; repaired" in info.stdout, info.stdout
    again = run("repair", str(path))
    assert again.returncode == 0 and "nothing to repair: it was repaired already" in again.stdout, again.stdout


def test_repair_keeps_a_backup_when_asked(tmp_path):
    path = interrupted_recording(tmp_path / "killed.h5", seconds=1.0)
    original = path.read_bytes()
    r = run("repair", "--keep-backup", str(path))
    assert r.returncode == 0 and f"original kept as {path}.bak" in r.stdout, r.stdout
    assert (tmp_path / "killed.h5.bak").read_bytes() == original


def test_repair_refuses_what_is_not_an_interrupted_insole_session(tmp_path):
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    text = tmp_path / "notes.h5"
    text.write_text("not hdf5\n")
    cases = {foreign: f"error: {foreign}: is an HDF5 file but not an insole session (no 'format' attribute)",
             text: f"error: {text}: is not an HDF5 file",
             tmp_path / "missing.h5": f"error: {tmp_path / 'missing.h5'}: does not exist"}
    for path, expected in cases.items():
        before = path.read_bytes() if path.exists() else None
        r = run("repair", str(path))
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode == 1 and len(lines) == 1 and lines[0].startswith(expected), r.stderr
        assert (path.read_bytes() if path.exists() else None) == before
    complete = tmp_path / "complete.h5"
    simulate_session(complete, profile="neutral", duration_s=3, seed=1)
    before = complete.read_bytes()
    r = run("repair", str(complete))
    assert r.returncode == 0 and "nothing to repair: it is not flagged as open for writing" in r.stdout, r.stdout
    assert complete.read_bytes() == before
