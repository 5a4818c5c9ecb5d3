"""One night of the batch: discover, hash, plan against the ledger, process, quarantine, summarise.

:func:`run_night` is what ``insole batch`` calls. The batch process alone writes the ledger, the quarantine and
the summary; workers (local or Dask) only write the outputs of the files they process.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import secrets
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from insole.provenance import file_sha256, utc_now_iso
from pipeline import __version__
from pipeline.batch.atomic import remove_stale_temps
from pipeline.batch.discovery import discover
from pipeline.batch.errors import BatchError
from pipeline.batch.history_pages import write_history_pages
from pipeline.batch.isolation import DEFAULT_ENTRY
from pipeline.batch.jobs import NightJobs, output_folder
from pipeline.batch.params import check_params
from pipeline.batch.process import OUTPUT_FILES, REASONS
from pipeline.batch.progress import NightProgress
from pipeline.batch.rebuild import open_ledger
from pipeline.batch.runner import DaskRunner, LocalRunner
from pipeline.batch.safety import Limits
from pipeline.batch.summary import write_summary
from pipeline.norms.cohort import load_cohort

SOFTWARE = f"insole {__version__}"
#: Exit codes of ``insole batch``.
EXIT_OK, EXIT_FATAL, EXIT_USAGE, EXIT_QUARANTINED = 0, 1, 2, 3


def utc_now() -> str:
    """Current UTC time, ISO 8601 with ``Z``."""
    return utc_now_iso()


@dataclass
class BatchConfig:
    """Options of one night (see ``insole batch --help``)."""

    inbox: Path
    out_dir: Path
    workers: int = 1
    scheduler: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    retry_failed: bool = False
    min_age_s: float = 0.0
    change_pct: float = 10.0
    entry: str = DEFAULT_ENTRY
    cohort: str = "auto"


@dataclass
class NightResult:
    """What a night did: counts (this run), where the summary is, and a notice (e.g. the ledger was rebuilt)."""

    run_id: str
    counts: dict[str, int]
    summary_html: Path
    summary_csv: Path
    notice: str | None = None

    @property
    def exit_code(self) -> int:
        """0: nothing failed this run; 3: uploads were quarantined or outputs could not be written."""
        return EXIT_QUARANTINED if self.counts["quarantined"] or self.counts["errors"] else EXIT_OK


def full_params(params: dict[str, Any]) -> dict[str, Any]:
    """Analysis parameters with defaults filled in (what the ledger key uses), checked by
    :func:`pipeline.batch.params.check_params` (raises :class:`~pipeline.batch.params.ParameterError`)."""
    return check_params(params)


def cohort_identity(cohort: str) -> tuple[str, str]:
    """(identity in the ledger key, argument for the workers) of a ``--cohort`` value: ``auto``, ``none`` or a
    cohort file, identified by its content so that a changed cohort analyses every upload again.

    Raises
    ------
    pipeline.norms.cohort.CohortError
        The file cannot be read or is not a valid cohort.
    """
    if cohort in ("auto", "none"):
        return cohort, cohort
    path = Path(cohort).resolve()
    load_cohort(path)  # a bad cohort stops the night before any work, with the reason
    return f"sha256:{file_sha256(path)}", str(path)


class _Lock:
    """Exclusive lock on the output folder (released by the kernel even after ``kill -9``)."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise BatchError(f"another batch is running on {path.parent} (lock {path} is held)") from None

    def release(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _check_folders(inbox: Path, out: Path) -> None:
    if not inbox.is_dir():
        raise BatchError(f"inbox {inbox} is not a folder")
    for a, b in ((out, inbox), (inbox, out)):
        if a == b or a.is_relative_to(b):
            raise BatchError(f"the inbox ({inbox}) and the output folder ({out}) must not contain each other")


def _os_problem(exc: OSError) -> str:
    return f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)


def run_night(cfg: BatchConfig, progress: NightProgress | None = None) -> NightResult:
    """Process everything new in ``cfg.inbox`` into ``cfg.out_dir``; see :mod:`pipeline.batch`.

    Raises
    ------
    pipeline.batch.params.ParameterError
        An analysis parameter is unknown or out of range (nothing was written).
    BatchError
        The night cannot run: folders nested or missing, the output folder cannot be written, another batch holds
        the lock, the ledger cannot be used, the summary cannot be written (one line saying which file and why).
    pipeline.norms.cohort.CohortError, pipeline.batch.runner.RunnerError
        The cohort file cannot be read; the Dask scheduler cannot be reached.
    """
    progress = progress or NightProgress()
    inbox, out = cfg.inbox.resolve(), cfg.out_dir.resolve()
    _check_folders(inbox, out)
    params = check_params(cfg.params)  # before anything is written
    cohort_id, cohort_arg = cohort_identity(cfg.cohort)
    params_json = json.dumps({**params, "cohort": cohort_id}, sort_keys=True)
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = _Lock(out / ".batch.lock")
    except OSError as exc:
        raise BatchError(f"the output folder {out} cannot be written ({exc.strerror or exc}): give the batch user "
                         "write access to it, or choose another --out") from None
    try:
        return _run(cfg, inbox, out, params, params_json, cohort_arg, progress)
    except OSError as exc:
        raise BatchError(f"the night stopped: {_os_problem(exc)}") from None
    except sqlite3.Error as exc:
        raise BatchError(f"the ledger {out / 'ledger.sqlite'} cannot be used ({exc}); if it is damaged, the next "
                         "run moves it aside and rebuilds it") from None
    finally:
        lock.release()


def _run(cfg: BatchConfig, inbox: Path, out: Path, params: dict[str, Any], params_json: str, cohort_arg: str,
         progress: NightProgress) -> NightResult:
    stale = sum(remove_stale_temps(out / d) for d in ("sessions", "quarantine", "nights"))
    if stale:
        progress.log(f"removed {stale} half-written temporary file(s) left by an interrupted run")
    ledger, notice = open_ledger(out, OUTPUT_FILES)
    if notice:
        progress.log(notice, warning=True)
    runner: LocalRunner | DaskRunner | None = None
    try:
        started = utc_now()
        run_id = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
        runner = DaskRunner(cfg.scheduler, entry=cfg.entry) if cfg.scheduler else LocalRunner(cfg.workers,
                                                                                              entry=cfg.entry)
        options = {"inbox": str(inbox), "runner": runner.description, "params": json.loads(params_json),
                   "limits": cfg.limits.to_dict(), "retry_failed": cfg.retry_failed, "software": SOFTWARE}
        ledger.start_run(run_id, started, options)
        progress.log(f"night {run_id}: inbox {inbox} -> {out} ({runner.description}, {SOFTWARE})")
        night = NightJobs(out, ledger, run_id=run_id, software=SOFTWARE, params_json=params_json, params=params,
                          cohort=cohort_arg, limits=cfg.limits, retry_failed=cfg.retry_failed, progress=progress)
        night.plan(discover(inbox, min_age_s=cfg.min_age_s))
        night.execute(runner)
        rows = night.summary_rows(cfg.change_pct)
        write_history_pages(out, rows)  # each subject's follow-up page, linked from the summary
        finished = utc_now()
        info = {"run_id": run_id, "started_utc": started, "finished_utc": finished, "runner": runner.description,
                "software": SOFTWARE, "params_json": params_json, "inbox": str(inbox),
                "notices": [notice] if notice else []}
        totals = {
            **night.counts,
            "sessions_processed_total": sum(1 for r in rows if r["status"] == "processed"),
            "quarantined_total": sum(1 for r in rows if r["status"] == "quarantined"),
        }
        paths = write_summary(out, rows, totals, info, change_pct=cfg.change_pct, reasons=REASONS)
        ledger.finish_run(run_id, finished, totals)
        return NightResult(run_id, totals, paths["html"], paths["csv"], notice)
    finally:
        if runner is not None:
            runner.close()
        ledger.close()


__all__ = ["BatchConfig", "BatchError", "NightResult", "output_folder", "run_night"]
