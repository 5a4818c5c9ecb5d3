"""Chunked access to one foot's frames, from a session file (streaming) or from an in-memory session.

The analysis never loads a whole recording: it walks the frames in blocks (pass 1: total force) and reads back
the frames of groups of steps (pass 2: CoP, regions, indices). :class:`FootSource` hides whether the frames come
from an open HDF5 file (:func:`insole.session_file.open_session`) or from a :class:`~insole.session_file.FootData`
already in memory (e.g. an imported or synthetic session built in a test).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from insole.layouts import SensorLayout
from insole.session_file import FootData, SessionFile


@dataclass
class FootSource:
    """One foot's frames, readable in blocks.

    Attributes
    ----------
    side : {"left", "right"}
    units : str
        Units of the pressure array (``kPa``, ``N`` or ``raw``).
    sampling_rate_hz : float
        Nominal sampling rate.
    layout : SensorLayout
    n_frames : int
    gaps : numpy.ndarray, shape (n_gaps, 2)
        Known missing intervals (start, end) in seconds.
    attrs : dict
        The foot group's attributes (device information, clock fit, ...).
    """

    side: str
    units: str
    sampling_rate_hz: float
    layout: SensorLayout
    n_frames: int
    gaps: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    attrs: dict[str, Any] = field(default_factory=dict)
    _file: SessionFile | None = field(default=None, repr=False)
    _foot: FootData | None = field(default=None, repr=False)

    @classmethod
    def from_file(cls, sf: SessionFile, side: str) -> FootSource:
        """A source reading ``side`` of an open session file lazily."""
        g = sf.foot(side)  # type: ignore[arg-type]
        attrs = sf.attrs_of(side)  # type: ignore[arg-type]
        units = g["pressure"].attrs.get("units", attrs.get("units", ""))
        units = units.decode() if isinstance(units, bytes) else str(units)
        return cls(
            side=side,
            units=units,
            sampling_rate_hz=float(attrs.get("sampling_rate_hz", np.nan)),
            layout=sf.layout(side),  # type: ignore[arg-type]
            n_frames=sf.n_frames(side),  # type: ignore[arg-type]
            gaps=g["gaps"][()] if "gaps" in g else np.zeros((0, 2)),
            attrs=attrs,
            _file=sf,
        )

    @classmethod
    def from_foot(cls, foot: FootData) -> FootSource:
        """A source over a foot already loaded in memory."""
        return cls(
            side=foot.side,
            units=foot.units,
            sampling_rate_hz=float(foot.sampling_rate_hz),
            layout=foot.layout,
            n_frames=foot.n_frames,
            gaps=np.asarray(foot.gaps, dtype=float).reshape(-1, 2),
            attrs=dict(foot.attrs),
            _foot=foot,
        )

    @property
    def n_sensors(self) -> int:
        """Number of cells."""
        return self.layout.n_sensors

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Frames ``start:stop`` as ``(time_s, pressure, saturated)`` (``saturated`` None when not recorded)."""
        if self._foot is not None:
            f = self._foot
            sat = None if f.saturated is None else np.asarray(f.saturated[start:stop], bool)
            return (np.asarray(f.time_s[start:stop], np.float64), np.asarray(f.pressure[start:stop], np.float32), sat)
        assert self._file is not None
        g = self._file.foot(self.side)  # type: ignore[arg-type]
        sat = g["saturated"][start:stop].astype(bool) if "saturated" in g else None
        return g["time_s"][start:stop], np.asarray(g["pressure"][start:stop], np.float32), sat

    def iter_blocks(self, block_frames: int) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray | None]]:
        """Yield ``(start, time_s, pressure, saturated)`` blocks of at most ``block_frames`` frames, in order."""
        if self._file is not None:
            g = self._file.foot(self.side)  # type: ignore[arg-type]
            start = 0
            for time_s, pressure in self._file.iter_chunks(self.side, block_frames):  # type: ignore[arg-type]
                stop = start + len(time_s)
                sat = g["saturated"][start:stop].astype(bool) if "saturated" in g else None
                yield start, time_s, np.asarray(pressure, np.float32), sat
                start = stop
            return
        for start in range(0, self.n_frames, block_frames):
            yield (start, *self.read(start, min(start + block_frames, self.n_frames)))
