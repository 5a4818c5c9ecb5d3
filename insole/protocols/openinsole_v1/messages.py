"""The typed messages an openinsole-v1 decoder returns besides samples: device info, status, sync reply, IMU."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from insole.frames import Side
from insole.protocols.openinsole_v1.wire import LAYOUTS, UNITS


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
