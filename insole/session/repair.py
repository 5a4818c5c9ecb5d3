"""``insole repair``: make an interrupted crash-safe recording open in every HDF5 program.

A recording killed while writing (``kill -9``, power loss) stays flagged in its superblock as open for SWMR writing.
:func:`~insole.session.open_session` reads it anyway (SWMR fallback), but plain HDF5 readers (HDFView, MATLAB, R,
``h5py.File(path)``) refuse it: "file is already open for write". :func:`repair_session` does not patch the flags
in place (that needs the superblock checksum recomputed and trusts whatever else the crash left behind); it
copies every group, dataset and attribute, block by block, into a new file written fresh by HDF5 (earliest file
format, so older readers open it too), checks the copy with the full reader, and only then replaces the original
atomically. Until that moment the original is untouched; it is kept as ``FILE.bak`` when asked.

Every per-frame dataset of a foot (and every gap column) is cut to the length all of them share, and ``time_s``
to its finite, strictly increasing part: the frames up to the writer's last flush. The copy carries the root
attributes ``recovered`` (True), ``recovered_utc``, ``recovered_by`` and, per foot, ``repair_dropped_frames``;
``complete`` stays False (the end-of-recording totals and clock fit were never written).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

import insole
from insole.errors import SessionFileError
from insole.frames import SIDES
from insole.provenance import utc_now_iso
from insole.session import file_lock, imu_block
from insole.session.format import FRAME_DATASETS
from insole.session.hdf5_open import open_file
from insole.session.reader import open_h5, open_session
from insole.session.validation import check_safe, format_version

#: Bytes copied per block.
_BLOCK_BYTES = 32 * 2**20


@dataclass(frozen=True)
class RepairResult:
    """What :func:`repair_session` did.

    Attributes
    ----------
    path : Path
    repaired : bool
        False when there was nothing to repair (the file opens everywhere already); it was not touched.
    frames : dict
        Frames kept per foot.
    dropped : dict
        Frames past the last consistent row, per foot (usually 0).
    backup : Path or None
        The original, when kept.
    reason : str
        Why nothing was done, when ``repaired`` is False.
    """

    path: Path
    repaired: bool
    frames: dict[str, int]
    dropped: dict[str, int]
    backup: Path | None = None
    reason: str = ""


def repair_session(path: str | os.PathLike[str], *, keep_backup: bool = False) -> RepairResult:
    """Rewrite an interrupted crash-safe session so that every HDF5 program opens it.

    Parameters
    ----------
    path : path
    keep_backup : bool
        Keep the original as ``FILE.bak`` (otherwise removed once the repaired file is in place).

    Returns
    -------
    RepairResult

    Raises
    ------
    SessionFileError
        Not an insole session (or not HDF5), unreadable, or the copy failed its checks (the original is left as
        it was). :class:`~insole.errors.SessionBusyError` when another process is writing the file.
    """
    p = Path(path)
    if not p.is_file():
        raise SessionFileError(str(p), "does not exist" if not p.exists() else "is not a file")
    file_lock.refuse_if_busy(p)
    src, needs_repair = open_h5(p)
    try:
        format_version(str(p), src)
        check_safe(str(p), src)
        if not needs_repair:
            recovered = bool(src.attrs.get("recovered", False))
            return RepairResult(p, False, {}, {}, reason="was repaired already and opens in every HDF5 program"
                                if recovered else "is not flagged as open for writing: it opens in every HDF5 "
                                "program already")
        lengths = {side: _consistent_frames(src[side]) for side in SIDES if side in src}
        tmp = p.with_name(p.name + ".repair.partial")
        lock, dst = file_lock.create_locked(tmp, lambda: open_file(tmp, "w"), p)
        try:
            with dst:
                _copy_group(src, dst, lengths, "")
                dst.attrs["recovered"] = True
                dst.attrs["recovered_utc"] = utc_now_iso()
                dst.attrs["recovered_by"] = f"insole {insole.__version__} (insole repair)"
                for side, (n, total) in lengths.items():
                    dst[side].attrs["repair_dropped_frames"] = total - n
        except BaseException:
            lock.release()
            tmp.unlink(missing_ok=True)
            raise
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        raise SessionFileError(str(p), f"could not be repaired (the file is unchanged): {exc}") from None
    finally:
        with contextlib.suppress(Exception):
            src.close()
    try:
        return _replace(p, tmp, lengths, keep_backup)
    finally:
        lock.release()


def _replace(p: Path, tmp: Path, lengths: dict[str, tuple[int, int]], keep_backup: bool) -> RepairResult:
    try:
        with h5py.File(tmp, "r", locking=False):  # plain HDF5, no SWMR: what HDFView, MATLAB and R do
            pass
        with open_session(tmp) as sf:  # every check of the reader, time included
            kept = {side: sf.n_frames(side) for side in sf.sides}
    except (OSError, SessionFileError) as exc:
        tmp.unlink(missing_ok=True)
        problem = exc.problem if isinstance(exc, SessionFileError) else exc
        raise SessionFileError(str(p), f"could not be repaired (the file is unchanged): the copy is invalid: "
                               f"{problem}") from None
    backup = p.with_name(p.name + ".bak")
    os.replace(p, backup)
    os.replace(tmp, p)
    if not keep_backup:
        backup.unlink()
    return RepairResult(p, True, kept, {side: total - n for side, (n, total) in lengths.items()},
                        backup if keep_backup else None)


def _consistent_frames(g: h5py.Group) -> tuple[int, int]:
    """(frames every per-frame dataset of the foot holds with a valid time, longest declared length)."""
    rows = [g[name].shape[0] for name in FRAME_DATASETS if name in g and isinstance(g[name], h5py.Dataset)]
    if imu_block.is_block(g) and bool(g[imu_block.IMU_GROUP].attrs.get("frame_aligned", False)):
        b = g[imu_block.IMU_GROUP]
        rows += [b[name].shape[0] for name in b if isinstance(b[name], h5py.Dataset)]
    total, n = max(rows, default=0), min(rows, default=0)
    t, good, step = g["time_s"], 0, 1 << 20
    last = -np.inf
    while good < n:
        block = t[good:min(n, good + step)]
        ok = np.isfinite(block) & (block > np.concatenate(([last], block[:-1])))
        bad = np.flatnonzero(~ok)
        if bad.size:
            return good + int(bad[0]), total
        good, last = good + len(block), float(block[-1])
    return n, total


def _rows_of(src: h5py.Group, name: str, lengths: dict[str, tuple[int, int]], where: str) -> int | None:
    """Rows to keep of dataset ``name`` of group ``where`` (None: keep them all)."""
    parts = where.strip("/").split("/")
    side = parts[0] if parts[0] in lengths else None
    if side is None or not isinstance(src[name], h5py.Dataset) or src[name].ndim == 0:
        return None
    depth = parts[1:]
    if not depth and name in FRAME_DATASETS:
        return lengths[side][0]
    if depth == [imu_block.IMU_GROUP]:
        if bool(src.attrs.get("frame_aligned", False)):
            return lengths[side][0]
        return min(src[k].shape[0] for k in src if isinstance(src[k], h5py.Dataset))
    if depth == ["gaps"]:  # version-2 gap columns: the rows all of them hold
        return min(src[k].shape[0] for k in src if isinstance(src[k], h5py.Dataset))
    return None


def _copy_group(src: h5py.Group, dst: h5py.Group, lengths: dict[str, tuple[int, int]], where: str) -> None:
    _copy_attrs(src, dst)
    for name in src:
        obj = src[name]
        if isinstance(obj, h5py.Group):
            _copy_group(obj, dst.create_group(name), lengths, f"{where}/{name}")
        else:
            _copy_dataset(obj, dst, name, _rows_of(src, name, lengths, where))


def _copy_dataset(ds: h5py.Dataset, dst: h5py.Group, name: str, rows: int | None) -> None:
    shape = ds.shape if rows is None or ds.ndim == 0 else (min(rows, ds.shape[0]), *ds.shape[1:])
    options: dict = {}
    if ds.chunks is not None:
        options.update(chunks=ds.chunks, maxshape=ds.maxshape, shuffle=ds.shuffle, fletcher32=ds.fletcher32)
        if ds.compression is not None:
            options.update(compression=ds.compression, compression_opts=ds.compression_opts)
        if ds.scaleoffset is not None:
            options["scaleoffset"] = ds.scaleoffset
    out = dst.create_dataset(name, shape=shape, dtype=ds.dtype, **options)
    if ds.ndim == 0:
        out[()] = ds[()]
    elif shape[0]:
        row_bytes = max(int(np.prod(shape[1:], dtype=np.int64)) * max(ds.dtype.itemsize, 1), 1)
        step = max(1, _BLOCK_BYTES // row_bytes)
        for lo in range(0, shape[0], step):
            hi = min(shape[0], lo + step)
            out[lo:hi] = ds[lo:hi]
    _copy_attrs(ds, out)


def _copy_attrs(src: h5py.HLObject, dst: h5py.HLObject) -> None:
    for key in src.attrs:
        dst.attrs.create(key, src.attrs[key], dtype=src.attrs.get_id(key).dtype)


__all__ = ["RepairResult", "repair_session"]
