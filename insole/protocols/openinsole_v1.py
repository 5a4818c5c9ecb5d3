"""openinsole-v1: the project's binary insole protocol, sans-IO (spec: ``firmware_protocols/openinsole-v1.md``).

Every frame is little-endian, ends with a CRC-16/IBM-3740 over all bytes before it, and travels COBS-encoded with
a 0x00 delimiter (:mod:`insole.protocols.cobs_framing`). The same byte stream is used on serial and, cut into
notifications, on BLE, so one :class:`Decoder` serves every transport.

Public API
----------
:class:`Decoder`
    ``Decoder().feed(data, host_time_s=None) -> list`` of :class:`~insole.frames.FrameBatch` (samples),
    :class:`ImuBatch`, :class:`DeviceInfoMessage`, :class:`StatusMessage` and :class:`SyncReply`, in stream order;
    :meth:`Decoder.counters` reports frames ok, CRC failures, framing errors, bytes discarded, wrong versions, bad
    sizes and sequence gaps.
``encode_sample``, ``encode_samples``, ``encode_device_info``, ``encode_status``, ``encode_sync_reply``
    Device-side encoders (the emulator, tests, golden vectors); they return unframed frames with CRC, put them on
    the wire with :func:`~insole.protocols.cobs_framing.frame_bytes`.
``encode_command`` / :class:`CommandDecoder`
    Host-to-device commands (start, stop, info, status, set rate, sync).

Example
-------
>>> dec = Decoder()
>>> wire = b"\\x00" + frame_bytes(encode_sample(7, 1_000_000, [10, 20, 30], side="right"))
>>> batch = dec.feed(wire, host_time_s=12.5)[0]
>>> batch.side, int(batch.sequence[0]), batch.pressure.tolist()
('right', 7, [[10.0, 20.0, 30.0]])
"""

from __future__ import annotations

import struct
from binascii import crc_hqx
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np

from insole.errors import ProtocolError
from insole.frames import FrameBatch, Side
from insole.protocols.cobs_framing import DecodeError, Deframer, cobs_decode, frame_bytes

__all__ = [
    "Command",
    "CommandDecoder",
    "Decoder",
    "DeviceInfoMessage",
    "ImuBatch",
    "MsgType",
    "StatusMessage",
    "SyncReply",
    "encode_command",
    "encode_device_info",
    "encode_sample",
    "encode_samples",
    "encode_status",
    "encode_sync_reply",
    "frame_bytes",
]

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

INVALID_PRESSURE = 0xFFFF


class MsgType(IntEnum):
    """Device-to-host frame types (byte 1)."""

    SAMPLE = 0x01
    STATUS = 0x02
    SYNC_REPLY = 0x03
    DEVICE_INFO = 0x04


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

_INFO = struct.Struct("<BBHBBBBHH")  # n_sensors, layout, rate_hz, fw major/minor/patch, units, adc full scale, foot mm
_STATUS = struct.Struct("<BBHHI")  # battery_pct, state, battery_mv, rate_hz, device_dropped
_SYNC = struct.Struct("<I")
_MAX_TEXT = 32


def _crc(data: bytes) -> bytes:
    return struct.pack("<H", crc_hqx(data, 0xFFFF))


def _side_of(flags: int) -> Side:
    return "right" if flags & FLAG_RIGHT else "left"


# ---------------------------------------------------------------------------------------------- messages
@dataclass(frozen=True)
class DeviceInfoMessage:
    """DEVICE_INFO frame: what the insole says about itself.

    Attributes
    ----------
    side : {"left", "right"}
    n_sensors : int
    layout_code : int
        Key of :data:`LAYOUTS` (0 = custom layout).
    sampling_rate_hz : int
    firmware_version : str
        ``"major.minor.patch"``.
    units_code : int
        Key of :data:`UNITS`.
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


# ---------------------------------------------------------------------------------------------- encoders
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
    return body + _crc(body)


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
        out.append(body + _crc(body))
    return out


def encode_device_info(info: DeviceInfoMessage) -> bytes:
    """One DEVICE_INFO frame (unframed, CRC included)."""
    try:
        major, minor, patch = (int(x) for x in info.firmware_version.split("."))
    except ValueError:
        raise ValueError(f"firmware_version must be 'major.minor.patch', got {info.firmware_version!r}") from None
    serial = info.serial_number.encode("ascii")[:_MAX_TEXT]
    model = info.model.encode("ascii")[:_MAX_TEXT]
    body = (
        HEADER.pack(VERSION, MsgType.DEVICE_INFO, _flags(info.side, False, False, False), info.n_sensors,
                    info.sequence, info.device_time_us)
        + _INFO.pack(info.n_sensors, info.layout_code, info.sampling_rate_hz, major, minor, patch, info.units_code,
                     info.adc_full_scale, info.foot_length_mm)
        + bytes([len(serial)]) + serial + bytes([len(model)]) + model
    )
    return body + _crc(body)


def encode_status(status: StatusMessage) -> bytes:
    """One STATUS frame (unframed, CRC included)."""
    pct = 0xFF if status.battery_pct is None else int(round(min(max(status.battery_pct, 0), 100)))
    body = HEADER.pack(VERSION, MsgType.STATUS, _flags(status.side, False, False, False), 0, status.sequence,
                       status.device_time_us) + _STATUS.pack(
        pct, 1 if status.streaming else 0, status.battery_mv or 0, status.sampling_rate_hz, status.device_dropped
    )
    return body + _crc(body)


def encode_sync_reply(reply: SyncReply) -> bytes:
    """One SYNC_REPLY frame (unframed, CRC included)."""
    body = HEADER.pack(VERSION, MsgType.SYNC_REPLY, _flags(reply.side, False, False, False), 0, reply.sequence,
                       reply.device_time_us) + _SYNC.pack(reply.request_id)
    return body + _crc(body)


def encode_command(command: Command | int, value: int | None = None) -> bytes:
    """A host command, framed for the wire (COBS + delimiter, with a leading delimiter to flush line noise).

    ``value`` is the rate in Hz for SET_RATE and the request id for SYNC.
    """
    command = Command(command)
    fmt = COMMAND_ARGS[command]
    if fmt and value is None:
        raise ValueError(f"{command.name} needs a value")
    body = bytes([VERSION, command]) + (struct.pack(fmt, value) if fmt else b"")
    return b"\x00" + frame_bytes(body + _crc(body))


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
            if len(d) < 4 or d[0] != VERSION or _crc(d[:-2]) != d[-2:] or d[1] not in Command._value2member_map_:
                self.rejected += 1
                continue
            cmd = Command(d[1])
            fmt = COMMAND_ARGS[cmd]
            if len(d) != 4 + (struct.calcsize(fmt) if fmt else 0):
                self.rejected += 1
                continue
            out.append((cmd, struct.unpack(fmt, d[2:-2])[0] if fmt else None))
        return out


# ---------------------------------------------------------------------------------------------- decoder
@dataclass
class DecoderCounters:
    """What a :class:`Decoder` has seen. ``bytes_discarded`` counts every byte not part of an accepted frame."""

    frames_ok: int = 0
    samples_ok: int = 0
    crc_failures: int = 0
    framing_errors: int = 0
    bytes_discarded: int = 0
    wrong_version: int = 0
    bad_size: int = 0
    unknown_type: int = 0
    salvaged: int = 0
    sequence_gaps: int = 0
    frames_missing: int = 0
    sequence_repeats: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class Decoder:
    """Sans-IO openinsole-v1 decoder: bytes in, frames out.

    Parameters
    ----------
    synced : bool
        True when the first byte fed starts a frame (e.g. after a BLE subscription that starts at a frame
        boundary); False (default) discards everything up to the first 0x00, as a receiver joining a running
        stream must.
    pressure_scale : float or None
        Factor from wire counts to output units. None: take it from the last DEVICE_INFO frame (1.0 before one).

    Notes
    -----
    A frame is accepted only if it COBS-decodes, has a consistent length, passes its CRC, and has version 1.
    When a damaged delimiter merges two frames, the decoder tries the first and the last encoded length of the
    last good sample frame inside the merged run ("salvage"); those candidates pass the same checks, so a
    salvaged frame is as trustworthy as any other (counted in ``salvaged``).

    Sample frames come out as :class:`~insole.frames.FrameBatch` (one per run of same-sized frames of one foot
    in the fed bytes), with pressure in float32 (0xFFFF -> NaN) and ``host_time_s`` set to the ``host_time_s``
    given to :meth:`feed` (NaN if None). Sequence numbers are checked for gaps (wrapping at 2**32); frames are
    not reordered or dropped for it: that is the recorder's job.
    """

    def __init__(self, *, synced: bool = False, pressure_scale: float | None = None) -> None:
        self._deframer = Deframer(MAX_ENCODED, synced=synced)
        self.count = DecoderCounters()
        self.device_info: DeviceInfoMessage | None = None
        self._fixed_scale = pressure_scale
        self._last_seq: int | None = None
        self._enc_len: int = 0  # encoded length of the last good sample frame (for salvage)

    @property
    def pressure_scale(self) -> float:
        """Current factor from wire counts to output units."""
        if self._fixed_scale is not None:
            return self._fixed_scale
        return self.device_info.pressure_scale if self.device_info else 1.0

    def counters(self) -> dict[str, int]:
        """Counters as a plain dict (frames_ok, crc_failures, framing_errors, bytes_discarded, ...)."""
        c = self.count
        d = {k: v for k, v in c.__dict__.items() if k != "extra"}
        d["bytes_discarded"] = c.bytes_discarded + self._deframer.bytes_resync + self._deframer.bytes_overlong
        d["framing_errors"] = c.framing_errors + self._deframer.overlong
        d["bytes_in"] = self._deframer.bytes_in
        return d

    def reset_sequence(self) -> None:
        """Forget the last sequence number (after a reconnect, so the outage is not also counted as a gap)."""
        self._last_seq = None

    def resync(self) -> None:
        """Discard buffered bytes and wait for the next delimiter (after a reconnect)."""
        self._deframer = _fresh_deframer(self._deframer)

    # -------------------------------------------------------------- feed
    def feed(self, data: bytes, host_time_s: float | None = None) -> list[Any]:
        """Decode ``data`` (any number of bytes) and return the complete frames it finishes, in stream order."""
        chunks = self._deframer.feed(data)
        if not chunks:
            return []
        good: list[bytes] = []
        append = good.append
        enc_len = self._enc_len
        cnt = self.count
        for c in chunks:
            try:
                d = cobs_decode(c)
            except DecodeError:
                d = b""
            if len(d) >= MIN_FRAME and crc_hqx(d[:-2], 0xFFFF) == d[-2] | (d[-1] << 8):
                append(d)
                if d[1] == 1:  # MsgType.SAMPLE
                    enc_len = len(c)
                continue
            # damaged: classify, then try to salvage frames of the usual size at either end
            if not d:
                cnt.framing_errors += 1
            elif len(d) < MIN_FRAME:
                cnt.bad_size += 1
            else:
                cnt.crc_failures += 1
            kept = 0
            if enc_len and len(c) > enc_len:
                for cand in (c[:enc_len], c[-enc_len:]):
                    try:
                        d = cobs_decode(cand)
                    except DecodeError:
                        continue
                    if len(d) >= MIN_FRAME and crc_hqx(d[:-2], 0xFFFF) == d[-2] | (d[-1] << 8) and d not in good[-1:]:
                        append(d)
                        kept += enc_len
                        cnt.salvaged += 1
            cnt.bytes_discarded += len(c) + 1 - kept
        self._enc_len = enc_len
        if not good:
            return []
        return self._parse(good, host_time_s)

    def _parse(self, good: list[bytes], host_time_s: float | None) -> list[Any]:
        cnt = self.count
        n = len(good)
        lens = np.fromiter(map(len, good), np.int64, n)
        blob = b"".join(good)
        arr = np.frombuffer(blob, np.uint8)
        offs = np.zeros(n, np.int64)
        np.cumsum(lens[:-1], out=offs[1:])
        ver, typ, flags, count = arr[offs], arr[offs + 1], arr[offs + 2], arr[offs + 3].astype(np.int64)
        ok = ver == VERSION
        n_bad_version = int(n - ok.sum())
        if n_bad_version:
            cnt.wrong_version += n_bad_version
            cnt.bytes_discarded += int(_wire_len(lens[~ok]).sum())
        is_sample = ok & (typ == MsgType.SAMPLE)
        expected = MIN_FRAME + 2 * count + np.where(flags & FLAG_IMU, IMU_SIZE, 0)
        bad = is_sample & ((lens != expected) | (count == 0))
        if bad.any():
            cnt.bad_size += int(bad.sum())
            cnt.bytes_discarded += int(_wire_len(lens[bad]).sum())
            is_sample &= ~bad
        # runs of sample frames with the same length and foot can be viewed as one record array
        key = np.where(is_sample, lens * 2 + (flags & FLAG_RIGHT), -1)
        out: list[Any] = []
        if is_sample.all() and key[0] == key[-1] and (key == key[0]).all():
            bounds = [0, n]
        else:
            bounds = [0, *(np.flatnonzero(np.diff(key)) + 1).tolist(), n]
        for i0, i1 in zip(bounds[:-1], bounds[1:], strict=True):
            if is_sample[i0]:
                self._emit_samples(out, blob, int(offs[i0]), int(offs[i1 - 1] + lens[i1 - 1]), int(count[i0]),
                                   bool(flags[i0] & FLAG_IMU), host_time_s)
            else:
                for i in range(i0, i1):
                    if ok[i] and typ[i] != MsgType.SAMPLE:  # bad-size samples are already counted
                        msg = self._parse_other(good[i], host_time_s)
                        if msg is not None:
                            out.append(msg)
        return out

    def _emit_samples(self, out: list[Any], blob: bytes, start: int, stop: int, n_sensors: int, imu: bool,
                      host_time_s: float | None) -> None:
        dtype = sample_dtype(n_sensors, imu)
        rec = np.frombuffer(blob, dtype, count=(stop - start) // dtype.itemsize, offset=start)
        m = len(rec)
        cnt = self.count
        cnt.frames_ok += m
        cnt.samples_ok += m
        side = _side_of(int(rec["flags"][0]))
        seq = rec["sequence"]
        raw = rec["pressure"]
        pressure = raw.astype(np.float32)
        scale = self.pressure_scale
        if scale != 1.0:
            pressure *= np.float32(scale)
        invalid = raw == INVALID_PRESSURE
        if invalid.any():
            pressure[invalid] = np.nan
        seq64 = seq.astype(np.int64)
        prev = np.empty(m, np.int64)
        prev[1:] = seq64[:-1]
        prev[0] = seq64[0] - 1 if self._last_seq is None else self._last_seq
        step = (seq64 - prev) % 2**32
        if not (step == 1).all():
            fwd = (step > 1) & (step < 2**31)
            cnt.sequence_gaps += int(fwd.sum())
            cnt.frames_missing += int((step[fwd] - 1).sum())
            cnt.sequence_repeats += int(((step == 0) | (step >= 2**31)).sum())
        self._last_seq = int(seq64[-1])
        host = np.full(m, np.nan if host_time_s is None else host_time_s)
        out.append(FrameBatch(
            side=side,
            sequence=seq.astype(np.uint32),
            device_time_us=rec["device_time_us"].astype(np.uint64),
            host_time_s=host,
            pressure=pressure,
            saturated=(rec["flags"] & FLAG_SATURATED) != 0,
        ))
        if imu:
            out.append(ImuBatch(side, seq.astype(np.uint32), rec["imu"].astype(np.int16)))

    def _parse_other(self, d: bytes, host_time_s: float | None) -> Any:
        cnt = self.count
        _, typ, flags, count, seq, dev_us = HEADER.unpack_from(d)
        side = _side_of(flags)
        host = float("nan") if host_time_s is None else float(host_time_s)
        payload = d[HEADER_SIZE:-CRC_SIZE]
        try:
            if typ == MsgType.DEVICE_INFO:
                n, layout, rate, major, minor, patch, units, full, foot = _INFO.unpack_from(payload)
                pos = _INFO.size
                texts = []
                for _ in range(2):
                    k = payload[pos]
                    if k > _MAX_TEXT:
                        raise ProtocolError(f"text field of {k} bytes (at most {_MAX_TEXT})")
                    texts.append(payload[pos + 1 : pos + 1 + k].decode("ascii"))
                    pos += 1 + k
                if pos != len(payload) or n != count or n == 0:
                    raise ProtocolError("device-info size or sensor count inconsistent")
                msg: Any = DeviceInfoMessage(side, n, layout, rate, f"{major}.{minor}.{patch}", units, full, foot,
                                             texts[0], texts[1], seq, dev_us, host)
                self.device_info = msg
            elif typ == MsgType.STATUS:
                if len(payload) != _STATUS.size:
                    raise ProtocolError("status size")
                pct, state, mv, rate, dropped = _STATUS.unpack(payload)
                msg = StatusMessage(side, None if pct == 0xFF else float(pct), mv or None, bool(state & 1), rate,
                                    dropped, seq, dev_us, host)
            elif typ == MsgType.SYNC_REPLY:
                if len(payload) != _SYNC.size:
                    raise ProtocolError("sync size")
                msg = SyncReply(side, _SYNC.unpack(payload)[0], dev_us, seq, host)
            else:
                cnt.unknown_type += 1  # a newer device's frame type: skip it, forward compatible
                cnt.bytes_discarded += int(_wire_len(len(d)))
                return None
        except (ProtocolError, IndexError, struct.error, UnicodeDecodeError):
            cnt.bad_size += 1
            cnt.bytes_discarded += int(_wire_len(len(d)))
            return None
        cnt.frames_ok += 1
        return msg


def _wire_len(decoded_len: Any) -> Any:
    """Bytes on the wire of frames of ``decoded_len`` bytes: COBS adds one byte per started 254, plus the 0x00."""
    return decoded_len + 1 + decoded_len // 254 + 1


def _fresh_deframer(old: Deframer) -> Deframer:
    new = Deframer(old.max_frame_bytes, synced=False)
    new.bytes_in, new.bytes_resync = old.bytes_in, old.bytes_resync + old.pending
    new.overlong, new.bytes_overlong = old.overlong, old.bytes_overlong
    return new
