"""The host-side openinsole-v1 decoder: bytes in, typed frames out, no I/O.

The same byte stream is used on serial and, cut into notifications, on BLE, so one :class:`Decoder` serves every
transport. The device side (frame encoders, the command decoder) is in :mod:`insole.emulation.openinsole_device`.

Example
-------
>>> from insole.emulation.openinsole_device import encode_sample
>>> from insole.protocols.cobs_framing import frame_bytes
>>> dec = Decoder()
>>> wire = b"\\x00" + frame_bytes(encode_sample(7, 1_000_000, [10, 20, 30], side="right"))
>>> batch = dec.feed(wire, host_time_s=12.5).samples[0]
>>> batch.side, int(batch.sequence[0]), batch.pressure.tolist()
('right', 7, [[10.0, 20.0, 30.0]])
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from insole.errors import ProtocolError
from insole.frames import FrameBatch
from insole.imu import ImuSamples
from insole.protocols.cobs_framing import DecodeError, Deframer, cobs_decode
from insole.protocols.codec import Decoded
from insole.protocols.crc import crc16_ibm3740 as crc16
from insole.protocols.openinsole_v1.bulk import MAX_CODES, cobs_decode_runs, crc_ok, frame_rows
from insole.protocols.openinsole_v1.messages import (
    DeviceInfoMessage,
    ImuBatch,
    ImuInfoMessage,
    StatusMessage,
    SyncReply,
)
from insole.protocols.openinsole_v1.wire import (
    CRC_SIZE,
    FLAG_IMU,
    FLAG_RIGHT,
    FLAG_SATURATED,
    HEADER,
    HEADER_SIZE,
    IMU_INFO,
    IMU_SIZE,
    INFO,
    INVALID_PRESSURE,
    MAX_ENCODED,
    MAX_TEXT,
    MIN_FRAME,
    PROTOCOL_NAME,
    STATUS,
    SYNC,
    VERSION,
    MsgType,
    sample_dtype,
    side_of,
    wire_len,
)

#: Feeds of at least this many bytes (with the held partial frame) take the bulk path, smaller ones the scalar
#: path; both give identical results (tests/test_protocol_bulk.py). Set by measurement (16-sensor frames, this
#: project's loaded 2-core machine, process CPU time, 12-24 KiB feeds): below about 300 frames per feed the bulk
#: path's fixed cost (about 100 numpy calls per feed) exceeds the scalar path's per-frame calls.
BULK_MIN_BYTES = 16384
#: Bulk-decoded frames of one length checked by the table-driven CRC at once; fewer get one ``crc_hqx`` each.
BULK_CRC_MIN_FRAMES = 8
_SAMPLE = int(MsgType.SAMPLE)  # a plain int: comparing arrays with an IntEnum member is slower


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


class Decoder:
    """Sans-IO openinsole-v1 decoder: bytes in, frames out (a :class:`~insole.protocols.codec.Codec`).

    Parameters
    ----------
    synced : bool
        True when the first byte fed starts a frame (e.g. after a BLE subscription that starts at a frame
        boundary); False (default) discards everything up to the first 0x00, as a receiver joining a running
        stream must.
    pressure_scale : float or None
        Factor from wire counts to output units. None: take it from the last DEVICE_INFO frame (1.0 before one).
    imu_info : ImuInfoMessage or None
        How to convert the IMU block, when the device describes its IMU elsewhere (the BLE device-info record);
        otherwise it is taken from the last IMU_INFO frame.

    Notes
    -----
    A frame is accepted only if it COBS-decodes, has a consistent length, passes its CRC, and has version 1.
    When a damaged delimiter merges two frames, the decoder tries the first and the last encoded length of the
    last good sample frame inside the merged run ("salvage"); those candidates pass the same checks, so a
    salvaged frame is as trustworthy as any other (counted in ``salvaged``).

    Feeds of :data:`BULK_MIN_BYTES` and more (file replays, serial backlogs) are decoded in bulk: every run of
    the chunk COBS-decoded and CRC-checked at once in numpy (:mod:`insole.protocols.openinsole_v1.bulk`), only
    damaged or unusual runs one by one. Smaller feeds (BLE notifications) take the scalar path, one C call per
    frame. Both give the same output and counters (``tests/test_protocol_bulk.py``).

    :meth:`feed` returns a :class:`~insole.protocols.codec.Decoded`. Sample frames come out as
    :class:`~insole.frames.FrameBatch` (one per run of same-sized frames of one foot
    in the fed bytes), with pressure in float32 (0xFFFF -> NaN) and ``host_time_s`` set to the ``host_time_s``
    given to :meth:`feed` (NaN if None). Sequence numbers are checked for gaps (wrapping at 2**32); frames are
    not reordered or dropped for it: that is the recorder's job. Samples with the IMU block carry it as raw counts
    in :attr:`Decoded.imu <insole.protocols.codec.Decoded.imu>` and, once the IMU is described (IMU_INFO or
    ``imu_info``), also converted on :attr:`FrameBatch.imu <insole.frames.FrameBatch.imu>` (m/s², rad/s, foot
    sensor frame).
    """

    protocol = PROTOCOL_NAME
    #: Every sample frame carries the device clock.
    has_device_clock = True

    def __init__(self, *, synced: bool = False, pressure_scale: float | None = None,
                 imu_info: ImuInfoMessage | None = None) -> None:
        self._deframer = Deframer(MAX_ENCODED, synced=synced)
        self.count = DecoderCounters()
        self.device_info: DeviceInfoMessage | None = None
        self.imu_info: ImuInfoMessage | None = None
        self._imu_conversion: tuple[np.ndarray, np.ndarray] | None = None
        if imu_info is not None:
            self._set_imu_info(imu_info)
        self._fixed_scale = pressure_scale
        self._last_seq: int | None = None
        self._enc_len: int = 0  # encoded length of the last good sample frame (for salvage)
        self._bulk_min_bytes = BULK_MIN_BYTES

    @property
    def pressure_scale(self) -> float:
        """Current factor from wire counts to output units."""
        if self._fixed_scale is not None:
            return self._fixed_scale
        return self.device_info.pressure_scale if self.device_info else 1.0

    def counters(self) -> dict[str, int]:
        """Counters as a plain dict (frames_ok, crc_failures, framing_errors, bytes_discarded, ...)."""
        c = self.count
        d = dict(c.__dict__)
        d["bytes_discarded"] = c.bytes_discarded + self._deframer.bytes_resync + self._deframer.bytes_overlong
        d["framing_errors"] = c.framing_errors + self._deframer.overlong
        d["bytes_in"] = self._deframer.bytes_in
        return d

    def _set_imu_info(self, info: ImuInfoMessage) -> bool:
        """Use ``info`` to convert IMU blocks; False (and no conversion) when it is unusable."""
        try:
            conversion = info.conversion()
        except ProtocolError:
            self.imu_info, self._imu_conversion = info, None
            return False
        self.imu_info, self._imu_conversion = info, conversion
        return True

    def resync(self) -> None:
        """Discard buffered bytes and wait for the next delimiter (after a reconnect)."""
        self._deframer = _fresh_deframer(self._deframer)

    # -------------------------------------------------------------- feed
    def feed(self, data: bytes, host_time_s: float | None = None) -> Decoded:
        """Decode ``data`` (any number of bytes) and return the complete frames it finishes, sorted by kind."""
        if len(data) + self._deframer.pending >= self._bulk_min_bytes:
            return self._feed_bulk(data, host_time_s)
        return self._feed_scalar(data, host_time_s)

    def _feed_scalar(self, data: bytes, host_time_s: float | None) -> Decoded:
        """The reference path: one ``cobs`` C call and one ``crc_hqx`` per frame (best for a few frames)."""
        out = Decoded()
        chunks = self._deframer.feed(data)
        if chunks:
            self._scalar_runs(chunks, host_time_s, out)
        return out

    def _scalar_runs(self, chunks: list[bytes], host_time_s: float | None, out: Decoded) -> None:
        good: list[bytes] = []
        append = good.append
        enc_len = self._enc_len
        for c in chunks:
            try:
                d = cobs_decode(c)
            except DecodeError:
                d = b""
            if len(d) >= MIN_FRAME and crc16(d[:-2]) == d[-2] | (d[-1] << 8):
                append(d)
                if d[1] == 1:  # MsgType.SAMPLE
                    enc_len = len(c)
                continue
            good += self._damaged(c, d, enc_len, good[-1] if good else None)
        self._enc_len = enc_len
        if len(good) == 1:  # one frame per feed (a BLE notification): no joining, no cumulative sum
            self._parse(np.frombuffer(good[0], np.uint8), np.zeros(1, np.int64), np.array([len(good[0])]),
                        host_time_s, out)
        elif good:
            lens = np.fromiter(map(len, good), np.int64, len(good))
            offs = np.zeros(len(good), np.int64)
            np.cumsum(lens[:-1], out=offs[1:])
            self._parse(np.frombuffer(b"".join(good), np.uint8), offs, lens, host_time_s, out)

    def _damaged(self, c: bytes, d: bytes, enc_len: int, last: bytes | None) -> list[bytes]:
        """Count the run ``c`` (decoded ``d``, b"" if not COBS) that is no good frame; return what it salvages.

        Salvage tries the first and the last ``enc_len`` bytes (the encoded length of the last good sample frame)
        of a longer run; a candidate equal to the frame accepted just before (``last``) is not taken twice.
        """
        cnt = self.count
        if not d:
            cnt.framing_errors += 1
        elif len(d) < MIN_FRAME:
            cnt.bad_size += 1
        else:
            cnt.crc_failures += 1
        found: list[bytes] = []
        if enc_len and len(c) > enc_len:
            for cand in (c[:enc_len], c[-enc_len:]):
                try:
                    d = cobs_decode(cand)
                except DecodeError:
                    continue
                if len(d) >= MIN_FRAME and crc16(d[:-2]) == d[-2] | (d[-1] << 8) and d != (found[-1] if found
                                                                                           else last):
                    found.append(d)
                    cnt.salvaged += 1
        cnt.bytes_discarded += len(c) + 1 - enc_len * len(found)
        return found

    def _feed_bulk(self, data: bytes, host_time_s: float | None) -> Decoded:
        """The path for large feeds: every run decoded and checked at once (:mod:`.bulk`), the rest as scalar.

        Runs the bulk step cannot vouch for (damaged, or unusual COBS) go through the scalar steps in stream
        order, with the salvage state (``enc_len``, the frame accepted just before) they would have had there.
        """
        out = Decoded()
        buf, starts, stops = self._deframer.feed_runs(data)
        m = len(starts)
        if not m:
            return out
        a = np.frombuffer(buf, np.uint8)
        if np.count_nonzero(a == 1) > (MAX_CODES - 16) * m:
            # COBS code 0x01 = a zero after a zero: frames mostly of zero cells (a 99-cell grid in swing) need
            # more lock steps than MAX_CODES allows; the scalar path is quicker for them
            self._scalar_runs([buf[s0:s1] for s0, s1 in zip(starts.tolist(), stops.tolist(), strict=True)],
                              host_time_s, out)
            return out
        dec, good = cobs_decode_runs(a, starts, stops)
        offs = starts + 1
        lens = stops - offs  # decoded length of the runs bulk-decoded
        good &= lens >= MIN_FRAME
        if good.all() and m >= BULK_CRC_MIN_FRAMES and lens[0] == lens[-1] and (lens == lens[0]).all():
            good = crc_ok(dec, offs, int(lens[0]))  # the usual stream: frames of one size
        elif good.any():
            g = np.flatnonzero(good)
            glens = lens[g]
            sorted_lens = np.sort(glens)  # (np.unique would import numpy.ma on first use: 40 ms in a live feed)
            for frame_len in sorted_lens[np.r_[True, sorted_lens[1:] != sorted_lens[:-1]]].tolist():
                sel = g[glens == frame_len]
                if len(sel) >= BULK_CRC_MIN_FRAMES:
                    good[sel] = crc_ok(dec, offs[sel], frame_len)
                else:
                    for i in sel.tolist():
                        o = int(offs[i])
                        good[i] = crc16(dec[o : o + frame_len - 2]) == int(dec[o + frame_len - 2]) | (
                            int(dec[o + frame_len - 1]) << 8)
        n_good = int(good.sum())
        if 4 * (m - n_good) > m:  # mostly damage (line noise, wrong baud rate): the scalar path is quicker
            self._scalar_runs([buf[s0:s1] for s0, s1 in zip(starts.tolist(), stops.tolist(), strict=True)],
                              host_time_s, out)
            return out
        all_good = n_good == m
        g = None if all_good else np.flatnonzero(good)
        types = dec[offs + 1] if all_good else dec[offs[g] + 1]
        samples_at = np.flatnonzero(types == _SAMPLE)  # good sample frames, by run index
        if not all_good:
            samples_at = g[samples_at]
        enc_len, enc_at = self._enc_len, -1  # salvage length and the run that set it
        if all_good:
            order_offs, order_lens, blob = offs, lens, dec
        else:
            order_offs, order_lens, blob, enc_len, enc_at = self._bulk_with_damage(
                buf, starts, stops, dec, offs, lens, good, samples_at, enc_len, enc_at)
            if not len(order_offs):
                self._enc_len = enc_len
                return out
        if len(samples_at) and samples_at[-1] > enc_at:
            enc_len = int(stops[samples_at[-1]] - starts[samples_at[-1]])
        self._enc_len = enc_len
        self._parse(blob, order_offs, order_lens, host_time_s, out)
        return out

    def _bulk_with_damage(self, buf: bytes, starts: np.ndarray, stops: np.ndarray, dec: np.ndarray,
                          offs: np.ndarray, lens: np.ndarray, good: np.ndarray, samples_at: np.ndarray,
                          enc_len: int, enc_at: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
        """Put the runs the bulk step could not vouch for through the scalar steps, in stream order.

        Each gets the salvage state it would have had on the scalar path: ``enc_len`` from the last good sample
        frame before it, and the frame accepted just before it. Returns the offsets and lengths of every accepted
        frame in stream order, the buffer they index (``dec`` and the frames decoded here after it), and the new
        salvage state.
        """
        bad = np.flatnonzero(~good)
        before = np.searchsorted(samples_at, bad) - 1  # the last good sample frame before each bad run
        prev_at = samples_at[np.maximum(before, 0)] if len(samples_at) else before
        extra: list[bytes] = []
        extra_keys: list[int] = []  # sort keys: bulk frame of run i: 3 i; frames taken from bad run k: 3 k + 1, 2
        last: bytes | int | None = None  # the frame accepted just before: its bytes, or a bulk run's index
        prev_bad = -1
        for k, pj, bj, s0, s1 in zip(bad.tolist(), prev_at.tolist(), before.tolist(), starts[bad].tolist(),
                                     stops[bad].tolist(), strict=True):
            if k - 1 > prev_bad:
                last = k - 1  # a bulk-decoded frame came last
            if bj >= 0 and pj > enc_at:
                enc_at, enc_len = pj, int(stops[pj] - starts[pj])
            c = buf[s0:s1]
            try:
                d = cobs_decode(c)
            except DecodeError:
                d = b""
            if len(d) >= MIN_FRAME and crc16(d[:-2]) == d[-2] | (d[-1] << 8):  # good, but not bulk-decodable
                found = [d]
                if d[1] == _SAMPLE:
                    enc_len, enc_at = len(c), k
            else:
                salvage = bool(enc_len) and len(c) > enc_len
                if isinstance(last, int) and salvage:  # salvage compares with it: its bytes, once
                    last = dec[offs[last] : offs[last] + lens[last]].tobytes()
                found = self._damaged(c, d, enc_len, last if salvage and not isinstance(last, int) else None)
            if found:
                extra += found
                extra_keys += [3 * k + 1 + i for i in range(len(found))]
                last = found[-1]
            prev_bad = k
        g = np.flatnonzero(good)
        if not extra:
            return offs[g], lens[g], dec, enc_len, enc_at
        ex_lens = np.array([len(f) for f in extra], np.int64)
        ex_offs = len(dec) + np.cumsum(ex_lens) - ex_lens
        order = np.argsort(np.concatenate([3 * g, np.array(extra_keys, np.int64)]), kind="stable")
        order_offs = np.concatenate([offs[g], ex_offs])[order]
        order_lens = np.concatenate([lens[g], ex_lens])[order]
        blob = np.concatenate([dec, np.frombuffer(b"".join(extra), np.uint8)])
        return order_offs, order_lens, blob, enc_len, enc_at

    def _parse(self, blob: np.ndarray, offs: np.ndarray, lens: np.ndarray, host_time_s: float | None,
               out: Decoded) -> None:
        """Sort the good frames ``blob[offs[i] : offs[i] + lens[i]]`` (stream order) into ``out``."""
        # the usual feed: sample frames of one size and foot only (version, type, count, foot and IMU bits equal)
        head = frame_rows(blob, offs, 4).view("<u4")[:, 0] & np.uint32(0xFF03FFFF)
        h0, len0 = int(head[0]), int(lens[0])
        flags0, count0 = (h0 >> 16) & 0xFF, h0 >> 24
        if ((h0 & 0xFFFF) == (VERSION | _SAMPLE << 8) and count0
                and len0 == MIN_FRAME + 2 * count0 + (IMU_SIZE if flags0 & FLAG_IMU else 0)
                and (head == head[0]).all() and (lens == len0).all()):
            self._emit_samples(out, _records(blob, offs, sample_dtype(count0, bool(flags0 & FLAG_IMU))),
                               bool(flags0 & FLAG_IMU), host_time_s)
            return
        cnt = self.count
        n = len(offs)
        ver, typ, flags, count = blob[offs], blob[offs + 1], blob[offs + 2], blob[offs + 3].astype(np.int64)
        ok = ver == VERSION
        n_bad_version = int(n - ok.sum())
        if n_bad_version:
            cnt.wrong_version += n_bad_version
            cnt.bytes_discarded += int(wire_len(lens[~ok]).sum())
        is_sample = ok & (typ == _SAMPLE)
        expected = MIN_FRAME + 2 * count + np.where(flags & FLAG_IMU, IMU_SIZE, 0)
        bad = is_sample & ((lens != expected) | (count == 0))
        if bad.any():
            cnt.bad_size += int(bad.sum())
            cnt.bytes_discarded += int(wire_len(lens[bad]).sum())
            is_sample &= ~bad
        # runs of sample frames with the same length and foot can be viewed as one record array
        key = np.where(is_sample, lens * 2 + (flags & FLAG_RIGHT), -1)
        if is_sample.all() and key[0] == key[-1] and (key == key[0]).all():
            bounds = [0, n]
        else:
            bounds = [0, *(np.flatnonzero(np.diff(key)) + 1).tolist(), n]
        for i0, i1 in zip(bounds[:-1], bounds[1:], strict=True):
            if is_sample[i0]:
                dtype = sample_dtype(int(count[i0]), bool(flags[i0] & FLAG_IMU))
                self._emit_samples(out, _records(blob, offs[i0:i1], dtype), bool(flags[i0] & FLAG_IMU),
                                   host_time_s)
            else:
                for i in range(i0, i1):
                    if ok[i] and typ[i] != MsgType.SAMPLE:  # bad-size samples are already counted
                        o = int(offs[i])
                        self._parse_other(blob[o : o + int(lens[i])].tobytes(), host_time_s, out)

    def _emit_samples(self, out: Decoded, rec: np.ndarray, imu: bool, host_time_s: float | None) -> None:
        m = len(rec)
        cnt = self.count
        cnt.frames_ok += m
        cnt.samples_ok += m
        side = side_of(int(rec["flags"][0]))
        seq = rec["sequence"]
        pressure = rec["pressure"].astype(np.float32)
        invalid = pressure == np.float32(INVALID_PRESSURE)  # the float32 of every u16 count is exact
        scale = self.pressure_scale
        if scale != 1.0:
            pressure *= np.float32(scale)
        if invalid.any():
            pressure[invalid] = np.nan
        seq32 = seq.astype(np.uint32)
        first_step = (int(seq32[0]) - (int(seq32[0]) - 1 if self._last_seq is None else self._last_seq)) % 2**32
        if first_step != 1 or (m > 1 and not (seq32[1:] - seq32[:-1] == 1).all()):  # uint32 differences wrap at 2**32
            seq64 = seq.astype(np.int64)
            prev = np.empty(m, np.int64)
            prev[1:] = seq64[:-1]
            prev[0] = seq64[0] - 1 if self._last_seq is None else self._last_seq
            step = (seq64 - prev) % 2**32
            fwd = (step > 1) & (step < 2**31)
            cnt.sequence_gaps += int(fwd.sum())
            cnt.frames_missing += int((step[fwd] - 1).sum())
            cnt.sequence_repeats += int(((step == 0) | (step >= 2**31)).sum())
        self._last_seq = int(seq32[-1])
        host = np.full(m, np.nan if host_time_s is None else host_time_s)
        converted = None
        if imu and self._imu_conversion is not None:
            counts = rec["imu"].astype(np.float64)
            acc_m, gyr_m = self._imu_conversion
            converted = ImuSamples(counts[:, :3] @ acc_m.T, counts[:, 3:] @ gyr_m.T)
        out.samples.append(FrameBatch(
            side=side,
            sequence=seq32,
            device_time_us=rec["device_time_us"].astype(np.uint64),
            host_time_s=host,
            pressure=pressure,
            saturated=(rec["flags"] & FLAG_SATURATED) != 0,
            imu=converted,
        ))
        if imu:
            out.imu.append(ImuBatch(side, seq32.copy(), rec["imu"].astype(np.int16)))

    def _parse_other(self, d: bytes, host_time_s: float | None, out: Decoded) -> None:
        cnt = self.count
        _, typ, flags, count, seq, dev_us = HEADER.unpack_from(d)
        side = side_of(flags)
        host = float("nan") if host_time_s is None else float(host_time_s)
        payload = d[HEADER_SIZE:-CRC_SIZE]
        try:
            if typ == MsgType.DEVICE_INFO:
                n, layout, rate, major, minor, patch, units, full, foot = INFO.unpack_from(payload)
                pos = INFO.size
                texts = []
                for _ in range(2):
                    k = payload[pos]
                    if k > MAX_TEXT:
                        raise ProtocolError(f"text field of {k} bytes (at most {MAX_TEXT})")
                    texts.append(payload[pos + 1 : pos + 1 + k].decode("ascii"))
                    pos += 1 + k
                if pos != len(payload) or n != count or n == 0:
                    raise ProtocolError("device-info size or sensor count inconsistent")
                info = DeviceInfoMessage(side, n, layout, rate, f"{major}.{minor}.{patch}", units, full, foot,
                                         texts[0], texts[1], seq, dev_us, host, has_imu=bool(flags & FLAG_IMU))
                self.device_info = info
                out.device_info.append(info)
            elif typ == MsgType.STATUS:
                if len(payload) != STATUS.size:
                    raise ProtocolError("status size")
                pct, state, mv, rate, dropped = STATUS.unpack(payload)
                out.status.append(StatusMessage(side, None if pct == 0xFF else float(pct), mv or None,
                                                bool(state & 1), rate, dropped, seq, dev_us, host))
            elif typ == MsgType.IMU_INFO:
                if len(payload) != IMU_INFO.size:
                    raise ProtocolError("imu-info size")
                acc_mg, gyr_dps, ax, ay, az, cal = IMU_INFO.unpack(payload)
                imu_info = ImuInfoMessage(side, acc_mg, gyr_dps, (ax, ay, az), cal, seq, dev_us, host)
                self._set_imu_info(imu_info)
                out.imu_info.append(imu_info)
            elif typ == MsgType.SYNC_REPLY:
                if len(payload) != SYNC.size:
                    raise ProtocolError("sync size")
                out.sync.append(SyncReply(side, SYNC.unpack(payload)[0], dev_us, seq, host))
            else:
                cnt.unknown_type += 1  # a newer device's frame type: skip it, forward compatible
                cnt.bytes_discarded += int(wire_len(len(d)))
                return
        except (ProtocolError, IndexError, struct.error, UnicodeDecodeError):
            cnt.bad_size += 1
            cnt.bytes_discarded += int(wire_len(len(d)))
            return
        cnt.frames_ok += 1


def _records(blob: np.ndarray, offs: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The frames starting at ``offs`` (each ``dtype.itemsize`` bytes) as one record array."""
    return frame_rows(blob, offs, dtype.itemsize).view(dtype)[:, 0]


def _fresh_deframer(old: Deframer) -> Deframer:
    new = Deframer(old.max_frame_bytes, synced=False)
    new.bytes_in, new.bytes_resync = old.bytes_in, old.bytes_resync + old.pending
    new.overlong, new.bytes_overlong = old.overlong, old.bytes_overlong
    return new
