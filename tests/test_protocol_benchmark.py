"""The decode benchmark script runs and reports frames/s and the copy ratio (no timing is asserted here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_decode.py"


def test_benchmark_runs_and_reports():
    r = subprocess.run([sys.executable, str(SCRIPT), "--frames", "3000", "--repeat", "1"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert re.search(r"decode: [\d,]+ frames/s", r.stdout)
    assert re.search(r"ratio decode time / copy time: [\d.]+x", r.stdout)
