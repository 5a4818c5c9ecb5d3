"""Chunked access to one foot's frames, from a session file (streaming) or from an in-memory session.

The analysis never loads a whole recording: it walks the frames in blocks (pass 1: total force) and reads back
the frames of groups of steps (pass 2: CoP, regions, indices). :class:`FootSource` hides whether the frames come
from an open session file (a reader from :func:`insole.session.open_session`) or from a
:class:`~insole.session.FootData` already in memory (e.g. an imported or synthetic session built in a test).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from insole.layouts import SensorLayout
from insole.session import FootData, Gap, ImuData, SessionReader

#: What the analysis reads of each frame.
_FIELDS = ("time_s", "pressure", "saturated")


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
    gaps : list of Gap
        Known missing intervals (seconds, frame count, cause code).
    attrs : dict
        The foot group's attributes (device information, clock fit, ...).
    """

    side: str
    units: str
    sampling_rate_hz: float
    layout: SensorLayout
    n_frames: int
    gaps: list[Gap] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    _reader: SessionReader | None = field(default=None, repr=False)
    _foot: FootData | None = field(default=None, repr=False)

    @classmethod
    def from_file(cls, reader: SessionReader, side: str) -> FootSource:
        """A source reading ``side`` of an open session file lazily."""
        info = reader.foot_info(side)  # type: ignore[arg-type]
        return cls(
            side=side,
            units=info.units,
            sampling_rate_hz=info.sampling_rate_hz,
            layout=info.layout,
            n_frames=info.n_frames,
            gaps=reader.gaps(side),  # type: ignore[arg-type]
            attrs=dict(info.attrs),
            _reader=reader,
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
            gaps=list(foot.gaps),
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
        assert self._reader is not None
        block = self._reader.read(self.side, start, stop, fields=_FIELDS)  # type: ignore[arg-type]
        return block.time_s, np.asarray(block.pressure, np.float32), block.saturated  # type: ignore[return-value]

    def imu(self) -> ImuData | None:
        """The foot's IMU samples (m/s², rad/s; None when the foot has no IMU)."""
        if self._foot is not None:
            return self._foot.imu
        assert self._reader is not None
        return self._reader.read_imu(self.side)  # type: ignore[arg-type]

    def iter_blocks(self, block_frames: int) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray | None]]:
        """Yield ``(start, time_s, pressure, saturated)`` blocks of at most ``block_frames`` frames, in order."""
        if self._reader is not None:
            for block in self._reader.iter_blocks(self.side, block_frames, fields=_FIELDS):  # type: ignore[arg-type]
                yield block.start, block.time_s, np.asarray(block.pressure, np.float32), block.saturated  # type: ignore[misc]
            return
        for start in range(0, self.n_frames, block_frames):
            yield (start, *self.read(start, min(start + block_frames, self.n_frames)))
