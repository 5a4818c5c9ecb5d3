"""The recorder's writer: crash-safe appending (SWMR) and the end-of-recording re-timing of a foot.

Only the recorder needs these operations, so they are kept out of :class:`~insole.session.writer.SessionWriter`,
which the importers and tests use: a plain writer cannot rewrite times it has written or move its gaps.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from insole.frames import Side
from insole.session import imu_block
from insole.session.gap_columns import shift_gaps
from insole.session.hdf5_open import open_file
from insole.session.metadata import SessionMetadata
from insole.session.writer import SessionWriter


class RecordingWriter(SessionWriter):
    """A :class:`SessionWriter` for live recordings.

    Parameters
    ----------
    path, metadata, source, overwrite, atomic
        As for :class:`SessionWriter`.
    crash_safe : bool
        Create the file for HDF5's single-writer / multiple-reader mode: after :meth:`start_appending`, the file
        on disk stays consistent at every :meth:`flush`, so a killed recorder leaves a readable file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        metadata: SessionMetadata | None = None,
        *,
        source: str = "recorded",
        overwrite: bool = False,
        atomic: bool = True,
        crash_safe: bool = False,
    ) -> None:
        self._crash_safe = crash_safe
        self._appending = False
        if crash_safe:
            self._libver = "latest"
            self._crash_safe_file = True
        super().__init__(path, metadata, source=source, overwrite=overwrite, atomic=atomic)

    # -------------------------------------------------------------- SWMR
    def start_appending(self) -> None:
        """Enter SWMR mode (crash-safe writers): from now on only appends, gaps and attributes."""
        self._h5.flush()
        if self._crash_safe and not self._appending:
            self._h5.swmr_mode = True
            self._appending = True
            self._lock.share()  # readers that lock (HDFView, h5py defaults) may follow the recording

    def end_appending(self) -> None:
        """Leave SWMR mode (reopen normally) so that groups such as ``/truth`` can be added."""
        if not self._appending:
            return
        self._h5.close()
        self._h5 = open_file(self._write_path, "r+")
        self._appending = False

    # -------------------------------------------------------------- re-timing
    def rewrite_time(
        self,
        side: Side,
        time_s_of: Callable[[np.ndarray], np.ndarray],
        *,
        start: int = 0,
        stop: int | None = None,
        chunk_frames: int = 1 << 16,
    ) -> None:
        """Recompute ``time_s[start:stop]`` of ``side`` as ``time_s_of(device_time_us)`` (final clock fit).

        Frames keep strictly increasing times: where a new value would not exceed the frame before it (the
        fits of two clock segments meeting), it is raised by 1 microsecond past it. A frame-aligned IMU block
        (:meth:`add_imu`) gets the same new times.
        """
        g = self._group(side)
        imu = g[imu_block.IMU_GROUP] if imu_block.is_block(g) else None
        if imu is not None and not imu.attrs.get("frame_aligned", False):
            imu = None
        n = g["time_s"].shape[0]
        stop = n if stop is None else min(stop, n)
        last = float(g["time_s"][start - 1]) if start > 0 else -math.inf
        for lo in range(start, stop, chunk_frames):
            hi = min(lo + chunk_frames, stop)
            new = np.asarray(time_s_of(g["device_time_us"][lo:hi]), np.float64)
            ramp = np.arange(1, len(new) + 1) * 1e-6
            new = np.maximum.accumulate(np.maximum(new - ramp, last)) + ramp
            g["time_s"][lo:hi] = new
            if imu is not None:
                imu["time_s"][lo:hi] = new
            last = float(new[-1])
        if stop == n and n:
            self._last_time[side] = last
            if imu is not None:
                self._last_imu_time[side] = last

    def device_time_us_at(self, side: Side, frame: int) -> float:
        """Device time of frame ``frame`` of ``side``."""
        return float(self._group(side)["device_time_us"][frame])

    def shift_gaps(self, side: Side, delta_s: float) -> None:
        """Move every recorded gap of ``side`` by ``delta_s`` (used when the session zero is re-fitted)."""
        shift_gaps(self._group(side), delta_s)

    def last_time_s(self, side: Side) -> float:
        """Session time of the last frame written for ``side`` (NaN when none)."""
        n = self.n_frames(side)
        return float(self._h5[side]["time_s"][n - 1]) if n else math.nan

    # -------------------------------------------------------------- life cycle
    def close(self) -> Path:
        """Leave SWMR mode, then finish as :meth:`SessionWriter.close`."""
        if not self._closed:
            self.end_appending()
        return super().close()

    def __enter__(self) -> RecordingWriter:
        return self
