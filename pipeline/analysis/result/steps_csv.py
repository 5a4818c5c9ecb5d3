"""The per-step table as CSV, written by Arrow's C++ CSV writer.

pandas' ``to_csv`` formats every float through Python (about 8,000 rows of the 78-column step table per second on
the reference machine, 1.0 s for a one-hour session); Arrow's writer does the same table at more than 50,000 rows
per second (benchmarks/bench_cli.py, ``steps.csv``). What is written is the same table:
float64 values in their shortest round-trip form, single-precision values in theirs (as pandas wrote them),
missing values as empty fields, booleans as ``true``/``false`` (read back as booleans by pandas, R and
spreadsheets), text values quoted, the header line plain. Reading the file back gives the same values as the
pandas-written file did.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_steps_csv(steps: pd.DataFrame, path: str | Path) -> Path:
    """Write ``steps`` (one row per step) to ``path`` as CSV with a header line; returns the path."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    out = Path(path)
    table = pa.Table.from_pandas(steps, preserve_index=False)
    with out.open("wb") as f:
        # the column names are identifiers: a plain header line (Arrow would quote every name)
        f.write((",".join(map(str, steps.columns)) + "\n").encode())
        pa_csv.write_csv(table, f, pa_csv.WriteOptions(include_header=False))
    return out
