"""openinsole-v1 on the wire: frame layout, type and command codes, flags and code tables.

Everything both sides of the link agree on (spec: ``firmware_protocols/openinsole-v1.md``): a frame is
little-endian, starts with a 16-byte header ``version, type, flags, count, sequence, device_time_us`` and ends with
a CRC-16/IBM-3740 (:mod:`insole.protocols.crc`) over every byte before it; it travels COBS-encoded with a 0x00
delimiter (:mod:`insole.protocols.cobs_framing`). Plain data and pure functions only.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from functools import lru_cache
from typing import Any

import numpy as np

from insole.frames import Side
from insole.protocols.crc import crc16_ibm3740

PROTOCOL_NAME = "openinsole-v1"
VERSION = 1
HEADER = struct.Struct("<BBBBIQ")  # version, type, flags, count, sequence, device_time_us
HEADER_SIZE = HEADER.size  # 16
CRC_SIZE = 2
MIN_FRAME = HEADER_SIZE + CRC_SIZE  # 18
IMU_SIZE = 12
MAX_SENSORS = 255
#: Longest decoded frame: 255 sensors and IMU (540 bytes); COBS adds 1 byte per 254, so 1024 is safe.
MAX_ENCODED = 1024

FLAG_RIGHT = 0x01
FLAG_IMU = 0x02
FLAG_SATURATED = 0x04
FLAG_CLOCK_SYNCED = 0x08

#: Wire count of a sensor that could not be read.
INVALID_PRESSURE = 0xFFFF


class MsgType(IntEnum):
    """Device-to-host frame types (byte 1)."""

    SAMPLE = 0x01
    STATUS = 0x02
    SYNC_REPLY = 0x03
    DEVICE_INFO = 0x04
    IMU_INFO = 0x05


class Command(IntEnum):
    """Host-to-device commands (byte 1 of a command frame)."""

    START = 0x10
    STOP = 0x11
    GET_INFO = 0x12
    SET_RATE = 0x13
    SYNC = 0x14
    GET_STATUS = 0x15


#: Argument layout of each command (struct format after the 2-byte command header).
COMMAND_ARGS: dict[Command, str] = {
    Command.START: "",
    Command.STOP: "",
    Command.GET_INFO: "",
    Command.SET_RATE: "<H",
    Command.SYNC: "<I",
    Command.GET_STATUS: "",
}

#: Pressure units code (device-info byte) -> (session units, scale from wire counts to those units).
UNITS: dict[int, tuple[str, float]] = {0: ("raw", 1.0), 1: ("kPa", 0.1), 2: ("N", 0.01)}
#: Sensor layout code (device-info byte) -> layout id of :mod:`insole.layouts` ("custom" = not built in).
LAYOUTS: dict[int, str] = {0: "custom", 1: "generic-8", 2: "generic-16", 3: "grid-99"}

#: DEVICE_INFO payload: n_sensors, layout, rate_hz, fw major/minor/patch, units, adc full scale, foot mm; then two
#: length-prefixed ASCII texts (serial number, model) of at most :data:`MAX_TEXT` bytes.
INFO = struct.Struct("<BBHBBBBHH")
#: STATUS payload: battery_pct (0xFF = unknown), state (bit 0 = streaming), battery_mv, rate_hz, device_dropped.
STATUS = struct.Struct("<BBHHI")
#: SYNC_REPLY payload: the request id.
SYNC = struct.Struct("<I")
#: IMU_INFO payload: accelerometer full scale (mg), gyroscope full scale (deg/s), the sensor axes along the foot's
#: x, y, z (signed codes: +-1 = sensor x, +-2 = y, +-3 = z; 0, 0, 0 = mounting unknown), calibration state.
IMU_INFO = struct.Struct("<HHbbbB")
#: IMU_INFO calibration byte -> calibrated (None: not stated).
IMU_CALIBRATION: dict[int, bool | None] = {0: None, 1: False, 2: True}
#: Counts of the IMU block at full scale (int16).
IMU_FULL_SCALE_COUNTS = 32768
MAX_TEXT = 32


def crc_bytes(data: bytes) -> bytes:
    """The two CRC bytes that end a frame whose other bytes are ``data``."""
    return struct.pack("<H", crc16_ibm3740(data))


def side_of(flags: int) -> Side:
    """The foot named by a header's flags byte."""
    return "right" if flags & FLAG_RIGHT else "left"


@lru_cache(maxsize=64)
def sample_dtype(n_sensors: int, imu: bool = False) -> np.dtype:
    """Numpy record type of a SAMPLE frame with ``n_sensors`` pressures (and an IMU block)."""
    fields: list[tuple[Any, ...]] = [
        ("version", "u1"), ("type", "u1"), ("flags", "u1"), ("count", "u1"),
        ("sequence", "<u4"), ("device_time_us", "<u8"), ("pressure", "<u2", (n_sensors,)),
    ]
    if imu:
        fields.append(("imu", "<i2", (6,)))
    fields.append(("crc", "<u2"))
    return np.dtype(fields)


def wire_len(decoded_len: Any) -> Any:
    """Bytes on the wire of frames of ``decoded_len`` bytes: COBS adds one byte per started 254, plus the 0x00."""
    return decoded_len + 1 + decoded_len // 254 + 1
