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



#: Text columns of the per-step table, and its integer columns (every other column is a float or a boolean).
TEXT_COLUMNS = ("side", "exclusion", "imu_reason")
INTEGER_COLUMNS = ("step", "bout")


def read_steps_csv(path: str | Path) -> pd.DataFrame:
    """Read a ``steps.csv`` written by :func:`write_steps_csv` back into the per-step table.

    Booleans come back as booleans, empty text fields as ``""``, missing numbers as NaN and every numeric column
    but :data:`INTEGER_COLUMNS` as float64. Columns the analysis keeps in single precision come back as float64
    of their shortest decimal form (within 1e-7 relative of the values analysed).
    """
    steps = pd.read_csv(path, dtype={c: str for c in TEXT_COLUMNS})
    for c in steps.columns:
        if c in TEXT_COLUMNS:
            steps[c] = steps[c].fillna("")
        elif c not in INTEGER_COLUMNS and pd.api.types.is_integer_dtype(steps[c].dtype):
            steps[c] = steps[c].astype(float)
    return steps
