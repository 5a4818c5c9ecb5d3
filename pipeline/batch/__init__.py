"""The nightly batch over clinic uploads: idempotent, quarantining, resumable, local processes or Dask.

Modules
-------
``discovery``   inbox walk and the pluggable registry of input formats
``safety``      limits, pre-read shape checks, safe output names
``process``     :func:`process_session`: one upload -> report HTML, metrics JSON, steps CSV (atomic)
``isolation``   one task in a child process under a timeout and memory guard
``prefork``     imported by a worker server before it forks: one warm-up walk, then ``gc.freeze``
``worker_server`` the pre-fork server of a Dask worker (also a daemonic one): a warmed process forking a child
                per file
``runner``      local worker processes or a Dask distributed cluster
``ledger``      the SQLite ledger (content hash + software version + parameters)
``quarantine``  copies of failed uploads with reason files
``summary``     the nightly summary (HTML, CSV) and the change-versus-previous-session rule
``progress``    rich progress on a terminal, plain log lines otherwise
``night``       :func:`run_night`, tying it together
``command``     the ``insole batch`` click command

See ``docs/batch.md`` for the inbox layout, outputs, exit codes and a cron / systemd timer example.
"""

from __future__ import annotations

from insole.lazy_exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "BatchConfig": "pipeline.batch.night",
    "NightResult": "pipeline.batch.night",
    "run_night": "pipeline.batch.night",
    "ProcessOutcome": "pipeline.batch.process",
    "process_session": "pipeline.batch.process",
    "Limits": "pipeline.batch.safety",
})
