"""One night of the batch: discover, hash, plan against the ledger, process, quarantine, summarise.

:func:`run_night` is what ``insole batch`` calls. The batch process alone writes the ledger, the quarantine and
the summary; workers (local or Dask) only write the outputs of the files they process.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import fcntl
import hashlib
import json
import os
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from insole.provenance import file_sha256, utc_now_iso
from pipeline import __version__
from pipeline.analysis import AnalysisParams, SessionMetrics
from pipeline.batch.atomic import remove_stale_temps
from pipeline.batch.discovery import InboxEntry, discover
from pipeline.batch.isolation import DEFAULT_ENTRY
from pipeline.batch.ledger import Ledger, job_key
from pipeline.batch.process import OUTPUT_FILES, REASONS
from pipeline.batch.progress import NightProgress
from pipeline.batch.quarantine import quarantine_upload
from pipeline.batch.runner import DaskRunner, LocalRunner
from pipeline.batch.safety import Limits, safe_component
from pipeline.batch.summary import CSV_COLUMNS, add_changes, findings, load_metrics, write_summary
from pipeline.errors import PipelineError
from pipeline.norms.cohort import load_cohort

SOFTWARE = f"insole {__version__}"
#: Exit codes of ``insole batch``.
EXIT_OK, EXIT_FATAL, EXIT_USAGE, EXIT_QUARANTINED = 0, 1, 2, 3


class BatchError(PipelineError):
    """The night cannot run (bad folders, another batch running on the same output folder, ...)."""


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
    """What a night did: counts (this run) and where the summary is."""

    run_id: str
    counts: dict[str, int]
    summary_html: Path
    summary_csv: Path

    @property
    def exit_code(self) -> int:
        """0: nothing failed this run; 3: uploads were quarantined or outputs could not be written."""
        return EXIT_QUARANTINED if self.counts["quarantined"] or self.counts["errors"] else EXIT_OK


def full_params(params: dict[str, Any]) -> dict[str, Any]:
    """Analysis parameters with defaults filled in (what the ledger key uses); unknown names raise BatchError."""
    try:
        return dataclasses.asdict(AnalysisParams(**params))
    except TypeError as exc:
        names = ", ".join(f.name for f in dataclasses.fields(AnalysisParams))
        raise BatchError(f"unknown analysis parameter in {sorted(params)}: {exc}; known: {names}") from None


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


def output_folder(entry: InboxEntry, sha256: str) -> PurePosixPath:
    """Relative output folder of an upload: ``sessions/<clinic>/<subject>/<session>-<sha[:8]>`` (sanitised)."""
    return PurePosixPath("sessions", safe_component(entry.clinic), safe_component(entry.subject),
                         f"{safe_component(entry.session)}-{sha256[:8]}")


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


def run_night(cfg: BatchConfig, progress: NightProgress | None = None) -> NightResult:
    """Process everything new in ``cfg.inbox`` into ``cfg.out_dir``; see :mod:`pipeline.batch`."""
    progress = progress or NightProgress()
    inbox, out = cfg.inbox.resolve(), cfg.out_dir.resolve()
    _check_folders(inbox, out)
    out.mkdir(parents=True, exist_ok=True)
    cohort_id, cohort_arg = cohort_identity(cfg.cohort)
    params_json = json.dumps({**full_params(cfg.params), "cohort": cohort_id}, sort_keys=True)
    lock = _Lock(out / ".batch.lock")
    runner: LocalRunner | DaskRunner | None = None
    try:
        stale = sum(remove_stale_temps(out / d) for d in ("sessions", "quarantine", "nights"))
        if stale:
            progress.log(f"removed {stale} half-written temporary file(s) left by an interrupted run")
        ledger = Ledger(out / "ledger.sqlite")
        started = utc_now()
        run_id = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
        runner = DaskRunner(cfg.scheduler, entry=cfg.entry) if cfg.scheduler else LocalRunner(cfg.workers,
                                                                                              entry=cfg.entry)
        options = {"inbox": str(inbox), "runner": runner.description, "params": json.loads(params_json),
                   "limits": cfg.limits.to_dict(), "retry_failed": cfg.retry_failed, "software": SOFTWARE}
        ledger.start_run(run_id, started, options)
        progress.log(f"night {run_id}: inbox {inbox} -> {out} ({runner.description}, {SOFTWARE})")
        night = _Night(cfg, inbox, out, ledger, run_id, params_json, progress, cohort_arg)
        night.plan(discover(inbox, min_age_s=cfg.min_age_s))
        night.execute(runner)
        result = night.finish(started, runner.description)
        ledger.close()
        return result
    finally:
        if runner is not None:
            runner.close()
        lock.release()


class _Night:
    """State of one run (internal)."""

    def __init__(self, cfg: BatchConfig, inbox: Path, out: Path, ledger: Ledger, run_id: str, params_json: str,
                 progress: NightProgress, cohort: str = "auto") -> None:
        self.cfg, self.inbox, self.out, self.ledger, self.cohort = cfg, inbox, out, ledger, cohort
        self.run_id, self.params_json, self.progress = run_id, params_json, progress
        self.counts = {k: 0 for k in ("discovered", "processed", "unchanged", "duplicates", "quarantined",
                                      "errors", "deferred", "ignored", "retried_outputs_missing")}
        self.rows: dict[str, dict[str, Any]] = {}  # rel_path -> summary row
        self.groups: dict[str, list[InboxEntry]] = {}  # sha256 -> uploads (sorted), first is canonical
        self.tasks: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ planning
    def _row(self, e: InboxEntry, status: str, **kw: Any) -> dict[str, Any]:
        row = {"rel_path": e.rel_path, "clinic": e.clinic, "subject": e.subject, "session": e.session,
               "status": status, "new_this_run": False, **kw}
        self.rows[e.rel_path] = row
        return row

    def _refuse(self, e: InboxEntry, reason: str, message: str, fingerprint_extra: str) -> None:
        fp = hashlib.sha256(f"{e.rel_path}|{message}|{fingerprint_extra}".encode()).hexdigest()
        record = self.ledger.quarantined(e.rel_path, fp)
        if record is None:
            qrel = quarantine_upload(self.out, rel_path=e.rel_path, source=None, fingerprint=fp, reason=reason,
                                     message=message, software=SOFTWARE)
            self.ledger.add_quarantine(e.rel_path, fp, reason, message, str(qrel), None, self.run_id, utc_now())
            self.counts["quarantined"] += 1
            self.progress.log(f"quarantined {e.rel_path}: {message}", warning=True)
            new = True
        else:
            qrel, new = record["quarantine_rel"], False
        self._row(e, "quarantined", reason=reason, message=message, quarantine_folder=str(qrel), new_this_run=new)

    def plan(self, entries: list[InboxEntry]) -> None:
        """Hash the candidates, decide what to process, quarantine refused uploads."""
        limits = self.cfg.limits
        file_rows = []
        by_sha: dict[str, list[InboxEntry]] = defaultdict(list)
        for e in entries:
            if e.kind == "ignored":
                self.counts["ignored"] += 1
                continue
            if e.kind == "deferred":
                self.counts["deferred"] += 1
                self.progress.log(f"deferred {e.rel_path}: {e.reason}")
                continue
            self.counts["discovered"] += 1
            if e.kind == "refused":
                self._refuse(e, "unsafe", e.reason, "")
                continue
            try:
                st = e.path.stat()
                if st.st_size > limits.max_file_mb * 2**20:
                    self._refuse(e, "unsafe", f"file is {st.st_size / 2**20:.1f} MB, above the limit of "
                                 f"{limits.max_file_mb:g} MB; not read", f"{st.st_size}|{st.st_mtime_ns}")
                    continue
                sha = self.ledger.cached_sha256(e.rel_path, st.st_size, st.st_mtime_ns, st.st_ino)
                if sha is None:
                    sha = file_sha256(e.path)
            except OSError as exc:
                self._refuse(e, "unreadable", f"cannot be read: {exc.strerror or exc}", "oserror")
                continue
            file_rows.append({"rel_path": e.rel_path, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                              "inode": st.st_ino, "sha256": sha, "format": e.format})
            by_sha[sha].append(e)
        self.ledger.record_files(file_rows, self.run_id, utc_now())
        for sha, group in sorted(by_sha.items(), key=lambda kv: min(e.rel_path for e in kv[1])):
            self._plan_group(sha, sorted(group, key=lambda e: e.rel_path))

    def _plan_group(self, sha: str, group: list[InboxEntry]) -> None:
        key = job_key(sha, SOFTWARE, self.params_json)
        job = self.ledger.job(key)
        if job is not None and job["rel_path"] in [e.rel_path for e in group]:
            group.sort(key=lambda e: (e.rel_path != job["rel_path"], e.rel_path))
        canonical = group[0]
        self.groups[sha] = group
        out_rel = job["out_rel"] if job is not None and job["out_rel"] else str(output_folder(canonical, sha))
        outputs_ok = all((self.out / out_rel / f).is_file() for f in OUTPUT_FILES)
        if job is not None and job["status"] == "done" and outputs_ok:
            self.counts["unchanged"] += 1
            self._finish_group(sha, key, "done", dict(job), new=False)
            return
        if job is not None and job["status"] == "failed" and not self.cfg.retry_failed:
            self._finish_group(sha, key, "failed", dict(job), new=False)
            return
        if job is not None and job["status"] == "done":
            self.counts["retried_outputs_missing"] += 1
            self.progress.log(f"outputs of {canonical.rel_path} are missing in {out_rel}: processing again",
                              warning=True)
        self.tasks.append({
            "job_key": key, "sha256": sha, "software": SOFTWARE, "params_json": self.params_json,
            "rel_path": canonical.rel_path, "format": canonical.format, "out_rel": out_rel,
            "path": str(canonical.path), "out_dir": str(self.out / out_rel),
            "params": full_params(self.cfg.params), "cohort": self.cohort, "limits": self.cfg.limits.to_dict(),
        })

    # ------------------------------------------------------------------ processing
    def execute(self, runner: LocalRunner | DaskRunner) -> None:
        """Run the planned tasks and record each outcome as it arrives."""
        if not self.tasks:
            self.progress.log("nothing new to process")
            return
        self.ledger.mark_running(self.tasks, self.run_id, utc_now())
        self.progress.log(f"processing {len(self.tasks)} upload(s)")
        self.progress.start(len(self.tasks))
        try:
            for task, outcome in runner.run(self.tasks):
                self._record(task, outcome)
        finally:
            self.progress.stop()

    def _record(self, task: dict[str, Any], outcome: dict[str, Any]) -> None:
        key, sha, rel = task["job_key"], task["sha256"], task["rel_path"]
        out_dir = self.out / task["out_rel"]
        if outcome.get("ok") and not all((out_dir / f).is_file() for f in OUTPUT_FILES):
            outcome = {**outcome, "ok": False, "reason": "output-error",
                       "message": f"the worker reported success but outputs are missing in {task['out_rel']}"}
        dur = outcome.get("duration_s") or 0.0
        if outcome.get("ok"):
            self.ledger.finish_job(key, "done", outcome, utc_now())
            self.counts["processed"] += 1
            self.progress.advance(f"done {rel} ({dur:.1f} s)")
            self._finish_group(sha, key, "done", {**task, **outcome, "status": "done"}, new=True)
        elif outcome.get("reason") == "output-error":
            self.ledger.finish_job(key, "error", outcome, utc_now())
            self.counts["errors"] += 1
            self.progress.advance(f"error {rel}: {outcome.get('message')} (retried next run)", warning=True)
            for e in self.groups[sha]:
                self._row(e, "error", reason="output-error", message=outcome.get("message"), new_this_run=True)
        else:
            for f in OUTPUT_FILES:  # never leave outputs of an older version next to a failure
                (out_dir / f).unlink(missing_ok=True)
            if out_dir.is_dir() and not any(out_dir.iterdir()):
                out_dir.rmdir()
            self.progress.advance(f"failed {rel}: {outcome.get('reason')}: {outcome.get('message')}", warning=True)
            job = {**task, **outcome, "status": "failed"}
            self._finish_group(sha, key, "failed", job, new=True)
            self.ledger.finish_job(key, "failed", outcome, utc_now())

    def _finish_group(self, sha: str, key: str, status: str, job: dict[str, Any], *, new: bool) -> None:
        """Summary rows (and quarantine, for failures) of every upload with this content."""
        group = self.groups[sha]
        canonical = job.get("rel_path") or group[0].rel_path
        for e in group:
            dup_of = canonical if e.rel_path != canonical else None
            if status == "done":
                self._row(e, "duplicate" if dup_of else "processed", duplicate_of=dup_of,
                          output_folder=job.get("out_rel"), recorded_utc=(job.get("info") or {}).get("created_utc")
                          or job.get("created_utc"), subject_id_in_file=(job.get("info") or {}).get("subject_id")
                          or job.get("subject_id"), duration_s=job.get("duration_s"), new_this_run=new)
                continue
            record = self.ledger.quarantined(e.rel_path, key)
            if record is None:
                message = job.get("message") or ""
                src = e.path if e.path.is_file() else None
                qrel = quarantine_upload(self.out, rel_path=e.rel_path, source=src, fingerprint=key,
                                         reason=job.get("reason") or "analysis-error", message=message,
                                         detail=job.get("detail") or "", sha256=sha, software=SOFTWARE,
                                         duplicate_of=dup_of)
                self.ledger.add_quarantine(e.rel_path, key, job.get("reason") or "analysis-error", message,
                                           str(qrel), key, self.run_id, utc_now())
                self.counts["quarantined"] += 1
                is_new = True
                if dup_of and not new:
                    self.progress.log(f"quarantined {e.rel_path}: same content as {dup_of}, which failed",
                                      warning=True)
            else:
                qrel, is_new = record["quarantine_rel"], False
            self._row(e, "quarantined", reason=job.get("reason"), message=job.get("message"), duplicate_of=dup_of,
                      quarantine_folder=str(qrel), new_this_run=is_new, duration_s=job.get("duration_s"))

    # ------------------------------------------------------------------ summary
    def finish(self, started: str, runner_description: str) -> NightResult:
        """Write the summary, close the run in the ledger, and return the result."""
        rows = list(self.rows.values())
        metrics: dict[str, SessionMetrics | None] = {}
        for r in rows:
            if r["status"] == "processed":
                m = load_metrics(self.out / r["output_folder"] / "metrics.json")
                metrics[r["rel_path"]] = m
                r.update(findings(m))
        self.counts["duplicates"] = sum(1 for r in rows if r.get("duplicate_of"))
        for r in rows:
            for col in CSV_COLUMNS:
                r.setdefault(col, None)
        add_changes(rows, metrics, self.cfg.change_pct)
        finished = utc_now()
        night = {"run_id": self.run_id, "started_utc": started, "finished_utc": finished, "runner": runner_description,
                 "software": SOFTWARE, "params_json": self.params_json, "inbox": str(self.inbox)}
        totals = {
            **self.counts,
            "sessions_processed_total": sum(1 for r in rows if r["status"] == "processed"),
            "quarantined_total": sum(1 for r in rows if r["status"] == "quarantined"),
        }
        paths = write_summary(self.out, rows, totals, night, change_pct=self.cfg.change_pct, reasons=REASONS)
        self.ledger.finish_run(self.run_id, finished, totals)
        return NightResult(self.run_id, totals, paths["html"], paths["csv"])
