"""Imported once by the worker server (multiprocessing *forkserver*) before it forks one child per file.

It imports the per-file code, then freezes the garbage collector's view of every object created so far
(``gc.freeze``), so children forked from the server do not touch (and thereby copy) the server's memory pages
during garbage collection. This is the documented use of :func:`gc.freeze` for pre-fork servers.
"""

from __future__ import annotations

import gc

import pipeline.batch.isolation  # noqa: F401
import pipeline.batch.process  # noqa: F401

gc.collect()
gc.freeze()
