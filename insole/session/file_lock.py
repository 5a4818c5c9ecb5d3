"""Advisory locks on session files being written, so that no writer ever destroys a file another one is writing.

A live recording writes in SWMR mode, in which HDF5 itself holds no lock on the file (so that readers can follow
it), and HDF5's own check comes *after* it has truncated a file opened for writing. Every writer of this package
therefore takes a ``flock`` on the file it writes before HDF5 touches it: exclusive while it creates the file,
shared (:meth:`WriterLock.share`) while a recording appends, so that HDF5 readers that use file locking (HDFView,
h5py defaults) can still follow it. A second writer, or an overwrite of the file, tries an exclusive lock without
waiting and is refused with a message naming the process holding it (from ``/proc/locks`` on Linux). The kernel
drops the lock when the process ends, even after ``kill -9``, so an interrupted recording is never left locked.

Platforms without ``fcntl.flock`` (Windows) get no lock; the rest of the package works the same.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from insole.errors import SessionBusyError, SessionFileError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class WriterLock:
    """An exclusive, non-blocking ``flock`` on ``path`` (created empty if missing), held until :meth:`release`.

    Parameters
    ----------
    path : Path
        The file about to be written.
    what : str
        How the refusal names the file's role (``session file``).

    Raises
    ------
    SessionBusyError
        Another process holds a lock on the file (it is being written, or read by a program that locks).
    """

    def __init__(self, path: str | os.PathLike[str], what: str = "session file") -> None:
        self.path = Path(path)
        self._fd: int | None = None
        if fcntl is None:  # pragma: no cover - Windows
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError:
            return  # the writer's own open reports the problem (missing folder, permissions)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise SessionBusyError(str(self.path), busy_message(self.path, what)) from None
        self._fd = fd

    def share(self) -> None:
        """Turn the lock into a shared one: other readers that lock may open the file, writers still may not."""
        if self._fd is not None and fcntl is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)

    def release(self) -> None:
        """Drop the lock (safe to call twice)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing the last descriptor releases the flock
            self._fd = None


T = TypeVar("T")


def create_locked(path: Path, create: Callable[[], T], shown: Path) -> tuple[WriterLock, T]:
    """Lock ``path`` (:class:`WriterLock`), then ``create()`` the file; on failure release and remove what was new.

    Parameters
    ----------
    path : Path
        The file about to be created (or truncated).
    create : callable
        Opens it for writing (HDF5); called only once the lock is held, so it never truncates a file in use.
    shown : Path
        The name errors give (the final name of an atomic writer).

    Raises
    ------
    SessionBusyError
        Another process holds the file.
    SessionFileError
        ``create`` failed (``cannot be written (...)``).
    """
    existed = path.exists()
    lock = WriterLock(path)
    try:
        return lock, create()
    except (OSError, SessionFileError) as exc:
        lock.release()
        if not existed:
            path.unlink(missing_ok=True)
        problem = exc.problem if isinstance(exc, SessionFileError) else (exc.strerror or exc)
        raise SessionFileError(str(shown), f"cannot be written ({problem})") from None


def refuse_if_busy(path: str | os.PathLike[str], what: str = "session file") -> None:
    """Raise :class:`SessionBusyError` when ``path`` exists and another process holds a lock on it (never waits)."""
    if Path(path).exists() and holder(path) is not None:
        raise SessionBusyError(str(path), busy_message(path, what))


def holder(path: str | os.PathLike[str]) -> str | None:
    """Who holds a lock on ``path`` (``pid 1234 (python3)``, or ``another process``), or None when nobody does.

    The test takes and drops an exclusive lock without waiting; it never blocks.
    """
    if fcntl is None:  # pragma: no cover - Windows
        return None
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return _lock_owner(p) or "another process"
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def busy_message(path: str | os.PathLike[str], what: str = "session file") -> str:
    """The refusal for a locked file: who holds it and what to do."""
    who = _lock_owner(Path(path)) or "another process"
    return (f"is in use by {who} (a recording or another writer has this {what} open); refusing to write it. "
            "Choose another file name, or end that process first")


def _lock_owner(path: Path) -> str | None:
    """``pid N (name)`` of a process holding a lock on ``path``, from ``/proc/locks`` (Linux), or None."""
    try:
        st = path.stat()
        key = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
        with open("/proc/locks", encoding="ascii", errors="replace") as fh:
            lines = fh.read(1 << 20).splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        if key in parts and len(parts) >= 5 and parts[4].isdigit():
            pid = int(parts[4])
            if pid == os.getpid():
                continue
            try:
                name = Path(f"/proc/{pid}/comm").read_text(errors="replace").strip()
            except OSError:
                name = ""
            return f"pid {pid}" + (f" ({name})" if name else "")
    return None
