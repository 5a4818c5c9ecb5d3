"""Decoding throughput of openinsole-v1 on one core, against a numpy copy of the same bytes in the same run.

Run: ``python benchmarks/bench_decode.py [--frames 200000] [--sensors 16] [--chunks 65536 4096 52]``. The stream
holds SAMPLE frames (COBS-framed, CRC'd) built by the device-side encoder (:mod:`insole.emulation`); it is fed to
:class:`insole.protocols.openinsole_v1.Decoder` in pieces of each ``--chunks`` size: 64 KiB (a file replay or a
large serial read), 4 KiB (a serial read) and 52 bytes (one 16-sensor frame: one BLE notification per feed).

For every piece size the script prints

* the floor: ``np.frombuffer(piece, np.uint8).copy()`` over the same pieces (every byte touched once, plus the
  per-call cost of slicing and one numpy call), in MB/s;
* the decoder as shipped (bulk path for feeds of ``BULK_MIN_BYTES`` and more, scalar path below) and its scalar
  reference path (one ``cobs`` C call and one ``crc_hqx`` per frame: the decoder before the bulk path), in
  frames/s, each timed by wall clock and by the process's CPU time (the machine may be shared: CPU time counts
  only this process's work);
* the ratio of decode time to floor time (wall clock).

Best of ``--repeat`` runs each; the decoders are interleaved with the floor so that a change in machine load hits
all of them. The goal line checks 1,000,000 frames/s (CPU time) on 64 KiB pieces.
Exits 2 with a message when the arguments cannot give a measurement.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from insole.emulation.openinsole_device import encode_samples  # noqa: E402
from insole.protocols.cobs_framing import frame_bytes  # noqa: E402
from insole.protocols.openinsole_v1 import Decoder  # noqa: E402

GOAL_FRAMES_S = 1_000_000
GOAL_CHUNK = 65536


def make_stream(n_frames: int, n_sensors: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    pressure = rng.integers(0, 4096, (n_frames, n_sensors))
    frames = encode_samples(np.arange(n_frames), 1_000_000 + 10_000 * np.arange(n_frames, dtype=np.uint64),
                            pressure, side="left")
    return b"\x00" + b"".join(frame_bytes(f) for f in frames)


def _floor(mv: memoryview, chunk: int) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    total = 0
    for i in range(0, len(mv), chunk):
        total += len(np.frombuffer(mv[i : i + chunk], np.uint8).copy())
    if total != len(mv):
        raise RuntimeError("floor copy lost bytes")
    return time.perf_counter() - w, time.process_time() - c


def _decode(mv: memoryview, chunk: int, n_frames: int, scalar: bool) -> tuple[float, float]:
    dec = Decoder()
    if scalar:
        dec._bulk_min_bytes = 1 << 62  # the reference path only
    w, c = time.perf_counter(), time.process_time()
    n = 0
    for i in range(0, len(mv), chunk):
        n += dec.feed(mv[i : i + chunk], host_time_s=0.0).n_samples
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    if n != n_frames or dec.count.crc_failures or dec.count.frames_missing:
        raise RuntimeError(f"decoded {n} of {n_frames} frames: {dec.counters()}")
    return wall, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200_000, help="frames in the stream for pieces of 1 KiB and more")
    ap.add_argument("--small-frames", type=int, default=20_000, help="frames in the stream for smaller pieces")
    ap.add_argument("--sensors", type=int, default=16)
    ap.add_argument("--chunks", type=int, nargs="+", default=[65536, 4096, 52], help="bytes per feed() call")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if args.frames < 1 or args.small_frames < 1 or args.repeat < 1 or min(args.chunks) < 1:
        print("bench_decode: --frames, --small-frames, --repeat and every --chunks value must be at least 1",
              file=sys.stderr)
        return 2
    if not 1 <= args.sensors <= 255:
        print(f"bench_decode: --sensors must be 1..255 (a SAMPLE frame's count byte), got {args.sensors}",
              file=sys.stderr)
        return 2
    streams = {}
    for n in {args.frames, args.small_frames}:
        streams[n] = make_stream(n, args.sensors)
    frame_wire = len(streams[args.frames]) // args.frames
    print(f"openinsole-v1, {args.sensors} sensors ({frame_wire} bytes per frame on the wire), one core, best of "
          f"{args.repeat}; decode = Decoder.feed over the pieces, floor = np.frombuffer(piece).copy()")
    goal = None
    for chunk in args.chunks:
        n_frames = args.frames if chunk >= 1024 else args.small_frames
        stream = streams[n_frames]
        mv = memoryview(stream)
        best = {k: [float("inf"), float("inf")] for k in ("floor", "decode", "scalar")}
        for _ in range(args.repeat):
            for key, (wall, cpu) in (("floor", _floor(mv, chunk)), ("decode", _decode(mv, chunk, n_frames, False)),
                                     ("scalar", _decode(mv, chunk, n_frames, True))):
                best[key] = [min(best[key][0], wall), min(best[key][1], cpu)]
        path = "bulk" if chunk >= Decoder()._bulk_min_bytes else "scalar"
        (fw, _), (dw, dc), (sw, sc) = best["floor"], best["decode"], best["scalar"]
        print(f"pieces of {chunk} bytes ({n_frames} frames, {chunk / frame_wire:.1f} frames per feed):")
        print(f"  floor: {len(stream) / fw / 1e6:,.1f} MB/s")
        print(f"  decode: {n_frames / dw:,.0f} frames/s wall, {n_frames / dc:,.0f} frames/s CPU "
              f"({len(stream) / dw / 1e6:.1f} MB/s; {path} path)")
        print(f"  scalar reference path: {n_frames / sw:,.0f} frames/s wall, {n_frames / sc:,.0f} frames/s CPU")
        print(f"  ratio decode time / floor time: {dw / fw:.1f}x (scalar reference {sw / fw:.1f}x)")
        if chunk == GOAL_CHUNK:
            goal = n_frames / dc
    if goal is not None:
        print(f"goal >= {GOAL_FRAMES_S:,} frames/s on {GOAL_CHUNK}-byte pieces: "
              f"{'met' if goal >= GOAL_FRAMES_S else 'NOT met'} ({goal:,.0f} frames/s CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
