"""The openinsole-v1 decoder under random input and random damage (hypothesis), and its counters."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insole.emulation.openinsole_device import encode_sample, encode_samples
from insole.frames import FrameBatch
from insole.protocols.cobs_framing import Deframer, frame_bytes
from insole.protocols.crc import crc16_ibm3740
from insole.protocols.openinsole_v1 import Decoder

N = 40
SENT_P = np.random.default_rng(0).integers(0, 65535, (N, 16))
SENT = encode_samples(np.arange(N), 1000 * np.arange(N, dtype=np.uint64), SENT_P, side="left")
WIRE = b"\x00" + b"".join(frame_bytes(f) for f in SENT)


def batches(items: list[FrameBatch]) -> list[FrameBatch]:
    assert all(isinstance(it, FrameBatch) for it in items)
    return items


def check_every_frame_is_genuine(items):
    """Every accepted frame is exactly one that was sent (same sequence, time and pressures)."""
    for b in batches(items):
        for i in range(len(b)):
            k = int(b.sequence[i])
            assert 0 <= k < N
            assert int(b.device_time_us[i]) == 1000 * k
            np.testing.assert_array_equal(
                np.where(np.isnan(b.pressure[i]), 65535, b.pressure[i]), SENT_P[k].astype(np.float32)
            )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000), st.integers(1, 64))
def test_random_bytes_never_crash(data, piece):
    dec = Decoder()
    items = []
    for i in range(0, len(data), piece):
        items += dec.feed(data[i : i + piece], host_time_s=0.0).samples
    for b in batches(items):
        assert b.pressure.shape[0] == len(b.sequence) >= 1
    c = dec.counters()
    assert c["bytes_discarded"] <= c["bytes_in"]


damage = st.lists(
    st.tuples(st.sampled_from(["flip", "drop", "dup", "insert", "zero"]), st.integers(0, len(WIRE) - 1),
              st.integers(0, 255)),
    min_size=1, max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(damage, st.integers(1, 300))
def test_damaged_stream_yields_only_genuine_frames(ops, piece):
    buf = bytearray(WIRE)
    for kind, pos, val in ops:
        pos %= max(len(buf), 1)
        if kind == "flip":
            buf[pos] ^= 1 << (val % 8)
        elif kind == "drop" and buf:
            del buf[pos]
        elif kind == "dup":
            buf.insert(pos, buf[pos])
        elif kind == "insert":
            buf.insert(pos, val)
        else:
            buf[pos] = 0
    dec = Decoder()
    items = []
    for i in range(0, len(buf), piece):
        items += dec.feed(bytes(buf[i : i + piece]), host_time_s=0.0).samples
    check_every_frame_is_genuine(items)
    got = sum(len(b) for b in batches(items))
    assert got <= N + dec.count.salvaged
    assert got >= N - 3 * len(ops)  # each damage costs at most a few frames (the one hit, and merged neighbours)


def test_clean_stream_in_any_pieces_and_counters():
    for piece in (1, 3, 52, 1000, len(WIRE)):
        dec = Decoder()
        items = []
        for i in range(0, len(WIRE), piece):
            items += dec.feed(WIRE[i : i + piece], host_time_s=5.0).samples
        check_every_frame_is_genuine(items)
        seq = np.concatenate([b.sequence for b in batches(items)])
        assert seq.tolist() == list(range(N))
        c = dec.counters()
        assert c["frames_ok"] == N and c["crc_failures"] == c["framing_errors"] == c["bytes_discarded"] == 0
        assert all(np.all(b.host_time_s == 5.0) for b in batches(items))


def test_sequence_gaps_wrap_and_repeats_are_counted():
    seqs = [2**32 - 2, 2**32 - 1, 0, 3, 3, 4]
    wire = b"\x00" + b"".join(frame_bytes(encode_sample(s, i, [1, 2])) for i, s in enumerate(seqs))
    dec = Decoder()
    dec.feed(wire)
    c = dec.counters()
    assert (c["sequence_gaps"], c["frames_missing"], c["sequence_repeats"]) == (1, 2, 1)


def test_overlong_garbage_without_delimiter_is_dropped_then_resyncs():
    dec = Decoder()
    assert not dec.feed(b"\x00" + b"\x55" * 3000)
    out = dec.feed(b"\x00" + frame_bytes(SENT[0]))
    assert len(out.samples) == 1 and not (out.device_info or out.status or out.sync or out.imu)
    c = dec.counters()
    assert c["framing_errors"] >= 1 and c["bytes_discarded"] >= 3000


def test_pressure_scale_follows_device_info_and_invalid_is_nan():
    from insole.emulation.openinsole_device import encode_device_info
    from insole.protocols.openinsole_v1 import DeviceInfoMessage

    info = DeviceInfoMessage("left", 2, units_code=1)
    wire = b"\x00" + frame_bytes(encode_device_info(info)) + frame_bytes(encode_sample(0, 0, [123, 0xFFFF]))
    out = Decoder().feed(wire)
    assert out.device_info[0].units == "kPa"
    p = out.samples[0].pressure[0]
    assert abs(p[0] - 12.3) < 1e-4 and np.isnan(p[1])


def test_deframer_resync_counts():
    d = Deframer()
    assert d.feed(b"abc\x00def\x00gh") == [b"def"]
    assert d.bytes_resync == 4 and d.pending == 2


def test_crc_detects_every_single_bit_error_in_a_frame():
    frame = SENT[3]
    body = frame[:-2]
    crc = int.from_bytes(frame[-2:], "little")
    assert crc16_ibm3740(body) == crc
    for bit in range(len(body) * 8):
        damaged = bytearray(body)
        damaged[bit // 8] ^= 1 << (bit % 8)
        assert crc16_ibm3740(bytes(damaged)) != crc
