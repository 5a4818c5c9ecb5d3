"""The openinsole-v1 decoder's bulk path (whole chunks in numpy) gives exactly what its scalar reference path gives.

Two decoders are fed the same pieces of the same stream, one forced onto the scalar path (one ``cobs`` C call and
one ``crc_hqx`` per frame, the decoder as it was before the bulk path), one forced onto the bulk path; after every
feed their :class:`~insole.protocols.codec.Decoded` outputs (every array with its dtype, every message) and their
counters must be identical. Streams are seeded: valid mixes of every frame type (8/16/255 sensors, both feet, IMU,
0xFF COBS codes, unknown types, other versions, bad sizes), the same streams damaged (bit flips, drops,
duplicated and inserted bytes, zeroed bytes, merged frames), cut at random and at every byte boundary.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from insole.emulation.openinsole_device import (
    encode_device_info,
    encode_imu_info,
    encode_sample,
    encode_samples,
    encode_status,
    encode_sync_reply,
)
from insole.frames import FrameBatch
from insole.protocols.cobs_framing import Deframer, frame_bytes
from insole.protocols.crc import crc16_ibm3740
from insole.protocols.openinsole_v1 import (
    Decoder,
    DeviceInfoMessage,
    ImuBatch,
    ImuInfoMessage,
    StatusMessage,
    SyncReply,
)
from insole.protocols.openinsole_v1.bulk import cobs_decode_runs, crc_ok
from insole.protocols.openinsole_v1.wire import crc_bytes


def _frames(rng: np.random.Generator, n: int) -> list[bytes]:
    """A device's output: runs of sample frames of varying kinds, with the other frame types between them."""
    out: list[bytes] = []
    seq = int(rng.integers(0, 2**32 - 50))
    while len(out) < n:
        kind = rng.integers(0, 12)
        if kind < 6:  # a run of samples: 16 or 8 sensors, a foot, maybe the IMU block, maybe a gap
            k = int(rng.integers(1, 40))
            n_sensors = int(rng.choice([16, 16, 8, 3]))
            imu = rng.integers(-32768, 32767, (k, 6)) if rng.random() < 0.3 else None
            top = int(rng.choice([4096, 256, 65536]))
            seqs = (seq + np.arange(k)) % 2**32
            out += encode_samples(seqs, rng.integers(0, 2**40, k).astype(np.uint64),
                                  rng.integers(0, top, (k, n_sensors)), side=str(rng.choice(["left", "right"])),
                                  saturated=rng.random(k) < 0.1, imu=imu)
            seq = (seq + k + int(rng.integers(0, 3)) * int(rng.integers(0, 5))) % 2**32
        elif kind == 6:  # 255 sensors without zero bytes: COBS blocks of 254 bytes, 0xFF codes
            out.append(encode_sample(seq, 5, rng.integers(1, 255, 255) * 257, side="right"))
            seq = (seq + 1) % 2**32
        elif kind == 7:
            out.append(encode_status(StatusMessage("left", float(rng.integers(0, 101)), 3700, True, 100,
                                                   int(rng.integers(0, 9)), seq, 7)))
        elif kind == 8:
            out.append(encode_sync_reply(SyncReply("right", int(rng.integers(0, 2**32)), 123, seq)))
        elif kind == 9:
            out.append(encode_device_info(DeviceInfoMessage("left", 16, 2, 100, "1.2.3", 1, 4095, 270, "SN1",
                                                            "model", seq, 9, has_imu=True)))
            out.append(encode_imu_info(ImuInfoMessage("left", 16000, 2000, (2, -1, 3), 1, seq, 9)))
        elif kind == 10:  # unknown type, other version, impossible size (all with good CRCs)
            body = bytes([1, 0x30, 0, 0]) + bytes(12) + bytes(rng.integers(0, 256, 7, dtype=np.uint8))
            out.append(body + crc_bytes(body))
            body = bytes([2, 1, 0, 16]) + bytes(12 + 32)
            out.append(body + crc_bytes(body))
            body = bytes([1, 1, 0, 16]) + bytes(12 + 30)
            out.append(body + crc_bytes(body))
        else:  # a sample whose sequence goes backwards (a repeat)
            out.append(encode_sample((seq - 3) % 2**32, 1, [1, 2, 3]))
    return out


def _wire(frames: list[bytes], rng: np.random.Generator) -> bytes:
    pieces = [b"\x00" if rng.random() < 0.5 else b"\x07\x03"]  # synced start, or joining mid-frame
    for f in frames:
        pieces.append(frame_bytes(f))
        if rng.random() < 0.03:
            pieces.append(b"\x00")  # empty run
    return b"".join(pieces)


def _damage(wire: bytes, rng: np.random.Generator, n_ops: int) -> bytes:
    buf = bytearray(wire)
    for _ in range(n_ops):
        pos = int(rng.integers(0, len(buf)))
        op = rng.integers(0, 6)
        if op == 0:
            buf[pos] ^= 1 << int(rng.integers(0, 8))
        elif op == 1:
            del buf[pos]
        elif op == 2:
            buf.insert(pos, buf[pos])
        elif op == 3:
            buf.insert(pos, int(rng.integers(0, 256)))
        elif op == 4:
            buf[pos] = 0
        else:  # a lost delimiter merges two frames (salvage)
            nxt = buf.find(0, pos)
            if nxt >= 0:
                del buf[nxt]
    if rng.random() < 0.2:  # a long burst of line noise
        pos = int(rng.integers(0, len(buf)))
        buf[pos:pos] = bytes(rng.integers(1, 256, int(rng.integers(900, 1500)), dtype=np.uint8))
    return bytes(buf)


def _cuts(n: int, rng: np.random.Generator) -> list[int]:
    """Random piece sizes, mixing BLE notifications (1-244 bytes) and large reads (up to 64 KiB)."""
    cuts, pos = [0], 0
    while pos < n:
        pos += int(rng.choice([rng.integers(1, 245), rng.integers(245, 5000), rng.integers(5000, 65536)]))
        cuts.append(min(pos, n))
    return cuts


def _same(a, b, where: str) -> None:
    """Decoded outputs ``a`` and ``b`` are identical (arrays: dtype, shape and values, NaN where NaN)."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), where
    else:
        assert a == b and type(a) is type(b), where


def _pair() -> tuple[Decoder, Decoder]:
    scalar, bulk = Decoder(), Decoder()
    scalar._bulk_min_bytes = 1 << 62
    bulk._bulk_min_bytes = 0
    return scalar, bulk


def _run(wire: bytes, cuts: list[int], host_time_s: float | None = 1.5) -> int:
    """Feed both decoders the pieces of ``wire`` between ``cuts``; return the samples decoded."""
    scalar, bulk = _pair()
    n = 0
    for i, (c0, c1) in enumerate(zip(cuts[:-1], cuts[1:], strict=True)):
        piece = wire[c0:c1]
        a, b = scalar.feed(piece, host_time_s), bulk.feed(piece, host_time_s)
        _same(a, b, f"feed {i} ({c0}:{c1})")
        assert scalar.counters() == bulk.counters(), f"feed {i} ({c0}:{c1})"
        n += a.n_samples
        if i % 17 == 16:
            scalar.resync()
            bulk.resync()
    return n


@pytest.mark.parametrize("seed", range(6))
def test_valid_streams_decode_identically(seed):
    rng = np.random.default_rng(seed)
    wire = _wire(_frames(rng, 3000), rng)
    n = _run(wire, _cuts(len(wire), rng), host_time_s=None if seed % 2 else 2.0)
    assert n > 1000


@pytest.mark.parametrize("seed", range(12))
def test_damaged_streams_decode_identically(seed):
    rng = np.random.default_rng(100 + seed)
    wire = _damage(_wire(_frames(rng, 1500), rng), rng, int(rng.choice([3, 30, 300])))
    _run(wire, _cuts(len(wire), rng))


def test_every_split_point_of_a_short_damaged_stream():
    rng = np.random.default_rng(7)
    wire = _damage(_wire(_frames(rng, 12)[:14], rng), rng, 4)[:1000]
    for cut in range(len(wire) + 1):
        _run(wire, [0, cut, len(wire)])


def test_salvaged_merged_frames_match():
    p = np.random.default_rng(3).integers(0, 4096, (50, 16))
    frames = encode_samples(np.arange(50), np.arange(50, dtype=np.uint64) * 10_000, p)
    wire = bytearray(b"\x00" + b"".join(frame_bytes(f) for f in frames))
    for k in (5, 6, 20, 33, 34):  # lost delimiters, two of them back to back: three frames in one run
        del wire[wire.index(0, 52 * k - 3)]
    scalar, bulk = _pair()
    a, b = scalar.feed(bytes(wire), 0.0), bulk.feed(bytes(wire), 0.0)
    _same(a, b, "merged")
    assert bulk.count.salvaged == scalar.count.salvaged >= 5
    assert isinstance(b.samples[0], FrameBatch)


def test_bulk_cobs_and_crc_against_the_references():
    rng = np.random.default_rng(11)
    frames = [f if rng.random() < 0.8 else f[:20] + bytes([f[20] ^ 0x10]) + f[21:]  # CRC failures
              for f in _frames(rng, 400)]
    wire = _damage(_wire(frames, rng), rng, 40)
    buf, starts, stops = Deframer(synced=False).feed_runs(wire)
    assert [buf[s:e] for s, e in zip(starts, stops, strict=True)] == Deframer(synced=False).feed(wire)
    dec, ok = cobs_decode_runs(np.frombuffer(buf, np.uint8), starts, stops)
    from cobs.cobs import DecodeError
    from cobs.cobs import decode as cobs_decode

    for s, e, good in zip(starts.tolist(), stops.tolist(), ok.tolist(), strict=True):
        try:
            ref = cobs_decode(buf[s:e])
        except DecodeError:
            ref = None
        if good:
            assert dec[s + 1 : e].tobytes() == ref
    lens = stops - starts - 1
    sel = np.flatnonzero(ok & (lens == 50))
    got = crc_ok(dec, starts[sel] + 1, 50)
    want = [crc16_ibm3740(dec[s + 1 : s + 49].tobytes()) == int(dec[s + 49]) | int(dec[s + 50]) << 8
            for s in starts[sel].tolist()]
    assert got.tolist() == want and any(want) and not all(want)


def test_imu_batches_match():
    rng = np.random.default_rng(5)
    info = encode_imu_info(ImuInfoMessage("right", 8000, 1000, (1, 2, 3), 2))
    imu = rng.integers(-32768, 32767, (300, 6))
    frames = [info, *encode_samples(np.arange(300), np.arange(300, dtype=np.uint64), rng.integers(0, 4096, (300, 8)),
                                    side="right", imu=imu)]
    wire = b"\x00" + b"".join(frame_bytes(f) for f in frames)
    scalar, bulk = _pair()
    a, b = scalar.feed(wire, 3.0), bulk.feed(wire, 3.0)
    _same(a, b, "imu")
    assert isinstance(b.imu[0], ImuBatch) and b.samples[0].imu is not None
    np.testing.assert_array_equal(b.imu[0].imu, imu)


def test_salvage_skips_a_repeat_of_the_frame_before_a_junk_run():
    """A merged run that starts with a repeat of the last accepted frame, a junk run between them."""
    frames = [frame_bytes(f) for f in encode_samples(np.arange(16), np.arange(16, dtype=np.uint64),
                                                     np.full((16, 16), 300))]
    good = b"".join(frames[:11])  # mostly good frames: the bulk path keeps the feed (no scalar fallback)
    wire = b"\x00" + good + b"\x05\x01\x00" + frames[10][:-1] + b"".join(frames[11:])
    wire = wire * 40  # enough bytes for the bulk path at the shipped threshold too
    for cuts in ([0, len(wire)], list(range(0, len(wire), 2000)) + [len(wire)]):
        scalar, bulk = _pair()
        shipped = Decoder()
        for c0, c1 in zip(cuts[:-1], cuts[1:], strict=True):
            a, b, c = scalar.feed(wire[c0:c1], 0.0), bulk.feed(wire[c0:c1], 0.0), shipped.feed(wire[c0:c1], 0.0)
            _same(a, b, "repeat")
            _same(a, c, "repeat (shipped threshold)")
        assert scalar.counters() == bulk.counters() == shipped.counters()
        if len(cuts) == 2:  # (a repeat is only recognised within one feed: the reference keeps no frame across)
            assert scalar.count.salvaged == 40  # frame 11 from every merged run, never frame 10 again


@pytest.mark.parametrize(("n_sensors", "zero_fraction"), [(16, 1.0), (16, 0.5), (99, 0.7)])
def test_frames_of_mostly_zero_cells_decode_identically(n_sensors, zero_fraction):
    """Unloaded cells (swing phase) are zero bytes: many COBS codes per frame, up to more than the lock-step budget."""
    rng = np.random.default_rng(n_sensors)
    p = rng.integers(1, 4096, (1500, n_sensors))
    p[rng.random(p.shape) < zero_fraction] = 0
    frames = encode_samples(np.arange(1500), np.arange(1500, dtype=np.uint64) * 10_000, p, side="right")
    wire = _damage(b"\x00" + b"".join(frame_bytes(f) for f in frames), rng, 20)
    assert _run(wire, _cuts(len(wire), rng)) > 1000
