"""What a session holds, as plain Python and numpy: the typed results of the reader.

:class:`FootInfo` describes a foot without reading its frames (declared shapes, units, layout, attributes);
:class:`FrameBlock` carries frames read from a file; :class:`FootData` and :class:`Session` are a foot and a session
loaded into memory. None of them refers to the file: they stay valid after the reader is closed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from insole.calibration import Calibration, CalibrationError
from insole.frames import Side
from insole.imu import ImuInfo
from insole.layouts import SensorLayout
from insole.session.gaps import Gap
from insole.session.metadata import SessionMetadata


@dataclass(frozen=True)
class Completeness:
    """Whether the writer finished the file, and what became of it if not (``docs/session-format.md``).

    Attributes
    ----------
    complete : bool
        The writer closed the file normally (root attribute ``complete``).
    recovered : bool
        ``insole repair`` rewrote an interrupted file (root attribute ``recovered``): it holds every frame up to the
        writer's last flush, but the end-of-recording totals and the final clock fit are missing.
    needs_repair : bool
        The file is still flagged as open for writing (read with the SWMR fallback): other HDF5 programs (HDFView,
        MATLAB, R, plain h5py) refuse it until ``insole repair FILE``.
    in_use_by : str or None
        A process holding a writer lock on the file right now (``pid 1234 (python3)``): a recording in progress.
    stopped_because : str or None
        The recorder's reason for stopping (root attribute ``stopped_because``), when it got that far.
    """

    complete: bool
    recovered: bool = False
    needs_repair: bool = False
    in_use_by: str | None = None
    stopped_because: str | None = None

    @property
    def interrupted(self) -> bool:
        """The writer did not finish the file (it was killed, lost power, or is still writing it)."""
        return not self.complete

    @property
    def state(self) -> str:
        """``complete``, ``recording`` (in use by a writer), ``recovered`` or ``interrupted``."""
        if self.complete:
            return "complete"
        if self.in_use_by:
            return "recording"
        return "recovered" if self.recovered else "interrupted"

    def describe(self, path: object = "FILE") -> str:
        """One line for people (``insole info``); ``path`` is the file's name in the repair hint."""
        return {
            "complete": "yes",
            "recording": f"NO: still being written by {self.in_use_by}",
            "recovered": "NO: the recording was interrupted; repaired (every frame up to its last flush; no final "
                         "totals or clock re-fit)",
            "interrupted": "NO: the recording was interrupted (every frame up to its last flush is kept)"
                           + (f"; HDFView, MATLAB, R and h5py cannot open it until you run `insole repair {path}`"
                              if self.needs_repair else ""),
        }[self.state]


@dataclass(frozen=True)
class CalibrationInfo:
    """The calibration stored with a calibrated foot (``/<side>/calibration``).

    Attributes
    ----------
    sha256 : str
        Hash of the calibration's JSON text.
    source : str
        Where it came from (file name), as given when recording or recalibrating.
    method : str
        E.g. ``pchip-per-cell``.
    json : str
        The calibration itself (:meth:`insole.calibration.Calibration.to_json`).
    """

    sha256: str
    source: str
    method: str
    json: str

    def load(self) -> Calibration:
        """The stored calibration as a :class:`~insole.calibration.Calibration` (raises ``CalibrationError``)."""
        try:
            data = json.loads(self.json)
        except ValueError as exc:
            raise CalibrationError(f"stored calibration ({self.source or 'no source'}) is not JSON: {exc}") from None
        return Calibration.from_dict(data, source=self.source or "stored calibration")


@dataclass(frozen=True)
class FootInfo:
    """One foot of an open session, described without reading its frames.

    Attributes
    ----------
    side : {"left", "right"}
    units : {"kPa", "N", "raw"}
        Units of ``pressure``.
    sampling_rate_hz : float
        Nominal rate.
    layout : SensorLayout
        Cell geometry, with ``geometry`` from the ``layout_geometry`` attribute (migrated for version-1 files).
    n_frames, n_sensors : int
        Declared shape of ``pressure`` (checked against the format's limits; no data read).
    has_raw, has_saturated, has_sequence, has_device_time : bool
        Which optional per-frame datasets exist.
    n_gaps : int
    device : dict
        The ``device_*`` attributes without the prefix (``url``, ``model``, ``serial_number``, ...).
    calibration : CalibrationInfo or None
        The stored calibration of a calibrated foot.
    attrs : dict
        Every attribute of the foot group as plain values (device, clock fit, frame accounting, source details).
    imu : ImuInfo or None
        The foot's IMU (units, ranges, frame), or None when the foot has no IMU block.
    n_imu_samples : int
        Declared length of the IMU block (0 without one).
    """

    side: Side
    units: str
    sampling_rate_hz: float
    layout: SensorLayout
    n_frames: int
    n_sensors: int
    has_raw: bool = False
    has_saturated: bool = False
    has_sequence: bool = False
    has_device_time: bool = False
    n_gaps: int = 0
    device: dict[str, Any] = field(default_factory=dict)
    calibration: CalibrationInfo | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    imu: ImuInfo | None = None
    n_imu_samples: int = 0

    @property
    def has_imu(self) -> bool:
        """True when the foot has IMU samples."""
        return self.imu is not None


@dataclass(frozen=True)
class ImuData:
    """IMU samples ``start : start + n`` of one foot, read from a session (``/<side>/imu``), time on axis 0.

    Attributes
    ----------
    info : ImuInfo
        Rate, ranges, frame (``"foot"``: x anterior, y left, z up, both feet alike), calibration, description.
    start : int
        Index of the first sample.
    time_s : numpy.ndarray, shape (n,), float64
        Session clock.
    acc_m_s2 : numpy.ndarray, shape (n, 3), float32
        Specific force (gravity reaction included: +9.81 on z for a foot standing flat).
    gyr_rad_s : numpy.ndarray, shape (n, 3), float32
        Angular rate, right-hand rule about each axis.
    frame_aligned : bool
        Sample i is frame i of the foot (the same time stamps as the pressure).
    sequence, device_time_us : numpy.ndarray or None
        Device counters, when stored.
    """

    info: ImuInfo
    start: int
    time_s: np.ndarray
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray
    frame_aligned: bool = False
    sequence: np.ndarray | None = None
    device_time_us: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        """Samples held."""
        return len(self.time_s)

    @property
    def sampling_rate_hz(self) -> float:
        """Nominal rate."""
        return self.info.sampling_rate_hz

    @property
    def acc_range_m_s2(self) -> float:
        """Accelerometer full scale (NaN: unknown)."""
        return self.info.acc_range_m_s2

    @property
    def gyr_range_rad_s(self) -> float:
        """Gyroscope full scale (NaN: unknown)."""
        return self.info.gyr_range_rad_s

    @property
    def frame(self) -> str:
        """``"foot"`` or ``"sensor"``."""
        return self.info.frame


@dataclass(frozen=True)
class FrameBlock:
    """Frames ``start : start + n_frames`` of one foot; a field not requested or not recorded is None.

    Attributes
    ----------
    start : int
        Index of the first frame.
    time_s : numpy.ndarray or None, shape (n,), float64
    pressure : numpy.ndarray or None, shape (n, n_sensors), float32
    raw : numpy.ndarray or None, shape (n, n_sensors), float32
    sequence : numpy.ndarray or None, shape (n,), uint32
    device_time_us : numpy.ndarray or None, shape (n,), uint64
    saturated : numpy.ndarray or None, shape (n,), bool
    """

    start: int
    time_s: np.ndarray | None = None
    pressure: np.ndarray | None = None
    raw: np.ndarray | None = None
    sequence: np.ndarray | None = None
    device_time_us: np.ndarray | None = None
    saturated: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        """Frames in the block."""
        for name in ("time_s", "pressure", "raw", "sequence", "device_time_us", "saturated"):
            value = getattr(self, name)
            if value is not None:
                return len(value)
        return 0


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
    gaps : list of Gap
    attrs : dict
        Every attribute of the group (device, clock fit, ...).
    imu : ImuData or None
        The foot's IMU samples (None without an IMU block).
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
    gaps: list[Gap] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    imu: ImuData | None = None

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return len(self.time_s)

    def to_dataframe(self) -> Any:
        """The frames as a :class:`pandas.DataFrame`: index ``time_s`` (s), one column per cell.

        Columns are named ``cell_1`` ... ``cell_N`` in the layout's order; ``df.attrs`` holds ``side``,
        ``units``, ``sampling_rate_hz`` and ``layout_id``. The values are a view of :attr:`pressure` where pandas
        allows it (no copy for a float32 array).

        Returns
        -------
        pandas.DataFrame, shape (n_frames, n_sensors)
        """
        import pandas as pd

        index = pd.Index(self.time_s, name="time_s")
        columns = [f"cell_{i}" for i in range(1, self.pressure.shape[1] + 1)]
        df = pd.DataFrame(self.pressure, index=index, columns=columns, copy=False)
        df.attrs.update(side=self.side, units=self.units, sampling_rate_hz=self.sampling_rate_hz,
                        layout_id=self.layout.layout_id)
        return df


@dataclass
class Session:
    """A whole session loaded into memory (see :func:`insole.session.read_session`).

    ``completeness`` says whether the file was finished, interrupted or repaired (:class:`Completeness`).
    """

    path: Path
    attrs: dict[str, Any]
    metadata: SessionMetadata
    feet: dict[str, FootData]
    truth: dict[str, dict[str, np.ndarray]] | None = None
    truth_params: dict[str, Any] = field(default_factory=dict)
    completeness: Completeness = field(default_factory=lambda: Completeness(complete=True))

    @property
    def duration_s(self) -> float:
        """Span of the recorded frames across both feet (0 for an empty session)."""
        spans = [(f.time_s[0], f.time_s[-1]) for f in self.feet.values() if f.n_frames]
        if not spans:
            return 0.0
        return float(max(e for _, e in spans) - min(s for s, _ in spans))
