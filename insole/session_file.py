"""The session file: an open, documented HDF5 layout for plantar-pressure recordings (format version 1).

This module owns the format. Everything that writes a session (recorder, simulator, importers) goes through
:class:`SessionWriter`; everything that reads one (``insole info``, the analysis, the nightly batch) goes through
:func:`open_session` / :func:`read_session`, which validate the file first and name exactly what is wrong.
The full specification is in ``docs/session-format.md``.

Layout (version 1)::

    /                      attrs: format="insole-session", format_version=1, created_utc, software,
                                  complete (bool), source ("recorded" | "simulated" | "imported")
    /session               attrs: subject_id, body_mass_kg, foot_length_mm, shoe_size_eu, condition, notes
                                  (missing: NaN for numbers, "" for text)
    /left, /right          (either may be absent)
        pressure           (n_frames, n_sensors) float32, attr units in {"kPa", "N", "raw"}
        time_s             (n_frames,) float64, session clock, strictly increasing
        sequence           (n_frames,) uint32            [optional]
        device_time_us     (n_frames,) uint64            [optional]
        saturated          (n_frames,) uint8 (bool)      [optional]
        raw                (n_frames, n_sensors) float32 [calibrated feet: the device's counts]
        calibration/       load_kpa, counts, attrs json, sha256, source   [calibrated feet]
        sensors/x_mm, sensors/y_mm, sensors/area_mm2   (n_sensors,) float64, foot frame
        gaps               (n_gaps, 2) float64 (start_s, end_s);  gap_causes (n_gaps,) str
        attrs: sampling_rate_hz, units, layout_id, foot_length_mm, device_* (model, serial_number, ...)
    /truth/left/ic_s, /truth/left/to_s, /truth/right/...   [simulated sessions], attrs: profile parameters
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import h5py
import numpy as np

import insole
from insole.calibration import Calibration
from insole.errors import SessionExistsError, SessionFileError
from insole.frames import SIDES, Side, check_side
from insole.layouts import SensorLayout
from insole.provenance import utc_now_iso

FORMAT_NAME = "insole-session"
FORMAT_VERSION = 1
UNITS = ("kPa", "N", "raw")

#: Rows per HDF5 chunk of the per-frame datasets (~64 KiB for 16 float32 sensors).
CHUNK_FRAMES = 1024
#: Largest sensor count and frame count a reader accepts before reading anything (hostile-file guard).
MAX_SENSORS = 4096
MAX_FRAMES = 2_000_000_000


@dataclass
class SessionMetadata:
    """Who was recorded and how. Every field may be missing (None).

    Attributes
    ----------
    subject_id : str or None
        Pseudonymous subject code; do not store names.
    body_mass_kg, foot_length_mm, shoe_size_eu : float or None
    condition : str or None
        E.g. ``barefoot``, ``shoes``, ``orthotic``.
    notes : str or None
    """

    subject_id: str | None = None
    body_mass_kg: float | None = None
    foot_length_mm: float | None = None
    shoe_size_eu: float | None = None
    condition: str | None = None
    notes: str | None = None

    _NUMERIC = ("body_mass_kg", "foot_length_mm", "shoe_size_eu")

    def to_attrs(self) -> dict[str, Any]:
        """Attributes for ``/session``: NaN marks a missing number, ``""`` missing text."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in self._NUMERIC:
                out[f.name] = np.float64("nan") if value is None else float(value)
            else:
                out[f.name] = "" if value is None else str(value)
        return out

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> SessionMetadata:
        """Inverse of :meth:`to_attrs`; absent, NaN and empty values become None."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = attrs.get(f.name)
            if raw is None:
                values[f.name] = None
            elif f.name in cls._NUMERIC:
                try:
                    num = float(raw)
                except (TypeError, ValueError):
                    num = math.nan
                values[f.name] = None if math.isnan(num) else num
            else:
                text = raw.decode() if isinstance(raw, bytes) else str(raw)
                values[f.name] = text or None
        return cls(**values)

    def missing(self) -> list[str]:
        """Names of the fields that are not known."""
        return [f.name for f in fields(self) if getattr(self, f.name) is None]


# ---------------------------------------------------------------------------------------------------- writing
class SessionWriter:
    """Create a session file and append frames to it.

    Parameters
    ----------
    path : str or Path
        Final file name.
    metadata : SessionMetadata
    source : {"recorded", "simulated", "imported"}
    overwrite : bool
        Replace an existing file; otherwise :class:`SessionExistsError` is raised.
    atomic : bool
        Write to ``PATH.partial`` and rename on :meth:`close`, so the final name never holds a half-written
        file. The recorder uses ``atomic=False`` with periodic :meth:`flush` for crash safety instead.

    Examples
    --------
    >>> with SessionWriter("s.h5", SessionMetadata(subject_id="S01")) as w:  # doctest: +SKIP
    ...     w.add_foot("left", layout, units="kPa", sampling_rate_hz=100)
    ...     w.append("left", time_s, pressure)
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
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise SessionExistsError(str(self.path), "already exists; choose another name or pass --overwrite")
        if not self.path.parent.is_dir():
            raise SessionFileError(str(self.path), f"folder {self.path.parent} does not exist")
        self._write_path = self.path.with_name(self.path.name + ".partial") if atomic else self.path
        self._crash_safe = crash_safe
        self._appending = False
        try:
            self._h5 = h5py.File(self._write_path, "w", libver="latest" if crash_safe else "earliest")
        except OSError as exc:
            raise SessionFileError(str(self.path), f"cannot be written ({exc.strerror or exc})") from None
        self._atomic = atomic
        self._closed = False
        self._last_time: dict[str, float] = {}
        root = self._h5.attrs
        root["format"] = FORMAT_NAME
        root["format_version"] = FORMAT_VERSION
        root["created_utc"] = utc_now_iso()
        root["software"] = f"insole {insole.__version__}"
        root["complete"] = False
        root["source"] = source
        grp = self._h5.create_group("session")
        for key, value in (metadata or SessionMetadata()).to_attrs().items():
            grp.attrs[key] = value

    # -------------------------------------------------------------- structure
    def add_foot(
        self,
        side: Side,
        layout: SensorLayout,
        *,
        units: str,
        sampling_rate_hz: float,
        device: Mapping[str, Any] | None = None,
        with_sequence: bool = True,
        with_device_time: bool = True,
        calibration: Calibration | None = None,
        calibration_source: str = "",
    ) -> None:
        """Create the group of one foot. ``device`` attributes are stored as ``device_<key>``.

        With a ``calibration``, ``pressure`` holds kPa and a ``raw`` dataset keeps the device's counts, and the
        calibration itself is stored in ``calibration/`` so that the session can be recalibrated later.
        """
        side = check_side(side)
        if units not in UNITS:
            raise SessionFileError(str(self.path), f"units must be one of {UNITS}, got {units!r}")
        if side in self._h5:
            raise SessionFileError(str(self.path), f"/{side} was already added")
        g = self._h5.create_group(side)
        n = layout.n_sensors
        chunk = max(16, min(CHUNK_FRAMES, (1 << 16) // (4 * n)))
        opts = {"compression": "gzip", "compression_opts": 1, "shuffle": True}
        g.create_dataset("pressure", (0, n), np.float32, maxshape=(None, n), chunks=(chunk, n), **opts)
        g["pressure"].attrs["units"] = units
        g.create_dataset("time_s", (0,), np.float64, maxshape=(None,), chunks=(chunk * 4,), **opts)
        if with_sequence:
            g.create_dataset("sequence", (0,), np.uint32, maxshape=(None,), chunks=(chunk * 4,), **opts)
        if with_device_time:
            g.create_dataset("device_time_us", (0,), np.uint64, maxshape=(None,), chunks=(chunk * 4,), **opts)
        g.create_dataset("saturated", (0,), np.uint8, maxshape=(None,), chunks=(chunk * 4,), **opts)
        if calibration is not None:
            if units != "kPa" or calibration.n_sensors != n:
                raise SessionFileError(
                    str(self.path), f"/{side}: a calibration needs units kPa and {n} cells, got {units}, "
                    f"{calibration.n_sensors}"
                )
            g.create_dataset("raw", (0, n), np.float32, maxshape=(None, n), chunks=(chunk, n), **opts)
            g["raw"].attrs["units"] = "raw"
            cg = g.create_group("calibration")
            cg["load_kpa"] = calibration.load_kpa
            cg["counts"] = calibration.counts
            cg.attrs["json"] = calibration.to_json()
            cg.attrs["sha256"] = calibration.sha256()
            cg.attrs["source"] = calibration_source
            cg.attrs["method"] = "pchip-per-cell"
        s = g.create_group("sensors")
        s["x_mm"] = np.asarray(layout.x_mm, np.float64)
        s["y_mm"] = np.asarray(layout.y_mm, np.float64)
        s["area_mm2"] = np.asarray(layout.area_mm2, np.float64)
        g.create_dataset("gaps", (0, 2), np.float64, maxshape=(None, 2), chunks=(256, 2))
        g.create_dataset("gap_causes", (0,), h5py.string_dtype(), maxshape=(None,), chunks=(256,))
        g.attrs["units"] = units
        g.attrs["sampling_rate_hz"] = float(sampling_rate_hz)
        g.attrs["layout_id"] = layout.layout_id
        g.attrs["foot_length_mm"] = float(layout.foot_length_mm)
        for key, value in (device or {}).items():
            g.attrs[f"device_{key}"] = value

    def set_attrs(self, where: str, **attrs: Any) -> None:
        """Set attributes on ``/``, ``session``, ``left``, ``right`` or another group (created if needed)."""
        obj = self._h5 if where in ("", "/") else self._h5.require_group(where)
        for key, value in attrs.items():
            obj.attrs[key] = value

    def write_extra(self, where: str, name: str, data: Any, **attrs: Any) -> None:
        """Write an optional dataset ``/where/name`` (e.g. ``left/imu``, ``vendor_events/left/ic_s``).

        Groups are created as needed. The core datasets of a foot group cannot be replaced this way; extra
        datasets are documented in ``docs/session-format.md`` ("Optional extra datasets").
        """
        core = {"pressure", "time_s", "sequence", "device_time_us", "saturated", "gaps", "gap_causes", "sensors"}
        parts = [p for p in where.strip("/").split("/") if p]
        if len(parts) == 1 and parts[0] in SIDES and name in core:
            raise SessionFileError(str(self.path), f"/{parts[0]}/{name} is a core dataset; use add_foot/append")
        grp = self._h5.require_group("/".join(parts)) if parts else self._h5
        if name in grp:
            del grp[name]
        arr = np.asarray(data)
        if arr.dtype.kind in "OU":
            grp.create_dataset(name, data=arr.astype(object), dtype=h5py.string_dtype())
        else:
            opts = {"compression": "gzip", "compression_opts": 1, "shuffle": True} if arr.size > 1024 else {}
            grp.create_dataset(name, data=arr, **opts)
        for key, value in attrs.items():
            grp[name].attrs[key] = value

    # -------------------------------------------------------------- data
    def append(
        self,
        side: Side,
        time_s: np.ndarray,
        pressure: np.ndarray,
        *,
        sequence: np.ndarray | None = None,
        device_time_us: np.ndarray | None = None,
        saturated: np.ndarray | None = None,
        raw: np.ndarray | None = None,
    ) -> None:
        """Append frames of one foot; ``time_s`` must continue strictly increasing.

        ``raw`` (the uncalibrated counts) is required for, and only accepted by, a calibrated foot.
        """
        g = self._group(side)
        time_s = np.asarray(time_s, np.float64)
        pressure = np.asarray(pressure, np.float32)
        n = len(time_s)
        if n == 0:
            return
        if pressure.shape != (n, g["pressure"].shape[1]):
            raise SessionFileError(
                str(self.path),
                f"/{side}: pressure has shape {pressure.shape}, expected ({n}, {g['pressure'].shape[1]})",
            )
        last = self._last_time.get(side, -math.inf)
        if not (time_s[0] > last and np.all(np.diff(time_s) > 0)):
            raise SessionFileError(str(self.path), f"/{side}: appended time_s is not strictly increasing")
        self._last_time[side] = float(time_s[-1])
        columns: dict[str, np.ndarray | None] = {
            "time_s": time_s,
            "sequence": sequence,
            "device_time_us": device_time_us,
            "saturated": None if saturated is None else np.asarray(saturated, np.uint8),
        }
        if ("raw" in g) != (raw is not None):
            need = "needs" if "raw" in g else "has no calibration and takes no"
            raise SessionFileError(str(self.path), f"/{side} {need} raw counts")
        old = g["time_s"].shape[0]
        g["pressure"].resize(old + n, axis=0)
        g["pressure"][old:] = pressure
        if raw is not None:
            g["raw"].resize(old + n, axis=0)
            g["raw"][old:] = np.asarray(raw, np.float32)
        for name, values in columns.items():
            if name not in g:
                continue
            g[name].resize(old + n, axis=0)
            g[name][old:] = np.zeros(n, g[name].dtype) if values is None else values

    def add_gap(self, side: Side, start_s: float, end_s: float, cause: str) -> None:
        """Record a stretch of known missing data on ``side`` (seconds on the session clock) and why."""
        g = self._group(side)
        k = g["gaps"].shape[0]
        g["gaps"].resize(k + 1, axis=0)
        g["gaps"][k] = (start_s, max(start_s, end_s))
        g["gap_causes"].resize(k + 1, axis=0)
        g["gap_causes"][k] = cause

    def add_gaps(self, side: Side, gaps_s: np.ndarray, causes: list[str]) -> None:
        """Record many gaps at once: ``gaps_s`` (n, 2) start/end seconds and one cause per gap."""
        g = self._group(side)
        gaps_s = np.asarray(gaps_s, np.float64).reshape(-1, 2)
        if len(causes) != len(gaps_s):
            raise SessionFileError(str(self.path), f"/{side}: {len(gaps_s)} gaps but {len(causes)} causes")
        k = g["gaps"].shape[0]
        n = len(gaps_s)
        g["gaps"].resize(k + n, axis=0)
        g["gaps"][k:] = np.c_[gaps_s[:, 0], np.maximum(gaps_s[:, 0], gaps_s[:, 1])]
        g["gap_causes"].resize(k + n, axis=0)
        g["gap_causes"][k:] = np.array(causes, dtype=object)

    def write_truth(self, truth: Mapping[str, Mapping[str, np.ndarray]], params: Mapping[str, Any]) -> None:
        """Write simulator ground truth: ``truth[side]["ic_s" | "to_s"]`` and the profile parameters."""
        grp = self._h5.require_group("truth")
        for key, value in params.items():
            grp.attrs[key] = value
        for side, events in truth.items():
            sg = grp.require_group(check_side(side))
            for name in ("ic_s", "to_s"):
                if name in sg:
                    del sg[name]
                sg[name] = np.asarray(events[name], np.float64)

    def rewrite_time(
        self,
        side: Side,
        time_s_of: Any,
        *,
        start: int = 0,
        stop: int | None = None,
        chunk_frames: int = 1 << 16,
    ) -> None:
        """Recompute ``time_s[start:stop]`` of ``side`` as ``time_s_of(device_time_us)`` (final clock fit).

        Frames keep strictly increasing times: where a new value would not exceed the frame before it (the
        fits of two clock segments meeting), it is raised by 1 microsecond past it.
        """
        g = self._group(side)
        n = g["time_s"].shape[0]
        stop = n if stop is None else min(stop, n)
        last = float(g["time_s"][start - 1]) if start > 0 else -math.inf
        for lo in range(start, stop, chunk_frames):
            hi = min(lo + chunk_frames, stop)
            new = np.asarray(time_s_of(g["device_time_us"][lo:hi]), np.float64)
            ramp = np.arange(1, len(new) + 1) * 1e-6
            new = np.maximum.accumulate(np.maximum(new - ramp, last)) + ramp
            g["time_s"][lo:hi] = new
            last = float(new[-1])
        if stop == n and n:
            self._last_time[side] = last

    def device_time_us_at(self, side: Side, frame: int) -> float:
        """Device time of frame ``frame`` of ``side``."""
        return float(self._group(side)["device_time_us"][frame])

    def shift_gaps(self, side: Side, delta_s: float) -> None:
        """Move every recorded gap of ``side`` by ``delta_s`` (used when the session zero is re-fitted)."""
        g = self._group(side)
        if g["gaps"].shape[0]:
            g["gaps"][...] = g["gaps"][()] + delta_s

    def n_frames(self, side: Side) -> int:
        """Frames written so far for ``side`` (0 if the foot was not added)."""
        return int(self._h5[side]["time_s"].shape[0]) if side in self._h5 else 0

    @property
    def write_path(self) -> Path:
        """The file being written (``PATH.partial`` for an atomic writer until :meth:`close`)."""
        return self._write_path

    def last_time_s(self, side: Side) -> float:
        """Session time of the last frame written for ``side`` (NaN when none)."""
        n = self.n_frames(side)
        return float(self._h5[side]["time_s"][n - 1]) if n else math.nan

    def _group(self, side: str) -> h5py.Group:
        if side not in self._h5:
            raise SessionFileError(str(self.path), f"/{side} does not exist; call add_foot first")
        return self._h5[side]

    # -------------------------------------------------------------- life cycle
    def start_appending(self) -> None:
        """Enter SWMR mode (crash-safe writers): from now on only appends, gaps and attributes."""
        self._h5.flush()
        if self._crash_safe and not self._appending:
            self._h5.swmr_mode = True
            self._appending = True

    def end_appending(self) -> None:
        """Leave SWMR mode (reopen normally) so that groups such as ``/truth`` can be added."""
        if not self._appending:
            return
        self._h5.close()
        self._h5 = h5py.File(self._write_path, "r+")
        self._appending = False

    def flush(self) -> None:
        """Push everything written so far to the operating system."""
        self._h5.flush()

    def close(self) -> Path:
        """Mark the file complete, close it and (when atomic) move it to its final name."""
        if self._closed:
            return self.path
        self.end_appending()
        self._h5.attrs["complete"] = True
        self._h5.close()
        self._closed = True
        if self._atomic:
            os.replace(self._write_path, self.path)
        return self.path

    def abort(self) -> None:
        """Close without finishing (best effort, errors ignored); an atomic writer removes its partial file."""
        if self._closed:
            return
        with contextlib.suppress(Exception):
            self._h5.close()
        self._closed = True
        if self._atomic:
            self._write_path.unlink(missing_ok=True)

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


# ---------------------------------------------------------------------------------------------------- reading
@dataclass
class FootData:
    """One foot's recording, loaded into memory.

    Attributes
    ----------
    side : {"left", "right"}
    time_s : numpy.ndarray, shape (n_frames,)
    pressure : numpy.ndarray, shape (n_frames, n_sensors)
    units : str
    sampling_rate_hz : float
    layout : SensorLayout
    sequence, device_time_us, saturated : numpy.ndarray or None
    gaps : numpy.ndarray, shape (n_gaps, 2)
    gap_causes : list of str
    attrs : dict
        Every attribute of the group (device, clock fit, ...).
    """

    side: Side
    time_s: np.ndarray
    pressure: np.ndarray
    units: str
    sampling_rate_hz: float
    layout: SensorLayout
    sequence: np.ndarray | None = None
    device_time_us: np.ndarray | None = None
    saturated: np.ndarray | None = None
    gaps: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    gap_causes: list[str] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return len(self.time_s)


@dataclass
class Session:
    """A whole session loaded into memory (see :func:`read_session`)."""

    path: Path
    attrs: dict[str, Any]
    metadata: SessionMetadata
    feet: dict[str, FootData]
    truth: dict[str, dict[str, np.ndarray]] | None = None
    truth_params: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        """Span of the recorded frames across both feet (0 for an empty session)."""
        spans = [(f.time_s[0], f.time_s[-1]) for f in self.feet.values() if f.n_frames]
        if not spans:
            return 0.0
        return float(max(e for _, e in spans) - min(s for s, _ in spans))


def _attr_str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


class SessionFile:
    """An open, validated session file giving lazy, chunked access (for long recordings).

    Use :func:`open_session`. ``foot(side)`` returns the h5py group; :meth:`iter_chunks` walks a foot's frames
    without loading them all.
    """

    def __init__(self, path: Path, h5: h5py.File) -> None:
        self.path = path
        self.h5 = h5
        self.attrs = {k: _plain(v) for k, v in h5.attrs.items()}
        self.metadata = SessionMetadata.from_attrs(h5["session"].attrs)

    @property
    def sides(self) -> list[Side]:
        """Feet present in the file, left first."""
        return [s for s in SIDES if s in self.h5]

    def foot(self, side: Side) -> h5py.Group:
        """The HDF5 group of ``side``."""
        if side not in self.h5:
            raise SessionFileError(str(self.path), f"has no /{side} group")
        return self.h5[side]

    def attrs_of(self, side: Side) -> dict[str, Any]:
        """Attributes of ``side``'s group as plain Python values."""
        return {k: _plain(v) for k, v in self.foot(side).attrs.items()}

    def n_frames(self, side: Side) -> int:
        """Frames recorded for ``side``."""
        return int(self.foot(side)["time_s"].shape[0])

    def layout(self, side: Side) -> SensorLayout:
        """Sensor geometry of ``side``."""
        g = self.foot(side)
        return SensorLayout(
            _attr_str(g.attrs.get("layout_id", "unknown")),
            g["sensors/x_mm"][()],
            g["sensors/y_mm"][()],
            g["sensors/area_mm2"][()],
            float(g.attrs.get("foot_length_mm", np.ptp(g["sensors/x_mm"][()]) * 1.15 or 260.0)),
        )

    def iter_chunks(self, side: Side, chunk_frames: int = 1 << 16) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(time_s, pressure)`` blocks of at most ``chunk_frames`` frames, in order."""
        g = self.foot(side)
        n = g["time_s"].shape[0]
        for start in range(0, n, chunk_frames):
            yield g["time_s"][start : start + chunk_frames], g["pressure"][start : start + chunk_frames]

    def load_foot(self, side: Side) -> FootData:
        """Read one foot into memory."""
        g = self.foot(side)
        return FootData(
            side=side,
            time_s=g["time_s"][()],
            pressure=g["pressure"][()],
            units=_attr_str(g["pressure"].attrs.get("units", g.attrs.get("units"))),
            sampling_rate_hz=float(g.attrs["sampling_rate_hz"]),
            layout=self.layout(side),
            sequence=g["sequence"][()] if "sequence" in g else None,
            device_time_us=g["device_time_us"][()] if "device_time_us" in g else None,
            saturated=g["saturated"][()].astype(bool) if "saturated" in g else None,
            gaps=g["gaps"][()] if "gaps" in g else np.zeros((0, 2)),
            gap_causes=[_attr_str(c) for c in g["gap_causes"][()]] if "gap_causes" in g else [],
            attrs={k: _plain(v) for k, v in g.attrs.items()},
        )

    def truth(self) -> tuple[dict[str, dict[str, np.ndarray]] | None, dict[str, Any]]:
        """Ground-truth events and profile parameters of a simulated session (None when absent)."""
        if "truth" not in self.h5:
            return None, {}
        grp = self.h5["truth"]
        events = {s: {k: grp[s][k][()] for k in ("ic_s", "to_s") if k in grp[s]} for s in SIDES if s in grp}
        return events, {k: _plain(v) for k, v in grp.attrs.items()}

    def close(self) -> None:
        """Close the file."""
        self.h5.close()

    def __enter__(self) -> SessionFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_safe(path: str, h5: h5py.File) -> None:
    """Refuse links and storage that point outside the file (untrusted uploads)."""
    problems: list[str] = []

    def visit(name: str, link: Any) -> None:
        if isinstance(link, h5py.ExternalLink):
            problems.append(f"/{name} is an external link to {link.filename}")
        elif isinstance(link, h5py.SoftLink):
            problems.append(f"/{name} is a soft link (not used by this format)")

    def walk(group: h5py.Group, prefix: str) -> None:
        for key in group:
            link = group.get(key, getlink=True)
            name = f"{prefix}{key}"
            visit(name, link)
            if isinstance(link, h5py.HardLink):
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


def _validate(path: str, h5: h5py.File, check_time: bool = True) -> None:
    fmt = _attr_str(h5.attrs.get("format", ""))
    if fmt != FORMAT_NAME:
        what = f"format attribute {fmt!r}" if fmt else "no 'format' attribute"
        raise SessionFileError(path, f"is an HDF5 file but not an insole session ({what})")
    version = h5.attrs.get("format_version")
    try:
        version_int = int(version)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SessionFileError(path, f"format_version {version!r} is not a whole number") from None
    if version_int != FORMAT_VERSION:
        raise SessionFileError(
            path, f"format_version {version_int} is not supported by insole {insole.__version__} (reads version 1)"
        )
    _check_safe(path, h5)
    if "session" not in h5 or not isinstance(h5["session"], h5py.Group):
        raise SessionFileError(path, "missing group /session")
    sides = [s for s in SIDES if s in h5]
    if not sides:
        raise SessionFileError(path, "has neither /left nor /right: no insole data")
    for side in sides:
        g = h5[side]
        where = f"/{side}"
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
        if "raw" in g and g["raw"].shape != (n, m):
            raise SessionFileError(path, f"{where}/raw has shape {g['raw'].shape}, expected ({n}, {m})")
        for name in ("sequence", "device_time_us", "saturated"):
            if name in g and g[name].shape != (n,):
                raise SessionFileError(path, f"{where}/{name} has shape {g[name].shape}, expected ({n},)")
        units = _attr_str(p.attrs.get("units", g.attrs.get("units", "")))
        if units not in UNITS:
            raise SessionFileError(path, f"{where}/pressure units {units!r} unknown; expected one of {UNITS}")
        rate = g.attrs.get("sampling_rate_hz")
        try:
            rate_f = float(rate)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            rate_f = math.nan
        if not rate_f > 0:
            raise SessionFileError(path, f"{where} has no positive sampling_rate_hz attribute (got {rate!r})")
        if "gaps" in g and (g["gaps"].ndim != 2 or g["gaps"].shape[1:] != (2,)):
            raise SessionFileError(path, f"{where}/gaps must have shape (n_gaps, 2), has {g['gaps'].shape}")
        if check_time and n:
            last = -math.inf
            step = 1 << 20
            for start in range(0, n, step):
                block = t[start : start + step]
                if not np.all(np.isfinite(block)):
                    bad = start + int(np.flatnonzero(~np.isfinite(block))[0])
                    raise SessionFileError(path, f"{where}/time_s is not finite at frame {bad}")
                d = np.diff(np.concatenate([[last], block]))
                if not np.all(d > 0):
                    bad = start + int(np.flatnonzero(d <= 0)[0])
                    raise SessionFileError(path, f"{where}/time_s is not strictly increasing at frame {bad}")
                last = float(block[-1])


def open_session(path: str | os.PathLike[str], *, check_time: bool = True) -> SessionFile:
    """Open and validate a session file for lazy reading.

    Raises
    ------
    SessionFileError
        The file is missing, not HDF5, not a session, of an unknown version, or malformed; the message names
        the problem (missing group, wrong shape, non-monotonic time, ...).
    """
    p = Path(path)
    if not p.exists():
        raise SessionFileError(str(p), "does not exist")
    if p.is_dir():
        raise SessionFileError(str(p), "is a folder, not a session file")
    try:
        is_h5 = h5py.is_hdf5(p)
    except OSError:
        is_h5 = False
    if not is_h5:
        raise SessionFileError(str(p), "is not an HDF5 file (wrong file, or truncated/corrupted)")
    try:
        h5 = h5py.File(p, "r", locking=False)
    except OSError as exc:
        if "already open for write" not in str(exc):
            raise SessionFileError(str(p), f"cannot be opened as HDF5 (truncated or corrupted?): {exc}") from None
        # A crash-safe (SWMR) recording that was interrupted: its data up to the last flush is consistent.
        try:
            h5 = h5py.File(p, "r", swmr=True, locking=False)
        except OSError as exc2:
            raise SessionFileError(
                str(p), f"is still being written or was interrupted and cannot be read: {exc2}"
            ) from None
    try:
        _validate(str(p), h5, check_time=check_time)
        return SessionFile(p, h5)
    except SessionFileError:
        h5.close()
        raise
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        h5.close()
        raise SessionFileError(str(p), f"is damaged and cannot be read: {exc}") from None


def read_session(path: str | os.PathLike[str]) -> Session:
    """Validate and load a whole session into memory. See :func:`open_session` for errors."""
    with open_session(path) as sf:
        try:
            feet = {side: sf.load_foot(side) for side in sf.sides}
            truth, params = sf.truth()
        except (OSError, KeyError, ValueError, RuntimeError) as exc:
            raise SessionFileError(str(path), f"is damaged and cannot be read: {exc}") from None
        return Session(Path(path), sf.attrs, sf.metadata, feet, truth, params)
