"""Guards for untrusted uploads: resource limits, pre-read checks of declared shapes, safe output names.

Uploads from clinics are untrusted. Before any data is read, a session is opened through
:func:`insole.session.open_session` (which refuses external links, soft links, virtual datasets and external
storage) and its *declared* shapes are checked against :class:`Limits`, so a tiny file that declares a
10^9-frame dataset is refused instead of being decompressed into memory. Names that come from the inbox (clinic,
subject and file names) are sanitised with :func:`safe_component` before they become part of an output path.
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from insole.errors import SessionFileError
from pipeline.errors import PipelineError

#: Characters kept in output path components; anything else becomes ``_``.
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
#: Longest output path component (bytes), well under the 255-byte limit of common file systems.
MAX_COMPONENT = 80
#: Peak working memory of the analysis per frame of one foot, beyond the cached pressure and the read block
#: (bytes). Measured with ``ru_maxrss`` on two-foot, 16-cell, 100 Hz simulated walks of 10 min, 1 h and 2 h
#: (``cache_mb=0``): peak RSS 181, 294 and 428 MB, i.e. 195 B per frame and foot beyond a fixed ~30 MB; rounded up.
ANALYSIS_BYTES_PER_FRAME = 200
#: Plausible nominal sampling rates of an insole (Hz); engineering bounds, not a list of devices.
MIN_RATE_HZ, MAX_RATE_HZ = 1.0, 10_000.0
#: The nominal rate and the rate of the first time stamps may differ by at most this factor.
RATE_TOLERANCE = 2.0
#: Time stamps read to compare with the nominal rate.
RATE_CHECK_FRAMES = 4096


@dataclass(frozen=True)
class SessionShape:
    """A session shape the batch must admit with its default :class:`Limits` (see :data:`RECORDER_ENVELOPE`)."""

    name: str
    hours: float
    rate_hz: float
    cells: int
    feet: int = 2

    @property
    def frames(self) -> int:
        """Frames per foot."""
        return round(self.hours * 3600 * self.rate_hz)

    @property
    def file_bytes(self) -> int:
        """Size of the session file without compression: per frame pressure (float32 per cell), time (float64),
        sequence (uint32), device time (uint64), saturation flag (uint8)."""
        return self.feet * self.frames * (4 * self.cells + 8 + 4 + 8 + 1)


#: What the recorder and the importers write and the default limits must therefore admit: a day-long two-foot
#: recording at the 100 Hz of the supported insoles, the same number of frames at 1000 Hz, and a 99-cell (pedar-like)
#: grid import of 4 h at 100 Hz. (Choices of this project: the recorder itself sets no length limit.)
RECORDER_ENVELOPE = (
    SessionShape("24 h at 100 Hz, two feet, 16 cells", 24, 100, 16),
    SessionShape("2.4 h at 1000 Hz, two feet, 16 cells", 2.4, 1000, 16),
    SessionShape("4 h at 100 Hz, two feet, 99 cells (grid import)", 4, 100, 99),
)


class UnsafeInputError(PipelineError):
    """An upload breaks a safety limit (too large, implausible shapes, refused HDF5 features)."""


class EmptyRecordingError(PipelineError):
    """A session file is valid but holds no frames."""


class InvalidContentError(PipelineError):
    """A session file is readable but holds values no recording can have (reason ``invalid-format``)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits applied to every file of a night.

    Attributes
    ----------
    max_file_mb : float
        Largest upload (on disk) that is read at all; bigger files are quarantined unread.
    max_memory_mb : float
        Address space a worker may add while processing one file (``RLIMIT_AS`` on top of what the worker
        already maps); an allocation beyond it raises ``MemoryError`` and the file is quarantined.
    timeout_s : float
        Wall-clock time allowed per file; the worker is killed after it.
    max_frames : int
        Largest declared frame count per foot (default: 24 h at 200 Hz).

    Notes
    -----
    The declared shapes must also fit in ``max_memory_mb`` by :func:`memory_estimate_bytes` (the analysis streams
    the pressure in blocks, so its memory grows with the frame count, not with ``n_sensors * 8`` bytes per frame).
    The defaults admit every shape in :data:`RECORDER_ENVELOPE` (tested with files of those declared sizes); they
    are engineering choices for a clinic server, not values from the literature.
    """

    max_file_mb: float = 2048.0
    max_memory_mb: float = 4096.0
    timeout_s: float = 600.0
    max_frames: int = 24 * 3600 * 200

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (safe to send to Dask workers)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Limits:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: data[k] for k in ("max_file_mb", "max_memory_mb", "timeout_s", "max_frames") if k in data})


def safe_component(name: str, *, fallback: str = "_") -> str:
    """Turn one untrusted name (clinic, subject, file stem) into a safe path component.

    Unicode is normalised (NFKC) and reduced to ASCII letters, digits and ``. _ + -``; separators, control
    characters and anything else become ``_``; leading dots are removed (no hidden files, no ``..``); the result is
    cut to :data:`MAX_COMPONENT` characters. An empty result becomes ``fallback``.

    Examples
    --------
    >>> safe_component("../../etc/passwd")
    'etc_passwd'
    >>> safe_component("Müller Clinic")
    'Muller_Clinic'
    """
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", str(name)))
    text = text.encode("ascii", "ignore").decode("ascii")
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\.{2,}", "_", text)
    text = re.sub(r"_+", "_", text).strip("._-")
    text = text[:MAX_COMPONENT].rstrip("._-")
    return text or fallback


def safe_relpath(*components: str) -> PurePosixPath:
    """Join sanitised components into a relative path that cannot leave its root."""
    parts = [safe_component(c) for c in components]
    rel = PurePosixPath(*parts)
    if rel.is_absolute() or any(p in ("", ".", "..") for p in rel.parts):  # pragma: no cover - defensive
        raise UnsafeInputError(f"unsafe output path {rel}")
    return rel


def inside(root: Path, path: Path) -> bool:
    """True when ``path`` (resolved) lies inside ``root`` (resolved)."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def memory_estimate_bytes(n_frames: int, n_sensors: int, params: dict[str, Any] | None = None) -> int:
    """Peak memory the analysis needs for one foot of ``n_frames`` x ``n_sensors`` cells (bytes, an estimate).

    The analysis streams the pressure in blocks (``block_frames``), so its memory grows with the frame count, not
    with the data volume: :data:`ANALYSIS_BYTES_PER_FRAME` per frame (time, force and event traces and their
    temporaries, measured), plus the pressure itself (float32) when the foot fits in ``cache_mb`` and is kept for
    the second pass, plus one read block (as float32 and a float64 working copy).
    """
    p = {"block_frames": 1 << 16, "cache_mb": 256.0, **(params or {})}
    pressure = n_frames * n_sensors * 4
    cached = pressure if pressure <= p["cache_mb"] * 1e6 else 0
    block = min(n_frames, int(p["block_frames"])) * n_sensors * 12
    return n_frames * ANALYSIS_BYTES_PER_FRAME + cached + block


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def _check_text(where: str, values: dict[str, Any]) -> None:
    for key, value in values.items():
        for text in _strings(value):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidContentError(f"{where} {key} is not valid UTF-8 text (re-export the session or correct "
                                          "the field)") from None


def _check_foot(sf: Any, side: str, info: Any) -> None:
    import numpy as np  # here: the limits are imported by `insole batch --help`, which must not load numpy

    _check_text(f"/{side}", info.attrs)
    for name, values in (("x_mm", info.layout.x_mm), ("y_mm", info.layout.y_mm)):
        if not np.all(np.isfinite(np.asarray(values, np.float64))):
            raise InvalidContentError(f"/{side}/sensors/{name} holds values that are not finite numbers")
    rate = info.sampling_rate_hz
    if not (math.isfinite(rate) and MIN_RATE_HZ <= rate <= MAX_RATE_HZ):
        raise InvalidContentError(f"/{side} sampling_rate_hz {rate:g} Hz is not a plausible insole rate (allowed "
                                  f"{MIN_RATE_HZ:g} to {MAX_RATE_HZ:g} Hz)")
    t = sf.read(side, 0, RATE_CHECK_FRAMES + 1, fields=("time_s",)).time_s
    dt = np.diff(np.asarray(t, np.float64))
    dt = dt[np.isfinite(dt) & (dt > 0)]
    if dt.size:
        interval = float(np.median(dt))
        if not 1 / RATE_TOLERANCE <= rate * interval <= RATE_TOLERANCE:
            raise InvalidContentError(
                f"/{side} sampling_rate_hz says {rate:g} Hz, but its time stamps advance {interval * 1e3:.4g} ms per "
                f"frame ({1 / interval:.4g} Hz); one of them is wrong"
            )


def check_session_limits(path: Path, limits: Limits, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate a session file and check its declared shapes against ``limits`` before reading its frames.

    Parameters
    ----------
    path : Path
        An insole session file (HDF5, format version 1 or 2).
    limits : Limits
    params : dict, optional
        Analysis parameters (``block_frames``, ``cache_mb`` enter the memory estimate).

    Returns
    -------
    dict
        ``subject_id`` (from the file's metadata, or None), ``created_utc``, ``frames`` per side.

    Raises
    ------
    SessionFileError
        Not a valid session, or refused for safety by :func:`insole.session.open_session`.
    UnsafeInputError
        Declared shapes beyond the limits: more frames than ``limits.max_frames``, or more memory for the analysis
        (:func:`memory_estimate_bytes`, both feet) than ``limits.max_memory_mb``.
    InvalidContentError
        Text that is not UTF-8, sensor positions that are not numbers, an implausible sampling rate or one that
        contradicts the time stamps (only the first :data:`RATE_CHECK_FRAMES` are read).
    EmptyRecordingError
        No foot holds any frame.
    """
    size_mb = path.stat().st_size / 2**20
    if size_mb > limits.max_file_mb:
        raise UnsafeInputError(f"file is {size_mb:.1f} MB, above the limit of {limits.max_file_mb:g} MB")
    from insole.session import open_session

    with open_session(path, check_time=False) as sf:
        _check_text("/", sf.attrs)
        _check_text("/session", dataclasses.asdict(sf.metadata))
        frames: dict[str, int] = {}
        need = 0
        for side in sf.sides:
            info = sf.foot_info(side)  # declared shape: no frame is read
            if info.n_frames > limits.max_frames:
                raise UnsafeInputError(
                    f"/{side}/pressure declares {info.n_frames} frames, above the limit of {limits.max_frames}"
                )
            need += memory_estimate_bytes(info.n_frames, info.n_sensors, params)
            frames[side] = info.n_frames
        if need > limits.max_memory_mb * 2**20:
            shape = ", ".join(f"/{s} {n} frames x {sf.foot_info(s).n_sensors} cells" for s, n in frames.items())
            raise UnsafeInputError(
                f"{shape}: the analysis would need about {need / 2**20:.0f} MB, more than the memory allowed per file "
                f"({limits.max_memory_mb:g} MB, --max-memory-mb)"
            )
        if not any(frames.values()):
            raise EmptyRecordingError("the session holds no frames (zero-length recording)")
        for side in sf.sides:
            if frames[side]:
                _check_foot(sf, side, sf.foot_info(side))
        created = sf.attrs.get("created_utc")
        return {
            "subject_id": sf.metadata.subject_id,
            "created_utc": str(created) if created is not None else None,
            "frames": frames,
        }


__all__ = [
    "ANALYSIS_BYTES_PER_FRAME",
    "EmptyRecordingError",
    "InvalidContentError",
    "Limits",
    "RECORDER_ENVELOPE",
    "SessionFileError",
    "SessionShape",
    "UnsafeInputError",
    "check_session_limits",
    "memory_estimate_bytes",
    "inside",
    "safe_component",
    "safe_relpath",
]
