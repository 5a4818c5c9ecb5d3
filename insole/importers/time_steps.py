"""Checking the time column of a streamed export and turning skipped rows into gaps, chunk by chunk."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from insole.errors import ImportSourceError
from insole.importers.recording import ImportedFoot
from insole.session import Gap, GapCause

#: A time step of at least this many frame periods means rows are missing from the export.
MISSING_AFTER_PERIODS = 1.5


class TimeChecker:
    """Strictly increasing time across chunks; every step of 1.5 periods or more becomes a ``missing_rows`` gap.

    Parameters
    ----------
    path : Path
        The source, for messages.
    period_s : float
        Nominal frame period.
    feet : list of ImportedFoot
        Feet sharing this time column; the gaps are appended to each.
    what : str
        Name of the export, for gap messages.
    """

    def __init__(self, path: Path, period_s: float, feet: list[ImportedFoot], what: str) -> None:
        self.path, self.period_s, self.feet, self.what = path, period_s, feet, what
        self._last = -math.inf
        self.n_frames = 0

    def check(self, time_s: np.ndarray, first_line_no: int, line_step: int = 1) -> np.ndarray:
        """Check ``time_s`` (one chunk; row k is at line ``first_line_no + k * line_step``) and return it."""
        t = np.asarray(time_s, np.float64)
        if t.size == 0:
            return t
        full = np.concatenate([[self._last], t]) if self.n_frames else t
        steps = np.diff(full)
        row_of_step = 0 if self.n_frames else 1  # row of t that each step ends on is k + row_of_step
        bad = ~np.isfinite(t)
        if bad.any() or not np.all(steps > 0):
            k = int(np.argmax(bad)) if bad.any() else int(np.argmax(~(steps > 0))) + row_of_step
            previous = f" (previous {full[k - row_of_step]:g} s)" if not bad.any() else ""
            raise ImportSourceError(str(self.path), f"line {first_line_no + k * line_step}: time {t[k]:g} s does "
                                    f"not increase{previous}")
        for k in np.flatnonzero(steps >= MISSING_AFTER_PERIODS * self.period_s):
            before, after = float(full[k]), float(full[k + 1])
            n = max(int(round((after - before) / self.period_s)) - 1, 1)
            gap = Gap(before + self.period_s, after - self.period_s, n, GapCause.MISSING_ROWS,
                      f"{self.what}: rows missing")
            for foot in self.feet:
                foot.gaps.append(gap)
        self._last = float(t[-1])
        self.n_frames += t.size
        return t

    def finish(self) -> None:
        """Raise when no frame was read at all."""
        if self.n_frames == 0:
            raise ImportSourceError(str(self.path), "has a header but no data rows")
