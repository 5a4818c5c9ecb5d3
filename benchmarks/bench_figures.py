"""Report figures, warm and in-process (issue 15: report rendering of a 1-hour session within 2 s).

For each session given: the analysis runs once, ``build_figures`` once to warm up, then ``--repeat`` times; printed
are the best and median wall time and the best CPU time of ``build_figures`` (goal: 0.5 s), and the best wall time
of each figure function over the same runs (each figure function is wrapped with a timer; the wrapper is the only
change to the code measured). CPU time is printed because the machine may be shared: it moves less with the
other load than wall time. Usage: ``python benchmarks/bench_figures.py SESSION.h5 [SESSION.h5 ...] [--repeat 7]``.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.analysis import analyze_session  # noqa: E402
from pipeline.report import figures, plantar_figures  # noqa: E402
from pipeline.report.html_report import build_figures  # noqa: E402
from pipeline.report.report_data import report_json  # noqa: E402

FIGURE_FUNCTIONS = {
    figures: ("force_curves", "cop_gait_lines", "region_map", "symmetry_chart"),
    plantar_figures: ("pressure_maps", "mask_definition", "gait_line_ends", "cop_against_stance", "force_steps"),
}


def _timed(times: dict[str, list[float]]) -> None:
    """Wrap every figure function of the report with a timer writing into ``times`` (pressure maps by key)."""
    for module, names in FIGURE_FUNCTIONS.items():
        for name in names:
            real = getattr(module, name)

            @functools.wraps(real)
            def wrapper(*args, _real=real, _name=name, **kwargs):
                t0 = time.perf_counter()
                out = _real(*args, **kwargs)
                key = f"{_name}:{args[1]}" if _name == "pressure_maps" else _name
                times.setdefault(key, []).append(time.perf_counter() - t0)
                return out

            setattr(module, name, wrapper)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sessions", nargs="+", type=Path)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    times: dict[str, list[float]] = {}
    _timed(times)
    for path in args.sessions:
        if not path.is_file():
            print(f"{path}: no such file", file=sys.stderr)
            return 1
        result = analyze_session(path)
        doc = report_json(result)
        build_figures(result, doc)
        times.clear()
        wall, cpu = [], []
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            figs = build_figures(result, doc)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        drawn = sum(1 for f in figs.values() if f["uri"])
        print(f"{path}: build_figures best {min(wall):.3f} s, median {statistics.median(wall):.3f} s wall, "
              f"best {min(cpu):.3f} s CPU over {args.repeat} runs ({drawn} figures drawn; goal 0.5 s)")
        for key, values in times.items():
            print(f"  {key:28s} {1000 * min(values):6.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
