"""Checks run on every file before anything is read: hostile HDF5 features first, then the format's structure.

Files from outside are untrusted. :func:`check_safe` refuses external links, soft links, virtual datasets, external
storage, filters this reader cannot decode and oversized chunks (:mod:`insole.session.dataset_limits`);
:func:`validate` checks the version (an integer), the groups, the element type and *declared* size of every dataset
the format defines, the metadata against :mod:`insole.plausibility`, units, rates, the gap columns and (optionally)
that ``time_s`` is finite and strictly increasing (read in blocks). Every problem is one
:class:`~insole.errors.SessionFileError` naming the file, the dataset or attribute, and what is wrong.
"""

from __future__ import annotations

import math
from typing import Any

import h5py
import numpy as np

import insole
from insole.errors import ConfigurationError, SessionFileError, SessionUnsafeError
from insole.frames import SIDES
from insole.layouts import GEOMETRIES
from insole.plausibility import SAMPLING_RATE_HZ
from insole.session import imu_block
from insole.session.dataset_limits import NUMERIC, TEXT, check_dataset, check_storage
from insole.session.format import (
    FORMAT_NAME,
    GAP_COLUMNS,
    MAX_FRAMES,
    MAX_GAPS,
    MAX_SENSORS,
    READABLE_VERSIONS,
    UNITS,
    attr_str,
    plain,
)
from insole.session.metadata import SessionMetadata

#: The length a foot group's layout is scaled to (attribute ``foot_length_mm``) must lie in this range (mm): it is
#: the insole's or the sensor grid's length, not the subject's, so the range is wider than the subject's.
LAYOUT_LENGTH_RANGE_MM = (50.0, 1000.0)
#: An IMU block that is not frame-aligned may have at most this many samples per pressure frame (plus 65536).
IMU_SAMPLES_PER_FRAME = 64
#: Per-frame datasets of a foot and the element kinds they may hold.
_FRAME_KINDS = {"time_s": "f", "pressure": NUMERIC, "raw": NUMERIC, "sequence": "iu", "device_time_us": "iu",
                "saturated": "iub"}

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
                    datasets.append((obj, f"/{name}"))

    datasets: list[tuple[h5py.Dataset, str]] = []
    walk(h5, "")
    if problems:
        raise SessionUnsafeError(path, "refused for safety: " + "; ".join(problems[:5]))
    for ds, where in datasets:
        check_storage(path, ds, where)


def format_version(path: str, h5: h5py.File) -> int:
    """The file's format version, after checking that it is an insole session of a version this reader opens."""
    fmt = attr_str(h5.attrs.get("format", ""))
    if fmt != FORMAT_NAME:
        what = f"format attribute {fmt!r}" if fmt else "no 'format' attribute"
        raise SessionFileError(path, f"is an HDF5 file but not an insole session ({what})")
    version = h5.attrs.get("format_version")
    if isinstance(version, np.ndarray) and version.shape == ():
        version = version[()]
    if version is None:
        raise SessionFileError(path, "has no format_version attribute; it was not written by insole")
    if isinstance(version, bool | np.bool_) or not isinstance(version, int | np.integer):
        shown = attr_str(version) if isinstance(version, bytes | str) else plain(version)
        kind = "text" if isinstance(version, bytes | str) else type(shown).__name__
        raise SessionFileError(path, f"format_version {shown!r} is stored as {kind}, not as an integer; insole writes "
                               "whole numbers (2), so this file was altered or written by another program")
    version_int = int(version)
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
    check_metadata(path, h5["session"].attrs)
    sides = [s for s in SIDES if s in h5]
    if not sides:
        raise SessionFileError(path, "has neither /left nor /right: no insole data")
    for side in sides:
        if not isinstance(h5[side], h5py.Group):
            raise SessionFileError(path, f"/{side} must be a group, is a dataset")
    longest = max((_rows(h5[s].get("pressure")) for s in sides), default=0)
    for side in sides:
        _check_foot(path, h5[side], f"/{side}", version, check_time, longest)
    if "truth" in h5 and isinstance(h5["truth"], h5py.Group):
        for name, obj in _datasets(h5["truth"]):
            check_dataset(path, obj, f"/truth/{name}", kinds=NUMERIC, per_frame=False)
    return version


def check_metadata(path: str, attrs: h5py.AttributeManager) -> SessionMetadata:
    """The ``/session`` attributes as :class:`SessionMetadata`, or a :class:`SessionFileError` naming the bad one."""
    try:
        return SessionMetadata.from_attrs(attrs)
    except ConfigurationError as exc:
        raise SessionFileError(path, f"/session {exc}; correct it (re-import or re-record with the right value, e.g. "
                               "--body-mass-kg / --foot-length-mm)") from None


def _rows(obj: object) -> int:
    return int(obj.shape[0]) if isinstance(obj, h5py.Dataset) and obj.ndim >= 1 else 0


def _datasets(group: h5py.Group) -> list[tuple[str, h5py.Dataset]]:
    found: list[tuple[str, h5py.Dataset]] = []
    group.visititems(lambda name, obj: found.append((name, obj)) if isinstance(obj, h5py.Dataset) else None)
    return found


def _number_attr(path: str, g: h5py.Group, where: str, key: str) -> float | None:
    """A numeric attribute of a group (None when absent); text, arrays and booleans are refused."""
    if key not in g.attrs:
        return None
    value = g.attrs[key]
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
        shown = attr_str(value) if isinstance(value, bytes | str) else plain(value)
        raise SessionFileError(path, f"{where} attribute {key} must be a number, got {str(shown)[:40]!r}")
    return float(value)


def _check_foot(path: str, g: h5py.Group, where: str, version: int, check_time: bool, longest: int) -> None:
    for name in ("pressure", "time_s", "sensors/x_mm", "sensors/y_mm", "sensors/area_mm2"):
        if name not in g or not isinstance(g[name], h5py.Dataset):
            raise SessionFileError(path, f"missing dataset {where}/{name}")
    for name, kinds in _FRAME_KINDS.items():
        if name in g and isinstance(g[name], h5py.Dataset):
            check_dataset(path, g[name], f"{where}/{name}", kinds=kinds, per_frame=True)
    for name in ("sensors/x_mm", "sensors/y_mm", "sensors/area_mm2"):
        check_dataset(path, g[name], f"{where}/{name}", kinds=NUMERIC, per_frame=False)
    if "calibration" in g and isinstance(g["calibration"], h5py.Group):
        for name, obj in _datasets(g["calibration"]):
            check_dataset(path, obj, f"{where}/calibration/{name}", kinds=NUMERIC, per_frame=False)
    p = g["pressure"]
    if p.ndim != 2:
        raise SessionFileError(path, f"{where}/pressure must be 2-D (n_frames, n_sensors), has shape {p.shape}")
    n, m = p.shape
    if not 1 <= m <= MAX_SENSORS or n > MAX_FRAMES:
        raise SessionUnsafeError(path, f"{where}/pressure has an implausible shape {p.shape}")
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
    rate = _number_attr(path, g, where, "sampling_rate_hz")
    if rate is None:
        raise SessionFileError(path, f"{where} has no sampling_rate_hz attribute")
    problem = SAMPLING_RATE_HZ.problem(rate)
    if problem is not None:
        raise SessionFileError(path, f"{where} attribute {problem}")
    length = _number_attr(path, g, where, "foot_length_mm")
    lo, hi = LAYOUT_LENGTH_RANGE_MM
    if length is not None and not (math.isfinite(length) and lo <= length <= hi):
        raise SessionFileError(path, f"{where} attribute foot_length_mm {length:g} mm (the length its sensor layout "
                               f"is scaled to) is outside {lo:g}-{hi:g} mm")
    geometry = g.attrs.get("layout_geometry")
    if geometry is not None and attr_str(geometry) not in GEOMETRIES:
        raise SessionFileError(
            path, f"{where} attribute layout_geometry {attr_str(geometry)!r} unknown; expected one of {GEOMETRIES}"
        )
    if version == 1:
        _check_gaps_v1(path, g, where)
    else:
        _check_gaps_v2(path, g, where)
    _check_gap_count(path, g, where, version, longest)
    if imu_block.is_block(g):
        for name, obj in _datasets(g[imu_block.IMU_GROUP]):
            check_dataset(path, obj, f"{where}/{imu_block.IMU_GROUP}/{name}", kinds="f" if name in (
                "time_s", "acc_m_s2", "gyr_rad_s") else NUMERIC, per_frame=True)
    problems = imu_block.check(path, g, where, n, False)
    if problems:
        raise SessionFileError(path, problems[0])
    n_imu = imu_block.n_samples(g) if imu_block.is_block(g) else 0
    if n_imu > IMU_SAMPLES_PER_FRAME * n + 65536:
        raise SessionUnsafeError(path, f"{where}/imu declares {n_imu} samples for {n} frames (a reader accepts "
                                   f"at most {IMU_SAMPLES_PER_FRAME} per frame plus 65536)")
    if check_time and n:
        _check_time(path, t, where)
    problems = imu_block.check(path, g, where, n, check_time) if check_time else []
    if problems:
        raise SessionFileError(path, problems[0])


def _shape(obj: Any) -> tuple[int, ...] | str:
    return obj.shape if isinstance(obj, h5py.Dataset) else "(a group)"


def _check_gaps_v1(path: str, g: h5py.Group, where: str) -> None:
    if "gaps" in g and (not isinstance(g["gaps"], h5py.Dataset) or g["gaps"].ndim != 2
                        or g["gaps"].shape[1:] != (2,)):
        hint = (" (a group of gap columns is format version 2: the file's format_version attribute is probably "
                "wrong)" if isinstance(g["gaps"], h5py.Group) else "")
        raise SessionFileError(path, f"{where}/gaps must have shape (n_gaps, 2), has {_shape(g['gaps'])}{hint}")
    if "gaps" in g:
        check_dataset(path, g["gaps"], f"{where}/gaps", kinds=NUMERIC, per_frame=False)
    if "gap_causes" in g and (not isinstance(g["gap_causes"], h5py.Dataset) or g["gap_causes"].ndim != 1):
        raise SessionFileError(path, f"{where}/gap_causes must be a 1-D text dataset, has {_shape(g['gap_causes'])}")
    if "gap_causes" in g:
        check_dataset(path, g["gap_causes"], f"{where}/gap_causes", kinds=TEXT, per_frame=False)


def _check_gap_count(path: str, g: h5py.Group, where: str, version: int, longest: int) -> None:
    """At most :data:`MAX_GAPS` gaps, and at most twice the frames of the longest foot plus 16 (a gap lies between
    frames): a small file cannot declare millions of gaps that every reader would load."""
    if "gaps" not in g:
        return
    obj = g["gaps"]
    n = int(obj.shape[0]) if version == 1 else int(obj["start_s"].shape[0])
    cap = min(MAX_GAPS, 2 * longest + 16)
    if n > cap:
        raise SessionUnsafeError(path, f"{where}/gaps declares {n} gaps for at most {longest} frames per foot "
                                   f"(a reader accepts at most {cap}: twice the frames plus 16, and never more than "
                                   f"{MAX_GAPS})")


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
        check_dataset(path, col, f"{where}/gaps/{name}", kinds=TEXT if text else ("iu" if name == "n_frames" else
                      NUMERIC), per_frame=False)
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
        # finite values: b - a > 0 exactly when b > a, so comparing neighbours is the check of a difference, without
        # the difference's (and a joined copy's) arrays
        after_last, rising = block[0] > last, block[1:] > block[:-1]
        if not (after_last and rising.all()):
            bad = start if not after_last else start + 1 + int(np.flatnonzero(~rising)[0])
            raise SessionFileError(path, f"{where}/time_s is not strictly increasing at frame {bad}")
        last = float(block[-1])

