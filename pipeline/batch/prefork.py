"""Imported once by a worker server before it forks one child per file.

The servers are multiprocessing's *forkserver* (local runner, :mod:`pipeline.batch.isolation` mode ``"fork"``)
and, on Dask workers, our own pre-fork server (:mod:`pipeline.batch.worker_server`, mode ``"server"``).

It imports the per-file code and takes the parent's main-script path as its own ``__main__.__file__``, so
multiprocessing does not re-run the parent's main script (the ``insole`` program, pytest, a benchmark) in every
forked child: the children only run functions from importable modules (our own server runs no main script in its
children and does not pass the path on). Then it freezes the garbage collector's view of every object created so
far (``gc.freeze``), so children forked from the server do not touch (and thereby copy) the server's memory pages
during garbage collection; this is the documented use of :func:`gc.freeze` for pre-fork servers.

Before freezing it processes one simulated 30-second walk into a temporary folder (the warm-up request of pre-fork
servers): what the per-file work builds on first use in a process (matplotlib's fonts and text layout, compiled
report templates, the shipped cohorts, numpy's FFT plans) then exists in the server, and no forked child pays for it
again. Measured with forked children on the 2-core machine: 2.6-3.0 s per 60-second session without, 1.7-2.0 s
with (1.4 s for the same work in a warm process). It costs about 3 s once per server; if it fails, the children
only lose that speed-up (the failure is printed, nothing else changes).
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
from pathlib import Path

import pipeline.batch.isolation  # noqa: F401
import pipeline.batch.process  # noqa: F401

_main_path = os.environ.get("INSOLE_BATCH_PARENT_MAIN")
if _main_path:
    sys.modules["__main__"].__file__ = _main_path



def _warm_up() -> None:
    """Process one simulated walk here, so forked children start with the per-file work's caches filled."""
    from insole.simulator.session import simulate_session

    with tempfile.TemporaryDirectory(prefix="insole-batch-warm-up-") as tmp:
        session = Path(tmp) / "warm-up.h5"
        simulate_session(session, duration_s=30.0, seed=1)
        pipeline.batch.process.process_session(session, Path(tmp) / "out", {})


try:
    _warm_up()
except Exception as exc:  # noqa: BLE001 - a failed warm-up only costs speed; say so and go on
    print(f"insole batch: the worker server's warm-up failed ({type(exc).__name__}: {exc}); continuing without it",
          file=sys.stderr)
gc.collect()
gc.freeze()
