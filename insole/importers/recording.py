"""What every importer produces (:class:`ImportedRecording`) and how it becomes a session file.

An importer only parses; :func:`write_recording` is the one place that writes imported data, through
:class:`insole.session.SessionWriter`, adding provenance (source file names, SHA-256, original format,
importer version) and the stated assumptions to the root attributes. ``source`` is always ``"imported"``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

import insole
from insole.errors import ImportSourceError
from insole.imu import ImuInfo
from insole.layouts import SensorLayout
from insole.plausibility import SAMPLING_RATE_HZ, first_implausible, pressure_range
from insole.provenance import file_sha256
from insole.session import Gap, SessionMetadata, SessionWriter

#: Version of the importer family; bump when an importer changes what it writes for the same source.
IMPORTER_VERSION = "1"
#: Foot length from body height: Drillis R, Contini R, Bluestein M. Body segment parameters: a survey of
#: measurement techniques. Artif Limbs 1964;8:44-66 (foot length ~= 0.152 x height).
FOOT_LENGTH_PER_HEIGHT = 0.152
#: Foot length used when neither the user nor the source gives one (adult mean, about EU size 41).
DEFAULT_FOOT_LENGTH_MM = 260.0


@dataclass
class ImportedImu:
    """The inertial sensor of an imported foot, written as the session's IMU block (``/<side>/imu``).

    Attributes
    ----------
    info : ImuInfo
        Rate, ranges, frame (``"foot"`` only when the source's axes are known to be x anterior, y left, z up),
        and a description saying how the axes were established.
    time_s : numpy.ndarray, shape (n,)
    acc_m_s2, gyr_rad_s : numpy.ndarray, shape (n, 3)
        Converted to m/s² and rad/s.
    frame_aligned : bool
        The samples are the foot's frames (same rows and times as the pressure).
    """

    info: ImuInfo
    time_s: np.ndarray
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray
    frame_aligned: bool = False


@dataclass
class ImportedFoot:
    """One foot of an imported recording.

    Attributes
    ----------
    side : {"left", "right"}
    time_s : numpy.ndarray, shape (n_frames,)
        Strictly increasing session time.
    values : numpy.ndarray, shape (n_frames, n_sensors)
        Samples in ``units``; NaN marks a sample the source flags as invalid.
    units : {"kPa", "N", "raw"}
    sampling_rate_hz : float
    layout : SensorLayout
    gaps : list of Gap
        Known missing or invalid data (:class:`insole.session.Gap`: times, frame count, cause code, message).
    attrs : dict
        Extra attributes of the foot group (``device_*``, source gain, layout assumption, ...).
    extras : dict
        Optional per-foot datasets: name -> (array, attrs).
    imu : ImportedImu or None
        The source's IMU of this foot, if it has one.
    """

    side: str
    time_s: np.ndarray
    values: np.ndarray
    units: str
    sampling_rate_hz: float
    layout: SensorLayout
    gaps: list[Gap] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, tuple[np.ndarray, dict[str, Any]]] = field(default_factory=dict)
    imu: ImportedImu | None = None


@dataclass
class ImportedRecording:
    """A parsed third-party recording, ready to be written as a session.

    Attributes
    ----------
    source_format : str
        Importer name (``gaitndd``, ``gaitpdb``, ``moticon``, ``csv``).
    primary : Path
        The file the user named.
    companions : list of Path
        Other files read (signal files, demographics tables, sidecars).
    feet : dict
        side -> :class:`ImportedFoot`.
    metadata : SessionMetadata
        What the source says about the subject (overridden by the user's options).
    assumptions : list of str
        Everything the importer had to assume (geometry, foot length, ...); stored in the file.
    root_attrs : dict
        Extra root attributes (``source_*``: header fields of the original).
    groups : dict
        Extra top-level groups: group path -> {"attrs": {...}, "datasets": {name: (array, attrs)}}.
    chunks : callable or None
        Streaming importers (large ASCII exports): a function returning an iterator of ``{side: (time_s,
        values)}`` blocks in time order. The feet then hold only their description (empty ``time_s`` and
        ``values``); the iterator may add gaps, extras and groups as it goes, which are written once it is
        exhausted. Memory stays bounded by one block, whatever the file size.
    """

    source_format: str
    primary: Path
    companions: list[Path]
    feet: dict[str, ImportedFoot]
    metadata: SessionMetadata = field(default_factory=SessionMetadata)
    assumptions: list[str] = field(default_factory=list)
    root_attrs: dict[str, Any] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    chunks: Callable[[], Iterator[dict[str, tuple[np.ndarray, np.ndarray]]]] | None = None


def merge_metadata(found: SessionMetadata, given: SessionMetadata | None) -> SessionMetadata:
    """Values the user gave win over values found in the source; missing stays missing."""
    if given is None:
        return found
    values = {f.name: getattr(given, f.name) if getattr(given, f.name) is not None else getattr(found, f.name)
              for f in fields(SessionMetadata)}
    return SessionMetadata(**values)


def write_recording(
    rec: ImportedRecording,
    output: str | os.PathLike[str],
    *,
    metadata: SessionMetadata | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``rec`` as a session file (atomically) and return its path.

    Parameters
    ----------
    rec : ImportedRecording
    output : path
    metadata : SessionMetadata, optional
        User-given metadata; its known fields replace what the importer found.
    overwrite : bool
    """
    if not rec.feet:
        raise ImportSourceError(str(rec.primary), "contains no samples for either foot; nothing to import")
    md = merge_metadata(rec.metadata, metadata)
    problems = md.problems()
    if problems:
        raise ImportSourceError(str(rec.primary), f"{problems[0]}; correct the source, or give the right value "
                                "(--body-mass-kg, --foot-length-mm, --shoe-size-eu)")
    for side, foot in rec.feet.items():
        problem = SAMPLING_RATE_HZ.problem(foot.sampling_rate_hz)
        if problem is not None:
            raise ImportSourceError(str(rec.primary), f"{side} foot: {problem}")
    done = dict.fromkeys(rec.feet, 0)

    def checked(side: str, values: np.ndarray) -> np.ndarray:
        """``values`` if every one is plausible in the foot's units (NaN allowed), else a one-line refusal."""
        units = rec.feet[side].units
        found = first_implausible(values, units)
        if found is not None:
            (frame, cell), value = found
            rng = pressure_range(units)
            raise ImportSourceError(str(rec.primary), f"{side} frame {done[side] + frame + 1}, cell {cell + 1}: "
                                    f"{value:g} {units} is outside the plausible range {rng.low:g} to {rng.high:g} "
                                    f"{units} ({rng.source}); wrong units or scale?")
        done[side] += len(values)
        return values

    with SessionWriter(output, md, source="imported", overwrite=overwrite, atomic=True) as w:
        companions = "; ".join(f"{p.name} sha256={file_sha256(p)}" for p in rec.companions)
        w.set_attrs(
            "/",
            source_format=rec.source_format,
            source_file=rec.primary.name,
            source_sha256=file_sha256(rec.primary),
            source_companions=companions,
            importer=f"insole.importers.{rec.source_format}",
            importer_version=f"{IMPORTER_VERSION} (insole {insole.__version__})",
            import_assumptions="\n".join(rec.assumptions),
            **rec.root_attrs,
        )
        for side, foot in rec.feet.items():
            w.add_foot(side, foot.layout, units=foot.units, sampling_rate_hz=foot.sampling_rate_hz,
                       with_sequence=False, with_device_time=False)
            w.append(side, foot.time_s, checked(side, foot.values))
        if rec.chunks is not None:
            for block in rec.chunks():
                for side, (time_s, values) in block.items():
                    w.append(side, time_s, checked(side, values))
            empty = [side for side in rec.feet if w.n_frames(side) == 0]
            if empty:
                raise ImportSourceError(str(rec.primary), f"has no samples for the {' and '.join(empty)} foot")
        for side, foot in rec.feet.items():
            w.add_gaps(side, foot.gaps)
            w.set_attrs(side, **foot.attrs)
            for name, (array, attrs) in foot.extras.items():
                w.write_extra(side, name, array, **attrs)
            if foot.imu is not None:
                w.add_imu(side, foot.imu.info, frame_aligned=foot.imu.frame_aligned)
                w.append_imu(side, foot.imu.time_s, foot.imu.acc_m_s2, foot.imu.gyr_rad_s)
        for path, spec in rec.groups.items():
            w.set_attrs(path, **spec.get("attrs", {}))
            for name, (array, attrs) in spec.get("datasets", {}).items():
                w.write_extra(path, name, array, **attrs)
    return Path(output)


def choose_foot_length(given_mm: float | None, height_m: float | None = None) -> tuple[float, str, bool]:
    """Foot length for scaling a layout: the user's value, else 0.152 x height, else the default.

    Returns
    -------
    (foot_length_mm, how it was chosen (text for the file), whether it is a measured/subject-specific value)
    """
    if given_mm is not None:
        return float(given_mm), f"foot length {given_mm:.0f} mm (given by the user)", True
    if height_m and 1.0 <= height_m <= 2.5:
        L = min(max(FOOT_LENGTH_PER_HEIGHT * height_m * 1000.0, 150.0), 350.0)
        return L, f"foot length {L:.0f} mm = 0.152 x height {height_m:g} m (Drillis & Contini 1964)", True
    return DEFAULT_FOOT_LENGTH_MM, f"foot length {DEFAULT_FOOT_LENGTH_MM:.0f} mm (default; not known)", False


def runs_of(mask: np.ndarray) -> np.ndarray:
    """Start and end index (inclusive) of every run of ``True`` in a 1-D boolean mask, shape (n_runs, 2)."""
    m = np.asarray(mask, bool)
    if not m.any():
        return np.zeros((0, 2), np.int64)
    d = np.diff(np.concatenate([[0], m.astype(np.int8), [0]]))
    return np.c_[np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1]


def check_file(path: Path, what: str) -> Path:
    """Raise :class:`ImportSourceError` unless ``path`` is an existing, non-empty regular file."""
    if not path.exists():
        raise ImportSourceError(str(path), f"{what} does not exist")
    if path.is_dir():
        raise ImportSourceError(str(path), f"{what} is a folder, not a file")
    if path.stat().st_size == 0:
        raise ImportSourceError(str(path), f"{what} is empty (0 bytes)")
    return path


def attr_text(mapping: Mapping[str, Any]) -> str:
    """``key=value; ...`` text for an attribute (stable order)."""
    return "; ".join(f"{k}={v}" for k, v in mapping.items())


def parse_number(text: str | None) -> float | None:
    """A finite number from a text cell, or None (empty, ``MISSING``, not a number, NaN or infinite)."""
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def is_number(text: str) -> bool:
    """True if ``text`` parses as a float (NaN and infinities included, as in a numeric column)."""
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True
