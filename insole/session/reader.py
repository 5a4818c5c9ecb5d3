"""Reading a session file: :func:`open_session` (lazy, validated) and :func:`read_session` (all in memory).

Nothing that leaves this module is an HDF5 object: the reader hands out plain attributes, typed descriptions
(:class:`~insole.session.contents.FootInfo`), numpy arrays in :class:`~insole.session.contents.FrameBlock` objects,
and :class:`~insole.session.gaps.Gap` records. Version-1 files are migrated in memory (gap causes, layout geometry).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from insole.errors import ConfigurationError, SessionFileError
from insole.frames import SIDES, Side
from insole.layouts import SensorLayout
from insole.plausibility import first_implausible, pressure_range
from insole.session import file_lock, imu_block
from insole.session.chunk_reader import chunked_rows
from insole.session.contents import CalibrationInfo, Completeness, FootData, FootInfo, FrameBlock, ImuData, Session
from insole.session.dataset_limits import declared_bytes
from insole.session.format import (
    FIELDS,
    FOOT_CORE,
    MAX_WHOLE_READ_BYTES,
    ROOT_CORE,
    attr_str,
    geometry_of_layout_id,
    plain_attrs,
)
from insole.session.gap_columns import n_gaps, read_gaps
from insole.session.gaps import Gap
from insole.session.hdf5_open import open_file
from insole.session.validation import check_metadata, validate

#: Frames per block of :meth:`SessionReader.iter_blocks` unless told otherwise.
BLOCK_FRAMES = 1 << 16
#: Errors h5py raises on damaged files; the reader turns them into :class:`SessionFileError`.
_DAMAGE = (OSError, KeyError, ValueError, RuntimeError, TypeError)


class SessionReader:
    """An open, validated session file giving lazy, block-wise access (for long recordings).

    Use :func:`open_session`. Every method returns numpy arrays or plain Python values.

    Attributes
    ----------
    path : Path
    attrs : dict
        Root attributes as plain values (``format``, ``format_version``, ``created_utc``, ``source``, ...).
    metadata : SessionMetadata
    format_version : int
        Version of the file (1 or 2); a version-1 file is presented as version 2 by every method.
    completeness : Completeness
        Whether the file was finished, is being recorded, was interrupted or repaired; read it before trusting
        end-of-recording totals (an interrupted file has none).
    """

    def __init__(self, path: Path, h5: h5py.File, version: int, *, needs_repair: bool = False) -> None:
        self.path = path
        self._h5 = h5
        self.format_version = version
        self.attrs: dict[str, Any] = plain_attrs(h5.attrs)
        self.metadata = check_metadata(str(path), h5["session"].attrs)
        self._info: dict[str, FootInfo] = {}
        stopped = self.attrs.get("stopped_because")
        self.completeness = Completeness(
            complete=self.attrs.get("complete") is True, recovered=self.attrs.get("recovered") is True,
            needs_repair=needs_repair, in_use_by=file_lock.holder(path),
            stopped_because=str(stopped) if stopped is not None else None,
        )

    @property
    def sides(self) -> list[Side]:
        """Feet present in the file, left first."""
        return [s for s in SIDES if s in self._h5]

    # -------------------------------------------------------------- descriptions
    def foot_info(self, side: Side) -> FootInfo:
        """What is known about ``side`` without reading its frames (declared shapes, units, layout, attributes)."""
        if side not in self._info:
            with self._reading(f"/{side}"):
                self._info[side] = self._describe(side, self._foot(side))
        return self._info[side]

    def _describe(self, side: Side, g: h5py.Group) -> FootInfo:
        attrs = plain_attrs(g.attrs)
        layout_id = str(attrs.get("layout_id", "unknown"))
        attrs.setdefault("layout_geometry", geometry_of_layout_id(layout_id))
        x_mm = g["sensors/x_mm"][()]
        for name, values in (("x_mm", x_mm), ("y_mm", g["sensors/y_mm"][()]), ("area_mm2", g["sensors/area_mm2"][()])):
            if not np.all(np.isfinite(values)):
                raise SessionFileError(str(self.path), f"/{side}/sensors/{name} holds a value that is not finite "
                                       f"(cell {int(np.flatnonzero(~np.isfinite(values))[0]) + 1})")
        try:
            layout = SensorLayout(
                layout_id, x_mm, g["sensors/y_mm"][()], g["sensors/area_mm2"][()],
                float(attrs.get("foot_length_mm", np.ptp(x_mm) * 1.15 or 260.0)),
                geometry=str(attrs["layout_geometry"]),
            )
        except ConfigurationError as exc:
            raise SessionFileError(str(self.path), f"/{side}/sensors: {exc}") from None
        calibration = None
        if "calibration" in g:
            ca = g["calibration"].attrs
            calibration = CalibrationInfo(
                sha256=attr_str(ca.get("sha256", "")), source=attr_str(ca.get("source", "")),
                method=attr_str(ca.get("method", "")), json=attr_str(ca.get("json", "")),
            )
        n_frames, n_sensors = (int(v) for v in g["pressure"].shape)
        return FootInfo(
            side=side,
            units=attr_str(g["pressure"].attrs.get("units", g.attrs.get("units", ""))),
            sampling_rate_hz=float(attrs["sampling_rate_hz"]),
            layout=layout,
            n_frames=n_frames,
            n_sensors=n_sensors,
            has_raw="raw" in g,
            has_saturated="saturated" in g,
            has_sequence="sequence" in g,
            has_device_time="device_time_us" in g,
            n_gaps=n_gaps(g, self.format_version),
            device={k[len("device_"):]: v for k, v in attrs.items() if k.startswith("device_")},
            calibration=calibration,
            attrs=attrs,
            imu=imu_block.info_of(g),
            n_imu_samples=imu_block.n_samples(g),
        )

    def n_frames(self, side: Side) -> int:
        """Frames recorded for ``side``."""
        return self.foot_info(side).n_frames

    def layout(self, side: Side) -> SensorLayout:
        """Sensor geometry of ``side``."""
        return self.foot_info(side).layout

    # -------------------------------------------------------------- frames
    def read(
        self, side: Side, start: int = 0, stop: int | None = None, *, fields: Sequence[str] = ("time_s", "pressure")
    ) -> FrameBlock:
        """Frames ``start:stop`` of ``side`` (clipped to the recording); ``fields`` from ``time_s``, ``pressure``,
        ``raw``, ``sequence``, ``device_time_us``, ``saturated``. A field the foot does not record is None."""
        unknown = [f for f in fields if f not in FIELDS]
        if unknown:
            raise ConfigurationError(f"fields must be among {FIELDS}, got {unknown}")
        n = self.foot_info(side).n_frames
        lo = min(max(int(start), 0), n)
        hi = max(lo, min(n if stop is None else int(stop), n))
        g = self._foot(side)
        values: dict[str, np.ndarray | None] = {}
        with self._reading(f"/{side}"):
            for name in fields:
                values[name] = _rows(g[name], lo, hi) if name in g else None
        for name, units in (("pressure", self.foot_info(side).units), ("raw", "raw")):
            block = values.get(name)
            found = first_implausible(block, units) if block is not None else None
            if found is not None:
                (frame, cell), value = found
                rng = pressure_range(units)
                raise SessionFileError(
                    str(self.path), f"/{side}/{name} frame {lo + frame}, cell {cell + 1}: {value:g} {units} is outside "
                    f"the plausible range {rng.low:g} to {rng.high:g} {units} ({rng.source}); wrong units or scale?")
        if values.get("saturated") is not None:
            values["saturated"] = values["saturated"].astype(bool)  # type: ignore[union-attr]
        return FrameBlock(start=lo, **values)

    def iter_blocks(
        self, side: Side, block_frames: int = BLOCK_FRAMES, *, fields: Sequence[str] = ("time_s", "pressure")
    ) -> Iterator[FrameBlock]:
        """Yield :class:`FrameBlock` objects of at most ``block_frames`` frames of ``side``, in order."""
        if block_frames < 1:
            raise ConfigurationError(f"block_frames must be at least 1, got {block_frames}")
        n = self.foot_info(side).n_frames
        for start in range(0, n, block_frames):
            yield self.read(side, start, start + block_frames, fields=fields)

    def time_span_s(self, side: Side) -> tuple[float, float] | None:
        """Session time of the first and the last frame of ``side`` (None when it has no frames)."""
        n = self.foot_info(side).n_frames
        if not n:
            return None
        first, last = self.read(side, 0, 1, fields=("time_s",)), self.read(side, n - 1, n, fields=("time_s",))
        return float(first.time_s[0]), float(last.time_s[0])  # type: ignore[index]

    def read_imu(self, side: Side, start: int = 0, stop: int | None = None) -> ImuData | None:
        """IMU samples ``start:stop`` of ``side`` (clipped), or None when the foot has no IMU.

        Units m/s² and rad/s, foot sensor frame when ``info.frame == "foot"`` (``docs/session-format.md``). The
        extra dataset ``/<side>/imu`` (g, deg/s) of older Moticon imports is presented the same way.
        """
        g = self._foot(side)
        with self._reading(f"/{side}/imu"):
            return imu_block.read(g, start, stop)

    def gaps(self, side: Side) -> list[Gap]:
        """Known missing data of ``side`` (version-1 prose causes migrated to codes and counts)."""
        with self._reading(f"/{side}/gaps"):
            return read_gaps(self._foot(side), self.format_version)

    def load_foot(self, side: Side) -> FootData:
        """Read one foot into memory."""
        info = self.foot_info(side)
        block = self.read(side, fields=("time_s", "pressure", "sequence", "device_time_us", "saturated"))
        return FootData(
            side=side,
            time_s=block.time_s,  # type: ignore[arg-type]
            pressure=block.pressure,  # type: ignore[arg-type]
            units=info.units,
            sampling_rate_hz=info.sampling_rate_hz,
            layout=info.layout,
            sequence=block.sequence,
            device_time_us=block.device_time_us,
            saturated=block.saturated,
            gaps=self.gaps(side),
            attrs=dict(info.attrs),
            imu=self.read_imu(side),
        )

    def truth(self) -> tuple[dict[str, dict[str, np.ndarray]] | None, dict[str, Any]]:
        """Ground truth of a simulated session (None when absent) and the profile parameters.

        Per side: ``ic_s``, ``to_s`` and, for walkers with an IMU, ``foot_position_m`` (where the flat foot stood
        in each stance along the path; stride lengths are its differences).
        """
        if "truth" not in self._h5:
            return None, {}
        with self._reading("/truth"):
            grp = self._h5["truth"]
            events = {s: {k: grp[s][k][()] for k in grp[s] if isinstance(grp[s][k], h5py.Dataset)}
                      for s in SIDES if s in grp}
            return events, plain_attrs(grp.attrs)

    # -------------------------------------------------------------- optional extras
    def extra_groups(self) -> list[str]:
        """Top-level optional groups present (e.g. ``vendor_events``, ``vendor_signals``)."""
        return sorted(k for k in self._h5 if k not in ROOT_CORE and isinstance(self._h5[k], h5py.Group))

    def extras(self) -> list[str]:
        """Paths of every optional dataset (``left/imu``, ``vendor_events/left/ic_s``, ...), sorted."""
        found: list[str] = []

        def collect(name: str, obj: object) -> None:
            if isinstance(obj, h5py.Dataset):
                found.append(name)

        for key in self._h5:
            obj = self._h5[key]
            if key in SIDES:
                for member in obj:
                    if member not in FOOT_CORE or (member == imu_block.IMU_GROUP and not imu_block.is_block(obj)):
                        collect(f"{key}/{member}", obj[member])
                        if isinstance(obj[member], h5py.Group):
                            obj[member].visititems(lambda n, o, p=f"{key}/{member}": collect(f"{p}/{n}", o))
            elif key not in ROOT_CORE:
                collect(key, obj)
                if isinstance(obj, h5py.Group):
                    obj.visititems(lambda n, o, p=key: collect(f"{p}/{n}", o))
        return sorted(found)

    def read_extra(self, path: str) -> np.ndarray:
        """The optional dataset ``path`` (one of :meth:`extras`) as a numpy array (text as ``str`` objects)."""
        ds = self._extra(path)
        if declared_bytes(ds) > MAX_WHOLE_READ_BYTES:
            raise SessionFileError(str(self.path), f"/{path.strip('/')} declares shape {ds.shape}, more than the "
                                   f"{MAX_WHOLE_READ_BYTES // 2**20} MiB an optional dataset may hold")
        with self._reading(f"/{path}"):
            if ds.dtype.kind in "OS":
                return np.asarray(ds.asstr()[()], dtype=object)
            return np.asarray(ds[()])

    def extra_attrs(self, path: str) -> dict[str, Any]:
        """Attributes of an optional dataset or group (``vendor_events``) as plain values."""
        name = path.strip("/")
        if name not in self.extra_groups() and not any(e.startswith(name + "/") for e in self.extras()):
            self._extra(name)
        with self._reading(f"/{name}"):
            return plain_attrs(self._h5[name].attrs)

    def _extra(self, path: str) -> h5py.Dataset:
        name = path.strip("/")
        if name not in self.extras():
            known = ", ".join(self.extras()) or "none"
            raise SessionFileError(str(self.path), f"has no optional dataset /{name} (optional datasets: {known})")
        return self._h5[name]

    # -------------------------------------------------------------- plumbing
    def _foot(self, side: str) -> h5py.Group:
        if side not in SIDES or side not in self._h5:
            raise SessionFileError(str(self.path), f"has no /{side} group (feet: {', '.join(self.sides)})")
        return self._h5[side]

    @contextlib.contextmanager
    def _reading(self, where: str) -> Iterator[None]:
        try:
            yield
        except SessionFileError:
            raise
        except _DAMAGE as exc:
            raise SessionFileError(str(self.path), f"{where} is damaged and cannot be read: {exc}") from None

    def close(self) -> None:
        """Close the file."""
        self._h5.close()

    def __enter__(self) -> SessionReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _rows(ds: h5py.Dataset, lo: int, hi: int) -> np.ndarray:
    """``ds[lo:hi]``, with the chunks inflated in parallel where :mod:`~insole.session.chunk_reader` can."""
    rows = chunked_rows(ds, lo, hi)
    return ds[lo:hi] if rows is None else rows


def open_h5(p: Path) -> tuple[h5py.File, bool]:
    """Open ``p`` for reading: normally, else (a file still flagged as open for writing) with SWMR reading.

    Returns the file and whether the SWMR fallback was needed. Every wait inside HDF5 is bounded
    (:mod:`insole.session.hdf5_open`).
    """
    try:
        is_h5 = h5py.is_hdf5(p)
    except OSError:
        is_h5 = False
    if not is_h5:
        raise SessionFileError(str(p), "is not an HDF5 file (wrong file, or truncated/corrupted)")
    try:
        return open_file(p, "r"), False
    except OSError as exc:
        if "already open for write" not in str(exc):
            raise SessionFileError(str(p), f"cannot be opened as HDF5 (truncated or corrupted?): {exc}") from None
    # A crash-safe (SWMR) recording that was interrupted or is still running: its data up to the last flush is
    # consistent.
    try:
        return open_file(p, "r", swmr=True), True
    except OSError as exc:
        raise SessionFileError(str(p), f"is still being written or was interrupted and cannot be read: {exc}") from None


def open_session(path: str | os.PathLike[str], *, check_time: bool = True) -> SessionReader:
    """Open and validate a session file for lazy reading.

    Parameters
    ----------
    path : str or Path
    check_time : bool
        Also check that every ``time_s`` is finite and strictly increasing (reads ``time_s`` in blocks); the
        nightly batch skips it to check declared shapes before reading any data.

    Raises
    ------
    SessionFileError
        The file is missing, not HDF5, not a session, of an unknown version, refused for safety, or malformed;
        the message names the problem (missing group, wrong shape, non-monotonic time, ...).
    """
    p = Path(path)
    if not p.exists():
        raise SessionFileError(str(p), "does not exist")
    if p.is_dir():
        raise SessionFileError(str(p), "is a folder, not a session file")
    h5, needs_repair = open_h5(p)
    try:
        version = validate(str(p), h5, check_time=check_time)
        return SessionReader(p, h5, version, needs_repair=needs_repair)
    except SessionFileError:
        h5.close()
        raise
    except _DAMAGE as exc:
        h5.close()
        raise SessionFileError(str(p), f"is damaged and cannot be read: {exc}") from None


def read_session(path: str | os.PathLike[str]) -> Session:
    """Validate and load a whole session into memory. See :func:`open_session` for errors."""
    with open_session(path) as reader:
        try:
            feet = {side: reader.load_foot(side) for side in reader.sides}
            truth, params = reader.truth()
        except _DAMAGE as exc:
            raise SessionFileError(str(path), f"is damaged and cannot be read: {exc}") from None
        return Session(Path(path), reader.attrs, reader.metadata, feet, truth, params, reader.completeness)


__all__ = ["BLOCK_FRAMES", "SessionReader", "open_session", "read_session"]
