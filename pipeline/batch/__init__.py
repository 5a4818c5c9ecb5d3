"""The nightly batch over clinic uploads: idempotent, quarantining, resumable, local processes or Dask.

Modules
-------
``discovery``   inbox walk and the pluggable registry of input formats
``safety``      limits, pre-read shape checks, safe output names
``process``     :func:`process_session`: one upload -> report HTML, metrics JSON, steps CSV (atomic)
``isolation``   one task in a child process under a timeout and memory guard
``runner``      local worker processes or a Dask distributed cluster
``ledger``      the SQLite ledger (content hash + software version + parameters)
``quarantine``  copies of failed uploads with reason files
``summary``     the nightly summary (HTML, CSV) and the change-versus-previous-session rule
``progress``    rich progress on a terminal, plain log lines otherwise
``night``       :func:`run_night`, tying it together
``command``     the ``insole batch`` click command

See ``docs/batch.md`` for the inbox layout, outputs, exit codes and a cron / systemd timer example.
"""

from pipeline.batch.night import BatchConfig, NightResult, run_night
from pipeline.batch.process import ProcessOutcome, process_session
from pipeline.batch.safety import Limits

__all__ = ["BatchConfig", "Limits", "NightResult", "ProcessOutcome", "process_session", "run_night"]
