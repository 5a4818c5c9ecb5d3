"""The device side of openinsole-v1: frame encoders and the decoder of host commands.

What a firmware does, for the emulators (:mod:`insole.emulation.firmware`, :mod:`insole.emulation.ble_peripheral`),
the golden-vector generator (``firmware_protocols/vectors/generate.py``), benchmarks and tests. The encoders return
unframed frames with their CRC; put them on the wire with :func:`~insole.protocols.cobs_framing.frame_bytes`.
Host code (drivers, recorder) never needs this module: it decodes frames and encodes commands
(:mod:`insole.protocols.openinsole_v1`).
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from insole.protocols.cobs_framing import DecodeError, Deframer, cobs_decode
from insole.protocols.openinsole_v1.messages import DeviceInfoMessage, ImuInfoMessage, StatusMessage, SyncReply
from insole.protocols.openinsole_v1.wire import (
    COMMAND_ARGS,
    FLAG_CLOCK_SYNCED,
    FLAG_IMU,
    FLAG_RIGHT,
    FLAG_SATURATED,
    HEADER,
    IMU_INFO,
    INFO,
    MAX_SENSORS,
    MAX_TEXT,
    STATUS,
    SYNC,
    VERSION,
    Command,
    MsgType,
    crc_bytes,
    sample_dtype,
)


def _flags(side: str, imu: bool, saturated: bool, clock_synced: bool) -> int:
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    return (
        (FLAG_RIGHT if side == "right" else 0)
        | (FLAG_IMU if imu else 0)
        | (FLAG_SATURATED if saturated else 0)
        | (FLAG_CLOCK_SYNCED if clock_synced else 0)
    )


def encode_sample(
    sequence: int,
    device_time_us: int,
    pressure: Any,
    *,
    side: str = "left",
    imu: Any = None,
    saturated: bool = False,
    clock_synced: bool = False,
) -> bytes:
    """One SAMPLE frame (unframed, CRC included).

    Parameters
    ----------
    sequence : int
        0 .. 2**32-1.
    device_time_us : int
        0 .. 2**64-1.
    pressure : sequence of int
        1-255 wire counts (0..65534; 65535 = invalid sensor).
    imu : sequence of 6 int or None
        Accelerometer x, y, z, gyroscope x, y, z (int16).
    """
    p = np.asarray(pressure)
    n = len(p)
    if not 1 <= n <= MAX_SENSORS:
        raise ValueError(f"a sample carries 1..{MAX_SENSORS} pressures, got {n}")
    if np.any(p < 0) or np.any(p > 0xFFFF):
        raise ValueError("pressure counts must be within 0..65535")
    body = HEADER.pack(VERSION, MsgType.SAMPLE, _flags(side, imu is not None, saturated, clock_synced), n,
                       sequence, device_time_us) + p.astype("<u2").tobytes()
    if imu is not None:
        body += np.asarray(imu).astype("<i2").tobytes()
    return body + crc_bytes(body)


def encode_samples(
    sequence: np.ndarray,
    device_time_us: np.ndarray,
    pressure: np.ndarray,
    *,
    side: str = "left",
    saturated: np.ndarray | None = None,
    imu: np.ndarray | None = None,
    clock_synced: bool = False,
) -> list[bytes]:
    """Many SAMPLE frames at once (unframed, each with its CRC): vectorised :func:`encode_sample`.

    ``pressure`` is (n, n_sensors) wire counts; ``imu`` optional (n, 6).
    """
    pressure = np.asarray(pressure)
    n, n_sensors = pressure.shape
    if not 1 <= n_sensors <= MAX_SENSORS:
        raise ValueError(f"a sample carries 1..{MAX_SENSORS} pressures, got {n_sensors}")
    rec = np.zeros(n, sample_dtype(n_sensors, imu is not None))
    rec["version"] = VERSION
    rec["type"] = MsgType.SAMPLE
    flags = np.full(n, _flags(side, imu is not None, False, clock_synced), np.uint8)
    if saturated is not None:
        flags |= np.where(np.asarray(saturated, bool), FLAG_SATURATED, 0).astype(np.uint8)
    rec["flags"] = flags
    rec["count"] = n_sensors
    rec["sequence"] = np.asarray(sequence, np.uint64) % 2**32
    rec["device_time_us"] = device_time_us
    rec["pressure"] = pressure
    if imu is not None:
        rec["imu"] = imu
    size = rec.dtype.itemsize
    raw = rec.tobytes()
    out = []
    for i in range(0, n * size, size):
        body = raw[i : i + size - 2]
        out.append(body + crc_bytes(body))
    return out


def encode_device_info(info: DeviceInfoMessage) -> bytes:
    """One DEVICE_INFO frame (unframed, CRC included)."""
    try:
        major, minor, patch = (int(x) for x in info.firmware_version.split("."))
    except ValueError:
        raise ValueError(f"firmware_version must be 'major.minor.patch', got {info.firmware_version!r}") from None
    serial = info.serial_number.encode("ascii")[:MAX_TEXT]
    model = info.model.encode("ascii")[:MAX_TEXT]
    body = (
        HEADER.pack(VERSION, MsgType.DEVICE_INFO, _flags(info.side, info.has_imu, False, False), info.n_sensors,
                    info.sequence, info.device_time_us)
        + INFO.pack(info.n_sensors, info.layout_code, info.sampling_rate_hz, major, minor, patch, info.units_code,
                     info.adc_full_scale, info.foot_length_mm)
        + bytes([len(serial)]) + serial + bytes([len(model)]) + model
    )
    return body + crc_bytes(body)


def encode_imu_info(info: ImuInfoMessage) -> bytes:
    """One IMU_INFO frame (unframed, CRC included): full scales, sensor axes along the foot, calibration state."""
    body = HEADER.pack(VERSION, MsgType.IMU_INFO, _flags(info.side, False, False, False), 0, info.sequence,
                       info.device_time_us) + IMU_INFO.pack(info.acc_full_scale_mg, info.gyr_full_scale_dps,
                                                           *info.axes, info.calibration_code)
    return body + crc_bytes(body)


def imu_counts(info: ImuInfoMessage, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray) -> np.ndarray:
    """What a device described by ``info`` puts in the IMU block for foot-frame values: int16 counts (n, 6).

    The inverse of :meth:`ImuInfoMessage.samples`: foot frame to sensor axes, divided by the count size, rounded
    and clipped to 16 bits (so values beyond the full scale saturate, as on a real sensor).
    """
    acc_m, gyr_m = info.conversion()
    acc = np.asarray(acc_m_s2, np.float64) @ np.linalg.inv(acc_m).T
    gyr = np.asarray(gyr_rad_s, np.float64) @ np.linalg.inv(gyr_m).T
    counts = np.round(np.concatenate([acc, gyr], axis=1))
    return np.clip(np.nan_to_num(counts), -32768, 32767).astype(np.int16)


def encode_status(status: StatusMessage) -> bytes:
    """One STATUS frame (unframed, CRC included)."""
    pct = 0xFF if status.battery_pct is None else int(round(min(max(status.battery_pct, 0), 100)))
    body = HEADER.pack(VERSION, MsgType.STATUS, _flags(status.side, False, False, False), 0, status.sequence,
                       status.device_time_us) + STATUS.pack(
        pct, 1 if status.streaming else 0, status.battery_mv or 0, status.sampling_rate_hz, status.device_dropped
    )
    return body + crc_bytes(body)


def encode_sync_reply(reply: SyncReply) -> bytes:
    """One SYNC_REPLY frame (unframed, CRC included)."""
    body = HEADER.pack(VERSION, MsgType.SYNC_REPLY, _flags(reply.side, False, False, False), 0, reply.sequence,
                       reply.device_time_us) + SYNC.pack(reply.request_id)
    return body + crc_bytes(body)


class CommandDecoder:
    """Device side: decode host commands from a byte stream (used by the emulator and firmware tests).

    ``feed(data)`` returns ``[(Command, value or None), ...]``; invalid frames are counted in ``rejected``.
    """

    def __init__(self) -> None:
        self._deframer = Deframer(max_frame_bytes=64, synced=True)
        self.rejected = 0

    def feed(self, data: bytes) -> list[tuple[Command, int | None]]:
        out: list[tuple[Command, int | None]] = []
        for chunk in self._deframer.feed(data):
            try:
                d = cobs_decode(chunk)
            except DecodeError:
                self.rejected += 1
                continue
            if len(d) < 4 or d[0] != VERSION or crc_bytes(d[:-2]) != d[-2:] or d[1] not in Command._value2member_map_:
                self.rejected += 1
                continue
            cmd = Command(d[1])
            fmt = COMMAND_ARGS[cmd]
            if len(d) != 4 + (struct.calcsize(fmt) if fmt else 0):
                self.rejected += 1
                continue
            out.append((cmd, struct.unpack(fmt, d[2:-2])[0] if fmt else None))
        return out
