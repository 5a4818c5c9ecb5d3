"""The per-step table as numpy columns (issue 15): same columns and dtypes as the pandas table it replaced, two
feet stacked as pandas.concat stacks them, and an analysis that never imports pandas."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.analysis import analyze_session
from pipeline.analysis.step_table import StepTable, concat
from pipeline.errors import AnalysisError

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"


def _table(n: int, seed: int, **extra: np.ndarray) -> StepTable:
    rng = np.random.default_rng(seed)
    t = StepTable({"side": "left", "step": np.arange(n)}, n_rows=n)
    t["ic_s"] = rng.random(n)
    t["peak"] = rng.random(n).astype(np.float32)
    t["valid"] = rng.random(n) > 0.5
    t["exclusion"] = np.array(["", "no next contact", "a, \"quoted\" reason"] * n, dtype=object)[:n]
    t["paired"] = False
    t["nan_col"] = np.nan
    for k, v in extra.items():
        t[k] = v
    return t


def test_columns_keep_their_order_dtypes_and_length():
    t = _table(5, 1)
    assert t.columns == ["side", "step", "ic_s", "peak", "valid", "exclusion", "paired", "nan_col"]
    assert len(t) == 5
    assert [t[c].dtype.kind for c in t.columns] == ["O", "i", "f", "f", "b", "O", "b", "f"]
    assert t["peak"].dtype == np.float32
    assert list(t["side"]) == ["left"] * 5
    t["ic_s"] = np.zeros(5)  # replacing a column keeps its place
    t.insert(2, "to_s", np.ones(5))
    assert t.columns[:4] == ["side", "step", "to_s", "ic_s"]
    frame = t.to_pandas()
    assert list(frame.columns) == t.columns
    numeric = [c for c in t.columns if t[c].dtype.kind != "O"]  # text: whatever pandas makes of str objects
    assert [frame[c].dtype for c in numeric] == [t[c].dtype for c in numeric]
    assert frame["exclusion"].tolist() == list(t["exclusion"])
    assert isinstance(frame.index, pd.RangeIndex) and len(frame) == 5
    back = StepTable.from_pandas(frame)
    assert back.columns == t.columns and all(np.array_equal(back[c], t[c]) for c in t.columns if c != "nan_col")


def test_bad_columns_say_which_and_why():
    t = _table(4, 2)
    with pytest.raises(AnalysisError, match="'x' has 3 values for 4 steps"):
        t["x"] = np.zeros(3)
    with pytest.raises(AnalysisError, match=r"'y' has shape \(4, 2\)"):
        t["y"] = np.zeros((4, 2))
    with pytest.raises(AnalysisError, match="already has a column 'ic_s'"):
        t.insert(0, "ic_s", np.zeros(4))
    with pytest.raises(AnalysisError, match="a single value needs a table with rows"):
        StepTable({"side": "left"})


@pytest.mark.parametrize("n_left, n_right", [(7, 5), (3, 9)])  # an analysed foot has >= 3 steps
def test_two_feet_stack_as_pandas_concat_stacks_them(n_left, n_right):
    # the right foot lacks one column of every dtype and has one of its own: what pandas fills in, we fill in
    left = _table(n_left, 3, only_left_f64=np.arange(n_left, dtype=float),
                  only_left_f32=np.arange(n_left, dtype=np.float32), only_left_bool=np.ones(n_left, bool),
                  only_left_int=np.arange(n_left), only_left_text=np.array(["a"] * n_left, dtype=object))
    right = _table(n_right, 4, only_right=np.arange(n_right, dtype=float))
    right["peak"] = np.asarray(right["peak"], float)  # float32 on one foot, float64 on the other
    ours = concat([left, right]).to_pandas()
    theirs = pd.concat([left.to_pandas(), right.to_pandas()], ignore_index=True)
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=True)


def test_result_table_and_dataframe_hold_the_same_steps():
    result = analyze_session(SAMPLES / "gaitpdb" / "GaCo01_01.h5")
    t, frame = result.table, result.steps
    assert list(frame.columns) == t.columns == [c.name for c in result.metrics.step_columns]
    assert len(frame) == len(t) == result.metrics.left.n_steps_detected + result.metrics.right.n_steps_detected
    for c in t.columns:
        if t[c].dtype.kind == "O":
            assert frame[c].tolist() == list(t[c]), c
        else:
            assert frame[c].dtype == t[c].dtype, c
            assert np.array_equal(frame[c].to_numpy(), t[c], equal_nan=t[c].dtype.kind == "f"), c
    for side in ("left", "right"):  # the summaries' step values, read from the numpy columns and from the frame
        v = result.valid_steps(side)["stance_time_s"].to_numpy(float)
        assert np.array_equal(result.step_values(side, "stance_time_s"), v[np.isfinite(v)])
        assert result.step_values(side, "stance_time_s").size == getattr(result.metrics, side).stance_time_s.n
    assert result.step_values("left", "no_such_column").size == 0


def test_analysing_a_file_does_not_import_pandas(tmp_path):
    code = (
        "import sys\n"
        "from pipeline.analysis import analyze_session\n"
        f"r = analyze_session({str(SAMPLES / 'moticon' / '230927_102114.h5')!r})\n"
        f"r.write_metrics({str(tmp_path / 'm.json')!r})\n"
        "assert len(r.table) > 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pandas')[:3])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout
