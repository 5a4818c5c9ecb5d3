"""Checks run on every file before anything is read: hostile HDF5 features first, then the format's structure.

Files from outside are untrusted. :func:`check_safe` refuses external links, soft links, virtual datasets and
external storage; :func:`validate` checks the version, the groups, the *declared* shapes against
:data:`~insole.session.format.MAX_SENSORS` / :data:`~insole.session.format.MAX_FRAMES`, units, rates, the gap
columns and (optionally) that ``time_s`` is finite and strictly increasing (read in blocks).
"""

from __future__ import annotations

import math
from typing import Any

import h5py
import numpy as np

import insole
from insole.errors import SessionFileError
from insole.frames import SIDES
from insole.layouts import GEOMETRIES
from insole.session import imu_block
from insole.session.format import (
    FORMAT_NAME,
    GAP_COLUMNS,
    MAX_FRAMES,
    MAX_SENSORS,
    READABLE_VERSIONS,
    UNITS,
    attr_str,
)

#: Frames of ``time_s`` checked at a time.
_TIME_BLOCK = 1 << 20


def check_safe(path: str, h5: h5py.File) -> None:
    """Refuse links and storage that point outside the file (untrusted uploads)."""
    problems: list[str] = []

    def walk(group: h5py.Group, prefix: str) -> None:
        for key in group:
            link = group.get(key, getlink=True)
            name = f"{prefix}{key}"
            if isinstance(link, h5py.ExternalLink):
                problems.append(f"/{name} is an external link to {link.filename}")
            elif isinstance(link, h5py.SoftLink):
                problems.append(f"/{name} is a soft link (not used by this format)")
            elif isinstance(link, h5py.HardLink):
                obj = group[key]
                if isinstance(obj, h5py.Group):
                    walk(obj, name + "/")
                elif isinstance(obj, h5py.Dataset):
                    if obj.is_virtual:
                        problems.append(f"/{name} is a virtual dataset")
                    if obj.external:
                        problems.append(f"/{name} stores its data in external files")

    walk(h5, "")
    if problems:
        raise SessionFileError(path, "refused for safety: " + "; ".join(problems[:5]))


def format_version(path: str, h5: h5py.File) -> int:
    """The file's format version, after checking that it is an insole session of a version this reader opens."""
    fmt = attr_str(h5.attrs.get("format", ""))
    if fmt != FORMAT_NAME:
        what = f"format attribute {fmt!r}" if fmt else "no 'format' attribute"
        raise SessionFileError(path, f"is an HDF5 file but not an insole session ({what})")
    version = h5.attrs.get("format_version")
    try:
        version_int = int(version)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SessionFileError(path, f"format_version {version!r} is not a whole number") from None
    if version_int not in READABLE_VERSIONS:
        readable = ", ".join(str(v) for v in READABLE_VERSIONS)
        raise SessionFileError(
            path, f"format_version {version_int} is not supported by insole {insole.__version__} (reads versions "
            f"{readable}); update insole to read it"
        )
    return version_int


def validate(path: str, h5: h5py.File, *, check_time: bool = True) -> int:
    """Check an open file against the format; returns its version. Raises :class:`SessionFileError`."""
    version = format_version(path, h5)
    check_safe(path, h5)
    if "session" not in h5 or not isinstance(h5["session"], h5py.Group):
        raise SessionFileError(path, "missing group /session")
    sides = [s for s in SIDES if s in h5]
    if not sides:
        raise SessionFileError(path, "has neither /left nor /right: no insole data")
    for side in sides:
        if not isinstance(h5[side], h5py.Group):
            raise SessionFileError(path, f"/{side} must be a group, is a dataset")
        _check_foot(path, h5[side], f"/{side}", version, check_time)
    return version


def _check_foot(path: str, g: h5py.Group, where: str, version: int, check_time: bool) -> None:
    for name in ("pressure", "time_s", "sensors/x_mm", "sensors/y_mm", "sensors/area_mm2"):
        if name not in g or not isinstance(g[name], h5py.Dataset):
            raise SessionFileError(path, f"missing dataset {where}/{name}")
    p = g["pressure"]
    if p.ndim != 2:
        raise SessionFileError(path, f"{where}/pressure must be 2-D (n_frames, n_sensors), has shape {p.shape}")
    n, m = p.shape
    if not 1 <= m <= MAX_SENSORS or n > MAX_FRAMES:
        raise SessionFileError(path, f"{where}/pressure has an implausible shape {p.shape}")
    if p.dtype.kind not in "fiu":
        raise SessionFileError(path, f"{where}/pressure must be numeric, is {p.dtype}")
    t = g["time_s"]
    if t.shape != (n,):
        raise SessionFileError(path, f"{where}/time_s has shape {t.shape}, expected ({n},) like pressure")
    for name in ("sensors/x_mm", "sensors/y_mm", "sensors/area_mm2"):
        if g[name].shape != (m,):
            raise SessionFileError(path, f"{where}/{name} has shape {g[name].shape}, expected ({m},)")
    if "raw" in g and _shape(g["raw"]) != (n, m):
        raise SessionFileError(path, f"{where}/raw has shape {_shape(g['raw'])}, expected ({n}, {m})")
    for name in ("sequence", "device_time_us", "saturated"):
        if name in g and _shape(g[name]) != (n,):
            raise SessionFileError(path, f"{where}/{name} has shape {_shape(g[name])}, expected ({n},)")
    units = attr_str(p.attrs.get("units", g.attrs.get("units", "")))
    if units not in UNITS:
        raise SessionFileError(path, f"{where}/pressure units {units!r} unknown; expected one of {UNITS}")
    rate = g.attrs.get("sampling_rate_hz")
    try:
        rate_f = float(rate)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        rate_f = math.nan
    if not rate_f > 0:
        raise SessionFileError(path, f"{where} has no positive sampling_rate_hz attribute (got {rate!r})")
    geometry = g.attrs.get("layout_geometry")
    if geometry is not None and attr_str(geometry) not in GEOMETRIES:
        raise SessionFileError(
            path, f"{where} attribute layout_geometry {attr_str(geometry)!r} unknown; expected one of {GEOMETRIES}"
        )
    if version == 1:
        _check_gaps_v1(path, g, where)
    else:
        _check_gaps_v2(path, g, where)
    if check_time and n:
        _check_time(path, t, where)
    problems = imu_block.check(path, g, where, n, check_time)
    if problems:
        raise SessionFileError(path, problems[0])


def _shape(obj: Any) -> tuple[int, ...] | str:
    return obj.shape if isinstance(obj, h5py.Dataset) else "(a group)"


def _check_gaps_v1(path: str, g: h5py.Group, where: str) -> None:
    if "gaps" in g and (not isinstance(g["gaps"], h5py.Dataset) or g["gaps"].ndim != 2
                        or g["gaps"].shape[1:] != (2,)):
        raise SessionFileError(path, f"{where}/gaps must have shape (n_gaps, 2), has {_shape(g['gaps'])}")
    if "gap_causes" in g and (not isinstance(g["gap_causes"], h5py.Dataset) or g["gap_causes"].ndim != 1):
        raise SessionFileError(path, f"{where}/gap_causes must be a 1-D text dataset, has {_shape(g['gap_causes'])}")


def _check_gaps_v2(path: str, g: h5py.Group, where: str) -> None:
    if "gaps" not in g:
        return
    grp = g["gaps"]
    if not isinstance(grp, h5py.Group):
        raise SessionFileError(
            path, f"{where}/gaps is a dataset, but format_version 2 stores gaps as a group of columns "
            f"({', '.join(GAP_COLUMNS)}); the file's format_version attribute is probably wrong"
        )
    lengths = set()
    for name in GAP_COLUMNS:
        if name not in grp or not isinstance(grp[name], h5py.Dataset):
            raise SessionFileError(path, f"missing dataset {where}/gaps/{name}")
        col = grp[name]
        if col.ndim != 1:
            raise SessionFileError(path, f"{where}/gaps/{name} must be 1-D (n_gaps,), has shape {col.shape}")
        text = name in ("cause", "message")
        if text != (col.dtype.kind in "OSU"):
            kind = "text" if text else "numeric"
            raise SessionFileError(path, f"{where}/gaps/{name} must be {kind}, is {col.dtype}")
        lengths.add(col.shape[0])
    if len(lengths) > 1:
        shapes = ", ".join(f"{name} {grp[name].shape[0]}" for name in GAP_COLUMNS)
        raise SessionFileError(path, f"{where}/gaps columns differ in length ({shapes})")


def _check_time(path: str, t: h5py.Dataset, where: str) -> None:
    n = t.shape[0]
    last = -math.inf
    for start in range(0, n, _TIME_BLOCK):
        block = t[start : start + _TIME_BLOCK]
        if not np.all(np.isfinite(block)):
            bad = start + int(np.flatnonzero(~np.isfinite(block))[0])
            raise SessionFileError(path, f"{where}/time_s is not finite at frame {bad}")
        d = np.diff(np.concatenate([[last], block]))
        if not np.all(d > 0):
            bad = start + int(np.flatnonzero(d <= 0)[0])
            raise SessionFileError(path, f"{where}/time_s is not strictly increasing at frame {bad}")
        last = float(block[-1])

