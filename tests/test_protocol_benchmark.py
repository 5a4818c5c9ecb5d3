"""The decode benchmark script runs and reports frames/s and the floor ratio (no timing is asserted here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_decode.py"


def test_benchmark_runs_and_reports():
    r = subprocess.run([sys.executable, str(SCRIPT), "--frames", "3000", "--small-frames", "300", "--repeat", "1",
                        "--chunks", "65536", "52"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(re.findall(r"decode: [\d,]+ frames/s wall, [\d,]+ frames/s CPU", r.stdout)) == 2
    assert len(re.findall(r"ratio decode time / floor time: [\d.]+x", r.stdout)) == 2
    assert "bulk path" in r.stdout and "scalar path" in r.stdout
    assert re.search(r"goal >= 1,000,000 frames/s on 65536-byte pieces: (met|NOT met)", r.stdout)


def test_benchmark_refuses_arguments_it_cannot_measure():
    r = subprocess.run([sys.executable, str(SCRIPT), "--chunks", "0"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--chunks" in r.stderr
