"""Guards for untrusted uploads: resource limits, pre-read checks of declared shapes, safe output names.

Uploads from clinics are untrusted. Before any data is read, a session is opened through
:func:`insole.session.open_session` (which refuses external links, soft links, virtual datasets and external
storage) and its *declared* shapes are checked against :class:`Limits`, so a tiny file that declares a
10^9-frame dataset is refused instead of being decompressed into memory. Names that come from the inbox (clinic,
subject and file names) are sanitised with :func:`safe_component` before they become part of an output path.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from insole.errors import SessionFileError
from insole.session import open_session
from pipeline.errors import PipelineError

#: Characters kept in output path components; anything else becomes ``_``.
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
#: Longest output path component (bytes), well under the 255-byte limit of common file systems.
MAX_COMPONENT = 80


class UnsafeInputError(PipelineError):
    """An upload breaks a safety limit (too large, implausible shapes, refused HDF5 features)."""


class EmptyRecordingError(PipelineError):
    """A session file is valid but holds no frames."""


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
    The declared pressure data (``n_frames * n_sensors * 8`` bytes as float64, the analysis' working type)
    must also fit in a quarter of ``max_memory_mb``, leaving room for the copies the analysis makes. These
    defaults are engineering choices for a clinic server, not values from the literature.
    """

    max_file_mb: float = 1024.0
    max_memory_mb: float = 3072.0
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


def check_session_limits(path: Path, limits: Limits) -> dict[str, Any]:
    """Validate a session file and check its declared shapes against ``limits`` before reading any data.

    Parameters
    ----------
    path : Path
        An insole session file (HDF5, format version 1 or 2).
    limits : Limits

    Returns
    -------
    dict
        ``subject_id`` (from the file's metadata, or None), ``created_utc``, ``frames`` per side.

    Raises
    ------
    SessionFileError
        Not a valid session, or refused for safety by :func:`insole.session.open_session`.
    UnsafeInputError
        Declared shapes beyond the limits.
    EmptyRecordingError
        No foot holds any frame.
    """
    size_mb = path.stat().st_size / 2**20
    if size_mb > limits.max_file_mb:
        raise UnsafeInputError(f"file is {size_mb:.1f} MB, above the limit of {limits.max_file_mb:g} MB")
    budget_bytes = limits.max_memory_mb * 2**20 / 4
    with open_session(path, check_time=False) as sf:
        frames: dict[str, int] = {}
        for side in sf.sides:
            info = sf.foot_info(side)  # declared shape: no frame is read
            n_frames, n_sensors = info.n_frames, info.n_sensors
            if n_frames > limits.max_frames:
                raise UnsafeInputError(
                    f"/{side}/pressure declares {n_frames} frames, above the limit of {limits.max_frames}"
                )
            if n_frames * n_sensors * 8 > budget_bytes:
                raise UnsafeInputError(
                    f"/{side}/pressure declares {n_frames} x {n_sensors} values "
                    f"({n_frames * n_sensors * 8 / 2**20:.0f} MB as float64), more than the memory limit allows "
                    f"({limits.max_memory_mb:g} MB per worker, a quarter of it for the raw data)"
                )
            frames[side] = n_frames
        if not any(frames.values()):
            raise EmptyRecordingError("the session holds no frames (zero-length recording)")
        created = sf.attrs.get("created_utc")
        return {
            "subject_id": sf.metadata.subject_id,
            "created_utc": str(created) if created is not None else None,
            "frames": frames,
        }


__all__ = [
    "EmptyRecordingError",
    "Limits",
    "SessionFileError",
    "UnsafeInputError",
    "check_session_limits",
    "inside",
    "safe_component",
    "safe_relpath",
]
