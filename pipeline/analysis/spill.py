"""Per-step curves of one foot held in an anonymous temporary file until the result is assembled.

The step validity that selects the curves summarised in the result needs both feet (:mod:`.assemble`), so every
detected step's stance curves (force, CoP AP, CoP ML: ``(n_steps, 101)`` float32 each, 97 MB per foot for a day
of walking) must outlive the analysis of their foot. Held in memory, the first foot's curves were still there
while the second foot's per-frame arrays were built, at the peak of the process. :class:`SpilledCurves` writes
each array larger than :data:`SPILL_MIN_BYTES` to one anonymous temporary file (:func:`tempfile.TemporaryFile`:
on Linux it has no name from the start, so nothing is left behind even if the process is killed) and reads it
back, byte for byte the same array, when the result is assembled; smaller arrays (an hour of walking) stay in
memory. The file is closed (and its space freed) by :meth:`SpilledCurves.close`, after the last array is taken.
When the temporary folder cannot take the file (a full or read-only disk), the arrays stay in memory: the
analysis needs more memory but gives the same result.
"""

from __future__ import annotations

import tempfile
from typing import IO

import numpy as np

from pipeline.analysis.step_table import StepTable

#: Arrays smaller than this stay in memory (an hour's curves of one foot are 1.4 MB each; a day's 32 MB).
SPILL_MIN_BYTES = 8 << 20


class SpilledCurves:
    """Named arrays kept in memory or in an anonymous temporary file, each taken back once.

    Parameters
    ----------
    min_bytes : int, optional
        Arrays of at least this many bytes go to the file (default :data:`SPILL_MIN_BYTES`; 0: every array).
    """

    def __init__(self, min_bytes: int | None = None) -> None:
        self.min_bytes = SPILL_MIN_BYTES if min_bytes is None else int(min_bytes)
        self._file: IO[bytes] | None = None
        self._end = 0
        self._memory: dict[str, np.ndarray] = {}
        self._spilled: dict[str, tuple[int, np.dtype, tuple[int, ...]]] = {}  # name -> (offset, dtype, shape)
        self._tables: dict[str, tuple[list[str], int]] = {}  # name -> (columns in order, rows)

    @property
    def spilled(self) -> list[str]:
        """Names of the arrays held in the file."""
        return list(self._spilled)

    @property
    def has_file(self) -> bool:
        """Whether a temporary file is open."""
        return self._file is not None

    def holds(self, name: str) -> bool:
        """Whether an array is held under ``name``."""
        return name in self._memory or name in self._spilled

    def put(self, name: str, array: np.ndarray, *, to_file: bool | None = None) -> None:
        """Keep ``array`` under ``name`` (written to the file when it is large, or when ``to_file`` says so; the
        caller drops its reference). Arrays of Python objects always stay in memory."""
        if name in self._memory or name in self._spilled:
            raise KeyError(f"{name!r} is already held")
        array = np.ascontiguousarray(array)
        if to_file is None:
            to_file = array.nbytes >= self.min_bytes
        if not to_file or array.nbytes == 0 or array.dtype.hasobject:
            self._memory[name] = array
            return
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="insole-curves-")
            self._file.seek(self._end)
            self._file.write(memoryview(array).cast("B"))
            self._file.flush()
        except OSError:  # no temporary space (a full or read-only disk): the array stays in memory, nothing lost
            self._memory[name] = array
            return
        self._spilled[name] = (self._end, array.dtype, array.shape)
        self._end += array.nbytes

    def take(self, name: str) -> np.ndarray:
        """The array held under ``name`` (a fresh array read from the file when it was spilled); it is forgotten."""
        if name in self._memory:
            return self._memory.pop(name)
        offset, dtype, shape = self._spilled.pop(name)
        out = np.empty(shape, dtype)
        assert self._file is not None
        self._file.seek(offset)
        got = self._file.readinto(memoryview(out).cast("B"))
        if got != out.nbytes:
            raise OSError(f"the temporary file of the step curves returned {got} of {out.nbytes} bytes of {name!r}")
        return out

    def put_table(self, name: str, table: StepTable) -> None:
        """Keep a per-step table under ``name``: its columns go to the file when together they are large (text
        columns stay in memory); :meth:`take_table` gives the same table back, columns in order."""
        to_file = sum(table[c].nbytes for c in table) >= self.min_bytes
        self._tables[name] = (list(table), len(table))
        for column in table:
            self.put(f"{name}/{column}", table[column], to_file=to_file)

    def take_table(self, name: str) -> StepTable:
        """The table held under ``name`` (see :meth:`put_table`); it is forgotten."""
        columns, n_rows = self._tables.pop(name)
        return StepTable({c: self.take(f"{name}/{c}") for c in columns}, n_rows=n_rows)

    def close(self) -> None:
        """Forget every array and close (delete) the temporary file; safe to call twice."""
        self._memory.clear()
        self._spilled.clear()
        self._tables.clear()
        if self._file is not None:
            self._file.close()
            self._file = None
