"""Stopping a recording before the disk fills up, while the session file can still be finalised."""

from __future__ import annotations

import resource
import shutil
from pathlib import Path

#: Bytes kept free on the output's disk to finalise the file (plus ten flushes' worth of data).
RESERVE_BYTES = 2 * 1024 * 1024
#: Flushes' worth of file growth kept in reserve on top of :data:`RESERVE_BYTES`.
RESERVE_FLUSHES = 10.0


def space_left_bytes(path: Path) -> float:
    """Free space for ``path``: the disk's free bytes, or the process file-size limit (``ulimit -f``) if lower."""
    free = float(shutil.disk_usage(path.parent).free)
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        free = min(free, soft - path.stat().st_size)
    return free


class DiskGuard:
    """Watches the growth of a file between flushes and says when to stop.

    Parameters
    ----------
    shown_path : Path
        The output as the user named it (for the message; the file written may be a temporary one).
    """

    def __init__(self, shown_path: Path) -> None:
        self.shown_path = shown_path
        self._size_mark: int | None = None

    def nearly_full(self, path: Path) -> str | None:
        """Call after each flush of ``path``: None while space is enough, else why the recording must stop."""
        size = path.stat().st_size
        growth = max(size - self._size_mark, 0) if self._size_mark is not None else 0
        self._size_mark = size
        left = space_left_bytes(path)
        if left >= RESERVE_BYTES + RESERVE_FLUSHES * growth:
            return None
        return (
            f"disk nearly full ({left / 1e6:.1f} MB left for {self.shown_path}); recording stopped and the file "
            "finalised; free some space before the next recording"
        )
