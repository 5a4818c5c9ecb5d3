"""Tidy long-format tables for R and pandas: frames, cells and steps as CSV (always) or Parquet (pyarrow).

* ``frames``: one row per frame and cell: ``side, frame, time_s, cell, value, units`` (``units`` as stored:
  ``kPa``, ``N`` or ``raw``). Written block by block, so memory does not grow with the session.
* ``cells``: one row per cell: ``side, cell, x_mm, y_mm, area_mm2, layout_id, geometry`` (join on side + cell).
* ``steps``: one row per stance and variable: ``side, step, valid, exclusion, variable, value, unit`` (every
  numeric and logical column of the analysis' step table; logicals as 0 / 1).

Parquet is written with pyarrow (the ``parquet`` extra), CSV with pandas.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from insole.session import open_session
from pipeline.errors import ExportError

FORMATS = ("csv", "parquet")
_IDS = ("side", "step", "valid", "exclusion")


def _pyarrow():  # type: ignore[no-untyped-def]
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ExportError("Parquet export needs pyarrow: pip install 'open-insole[parquet]' (or export csv)") from None
    return pa, pq


class _TableWriter:
    """Append DataFrames to one CSV or Parquet file."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path, self.fmt, self._pq, self._n = path, fmt, None, 0
        if fmt == "parquet":
            self._pa, self._pqmod = _pyarrow()

    def append(self, df: pd.DataFrame) -> None:
        if self.fmt == "csv":
            df.to_csv(self.path, mode="a" if self._n else "w", header=not self._n, index=False)
        else:
            table = self._pa.Table.from_pandas(df, preserve_index=False)
            if self._pq is None:
                self._pq = self._pqmod.ParquetWriter(self.path, table.schema)
            self._pq.write_table(table)
        self._n += len(df)

    def close(self) -> int:
        if self._pq is not None:
            self._pq.close()
        return self._n


def write_tables(session: str | os.PathLike[str], out_dir: str | os.PathLike[str], fmt: str = "csv",
                 steps: pd.DataFrame | None = None, step_units: Mapping[str, str] | None = None, *,
                 block_frames: int = 1 << 14, overwrite: bool = False) -> dict[str, Path]:
    """Write ``frames``, ``cells`` (and ``steps`` when given) of ``session`` into ``out_dir``.

    Parameters
    ----------
    session : path
    out_dir : path
        Folder (created); files ``frames.<fmt>``, ``cells.<fmt>``, ``steps.<fmt>``.
    fmt : {"csv", "parquet"}
    steps : pandas.DataFrame or None
        ``AnalysisResult.steps``.
    step_units : mapping or None
        Column -> unit (``AnalysisResult.metrics.step_columns``).
    block_frames : int
        Frames converted at a time.
    overwrite : bool

    Returns
    -------
    dict of str to Path
        The files written, by table name.
    """
    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "parquet":  # before anything is made: a plain install has no pyarrow
        _pyarrow()
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    names = ["frames", "cells"] + (["steps"] if steps is not None else [])
    paths = {name: folder / f"{name}.{fmt}" for name in names}
    existing = [p for p in paths.values() if p.exists()]
    if existing and not overwrite:
        raise ExportError(f"{existing[0]} already exists; choose another folder or pass --overwrite")
    with open_session(session) as reader:
        frames, cells = _TableWriter(paths["frames"], fmt), _TableWriter(paths["cells"], fmt)
        try:
            for side in reader.sides:
                info = reader.foot_info(side)
                lay = info.layout
                cells.append(pd.DataFrame({"side": side, "cell": np.arange(1, lay.n_sensors + 1),
                                           "x_mm": lay.x_mm, "y_mm": lay.y_mm, "area_mm2": lay.area_mm2,
                                           "layout_id": lay.layout_id, "geometry": lay.geometry}))
                for block in reader.iter_blocks(side, block_frames):
                    n, k = block.pressure.shape
                    frames.append(pd.DataFrame({
                        "side": pd.Categorical([side] * (n * k), categories=["left", "right"]),
                        "frame": np.repeat(np.arange(block.start, block.start + n), k),
                        "time_s": np.repeat(block.time_s, k),
                        "cell": np.tile(np.arange(1, k + 1), n),
                        "value": block.pressure.ravel(),
                        "units": pd.Categorical([info.units] * (n * k), categories=["kPa", "N", "raw"]),
                    }))
        finally:
            frames.close()
            cells.close()
    if steps is not None:
        writer = _TableWriter(paths["steps"], fmt)
        writer.append(long_steps(steps, step_units or {}))
        writer.close()
    return paths


def long_steps(steps: pd.DataFrame, units: Mapping[str, str]) -> pd.DataFrame:
    """The step table in long form: ``side, step, valid, exclusion, variable, value, unit``."""
    values = [c for c in steps.columns if c not in _IDS and (pd.api.types.is_numeric_dtype(steps[c])
                                                              or pd.api.types.is_bool_dtype(steps[c]))]
    wide = steps[list(_IDS) + values].copy()
    for c in values:
        wide[c] = wide[c].astype(float)
    long = wide.melt(id_vars=list(_IDS), value_vars=values, var_name="variable", value_name="value")
    long["unit"] = long["variable"].map(lambda v: units.get(v, ""))
    long["valid"] = long["valid"].astype(bool)
    return long.sort_values(["side", "step"], kind="stable").reset_index(drop=True)
