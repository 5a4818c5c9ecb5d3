"""Imported once by the worker server (multiprocessing *forkserver*) before it forks one child per file.

It imports the per-file code and takes the parent's main-script path as its own ``__main__.__file__``, so
multiprocessing does not re-run the parent's main script (the ``insole`` program, pytest, a benchmark) in every
forked child: the children only run functions from importable modules. Then it freezes the garbage collector's
view of every object created so far (``gc.freeze``), so children forked from the server do not touch (and thereby
copy) the server's memory pages during garbage collection; this is the documented use of :func:`gc.freeze` for
pre-fork servers.
"""

from __future__ import annotations

import gc
import os
import sys

import pipeline.batch.isolation  # noqa: F401
import pipeline.batch.process  # noqa: F401

_main_path = os.environ.get("INSOLE_BATCH_PARENT_MAIN")
if _main_path:
    sys.modules["__main__"].__file__ = _main_path

gc.collect()
gc.freeze()
