"""Writing a session file: :class:`SessionWriter` (used by the importers and tests; the recorder's is a subclass).

Every writer writes the current format version (:data:`~insole.session.format.FORMAT_VERSION`).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

import insole
from insole.calibration import Calibration
from insole.errors import ConfigurationError, SessionBusyError, SessionExistsError, SessionFileError
from insole.frames import SIDES, Side, check_side
from insole.imu import ImuInfo
from insole.layouts import SensorLayout
from insole.provenance import utc_now_iso
from insole.session import file_lock, imu_block
from insole.session.format import CHUNK_FRAMES, FOOT_CORE, FORMAT_NAME, FORMAT_VERSION, SOURCES, UNITS
from insole.session.gap_columns import append_gaps, create_columns
from insole.session.gaps import Gap
from insole.session.hdf5_open import open_file
from insole.session.metadata import SessionMetadata

_COMPRESSION = {"compression": "gzip", "compression_opts": 1, "shuffle": True}


class SessionWriter:
    """Create a session file and append frames to it.

    Parameters
    ----------
    path : str or Path
        Final file name.
    metadata : SessionMetadata
    source : {"recorded", "simulated", "imported"}
    overwrite : bool
        Replace an existing file; otherwise :class:`SessionExistsError` is raised. A file another process is
        writing (a live recording) is never replaced: :class:`~insole.errors.SessionBusyError`, at once.
    atomic : bool
        Write to ``PATH.partial`` and rename on :meth:`close`, so the final name never holds a half-written
        file. The recorder uses ``atomic=False`` with periodic :meth:`flush` for crash safety instead
        (:class:`~insole.session.recording_writer.RecordingWriter`).

    Examples
    --------
    >>> with SessionWriter("s.h5", SessionMetadata(subject_id="S01")) as w:  # doctest: +SKIP
    ...     w.add_foot("left", layout, units="kPa", sampling_rate_hz=100)
    ...     w.append("left", time_s, pressure)
    ...     w.add_gap("left", Gap(1.0, 1.2, 21, GapCause.SEQUENCE_GAP))
    ...     w.add_imu("left", ImuInfo(sampling_rate_hz=100), frame_aligned=True)
    ...     w.append_imu("left", time_s, acc_m_s2, gyr_rad_s)
    """

    #: HDF5 file-format compatibility of new files (the recorder's crash-safe files need "latest" for SWMR).
    _libver = "earliest"
    #: The file will enter SWMR writing (its HDF5 retries are bounded from the start).
    _crash_safe_file = False

    def __init__(
        self,
        path: str | os.PathLike[str],
        metadata: SessionMetadata | None = None,
        *,
        source: str = "recorded",
        overwrite: bool = False,
        atomic: bool = True,
    ) -> None:
        self.path = Path(path)
        if source not in SOURCES:
            raise SessionFileError(str(self.path), f"source must be one of {SOURCES}, got {source!r}")
        metadata = metadata or SessionMetadata()
        try:
            metadata.check()
        except ConfigurationError as exc:
            raise SessionFileError(str(self.path), f"metadata: {exc}") from None
        if self.path.exists() and not overwrite:
            raise SessionExistsError(str(self.path), "already exists; choose another name or pass --overwrite")
        if not self.path.parent.is_dir():
            raise SessionFileError(str(self.path), f"folder {self.path.parent} does not exist")
        self._write_path = self.path.with_name(self.path.name + ".partial") if atomic else self.path
        if atomic:
            file_lock.refuse_if_busy(self.path)
        # before HDF5 truncates anything: a file another writer holds is refused, without waiting
        self._lock, self._h5 = file_lock.create_locked(self._write_path, lambda: open_file(
            self._write_path, "w", swmr=self._crash_safe_file, latest=self._libver == "latest"), self.path)
        self._atomic = atomic
        self._closed = False
        self._last_time: dict[str, float] = {}
        self._last_imu_time: dict[str, float] = {}
        root = self._h5.attrs
        root["format"] = FORMAT_NAME
        root["format_version"] = FORMAT_VERSION
        root["created_utc"] = utc_now_iso()
        root["software"] = f"insole {insole.__version__}"
        root["complete"] = False
        root["source"] = source
        grp = self._h5.create_group("session")
        for key, value in metadata.to_attrs().items():
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
        n = layout.n_sensors
        if calibration is not None and (units != "kPa" or calibration.n_sensors != n):
            raise SessionFileError(
                str(self.path), f"/{side}: a calibration needs units kPa and {n} cells, got {units}, "
                f"{calibration.n_sensors}"
            )
        g = self._h5.create_group(side)
        chunk = max(16, min(CHUNK_FRAMES, (1 << 16) // (4 * n)))
        g.create_dataset("pressure", (0, n), np.float32, maxshape=(None, n), chunks=(chunk, n), **_COMPRESSION)
        g["pressure"].attrs["units"] = units
        columns = {"time_s": np.float64, "saturated": np.uint8}
        if with_sequence:
            columns["sequence"] = np.uint32
        if with_device_time:
            columns["device_time_us"] = np.uint64
        for name, dtype in columns.items():
            g.create_dataset(name, (0,), dtype, maxshape=(None,), chunks=(chunk * 4,), **_COMPRESSION)
        if calibration is not None:
            g.create_dataset("raw", (0, n), np.float32, maxshape=(None, n), chunks=(chunk, n), **_COMPRESSION)
            g["raw"].attrs["units"] = "raw"
            write_calibration_group(g, calibration, calibration_source)
        s = g.create_group("sensors")
        s["x_mm"] = np.asarray(layout.x_mm, np.float64)
        s["y_mm"] = np.asarray(layout.y_mm, np.float64)
        s["area_mm2"] = np.asarray(layout.area_mm2, np.float64)
        create_columns(g)
        g.attrs["units"] = units
        g.attrs["sampling_rate_hz"] = float(sampling_rate_hz)
        g.attrs["layout_id"] = layout.layout_id
        g.attrs["layout_geometry"] = layout.geometry
        g.attrs["foot_length_mm"] = float(layout.foot_length_mm)
        for key, value in (device or {}).items():
            g.attrs[f"device_{key}"] = value

    def add_imu(
        self,
        side: Side,
        info: ImuInfo,
        *,
        frame_aligned: bool = False,
        with_sequence: bool = False,
        with_device_time: bool = False,
    ) -> None:
        """Create the IMU block ``/<side>/imu`` of a foot already added (see ``docs/session-format.md``).

        Parameters
        ----------
        side : {"left", "right"}
        info : ImuInfo
            Rate, ranges (NaN when unknown), frame (``"foot"`` for the foot sensor frame of :mod:`insole.imu`, else
            ``"sensor"``), calibration state and a description (sensor, mounting, how the axes are known).
        frame_aligned : bool
            Every IMU sample belongs to one frame of the foot, in order, with the same time stamp (the recorder;
            importers whose IMU shares the pressure's rows). The block then has exactly as many rows as frames.
        with_sequence, with_device_time : bool
            Add ``sequence`` and ``device_time_us`` columns (an IMU with its own clock).
        """
        g = self._group(check_side(side))
        if imu_block.IMU_GROUP in g:
            raise SessionFileError(str(self.path), f"/{side}/imu was already added")
        if not isinstance(info, ImuInfo):
            raise SessionFileError(str(self.path), f"/{side}: add_imu takes an ImuInfo, got {type(info).__name__}")
        imu_block.create(g, info, frame_aligned=frame_aligned, with_sequence=with_sequence,
                         with_device_time=with_device_time)

    def append_imu(
        self,
        side: Side,
        time_s: np.ndarray,
        acc_m_s2: np.ndarray,
        gyr_rad_s: np.ndarray,
        *,
        sequence: np.ndarray | None = None,
        device_time_us: np.ndarray | None = None,
    ) -> None:
        """Append IMU samples of one foot: ``time_s`` (n,) strictly increasing session time, ``acc_m_s2`` and
        ``gyr_rad_s`` (n, 3) in the block's frame (NaN rows for samples without values)."""
        g = self._group(side)
        if imu_block.IMU_GROUP not in g:
            raise SessionFileError(str(self.path), f"/{side}/imu does not exist; call add_imu first")
        time_s = np.asarray(time_s, np.float64)
        n = len(time_s)
        if n == 0:
            return
        acc = np.asarray(acc_m_s2, np.float32)
        gyr = np.asarray(gyr_rad_s, np.float32)
        if acc.shape != (n, 3) or gyr.shape != (n, 3):
            raise SessionFileError(str(self.path), f"/{side}/imu: acc_m_s2 {acc.shape} and gyr_rad_s {gyr.shape} "
                                   f"must be ({n}, 3) like time_s")
        last = self._last_imu_time.get(side, -math.inf)
        if not (time_s[0] > last and np.all(np.diff(time_s) > 0)):
            raise SessionFileError(str(self.path), f"/{side}/imu: appended time_s is not strictly increasing")
        self._last_imu_time[side] = float(time_s[-1])
        imu_block.append(g[imu_block.IMU_GROUP], {"time_s": time_s, "acc_m_s2": acc, "gyr_rad_s": gyr,
                                                  "sequence": sequence, "device_time_us": device_time_us})

    def set_attrs(self, where: str, **attrs: Any) -> None:
        """Set attributes on ``/``, ``session``, ``left``, ``right`` or another group (created if needed)."""
        obj = self._h5 if where in ("", "/") else self._h5.require_group(where)
        for key, value in attrs.items():
            obj.attrs[key] = value

    def write_extra(self, where: str, name: str, data: Any, **attrs: Any) -> None:
        """Write an optional dataset ``/where/name`` (e.g. ``vendor_events/left/ic_s``).

        Groups are created as needed. The core members of a foot group (and what is inside them) cannot be
        replaced this way; extra datasets are documented in ``docs/session-format.md`` ("Optional extra datasets").
        """
        parts = [p for p in where.strip("/").split("/") if p]
        if parts and parts[0] in SIDES and (name in FOOT_CORE if len(parts) == 1 else parts[1] in FOOT_CORE):
            raise SessionFileError(str(self.path), f"/{'/'.join([*parts, name])} is a core member of the foot; "
                                   "use add_foot, append, add_gap or add_imu")
        grp = self._h5.require_group("/".join(parts)) if parts else self._h5
        if name in grp:
            del grp[name]
        arr = np.asarray(data)
        if arr.dtype.kind in "OU":
            grp.create_dataset(name, data=arr.astype(object), dtype=h5py.string_dtype())
        else:
            grp.create_dataset(name, data=arr, **(_COMPRESSION if arr.size > 1024 else {}))
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
        if ("raw" in g) != (raw is not None):
            need = "needs" if "raw" in g else "has no calibration and takes no"
            raise SessionFileError(str(self.path), f"/{side} {need} raw counts")
        self._last_time[side] = float(time_s[-1])
        columns: dict[str, np.ndarray | None] = {
            "pressure": pressure,
            "raw": None if raw is None else np.asarray(raw, np.float32),
            "time_s": time_s,
            "sequence": sequence,
            "device_time_us": device_time_us,
            "saturated": None if saturated is None else np.asarray(saturated, np.uint8),
        }
        old = g["time_s"].shape[0]
        for name, values in columns.items():
            if name not in g:
                continue
            g[name].resize(old + n, axis=0)
            g[name][old:] = np.zeros(n, g[name].dtype) if values is None else values  # only 1-D columns are optional

    def add_gap(self, side: Side, gap: Gap) -> None:
        """Record one stretch of known missing data on ``side`` (see :class:`~insole.session.gaps.Gap`)."""
        self.add_gaps(side, [gap])

    def add_gaps(self, side: Side, gaps: Iterable[Gap]) -> None:
        """Record many gaps at once; an ``end_s`` before ``start_s`` is stored as ``start_s``."""
        gaps = list(gaps)
        bad = [g for g in gaps if not isinstance(g, Gap)]
        if bad:
            raise SessionFileError(str(self.path), f"/{side}: add_gaps takes Gap records, got {type(bad[0]).__name__}")
        append_gaps(self._group(side), gaps)

    def write_truth(self, truth: Mapping[str, Mapping[str, np.ndarray]], params: Mapping[str, Any]) -> None:
        """Write simulator ground truth: ``truth[side]["ic_s" | "to_s"]`` (and any other per-stance array, such as
        ``foot_position_m``) and the profile parameters."""
        grp = self._h5.require_group("truth")
        for key, value in params.items():
            grp.attrs[key] = value
        for side, events in truth.items():
            sg = grp.require_group(check_side(side))
            for name in ("ic_s", "to_s", *(k for k in events if k not in ("ic_s", "to_s"))):
                if name in sg:
                    del sg[name]
                sg[name] = np.asarray(events[name], np.float64)

    def n_frames(self, side: Side) -> int:
        """Frames written so far for ``side`` (0 if the foot was not added)."""
        return int(self._h5[side]["time_s"].shape[0]) if side in self._h5 else 0

    @property
    def write_path(self) -> Path:
        """The file being written (``PATH.partial`` for an atomic writer until :meth:`close`)."""
        return self._write_path

    def _group(self, side: str) -> h5py.Group:
        if side not in self._h5:
            raise SessionFileError(str(self.path), f"/{side} does not exist; call add_foot first")
        return self._h5[side]

    # -------------------------------------------------------------- life cycle
    def flush(self) -> None:
        """Push everything written so far to the operating system."""
        self._h5.flush()

    def close(self) -> Path:
        """Mark the file complete, close it and (when atomic) move it to its final name."""
        if self._closed:
            return self.path
        self._h5.attrs["complete"] = True
        self._h5.close()
        self._closed = True
        try:
            if self._atomic:
                try:
                    file_lock.refuse_if_busy(self.path)
                except SessionBusyError:
                    self._write_path.unlink(missing_ok=True)
                    raise
                os.replace(self._write_path, self.path)
        finally:
            self._lock.release()
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
        self._lock.release()

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_calibration_group(foot: h5py.Group, calibration: Calibration, source: str) -> None:
    """(Re)write ``calibration/`` of a foot group: the curve points, the JSON, its hash, source and method."""
    if "calibration" in foot:
        del foot["calibration"]
    cg = foot.create_group("calibration")
    cg["load_kpa"] = calibration.load_kpa
    cg["counts"] = calibration.counts
    cg.attrs["json"] = calibration.to_json()
    cg.attrs["sha256"] = calibration.sha256()
    cg.attrs["source"] = source
    cg.attrs["method"] = "pchip-per-cell"
