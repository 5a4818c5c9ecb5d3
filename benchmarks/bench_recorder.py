"""Recorder benchmark: memory over a 2-hour session and CPU use at real-time rates.

Prints, for a simulated 2-hour recording of two insoles at 100 Hz (accelerated), the resident memory at 10 %,
50 % and 100 % of the session (flat memory = the recorder does not grow with session length), and, for a
real-time recording at 2 x 200 Hz, the recorder's CPU use in % of one core, against a baseline measured in the
same run: the same two simulated devices consumed without recording (what any client of the devices pays).

Run: ``python benchmarks/bench_recorder.py [--hours 2] [--realtime-s 30]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from insole.devices import open_device
from insole.frames import FrameBatch
from insole.recorder import Recorder


def _urls(rate_hz: float, realtime: bool) -> list[str]:
    rt = int(realtime)
    return [f"sim://neutral?side={s}&seed=1&rate_hz={rate_hz:g}&realtime={rt}" for s in ("left", "right")]


def memory_profile(hours: float, out: Path) -> None:
    proc = psutil.Process()
    marks: list[tuple[float, float]] = []
    recorder = Recorder([open_device(u) for u in _urls(100, False)], out, duration_s=hours * 3600)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            recorded = max((s.last_time_s for s in recorder.stats if s.last_time_s == s.last_time_s), default=0.0)
            marks.append((recorded, proc.memory_info().rss / 2**20))
            time.sleep(0.2)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    t0 = time.perf_counter()
    asyncio.run(recorder.run())
    wall = time.perf_counter() - t0
    stop.set()
    t.join()
    total = hours * 3600
    print(f"2 x 100 Hz, {hours:g} h simulated ({wall:.0f} s wall), file {out.stat().st_size / 2**20:.0f} MiB")
    for share in (0.1, 0.5, 1.0):
        rss = next((m for r, m in marks if r >= share * total * 0.999), marks[-1][1])
        print(f"  RSS at {share:4.0%} of the session: {rss:7.1f} MiB")
    first = next(m for r, m in marks if r >= 0.1 * total)
    print(f"  growth from 10 % to the end: {marks[-1][1] - first:+.1f} MiB")
    print(f"  peak RSS (ru_maxrss): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")


async def _consume_only(seconds: float, rate_hz: float) -> None:
    devices = [open_device(u) for u in _urls(rate_hz, True)]

    async def run(dev):  # type: ignore[no-untyped-def]
        async with dev:
            async for item in dev.stream():
                if isinstance(item, FrameBatch) and item.host_time_s[-1] - dev.host_epoch_s >= seconds:
                    break

    await asyncio.gather(*(run(d) for d in devices))


def _cpu_of(func) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    w0 = time.perf_counter()
    func()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter() - w0
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return cpu, wall


def cpu_profile(seconds: float, rate_hz: float, out: Path) -> None:
    # each measurement in a fresh process, so that the simulated walkers (shared per process) start anew
    if os.fork() == 0:
        cpu, wall = _cpu_of(lambda: asyncio.run(_consume_only(seconds, rate_hz)))
        print(f"  baseline (devices consumed, nothing recorded): {cpu / wall:6.1%} of one core")
        os._exit(0)
    os.wait()
    if os.fork() == 0:
        rec = Recorder([open_device(u) for u in _urls(rate_hz, True)], out, duration_s=seconds)
        cpu, wall = _cpu_of(lambda: asyncio.run(rec.run()))
        print(f"  recorder (devices + alignment + accounting + HDF5): {cpu / wall:6.1%} of one core "
              f"(goal < 10 % at 2 x 200 Hz)")
        os._exit(0)
    os.wait()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--realtime-s", type=float, default=30.0)
    ap.add_argument("--rate-hz", type=float, default=200.0)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        print(f"CPU, real time, 2 x {args.rate_hz:g} Hz for {args.realtime_s:g} s:")
        sys.stdout.flush()
        cpu_profile(args.realtime_s, args.rate_hz, Path(d) / "rt.h5")
        memory_profile(args.hours, Path(d) / "long.h5")


if __name__ == "__main__":
    main()
