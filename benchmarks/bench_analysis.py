"""Benchmark of the analysis core (a script, not a test).

1. Speed: for a 1-hour, 2-foot, 100 Hz session with 16 and with 99 cells, the time of ``analyze_session`` divided by
   the time to read the pressure arrays with h5py and sum them to total force, measured in the same run (goal:
   at most 2x).
2. Length: 1-, 6- and 24-hour sessions (2 x 16 cells, 100 Hz) analysed by the CLI as a user runs it
   (``insole analyze FILE --json --steps``, a fresh process each): peak resident memory of that process
   (``os.wait4``; goal: at most 400 MB at 24 hours), wall time and seconds per hour (goal: linear in length, i.e.
   the same seconds per hour), against the read + total-force floor of the same file.

Sessions are written with :class:`insole.session.SessionWriter` in blocks: ten minutes of the simulator's
gait model (both feet, noise 1 kPa) are generated once and repeated with shifted time, which keeps the files
realistic (a real walking pattern, compressed like a recording) while making a 24-hour file in about a minute.

Usage: ``python benchmarks/bench_analysis.py [--hours 1 6 24] [--keep DIR]``. Exits 1 when a session cannot be
written or read (no floor, no ratio).
"""

from __future__ import annotations

import argparse
import os
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


_MEASURE_CHILD = """
import os, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - t0
err = proc.stderr.read().decode()[-500:].replace(chr(10), " ")
print(os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss, err)
"""


def cli_run(path: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of ``insole analyze path --json --steps`` in a fresh process.

    Started from a small wrapper interpreter: Linux counts the memory a child had when it was forked in its peak,
    so the CLI must not be forked from this (large) benchmark process.
    """
    exe = Path(sys.executable).with_name("insole")
    if not exe.exists():
        raise SystemExit(f"{exe} not found: install the project (pip install -e .) in this interpreter's environment")
    cmd = [str(exe), "analyze", str(path), "--json", str(out / "m.json"), "--steps", str(out / "steps.csv")]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # a user's bytecode cache on
    res = subprocess.run([sys.executable, "-c", _MEASURE_CHILD, *cmd], env=env, capture_output=True, text=True,
                         check=True)
    rc, wall, rss, *err = res.stdout.split(maxsplit=3)
    if int(rc) != 0:
        raise SystemExit(f"insole analyze {path.name} failed ({rc}): {' '.join(err)}")
    return float(wall), int(rss) / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, nargs="+", default=[1.0, 6.0, 24.0], help="session lengths (part 2)")
    ap.add_argument("--keep", type=Path, help="folder to keep the generated sessions in")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-analysis-"))
    folder.mkdir(parents=True, exist_ok=True)
    print("1. analyze_session (in-process, warm) against h5py read + total force")
    for sensors in (16, 99):
        path = _session(folder, 1.0, sensors)
        base = min(baseline_read_and_sum(path) for _ in range(3))
        runs = [analysis_time(path) for _ in range(3)]
        ana = min(r[0] for r in runs)
        print(f"   1 h, 2 x {sensors} cells, 100 Hz: read+sum {base:.2f} s, analysis {ana:.2f} s "
              f"({runs[0][1]} steps): ratio {ana / base:.2f}x (goal <= 2x)")
    print("2. insole analyze (CLI process, cold) by session length, 2 x 16 cells, 100 Hz")
    per_hour = []
    with tempfile.TemporaryDirectory() as out:
        for hours in args.hours:
            path = _session(folder, hours, 16)
            base = baseline_read_and_sum(path)
            wall, rss = cli_run(path, Path(out))
            per_hour.append(wall / hours)
            print(f"   {hours:g} h: wall {wall:.1f} s ({wall / hours:.1f} s per hour), peak RSS {rss:.0f} MB "
                  f"(goal <= 400 MB at 24 h), read+sum floor {base:.1f} s: ratio {wall / base:.2f}x")
    if len(per_hour) > 1:
        print(f"   seconds per hour, longest / shortest session: {per_hour[-1] / per_hour[0]:.2f} (linear: 1.0)")


def _session(folder: Path, hours: float, sensors: int) -> Path:
    path = folder / f"{hours:g}h-{sensors}.h5"
    if not path.exists():
        t0 = time.perf_counter()
        try:
            make_session(path, hours, sensors)
        except OSError as exc:
            raise SystemExit(f"cannot write the benchmark session {path}: {exc} (disk space? use --keep DIR)") from exc
        print(f"   wrote {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
    return path


if __name__ == "__main__":
    main()
