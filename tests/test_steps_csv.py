"""steps.csv is written by Arrow's CSV writer (issue 15); reading it back gives exactly what pandas' own writer gave."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from pipeline.analysis import analyze_session

ROOT = Path(__file__).resolve().parents[1]


def test_steps_csv_reads_back_as_the_pandas_written_table(tmp_path):
    for name in ("neutral.h5", "running.h5"):
        result = analyze_session(ROOT / "sample_recordings/simulated" / name)
        written = pd.read_csv(result.write_steps(tmp_path / "steps.csv"))
        reference = pd.read_csv(io.StringIO(result.steps.to_csv(index=False)))
        assert list(written.columns) == list(result.steps.columns)
        pd.testing.assert_frame_equal(written, reference, check_exact=True, check_dtype=False)
        # and the booleans and text are still booleans and text
        assert written["valid"].dtype == bool and written["side"].isin(["left", "right"]).all()
