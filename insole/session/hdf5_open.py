"""Opening HDF5 files so that no HDF5 call can wait without a bound.

In SWMR mode (a live recording, or an interrupted one read with the SWMR fallback) HDF5 re-reads a metadata block
whose checksum fails up to 100 times, sleeping 1, 2, 4, ... nanoseconds between attempts: on a damaged file the
wait doubles each time and never ends in practice (2^100 ns). One flipped byte in a 20 KB interrupted file kept
``insole info`` waiting forever, and a second recorder writing over a live one sat in that loop for 11 minutes,
deaf to SIGTERM (the call never returns to Python). Every SWMR open here sets the number of attempts to
:data:`SWMR_READ_ATTEMPTS` (the whole back-off then lasts about a millisecond) through HDF5's
``H5Pset_metadata_read_attempts``, which h5py does not wrap: it is called with ctypes in the very libhdf5 that
h5py loaded (found in ``/proc/self/maps``, or next to h5py). Where that library cannot be found, SWMR opens are
refused with a clear message instead of risking the wait.

HDF5's own file locking is off in every open: writers hold their own lock (:mod:`insole.session.file_lock`), and
readers never lock (a reader must not stop a recording from finishing).
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import sys
from pathlib import Path

import h5py
from h5py import h5f, h5p

from insole.errors import SessionFileError

#: Metadata read attempts in SWMR mode (HDF5's default is 100 with exponential back-off from 1 ns).
SWMR_READ_ATTEMPTS = 20
_LIB_NAME = re.compile(r"^libhdf5(?!_hl)(?!_cpp)[-_.A-Za-z0-9]*\.(so|dylib)")


@functools.cache
def _libhdf5() -> ctypes.CDLL | None:
    """The libhdf5 h5py uses (the same library instance, so property lists can be shared), or None."""
    for path in _candidates():
        try:
            lib = ctypes.CDLL(str(path))
            fn = lib.H5Pset_metadata_read_attempts
        except (OSError, AttributeError):
            continue
        fn.argtypes = [ctypes.c_int64, ctypes.c_uint]
        fn.restype = ctypes.c_int
        return lib
    return None


def _candidates() -> list[Path]:
    found: list[Path] = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.split(maxsplit=5)
                if len(parts) == 6 and _LIB_NAME.match(os.path.basename(parts[5].strip())):
                    found.append(Path(parts[5].strip()))
    except OSError:
        pass
    here = Path(h5py.__file__).resolve().parent
    for folder in (here.parent / "h5py.libs", here / ".dylibs", here):
        if folder.is_dir():
            found += sorted(p for p in folder.iterdir() if _LIB_NAME.match(p.name))
    return list(dict.fromkeys(found))


def bounded_swmr_available() -> bool:
    """True when SWMR opens can be bounded (the libhdf5 of h5py was found)."""
    return _libhdf5() is not None or sys.platform == "win32"  # pragma: no branch


def _fapl(*, latest: bool, swmr: bool, path: str) -> h5p.PropFAID:
    plist = h5p.create(h5p.FILE_ACCESS)
    plist.set_libver_bounds(h5f.LIBVER_LATEST if latest else h5f.LIBVER_EARLIEST, h5f.LIBVER_LATEST)
    plist.set_file_locking(False, True)
    if swmr:
        lib = _libhdf5()
        if lib is None or lib.H5Pset_metadata_read_attempts(plist.id, SWMR_READ_ATTEMPTS) < 0:
            raise SessionFileError(path, "is an interrupted or live crash-safe recording, and this installation's "
                                   "HDF5 library cannot be told to bound its retries on damaged metadata, so it is "
                                   "not opened; repair it with `insole repair` on Linux")
    return plist


def open_file(path: str | os.PathLike[str], mode: str = "r", *, swmr: bool = False,
              latest: bool = False) -> h5py.File:
    """Open ``path`` with HDF5 locking off and, in SWMR mode, bounded metadata retries.

    Parameters
    ----------
    path : path
    mode : {"r", "r+", "w"}
        Read, read-write, or create (truncating).
    swmr : bool
        ``"r"``: SWMR reading (a file still flagged as open for writing). ``"w"``/``"r+"``: the file will enter
        SWMR writing (:attr:`h5py.File.swmr_mode`), so its retries are bounded too.
    latest : bool
        Newest file-format features (required for SWMR writing).

    Raises
    ------
    OSError
        As :class:`h5py.File` (the callers turn it into a one-line error).
    """
    name = os.fsencode(os.fspath(path))
    fapl = _fapl(latest=latest or (swmr and mode != "r"), swmr=swmr, path=os.fspath(path))
    if mode == "r":
        fid = h5f.open(name, h5f.ACC_RDONLY | (h5f.ACC_SWMR_READ if swmr else 0), fapl=fapl)
    elif mode == "r+":
        fid = h5f.open(name, h5f.ACC_RDWR, fapl=fapl)
    elif mode == "w":
        fid = h5f.create(name, h5f.ACC_TRUNC, fapl=fapl)
    else:
        raise ValueError(f"mode must be r, r+ or w, got {mode!r}")
    return h5py.File(fid)
