"""How many threads this process's own parallel work may use (inflating session chunks, analysing two feet).

``INSOLE_THREADS`` (a whole number of at least 1) sets it; by default it is the number of cores this process may
run on, at most :data:`MAX_THREADS`. The nightly batch sets it to 1 in its workers, whose parallelism comes from
running several of them (as it sets one BLAS thread).
"""

from __future__ import annotations

import os

from insole.errors import ConfigurationError

#: Environment variable that sets :func:`worker_threads`.
THREADS_ENV = "INSOLE_THREADS"
#: Most threads used by default (the parallel parts are two feet and a pool inflating chunks).
MAX_THREADS = 4


def worker_threads() -> int:
    """Threads this process's parallel work may use (see the module description).

    Raises
    ------
    ConfigurationError
        ``INSOLE_THREADS`` is set to something that is not a whole number of at least 1.
    """
    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ConfigurationError(f"{THREADS_ENV}={value!r}: give a whole number of threads of at least 1 "
                                     f"(or unset it to use the cores this process may run on)")
        return int(value)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_THREADS))
