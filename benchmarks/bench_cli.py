"""What a user waits for at the command line (issue 15): cold ``insole`` processes, timed from outside.

Prints, each with the floor it is compared with (measured in the same run) and the ratio:

1. Start-up: ``insole --help`` and ``insole COMMAND --help`` for every command (median of 5 cold processes), against
   a bare interpreter that imports click (the floor of any click program). Goal: each under 0.3 s.
2. ``insole analyze FILE`` on a 60-second session (goal: under 0.8 s wall).
3. Marginal analysis time of a 1-hour session (1 h minus 60 s, both through the CLI, writing ``--json`` and
   ``--steps`` as a user would) against the time to read both feet's pressure with h5py and sum it to total force
   (the same difference, in-process): 2 x 16 cells at 100 Hz, 2 x 99 cells at 100 Hz, 2 x 16 cells at 1000 Hz.
   Goal: at most 2x.
4. steps.csv: rows per second of ``AnalysisResult.write_steps`` on the 1-hour result (goal: at least 50,000).

The ``insole`` processes run as on a user's installation: with Python's bytecode cache, which the run compiles
first (``PYTHONDONTWRITEBYTECODE``, set in some sandboxes, is dropped for them; without the cache every process
compiles the project's modules again, about 0.25 s here). A floor that cannot be measured (a missing h5py, a
session that cannot be written) ends the run with a message and exit code 1.
Usage: ``python benchmarks/bench_cli.py [--keep DIR] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_analysis import baseline_read_and_sum, make_session  # noqa: E402

INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]
#: The environment of the measured processes: a user's, with the bytecode cache on.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(argv: list[str], repeat: int) -> float:
    """Median wall time (s) of ``repeat`` cold runs of ``argv`` (must exit 0)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=900)
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise SystemExit(f"error: {' '.join(argv[3:])} exited {done.returncode}: {done.stderr.strip()[-400:]}")
    return statistics.median(times)


def cpu_ticks() -> tuple[int, int] | None:
    """(stolen, total) CPU ticks of this machine so far (``/proc/stat``; None where there is none). Stolen ticks
    are time the hypervisor gave this virtual machine's CPUs to others, which slows the two-threaded analysis more
    than the single-threaded floor."""
    try:
        with open("/proc/stat") as fh:
            ticks = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (ticks[7] if len(ticks) > 7 else 0), sum(ticks)


def commands() -> list[str]:
    from pipeline.cli import cli

    return sorted(cli.lazy_commands)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keep", type=Path, help="folder for the generated sessions (kept between runs)")
    ap.add_argument("--repeat", type=int, default=3, help="cold runs per measurement (start-up: 5)")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-cli-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {sys.platform}")
    ticks_before = cpu_ticks()
    for package in ("insole", "pipeline"):  # the bytecode cache an installed program has after its first run
        compileall.compile_dir(ROOT / package, quiet=1)

    floor = wall([sys.executable, "-c", "import click"], 5)
    print(f"\n1. start-up (median of 5 cold processes); floor: python -c 'import click' {floor:.3f} s")
    worst = 0.0
    for argv in [["--help"]] + [[c, "--help"] for c in commands()]:
        t = wall(INSOLE + argv, 5)
        worst = max(worst, t)
        print(f"   insole {' '.join(argv):24s} {t:.3f} s  ({t / floor:.1f}x the floor)  goal < 0.3 s")
    print(f"   slowest {worst:.3f} s: {'met' if worst < 0.3 else 'NOT met'}")

    sessions = {}
    for name, hours, sensors, rate in (("60s-16", 60 / 3600, 16, 100.0), ("1h-16", 1.0, 16, 100.0),
                                       ("60s-99", 60 / 3600, 99, 100.0), ("1h-99", 1.0, 99, 100.0),
                                       ("60s-16-1k", 60 / 3600, 16, 1000.0), ("1h-16-1k", 1.0, 16, 1000.0)):
        path = folder / f"{name}.h5"
        if not path.exists():
            try:
                make_session(path, hours, sensors, rate)
            except Exception as exc:  # noqa: BLE001 - a floor that cannot be built ends the run
                print(f"error: cannot write the benchmark session {path}: {exc}", file=sys.stderr)
                return 1
        sessions[name] = path

    out = folder / "out"
    out.mkdir(exist_ok=True)

    def analyze(name: str) -> float:
        return wall(INSOLE + ["analyze", str(sessions[name]), "--json", str(out / f"{name}.json"),
                              "--steps", str(out / f"{name}.csv")], args.repeat)

    t60 = analyze("60s-16")
    print(f"\n2. insole analyze on a 60 s session (2 x 16 cells, 100 Hz, --json and --steps): {t60:.2f} s wall "
          f"(goal < 0.8 s: {'met' if t60 < 0.8 else 'NOT met'})")

    print("\n3. marginal analysis time of one hour (CLI, 1 h minus 60 s) against h5py read + total force (same "
          "difference)")
    pairs = (("60s-16", "1h-16", "2 x 16 cells, 100 Hz"), ("60s-99", "1h-99", "2 x 99 cells, 100 Hz"),
             ("60s-16-1k", "1h-16-1k", "2 x 16 cells, 1000 Hz"))
    for short, long_, label in pairs:
        base = (min(baseline_read_and_sum(sessions[long_]) for _ in range(3))
                - min(baseline_read_and_sum(sessions[short]) for _ in range(3)))
        marginal = analyze(long_) - (t60 if short == "60s-16" else analyze(short))
        ratio = marginal / base
        print(f"   {label}: floor {base:.2f} s, marginal analysis {marginal:.2f} s: ratio {ratio:.2f}x "
              f"(goal <= 2x: {'met' if ratio <= 2 else 'NOT met'})")

    from pipeline.analysis import analyze_session

    result = analyze_session(sessions["1h-16"])
    t0 = time.perf_counter()
    result.write_steps(out / "steps-api.csv")
    dt = time.perf_counter() - t0
    rate = len(result.steps) / dt
    print(f"\n4. steps.csv of the 1-hour session: {len(result.steps)} rows x {result.steps.shape[1]} columns in "
          f"{dt:.3f} s = {rate:,.0f} rows/s (goal >= 50,000: {'met' if rate >= 50_000 else 'NOT met'})")
    ticks_after = cpu_ticks()
    if ticks_before is not None and ticks_after is not None and ticks_after[1] > ticks_before[1]:
        stolen = 100.0 * (ticks_after[0] - ticks_before[0]) / (ticks_after[1] - ticks_before[1])
        print(f"\nCPU time stolen by the hypervisor during this run: {stolen:.1f} % (above a few per cent the "
              "host is busy, and the figures above are slower than this machine's own)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
