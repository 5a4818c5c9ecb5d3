"""Throughput of the nightly batch (sessions per minute) with 1 and 2 local worker processes, and their ratio.

Usage::

    python benchmarks/bench_batch.py [--sessions 80] [--duration-s 30] [--dask]

Builds an inbox of valid simulated sessions (byte-level variants of a few simulated walks), warms up the
worker server, then runs a whole night (discovery, hashing, processing, ledger, summary) into a fresh output
folder with ``--workers 1`` and with ``--workers 2``. Goal: 2 workers at least 1.7x one. The machine may be
shared: the load average before each run is printed, and the ratio is only meaningful with 2 idle cores. The
"workers busy" figure (sum of per-file processing times / wall time) separates the batch's own overhead (it
should approach the worker count) from CPU contention (which inflates the per-file time instead).

With ``--dask``, the same inbox also runs through a real ``dask.distributed.LocalCluster`` with a nanny (Dask's
defaults: ``processes=True``, so the worker is daemonic; 1 worker, 1 thread), after a 2-file night that starts the
worker's pre-fork server. Per-file time there is the night's wall time / sessions processed, as for the local
1-worker night of the same run, and the overhead is that minus the warm in-process floor (goal <= 0.2 s). For
reference, ``--dask-subprocess N`` files also run on that worker the way Dask workers did before (a fresh
``python -m pipeline.batch.isolation`` per file, one task at a time, on the session of the in-process floor;
per-file wall time as the client sees it).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from batch_inbox import build_inbox, make_bases  # noqa: E402

from pipeline.batch.night import BatchConfig, run_night  # noqa: E402
from pipeline.batch.process import process_session  # noqa: E402
from pipeline.batch.progress import NightProgress  # noqa: E402


def in_process_s(session: Path, out: Path, repeat: int = 3) -> float:
    """Median time of the same per-file work (analysis, metrics, steps, report) called in this warm process."""
    times = []
    for k in range(repeat):
        t0 = time.perf_counter()
        process_session(session, out / str(k), {})
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def night(inbox: Path, out: Path, workers: int, scheduler: str | None = None) -> tuple[float, int, float]:
    """Wall time, sessions processed, and worker-busy seconds (sum of per-file durations from the ledger)."""
    t0 = time.perf_counter()
    result = run_night(BatchConfig(inbox=inbox, out_dir=out, workers=workers, scheduler=scheduler),
                       NightProgress(quiet=True))
    wall_s = time.perf_counter() - t0
    with sqlite3.connect(out / "ledger.sqlite") as db:
        busy_s = db.execute("SELECT coalesce(sum(duration_s), 0) FROM jobs").fetchone()[0]
    return wall_s, result.counts["processed"], busy_s


def _subprocess_task(task: dict, timeout_s: float, max_memory_mb: float) -> dict:
    from pipeline.batch.isolation import run_isolated

    return run_isolated(task, timeout_s=timeout_s, max_memory_mb=max_memory_mb, mode="subprocess")


def dask_part(inbox: Path, warm: Path, tmp_path: Path, work_s: float, local_per_file_s: float,
              session: Path, n_subprocess: int, repeats: int) -> None:
    """The inbox through a LocalCluster with a nanny (1 daemonic worker, 1 thread), per-file time and overhead."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        sys.exit("--dask needs dask.distributed: pip install 'open-insole[dask]'")
    from pipeline.batch.safety import Limits
    from pipeline.batch.worker_server import server_info

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        t0 = time.perf_counter()
        night(warm, tmp_path / "dask-warm-out", 1, cluster.scheduler_address)
        print(f"dask: worker started its pre-fork server and ran a 2-file night in {time.perf_counter() - t0:.1f} s "
              "(not part of the per-file time)")
        for r in range(repeats):
            load = os.getloadavg()[0]
            wall_s, processed, _busy = night(inbox, tmp_path / f"dask-out-{r}", 1, cluster.scheduler_address)
            info = next(iter(client.run(server_info).values()))
            per_file = wall_s / max(processed, 1)
            print(f"dask (LocalCluster, nanny, daemonic worker: {info['worker_daemonic']}, 1 thread): {processed} "
                  f"sessions in {wall_s:.1f} s = {per_file:.3f} s per file (wall / sessions); overhead over the warm "
                  f"in-process work: {per_file - work_s:+.3f} s (goal <= 0.2 s); local 1 worker, same inbox: "
                  f"{local_per_file_s:.3f} s per file (best run), Dask / local {per_file / local_per_file_s:.2f}x; "
                  f"children forked by the worker's server so far: {info['forked']}, fresh-interpreter fallbacks: "
                  f"{info['fallbacks']} (load average before: {load:.1f})")
        if n_subprocess:
            lim = Limits()
            times, inside = [], []
            for k in range(n_subprocess):  # the session of the in-process floor
                task = {"path": str(session), "rel_path": session.name, "out_dir": str(tmp_path / f"sub-{k}")}
                t0 = time.perf_counter()
                out = client.submit(_subprocess_task, task, lim.timeout_s, lim.max_memory_mb, pure=False).result()
                times.append(time.perf_counter() - t0)
                inside.append(out.get("duration_s") or 0.0)
                if not out.get("ok"):
                    sys.exit(f"the fresh-interpreter reference failed on {session}: {out.get('message')}")
            med, med_in = sorted(times)[len(times) // 2], sorted(inside)[len(inside) // 2]
            print(f"dask, previous way (fresh interpreter per file, {len(times)} files, median): {med:.3f} s per "
                  f"file, of which {med_in:.3f} s the work inside the fresh child (cold caches); overhead over the "
                  f"warm in-process work {med - work_s:+.3f} s (load average after: {os.getloadavg()[0]:.1f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=80)
    ap.add_argument("--duration-s", type=float, default=30.0, help="Length of each simulated session.")
    ap.add_argument("--repeats", type=int, default=1, help="Runs per worker count (best kept) and Dask nights.")
    ap.add_argument("--dask", action="store_true", help="Also run the inbox on a LocalCluster (1 worker, nanny).")
    ap.add_argument("--dask-subprocess", type=int, default=5, metavar="N",
                    help="With --dask: files run the previous way (fresh interpreter) for reference; 0: none.")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        tmp_path = Path(tmp)
        bases = make_bases(tmp_path / "bases", duration_s=args.duration_s)
        inbox = build_inbox(tmp_path / "inbox", bases, n_good=args.sessions, outside=tmp_path / "outside",
                            hostile=0)
        n_files = len(inbox.good)
        print(f"inbox: {n_files} sessions of {args.duration_s:g} s (+{len(inbox.duplicates)} duplicates); "
              f"{os.cpu_count()} CPUs")
        warm = build_inbox(tmp_path / "warm", bases, n_good=2, outside=tmp_path / "outside", hostile=0)
        night(warm.root, tmp_path / "warm-out", 2)  # starts the worker server once (not part of throughput)
        work_s = in_process_s(bases[0], tmp_path / "in-process")
        print(f"per-file work called in a warm process (the floor of a worker's time per file): {work_s:.3f} s")
        rates = {}
        per_file_wall = {}
        for workers in (1, 2):
            best = 0.0
            for r in range(args.repeats):
                load = os.getloadavg()[0]
                wall_s, processed, busy_s = night(inbox.root, tmp_path / f"out-{workers}-{r}", workers)
                rate = processed / wall_s * 60
                per_file = busy_s / max(processed, 1)
                print(f"workers={workers}: {processed} sessions in {wall_s:.1f} s = {rate:.1f} sessions/min; "
                      f"{per_file:.3f} s per file in a worker (overhead over the warm in-process work: "
                      f"{per_file - work_s:+.3f} s, goal <= 0.2 s), workers busy {busy_s / wall_s:.2f} "
                      f"of the time on average (load average before: {load:.1f})")
                best = max(best, rate)
            rates[workers] = best
            per_file_wall[workers] = 60 / best
        ratio = rates[2] / rates[1]
        print(f"throughput ratio 2 workers / 1 worker: {ratio:.2f}x (goal >= 1.7x)")
        print(f"local 1 worker: {per_file_wall[1]:.3f} s per file (wall / sessions), overhead over the warm "
              f"in-process work {per_file_wall[1] - work_s:+.3f} s")
        if args.dask:
            dask_part(inbox.root, warm.root, tmp_path, work_s, per_file_wall[1], bases[0], args.dask_subprocess,
                      args.repeats)


if __name__ == "__main__":
    main()
