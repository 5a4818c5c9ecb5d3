"""Benchmark of the analysis core (a script, not a test).

1. Speed: for a 1-hour, 2-foot, 100 Hz session with 16 and with 99 cells, the time of ``analyze_session`` divided by
   the time to read the pressure arrays with h5py and sum them to total force, measured in the same run (goal:
   at most 3x).
2. Memory: peak resident memory of ``analyze_session`` on a 24-hour session, in a fresh subprocess
   (``resource.getrusage``; goal: under 1 GB).

Sessions are written with :class:`insole.session.SessionWriter` in blocks: ten minutes of the simulator's
gait model (both feet, noise 1 kPa) are generated once and repeated with shifted time, which keeps the files
realistic (a real walking pattern, compressed like a recording) while making a 24-hour file in about a minute.

Usage: ``python benchmarks/bench_analysis.py [--hours-rss 24] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from insole.layouts import builtin_layout  # noqa: E402
from insole.session import SessionMetadata, SessionWriter  # noqa: E402
from insole.simulator.gait_model import simulate_walk  # noqa: E402
from insole.simulator.profiles import PROFILES  # noqa: E402

BLOCK_S = 600.0


def make_session(path: Path, hours: float, sensors: int, rate_hz: float = 100.0) -> Path:
    """Write a ``hours``-long two-foot session of ``sensors`` cells at ``rate_hz``."""
    layout = builtin_layout(sensors, 260.0)
    walk = simulate_walk(PROFILES["neutral"], BLOCK_S + 5.0, seed=3)
    n_block = int(BLOCK_S * rate_hz)
    t_block = np.arange(n_block) / rate_hz
    rng = np.random.default_rng(0)
    blocks = {}
    for side in ("left", "right"):
        p = walk.pressure_kpa(side, t_block, layout) + rng.normal(0.0, 1.0, (n_block, sensors))
        blocks[side] = np.maximum(p, 0.0).astype(np.float32)
    n_total = int(round(hours * 3600.0 * rate_hz))
    md = SessionMetadata(subject_id="BENCH", body_mass_kg=70.0, foot_length_mm=260.0)
    with SessionWriter(path, md, source="simulated", overwrite=True) as w:
        for side in ("left", "right"):
            w.add_foot(side, layout, units="kPa", sampling_rate_hz=rate_hz)
        for k, start in enumerate(range(0, n_total, n_block)):
            n = min(n_block, n_total - start)  # the last block cut to the length asked for
            for side in ("left", "right"):
                w.append(side, t_block[:n] + k * BLOCK_S, blocks[side][:n])
    return path


def baseline_read_and_sum(path: Path) -> float:
    """Seconds to read every pressure array with h5py (in 64 Ki-frame blocks) and sum it to total force."""
    t0 = time.perf_counter()
    with h5py.File(path, "r") as h5:
        for side in ("left", "right"):
            ds = h5[side]["pressure"]
            area = h5[side]["sensors/area_mm2"][()].astype(np.float32) / 1000.0
            n = ds.shape[0]
            total = np.empty(n, np.float32)
            for a in range(0, n, 1 << 16):
                total[a : a + (1 << 16)] = ds[a : a + (1 << 16)] @ area
    return time.perf_counter() - t0


def analysis_time(path: Path) -> tuple[float, int]:
    from pipeline.analysis import analyze_session

    t0 = time.perf_counter()
    res = analyze_session(path)
    return time.perf_counter() - t0, len(res.steps)


_RSS_CHILD = """
import resource, sys, time
sys.path.insert(0, {root!r})
from pipeline.analysis import analyze_session
t0 = time.perf_counter()
res = analyze_session({path!r})
dt = time.perf_counter() - t0
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, dt, len(res.steps))
"""


def peak_rss_mb(path: Path) -> tuple[float, float, int]:
    """Peak RSS (MB), time (s) and steps of the analysis of ``path`` in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", _RSS_CHILD.format(root=str(ROOT), path=str(path))],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]) / 1024.0, float(out[1]), int(out[2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours-rss", type=float, default=24.0, help="length of the memory-test session")
    ap.add_argument("--keep", type=Path, help="folder to keep the generated sessions in")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-analysis-"))
    folder.mkdir(parents=True, exist_ok=True)
    for sensors in (16, 99):
        path = folder / f"one-hour-{sensors}.h5"
        if not path.exists():
            t0 = time.perf_counter()
            make_session(path, 1.0, sensors)
            print(f"wrote {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
        base = min(baseline_read_and_sum(path) for _ in range(3))
        runs = [analysis_time(path) for _ in range(3)]
        ana = min(r[0] for r in runs)
        print(f"1 h, 2 x {sensors} cells, 100 Hz: read+sum {base:.2f} s, analysis {ana:.2f} s "
              f"({runs[0][1]} steps): ratio {ana / base:.2f}x (goal <= 3x)")
    path = folder / f"long-{args.hours_rss:g}h-16.h5"
    if not path.exists():
        t0 = time.perf_counter()
        make_session(path, args.hours_rss, 16)
        print(f"wrote {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
    rss, dt, n = peak_rss_mb(path)
    base = baseline_read_and_sum(path)
    print(f"{args.hours_rss:g} h, 2 x 16 cells, 100 Hz: peak RSS {rss:.0f} MB (goal < 1024 MB), analysis {dt:.1f} s "
          f"({n} steps), read+sum {base:.1f} s: ratio {dt / base:.2f}x")


if __name__ == "__main__":
    main()
