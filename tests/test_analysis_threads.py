"""The same file gives the same figures whatever BLAS thread pool the process has (issue 15): the analysis runs
BLAS on one thread (pipeline.analysis.session_analysis), so ``insole analyze`` with a 2-thread OpenBLAS pool, the
nightly batch (one thread per worker) and a machine with another core count agree to the last digit. Before, the
threaded float32 products of the CoP moments moved the simulated recordings' CoP figures in the 8th digit.
With ``INSOLE_THREADS`` at 2 the feet are analysed in two threads and the chunks inflated in a pool; at 1 (a
batch worker) one after the other: the figures are the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from pipeline.analysis import analyze_session, session_analysis

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_recordings" / "simulated" / "neutral.h5"


def _analyse(tmp: Path, threads: str) -> tuple[dict, bytes]:
    out = tmp / threads
    out.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env.update(OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads, INSOLE_THREADS=threads)
    done = subprocess.run([sys.executable, "-c", "from pipeline.cli import main; main()", "analyze", str(SAMPLE),
                           "--json", str(out / "metrics.json"), "--steps", str(out / "steps.csv")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    metrics["provenance"].pop("analysed_utc")
    return metrics, (out / "steps.csv").read_bytes()


def test_figures_do_not_depend_on_the_thread_counts(tmp_path):
    one = _analyse(tmp_path, "1")
    two = _analyse(tmp_path, "2")
    assert one[1] == two[1]  # steps.csv byte for byte
    assert one[0] == two[0]
    assert one[0]["left"]["cop_path_length_pct"]["n"] > 20  # the CoP figures exist (and were compared)


def test_the_feet_run_in_two_threads_unless_one_is_allowed(monkeypatch):

    seen: dict[str, str] = {}
    real = session_analysis.analyse_foot

    def recording(src, *args):
        seen[src.side] = threading.current_thread().name
        return real(src, *args)

    monkeypatch.setattr(session_analysis, "analyse_foot", recording)
    monkeypatch.setenv("INSOLE_THREADS", "2")
    two = analyze_session(SAMPLE)
    assert set(seen) == {"left", "right"} and all(n.startswith("insole-foot") for n in seen.values()), seen
    monkeypatch.setenv("INSOLE_THREADS", "1")
    seen.clear()
    one = analyze_session(SAMPLE)
    assert seen == {"left": "MainThread", "right": "MainThread"}
    a, b = json.loads(one.metrics.to_json()), json.loads(two.metrics.to_json())
    a["provenance"].pop("analysed_utc"), b["provenance"].pop("analysed_utc")
    assert a == b


def test_the_heap_policy_follows_what_limits(monkeypatch):
    """A session analysed in parallel keeps its freed memory for reuse (page faults are what it would pay);
    analysed foot by foot (one thread, a batch worker) the heap is trimmed after each foot; a streamed one maps its
    large blocks. The glibc calls are recorded, not made (they would stay for the rest of the test process)."""
    calls: list[str] = []
    for name in ("keep_freed_memory", "release_free_heap", "map_large_blocks"):
        monkeypatch.setattr(session_analysis, name, lambda name=name: calls.append(name))
    monkeypatch.setenv("INSOLE_THREADS", "2")
    analyze_session(SAMPLE)
    assert calls == ["keep_freed_memory"]
    calls.clear()
    monkeypatch.setenv("INSOLE_THREADS", "1")
    analyze_session(SAMPLE)
    assert calls == ["release_free_heap", "release_free_heap"]
    calls.clear()
    analyze_session(SAMPLE, session_analysis.AnalysisParams(cache_mb=0.01))  # streamed: too long for the cache
    assert calls == ["map_large_blocks", "release_free_heap", "release_free_heap"]
