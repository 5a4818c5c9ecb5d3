"""Decoding throughput of openinsole-v1 on one core, against a plain ``bytes`` copy of the same stream.

Run: ``python benchmarks/bench_decode.py [--frames 200000] [--sensors 16] [--chunk 4096]``. The stream holds
16-sensor SAMPLE frames (COBS-framed, CRC'd) built by the device-side encoder (:mod:`insole.emulation`); it is fed
to :class:`insole.protocols.openinsole_v1.Decoder` in chunks of ``--chunk`` bytes (as serial reads deliver them).
The baseline is ``bytes(memoryview(stream)[i:i+chunk])`` over the same chunks, i.e. just touching every byte once;
the ratio says how many times slower decoding is than copying. Best of ``--repeat`` runs.
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


def make_stream(n_frames: int, n_sensors: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    pressure = rng.integers(0, 4096, (n_frames, n_sensors))
    frames = encode_samples(np.arange(n_frames), 1_000_000 + 10_000 * np.arange(n_frames, dtype=np.uint64),
                            pressure, side="left")
    return b"\x00" + b"".join(frame_bytes(f) for f in frames)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200_000)
    ap.add_argument("--sensors", type=int, default=16)
    ap.add_argument("--chunk", type=int, default=4096, help="bytes per feed() call")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    stream = make_stream(args.frames, args.sensors)
    mv = memoryview(stream)
    chunks = range(0, len(stream), args.chunk)

    best_copy = best_dec = float("inf")
    for _ in range(args.repeat):
        t = time.perf_counter()
        total = 0
        for i in chunks:
            total += len(bytes(mv[i : i + args.chunk]))
        best_copy = min(best_copy, time.perf_counter() - t)
        assert total == len(stream)

        dec = Decoder()
        t = time.perf_counter()
        n = 0
        for i in chunks:
            for batch in dec.feed(mv[i : i + args.chunk], host_time_s=0.0).samples:
                n += len(batch)
        best_dec = min(best_dec, time.perf_counter() - t)
        assert n == args.frames and dec.count.crc_failures == 0, (n, dec.counters())

    rate = args.frames / best_dec
    print(f"stream: {args.frames} frames x {args.sensors} sensors, {len(stream)} bytes, "
          f"fed in {args.chunk}-byte chunks")
    print(f"decode: {rate:,.0f} frames/s ({len(stream) / best_dec / 1e6:.1f} MB/s), best of {args.repeat}")
    print(f"bytes copy baseline: {len(stream) / best_copy / 1e6:.1f} MB/s")
    print(f"ratio decode time / copy time: {best_dec / best_copy:.1f}x")
    print(f"goal >= 200,000 frames/s: {'met' if rate >= 200_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
