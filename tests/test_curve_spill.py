"""Per-step curves held in a temporary file until assembly (pipeline/analysis/spill.py): the arrays come back
byte for byte, the file is anonymous and closed after use, and an analysis whose curves all go through the file
gives the same result as one that keeps them in memory."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from pipeline.analysis import analyze_session, spill
from pipeline.analysis.result.curves import CurveSummary, StanceCurves
from pipeline.analysis.spill import SpilledCurves
from pipeline.analysis.step_table import StepTable

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"


def _open_spill_files() -> list[str]:
    """Paths of this process's open file descriptors that point at a spill file (Linux: "... (deleted)")."""
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if "insole-curves-" in target or (target.startswith("/tmp/#") and "(deleted)" in target):
            out.append(target)
    return out


def test_arrays_come_back_bit_for_bit_from_the_file_and_memory():
    rng = np.random.default_rng(5)
    big = rng.normal(size=(300, 101)).astype(np.float32)
    big[::7, 3:50] = np.nan  # NaN rows as in steps without a CoP, and signed zeros / infinities
    big[1, 0], big[2, 0], big[3, 0] = -0.0, np.inf, -np.inf
    small = rng.normal(size=(3, 101)).astype(np.float32)
    strided = rng.normal(size=(200, 202)).astype(np.float32)[:, ::2]  # not contiguous
    store = SpilledCurves(min_bytes=big.nbytes // 2)
    try:
        store.put("big", big)
        store.put("small", small)
        store.put("strided", strided)
        assert sorted(store.spilled) == ["big", "strided"] and store.has_file
        with pytest.raises(KeyError):
            store.put("big", big)
        back = {k: store.take(k) for k in ("strided", "small", "big")}  # another order than written
    finally:
        store.close()
    assert not store.has_file
    for name, original in (("big", big), ("small", small), ("strided", strided)):
        got = back[name]
        assert got.dtype == original.dtype and got.shape == original.shape
        assert got.tobytes() == np.ascontiguousarray(original).tobytes()
    back["big"] *= np.float32(2.0)  # a fresh, writable array (the assembly rescales the force curves in place)
    with pytest.raises(KeyError):
        SpilledCurves().take("missing")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")
def test_the_file_has_no_name_and_is_closed():
    before = _open_spill_files()
    store = SpilledCurves(min_bytes=0)
    store.put("a", np.ones((10, 101), np.float32))
    assert store.has_file
    opened = [p for p in _open_spill_files() if p not in before]
    assert len(opened) == 1 and opened[0].endswith("(deleted)")  # unlinked from the start: nothing left behind
    assert np.array_equal(store.take("a"), np.ones((10, 101), np.float32))
    store.close()
    store.close()  # twice is harmless
    assert _open_spill_files() == before


def _same_curves(a: StanceCurves, b: StanceCurves) -> None:
    for f in fields(StanceCurves):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, CurveSummary):
            assert x.n_steps == y.n_steps
            for part in ("mean", "sd", "drawn"):
                assert getattr(x, part).tobytes() == getattr(y, part).tobytes(), (f.name, part)
        else:
            assert x == y, f.name


def _metrics(result) -> dict:
    d = json.loads(result.metrics.to_json())
    d["provenance"].pop("analysed_utc")
    return d


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")
@pytest.mark.parametrize("sample", ["gaitpdb/GaCo01_01.h5", "simulated/neutral.h5"])  # rescaled force; 16 kPa cells
def test_analysis_through_the_file_equals_the_analysis_in_memory(sample, monkeypatch):
    path = SAMPLES / sample
    monkeypatch.setattr(spill, "SPILL_MIN_BYTES", 1 << 62)
    in_memory = analyze_session(path)
    opened: list[SpilledCurves] = []
    to_file: set[str] = set()
    real_put = SpilledCurves.put

    def put(self, name, array, **kwargs):  # the real put; only records which stores wrote what to a file
        real_put(self, name, array, **kwargs)
        if self.has_file and self not in opened:
            opened.append(self)
        if name in self.spilled:
            to_file.add(name)

    monkeypatch.setattr(spill, "SPILL_MIN_BYTES", 0)
    monkeypatch.setattr(SpilledCurves, "put", put)
    before = _open_spill_files()
    spilled = analyze_session(path)
    assert len(opened) == 2  # both feet's curves went through a file ...
    # ... and the first foot's step table and cell values while the second foot was analysed (text stays in memory)
    assert {"cell_peak", "cell_pti", "table/stance_time_s", "table/timing_ok"} <= to_file
    assert "table/side" not in to_file
    assert all(not s.has_file for s in opened) and _open_spill_files() == before  # ... closed after assembly
    assert _metrics(spilled) == _metrics(in_memory)
    assert list(spilled.steps.columns) == list(in_memory.steps.columns)
    for c in in_memory.steps.columns:
        x, y = np.asarray(spilled.steps[c]), np.asarray(in_memory.steps[c])
        assert x.dtype == y.dtype, c
        assert (x.tolist() == y.tolist()) if x.dtype == object else (x.tobytes() == y.tobytes()), c
    assert set(spilled.curves) == set(in_memory.curves) == {"left", "right"}
    for side in in_memory.curves:
        _same_curves(spilled.curves[side], in_memory.curves[side])


def test_without_temporary_space_the_arrays_stay_in_memory(tmp_path, monkeypatch):
    """A temporary folder that cannot take the file (here one that does not exist: the OS refuses to create the
    file) costs memory, not the result."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "missing" / "tmp"))
    big = np.arange(4 * 101, dtype=np.float32).reshape(4, 101)
    held = SpilledCurves(min_bytes=0)
    held.put("force", big)
    assert held.spilled == [] and not held.has_file
    np.testing.assert_array_equal(held.take("force"), big)
    held.close()


def test_a_step_table_comes_back_the_same_columns_in_order():
    table = StepTable({"side": np.array(["left"] * 5, dtype=object), "step": np.arange(5),
                       "stance_time_s": np.linspace(0.6, 0.7, 5), "peak": np.arange(5, dtype=np.float32),
                       "valid": np.array([True, False, True, True, False]),
                       "exclusion": np.array(["", "gap", "", "", "edge"], dtype=object)})
    held = SpilledCurves(min_bytes=0)
    held.put_table("t", table)
    assert sorted(held.spilled) == ["t/peak", "t/stance_time_s", "t/step", "t/valid"]  # text stays in memory
    back = held.take_table("t")
    held.close()
    assert back.columns == table.columns and len(back) == 5
    for c in table:
        assert back[c].dtype == table[c].dtype and back[c].tolist() == table[c].tolist(), c
    small = SpilledCurves()  # an hour's table (a few MB) stays in memory
    small.put_table("t", table)
    assert small.spilled == [] and not small.has_file
