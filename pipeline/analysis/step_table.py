"""The per-step table as numpy columns: one 1-D array per column, all of one length, in column order.

The analysis builds its per-step table column by column and reads it column by column; a pandas DataFrame did that
job before, at the price of importing pandas (about 0.5 s of every ``insole analyze`` on the 2-core reference
machine, issue 15). :class:`StepTable` holds the same columns with the same dtypes; :meth:`StepTable.to_pandas`
gives the DataFrame the earlier versions returned (``AnalysisResult.steps``), column for column and dtype for dtype,
and :func:`concat` stacks the tables of two feet as ``pandas.concat(..., ignore_index=True)`` did.

Dtypes are those of the values stored: a text column is an object array of ``str``, a flag column ``bool``, the
step and bout numbers ``int64``, measures ``float64`` or ``float32`` (the analysis keeps some in single precision).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from pipeline.errors import AnalysisError


def _as_column(values: Any, n: int | None, name: str) -> np.ndarray:
    """``values`` as a 1-D column of ``n`` rows (``n`` None: the length of ``values``); scalars are repeated."""
    if np.ndim(values) == 0:
        if n is None:
            raise AnalysisError(f"step table column {name!r}: a single value needs a table with rows")
        if isinstance(values, str):
            return np.full(n, values, dtype=object)
        return np.full(n, values)
    a = np.asarray(values)
    if a.dtype.kind == "U":  # text is kept as Python strings (pandas' object columns)
        a = a.astype(object)
    if a.ndim != 1:
        raise AnalysisError(f"step table column {name!r} has shape {a.shape}; a column is one value per step")
    if n is not None and len(a) != n:
        raise AnalysisError(f"step table column {name!r} has {len(a)} values for {n} steps")
    return a


class StepTable(Mapping[str, np.ndarray]):
    """Columns of one value per step, in order (a mapping of column name to 1-D array).

    Parameters
    ----------
    columns : mapping of str to array-like, optional
        The first columns, in order; a scalar is repeated on every row.
    n_rows : int, optional
        Number of rows; without it, the length of the first array column (a scalar before it is an error).
    """

    __slots__ = ("_cols", "_n")

    def __init__(self, columns: Mapping[str, Any] | None = None, n_rows: int | None = None) -> None:
        self._cols: dict[str, np.ndarray] = {}
        self._n: int | None = n_rows
        for name, values in (columns or {}).items():
            self[name] = values

    def __getitem__(self, name: str) -> np.ndarray:
        return self._cols[name]

    def __setitem__(self, name: str, values: Any) -> None:
        col = _as_column(values, self._n, name)
        self._n = len(col)
        self._cols[name] = col

    def __iter__(self) -> Iterator[str]:
        return iter(self._cols)

    def __len__(self) -> int:
        """Number of rows (steps), as ``len`` of a DataFrame."""
        return self._n or 0

    def __contains__(self, name: object) -> bool:
        return name in self._cols

    def __repr__(self) -> str:
        return f"StepTable({len(self)} steps x {len(self._cols)} columns)"

    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        return list(self._cols)

    def insert(self, position: int, name: str, values: Any) -> None:
        """Add column ``name`` at ``position`` (0 = first), as ``DataFrame.insert``."""
        if name in self._cols:
            raise AnalysisError(f"step table already has a column {name!r}")
        col = _as_column(values, self._n, name)
        items = list(self._cols.items())
        items.insert(position, (name, col))
        self._cols, self._n = dict(items), len(col)

    def to_pandas(self) -> Any:
        """The table as a pandas DataFrame (imports pandas): same columns, order and dtypes, a RangeIndex."""
        import pandas as pd

        return pd.DataFrame(dict(self._cols), index=pd.RangeIndex(len(self)), copy=False)

    @classmethod
    def from_pandas(cls, frame: Any) -> StepTable:
        """The columns of a DataFrame (e.g. a ``steps.csv`` read back), as numpy arrays."""
        out = cls()
        out._cols = {str(c): frame[c].to_numpy() for c in frame.columns}
        out._n = len(frame)
        return out


def _missing(dtype: np.dtype, n: int) -> np.ndarray:
    """What pandas puts in a column a table lacks: NaN, in the column's float type (or float64 / object)."""
    if dtype.kind == "f":
        return np.full(n, np.nan, dtype=dtype)
    if dtype.kind in "iu":
        return np.full(n, np.nan)
    return np.full(n, np.nan, dtype=object)


def _stack(parts: list[np.ndarray]) -> np.ndarray:
    kinds = {p.dtype.kind for p in parts}
    if "O" in kinds or (len(kinds) > 1 and kinds & {"b", "O"}):  # pandas keeps mixed flags / text as objects
        return np.concatenate([p.astype(object) for p in parts])
    return np.concatenate(parts)


def concat(tables: Iterable[StepTable]) -> StepTable:
    """The rows of ``tables`` one after another, as ``pandas.concat(tables, ignore_index=True)``: the columns of the
    first table, then those only later ones have; a column a table lacks is NaN in its rows."""
    tables = list(tables)
    names: dict[str, np.dtype] = {}
    for t in tables:
        for k in t:
            names.setdefault(k, t[k].dtype)
    out = StepTable()
    out._cols = {k: _stack([t[k] if k in t else _missing(names[k], len(t)) for t in tables]) for k in names}
    out._n = sum(len(t) for t in tables)
    return out
