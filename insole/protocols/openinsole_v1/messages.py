"""The typed messages an openinsole-v1 decoder returns besides samples: device info, status, sync reply, IMU."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from insole.errors import ProtocolError
from insole.frames import Side
from insole.imu import FOOT_AXES, FRAME_FOOT, FRAME_SENSOR, RAD_S_PER_DPS, STANDARD_GRAVITY_M_S2, ImuInfo, axes_matrix
from insole.protocols.openinsole_v1.wire import IMU_CALIBRATION, IMU_FULL_SCALE_COUNTS, LAYOUTS, UNITS


@dataclass(frozen=True)
class DeviceInfoMessage:
    """DEVICE_INFO frame: what the insole says about itself.

    Attributes
    ----------
    side : {"left", "right"}
    n_sensors : int
    layout_code : int
        Key of :data:`~insole.protocols.openinsole_v1.wire.LAYOUTS` (0 = custom layout).
    sampling_rate_hz : int
    firmware_version : str
        ``"major.minor.patch"``.
    units_code : int
        Key of :data:`~insole.protocols.openinsole_v1.wire.UNITS`.
    adc_full_scale : int
        Largest raw count of the ADC (0 = not given).
    foot_length_mm : int
        Insole size as foot length (0 = not given).
    serial_number, model : str
        ASCII, at most 32 characters each.
    sequence, device_time_us : int
        From the frame header (the next sample's sequence number and the device clock).
    host_time_s : float
        Host receive time.
    has_imu : bool
        Header flag bit 1: the samples carry the IMU block and an IMU_INFO frame follows.
    """

    side: Side
    n_sensors: int
    layout_code: int = 0
    sampling_rate_hz: int = 100
    firmware_version: str = "0.0.0"
    units_code: int = 0
    adc_full_scale: int = 0
    foot_length_mm: int = 0
    serial_number: str = ""
    model: str = ""
    sequence: int = 0
    device_time_us: int = 0
    host_time_s: float = float("nan")
    has_imu: bool = False

    @property
    def units(self) -> str:
        """Session units of the pressure values (``raw``, ``kPa`` or ``N``)."""
        return UNITS.get(self.units_code, ("raw", 1.0))[0]

    @property
    def pressure_scale(self) -> float:
        """Factor from wire counts to :attr:`units`."""
        return UNITS.get(self.units_code, ("raw", 1.0))[1]

    @property
    def layout_id(self) -> str:
        """Layout id of :mod:`insole.layouts`, or ``"custom"``."""
        return LAYOUTS.get(self.layout_code, "custom")


@dataclass(frozen=True)
class StatusMessage:
    """STATUS frame: battery, streaming state, rate and device-side losses.

    ``battery_pct`` and ``battery_mv`` are None when the device does not know them (0xFF and 0 on the wire).
    ``device_dropped`` counts samples the device could not send (transmit buffer full) since power-up.
    """

    side: Side
    battery_pct: float | None
    battery_mv: int | None
    streaming: bool
    sampling_rate_hz: int
    device_dropped: int
    sequence: int = 0
    device_time_us: int = 0
    host_time_s: float = float("nan")


@dataclass(frozen=True)
class SyncReply:
    """SYNC_REPLY frame: the device clock when it answered the host's SYNC request ``request_id``."""

    side: Side
    request_id: int
    device_time_us: int
    sequence: int = 0
    host_time_s: float = float("nan")


@dataclass(frozen=True)
class ImuBatch:
    """IMU values of the sample frames that carried one (same sequence numbers as the preceding FrameBatch).

    ``imu`` is int16 of shape (n, 6): accelerometer x, y, z then gyroscope x, y, z in raw device units.
    """

    side: Side
    sequence: np.ndarray
    imu: np.ndarray


@dataclass(frozen=True)
class ImuInfoMessage:
    """IMU_INFO frame: how to turn the IMU block of the samples into m/s² and rad/s in the foot sensor frame.

    Attributes
    ----------
    side : {"left", "right"}
    acc_full_scale_mg : int
        Acceleration at +32768 counts, in mg (16000 for a ±16 g accelerometer).
    gyr_full_scale_dps : int
        Angular rate at +32768 counts, in deg/s.
    axes : tuple of 3 int
        Sensor axes along the foot's x (anterior), y (left), z (up): ``±1`` = sensor x, ``±2`` = y, ``±3`` = z;
        ``(0, 0, 0)``: the mounting is not known (values are kept in the sensor's axes).
    calibration_code : int
        0 = not stated, 1 = raw sensor values, 2 = biases and scale factors corrected on the device.
    sequence, device_time_us : int
        From the frame header.
    host_time_s : float
    """

    side: Side
    acc_full_scale_mg: int
    gyr_full_scale_dps: int
    axes: tuple[int, int, int] = (1, 2, 3)
    calibration_code: int = 0
    sequence: int = 0
    device_time_us: int = 0
    host_time_s: float = float("nan")

    @property
    def axes_known(self) -> bool:
        """The device says how its sensor sits in the insole."""
        return tuple(self.axes) != (0, 0, 0)

    def conversion(self) -> tuple[np.ndarray, np.ndarray]:
        """Matrices (3, 3) taking accelerometer and gyroscope counts to m/s² and rad/s in the foot frame.

        Raises
        ------
        ProtocolError
            A full scale of 0, or axes that are not a rotation of the sensor (:func:`insole.imu.axes_matrix`).
        """
        if self.acc_full_scale_mg <= 0 or self.gyr_full_scale_dps <= 0:
            raise ProtocolError(f"IMU_INFO gives a full scale of 0 (acc {self.acc_full_scale_mg} mg, gyr "
                                f"{self.gyr_full_scale_dps} deg/s)")
        try:
            m = axes_matrix(self.axes) if self.axes_known else np.eye(3)
        except ValueError as exc:
            raise ProtocolError(f"IMU_INFO axes: {exc}") from None
        acc_lsb = self.acc_full_scale_mg * 1e-3 * STANDARD_GRAVITY_M_S2 / IMU_FULL_SCALE_COUNTS
        gyr_lsb = self.gyr_full_scale_dps * RAD_S_PER_DPS / IMU_FULL_SCALE_COUNTS
        return m * acc_lsb, m * gyr_lsb

    def imu_info(self, sampling_rate_hz: float, model: str = "") -> ImuInfo:
        """The session's description of this IMU (raises :class:`ProtocolError` like :meth:`conversion`)."""
        self.conversion()
        where = (f"axes {tuple(self.axes)} (foot x, y, z from sensor axes); {FOOT_AXES}" if self.axes_known
                 else "mounting not given by the device: values in the sensor's own axes")
        return ImuInfo(
            sampling_rate_hz=float(sampling_rate_hz),
            acc_range_m_s2=self.acc_full_scale_mg * 1e-3 * STANDARD_GRAVITY_M_S2,
            gyr_range_rad_s=self.gyr_full_scale_dps * RAD_S_PER_DPS,
            frame=FRAME_FOOT if self.axes_known else FRAME_SENSOR,
            calibrated=IMU_CALIBRATION.get(self.calibration_code),
            description=f"{model or 'insole'} IMU from openinsole-v1 IMU_INFO: ±{self.acc_full_scale_mg / 1000:g} g, "
                        f"±{self.gyr_full_scale_dps} deg/s, {where}",
        )

    def samples(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The IMU block's int16 counts (n, 6) as (acc_m_s2, gyr_rad_s) float32 arrays (n, 3)."""
        acc_m, gyr_m = self.conversion()
        c = np.asarray(counts, np.float64)
        return (c[:, :3] @ acc_m.T).astype(np.float32), (c[:, 3:] @ gyr_m.T).astype(np.float32)
