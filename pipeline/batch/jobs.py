"""The work of one night: uploads planned into jobs against the ledger, outcomes recorded, summary rows kept.

:class:`NightJobs` is used by :func:`pipeline.batch.night.run_night`. Every upload found in the inbox ends the night
with exactly one summary row:

``processed`` / ``duplicate``
    outputs exist for its content (this night or earlier);
``quarantined``
    its content failed (a copy and the reason are in ``quarantine/``; not retried unless it changes);
``error``
    something that is not the upload's fault went wrong (outputs or quarantine could not be written, a folder
    cannot be listed, a worker never reported back): nothing is recorded as final, the next run tries again;
``deferred``
    the upload may still be arriving, or it changed (was replaced, rewritten or deleted) while the night ran:
    nothing is stored for it, the next run processes what is there then.

Content is tied to the bytes actually read (:mod:`pipeline.batch.identity`): the night hashes each upload through
one file descriptor and sends the hash and the file status with the task; the worker refuses to write outputs for
bytes that are not those (reason ``changed``), and the night checks the status again before it quarantines.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path
from typing import Any

from insole.provenance import utc_now_iso
from pipeline.analysis import SessionMetrics
from pipeline.batch.discovery import InboxEntry
from pipeline.batch.identity import UploadChanged, UploadIdentity, check_unchanged, read_identity
from pipeline.batch.ledger import Ledger, job_key
from pipeline.batch.process import OUTPUT_FILES, RETRIED
from pipeline.batch.progress import NightProgress
from pipeline.batch.quarantine import QuarantineCopyError, quarantine_upload
from pipeline.batch.rebuild import JOB_RECORD, read_job_record, write_job_record
from pipeline.batch.safety import Limits, safe_component
from pipeline.batch.summary import CSV_COLUMNS, add_changes, findings, load_metrics


def output_folder(entry: InboxEntry, sha256: str) -> str:
    """Relative output folder of an upload: ``sessions/<clinic>/<subject>/<session>-<sha[:8]>`` (sanitised)."""
    return "/".join(("sessions", safe_component(entry.clinic), safe_component(entry.subject),
                     f"{safe_component(entry.session)}-{sha256[:8]}"))


class NightJobs:
    """State of one night (see the module notes).

    Parameters
    ----------
    out : Path
        The output folder.
    ledger : Ledger
    run_id, software, params_json : str
        This night's identity, the software version and the parameters (with the cohort) of its job keys.
    params : dict
        Every analysis parameter (sent to the workers).
    cohort : str
        ``--cohort`` argument for the workers.
    limits : Limits
    retry_failed : bool
    progress : NightProgress
    """

    def __init__(self, out: Path, ledger: Ledger, *, run_id: str, software: str, params_json: str,
                 params: dict[str, Any], cohort: str, limits: Limits, retry_failed: bool,
                 progress: NightProgress) -> None:
        self.out, self.ledger, self.run_id, self.software = out, ledger, run_id, software
        self.params_json, self.params, self.cohort, self.limits = params_json, params, cohort, limits
        self.retry_failed, self.progress = retry_failed, progress
        self.counts = {k: 0 for k in ("discovered", "processed", "unchanged", "duplicates", "quarantined",
                                      "errors", "deferred", "ignored", "retried_outputs_missing")}
        self.rows: dict[str, dict[str, Any]] = {}  # rel_path -> summary row
        self.groups: dict[str, list[InboxEntry]] = {}  # sha256 -> uploads (sorted), first is canonical
        self.identities: dict[str, UploadIdentity] = {}  # rel_path -> what was hashed
        self.tasks: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ rows
    def _row(self, e: InboxEntry, status: str, **kw: Any) -> dict[str, Any]:
        row = {"rel_path": e.rel_path, "clinic": e.clinic, "subject": e.subject, "session": e.session,
               "status": status, "new_this_run": False, **kw}
        self.rows[e.rel_path] = row
        return row

    def _defer(self, e: InboxEntry, message: str) -> None:
        self.counts["deferred"] += 1
        self.progress.log(f"deferred {e.rel_path}: {message}")
        self._row(e, "deferred", message=message, new_this_run=True)

    def _error(self, e: InboxEntry, reason: str, message: str) -> None:
        """A problem that is not the upload's fault: shown, counted, and tried again next run."""
        self.counts["errors"] += 1
        self.progress.log(f"error {e.rel_path}: {message} (retried next run)", warning=True)
        self._row(e, "error", reason=reason, message=message, new_this_run=True)

    def _quarantine(self, e: InboxEntry, fingerprint: str, reason: str, message: str, *, source: Path | None,
                    job_key_: str | None = None, job: dict[str, Any] | None = None,
                    duplicate_of: str | None = None, sha: str | None = None) -> None:
        """Quarantine ``e`` once (the ledger remembers it); a quarantine that cannot be written is an error row."""
        record = self.ledger.quarantined(e.rel_path, fingerprint)
        if record is not None:
            self._row(e, "quarantined", reason=reason, message=message, duplicate_of=duplicate_of,
                      quarantine_folder=record["quarantine_rel"], duration_s=(job or {}).get("duration_s"))
            return
        try:
            qrel = quarantine_upload(
                self.out, rel_path=e.rel_path, source=source, fingerprint=fingerprint, reason=reason,
                message=message, detail=(job or {}).get("detail") or "", sha256=sha, software=self.software,
                duplicate_of=duplicate_of,
                job={"job_key": job_key_, "software": self.software, "params_json": self.params_json}
                if job_key_ else None)
        except UploadChanged as exc:
            self._defer(e, f"{exc}; processed next run")
            return
        except (QuarantineCopyError, OSError) as exc:
            why = exc if isinstance(exc, QuarantineCopyError) else (
                f"the quarantine folder could not be written ({exc.strerror or exc})")
            self._error(e, reason, f"{message}; {why}; retried next run")
            return
        self.ledger.add_quarantine(e.rel_path, fingerprint, reason, message, str(qrel), job_key_, self.run_id,
                                   utc_now_iso())
        self.counts["quarantined"] += 1
        self.progress.log(f"quarantined {e.rel_path}: {message}", warning=True)
        self._row(e, "quarantined", reason=reason, message=message, duplicate_of=duplicate_of,
                  quarantine_folder=str(qrel), new_this_run=True, duration_s=(job or {}).get("duration_s"))

    # ------------------------------------------------------------------ planning
    def plan(self, entries: list[InboxEntry]) -> None:
        """Hash the candidates, decide what to process; refused, inaccessible and recent uploads get their rows."""
        file_rows = []
        by_sha: dict[str, list[InboxEntry]] = defaultdict(list)
        for e in entries:
            if e.kind == "ignored":
                self.counts["ignored"] += 1
                continue
            if e.kind == "deferred":
                self._defer(e, e.reason)
                continue
            if e.kind == "inaccessible":
                self._error(e, "inaccessible", e.reason)
                continue
            self.counts["discovered"] += 1
            if e.kind == "refused":
                self._refuse(e, e.reason, "")
                continue
            identity = self._identify(e)
            if identity is None:
                continue
            self.identities[e.rel_path] = identity
            file_rows.append({"rel_path": e.rel_path, "size": identity.size, "mtime_ns": identity.mtime_ns,
                              "inode": identity.inode, "ctime_ns": identity.ctime_ns, "sha256": identity.sha256,
                              "format": e.format})
            by_sha[identity.sha256].append(e)
        self.ledger.record_files(file_rows, self.run_id, utc_now_iso())
        for sha, group in sorted(by_sha.items(), key=lambda kv: min(e.rel_path for e in kv[1])):
            self._plan_group(sha, sorted(group, key=lambda e: e.rel_path))

    def _refuse(self, e: InboxEntry, message: str, extra: str) -> None:
        fp = hashlib.sha256(f"{e.rel_path}|{message}|{extra}".encode()).hexdigest()
        self._quarantine(e, fp, "unsafe", message, source=None)

    def _identify(self, e: InboxEntry) -> UploadIdentity | None:
        """Hash of the upload as read now (None: it got a row or vanished)."""
        max_bytes = self.limits.max_file_mb * 2**20
        try:
            size = e.path.stat().st_size
            if size > max_bytes:
                self._refuse(e, f"file is {size / 2**20:.1f} MB, above the limit of {self.limits.max_file_mb:g} MB; "
                             "not read", str(size))
                return None
            identity = read_identity(e.path, known=self.ledger.cached_identity(e.rel_path))
        except FileNotFoundError:
            self.progress.log(f"{e.rel_path} disappeared from the inbox while the night was planned")
            return None
        except UploadChanged as exc:
            self._defer(e, f"{exc}; next run")
            return None
        except OSError as exc:
            self._error(e, "inaccessible", f"cannot be read ({exc.strerror or exc}); let the batch user read it")
            return None
        if identity.size > max_bytes:
            self._refuse(e, f"file is {identity.size / 2**20:.1f} MB, above the limit of "
                         f"{self.limits.max_file_mb:g} MB", str(identity.size))
            return None
        return identity

    def _outputs_ok(self, out_rel: str, sha: str, key: str, job: Any) -> bool:
        """Complete outputs that belong to this job (``batch.json`` says so; written now for older folders)."""
        folder = self.out / out_rel
        if not all((folder / f).is_file() for f in OUTPUT_FILES):
            return False
        record = read_job_record(folder)
        if record is not None:
            return record["sha256"] == sha and record["job_key"] == key
        metrics = load_metrics(folder / "metrics.json")  # a folder from before batch.json: check what it holds
        if metrics is None or metrics.provenance.input_sha256 != sha:
            return False
        try:
            write_job_record(folder, {**dict(job), "out_rel": out_rel})
        except OSError:
            pass  # written another night
        return True

    def _plan_group(self, sha: str, group: list[InboxEntry]) -> None:
        key = job_key(sha, self.software, self.params_json)
        job = self.ledger.job(key)
        if job is not None and job["rel_path"] in [e.rel_path for e in group]:
            group.sort(key=lambda e: (e.rel_path != job["rel_path"], e.rel_path))
        canonical = group[0]
        self.groups[sha] = group
        out_rel = job["out_rel"] if job is not None and job["out_rel"] else output_folder(canonical, sha)
        if job is not None and job["status"] == "done" and self._outputs_ok(out_rel, sha, key, job):
            self.counts["unchanged"] += 1
            self._finish_group(sha, key, "done", dict(job), new=False)
            return
        if job is not None and job["status"] == "failed" and not self.retry_failed:
            self._finish_group(sha, key, "failed", dict(job), new=False)
            return
        if job is not None and job["status"] == "done":
            self.counts["retried_outputs_missing"] += 1
            self.progress.log(f"outputs of {canonical.rel_path} are missing in {out_rel}: processing again",
                              warning=True)
        self.tasks.append({
            "job_key": key, "sha256": sha, "software": self.software, "params_json": self.params_json,
            "rel_path": canonical.rel_path, "format": canonical.format, "out_rel": out_rel,
            "path": str(canonical.path), "out_dir": str(self.out / out_rel), "params": self.params,
            "cohort": self.cohort, "limits": self.limits.to_dict(),
            "identity": self.identities[canonical.rel_path].to_dict(),
        })

    # ------------------------------------------------------------------ processing
    def execute(self, runner: Any) -> None:
        """Run the planned tasks and record each outcome as it arrives."""
        if not self.tasks:
            self.progress.log("nothing new to process")
            return
        self.ledger.mark_running(self.tasks, self.run_id, utc_now_iso())
        self.progress.log(f"processing {len(self.tasks)} upload(s)")
        self.progress.start(len(self.tasks))
        try:
            for task, outcome in runner.run(self.tasks):
                self._record(task, outcome)
        finally:
            self.progress.stop()

    def _checked(self, task: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
        """The outcome, corrected when outputs are missing or when the upload changed under a failure."""
        out_dir = self.out / task["out_rel"]
        if outcome.get("ok"):
            if not all((out_dir / f).is_file() for f in OUTPUT_FILES):
                return {**outcome, "ok": False, "reason": "output-error",
                        "message": f"the worker reported success but outputs are missing in {task['out_rel']}"}
            try:
                write_job_record(out_dir, {**task, **(outcome.get("info") or {})})
            except OSError as exc:
                return {**outcome, "ok": False, "reason": "output-error",
                        "message": f"{task['rel_path']}: cannot write the outputs (batch.json: {exc.strerror or exc})"}
            return outcome
        if outcome.get("reason") in RETRIED:
            return outcome
        try:  # e.g. a crash or a timeout while the file was being replaced: not this content's failure
            check_unchanged(Path(task["path"]), UploadIdentity.from_dict(task["identity"]), "while it was processed")
        except UploadChanged as exc:
            return {**outcome, "reason": "changed", "message": f"{task['rel_path']}: {exc}; processed next run",
                    "detail": ""}
        return outcome

    def _record(self, task: dict[str, Any], outcome: dict[str, Any]) -> None:
        key, sha, rel = task["job_key"], task["sha256"], task["rel_path"]
        outcome = self._checked(task, outcome)
        out_dir = self.out / task["out_rel"]
        reason, message, dur = outcome.get("reason"), outcome.get("message") or "", outcome.get("duration_s") or 0.0
        if outcome.get("ok"):
            self.ledger.finish_job(key, "done", outcome, utc_now_iso())
            self.counts["processed"] += 1
            self.progress.advance(f"done {rel} ({dur:.1f} s)")
            self._finish_group(sha, key, "done", {**task, **outcome, "status": "done"}, new=True)
            return
        self.progress.advance(f"{'deferred' if reason == 'changed' else 'failed'} {rel}: {reason}: {message}",
                              warning=reason != "changed")
        if reason not in ("changed", "worker-lost"):  # (those wrote nothing, or may still be writing)
            for f in (*OUTPUT_FILES, JOB_RECORD):  # never leave a mix of outputs, or outputs of a failure, behind
                (out_dir / f).unlink(missing_ok=True)
            if out_dir.is_dir() and not any(out_dir.iterdir()):
                out_dir.rmdir()
        if reason in RETRIED:
            self.ledger.finish_job(key, "error", outcome, utc_now_iso())
            if reason == "changed":
                self.ledger.forget_file(rel)
            for e in self.groups[sha]:
                if reason == "changed":
                    self._defer(e, message if e.rel_path == rel else f"its copy {rel} changed; processed next run")
                else:
                    self._error(e, reason, message)
            return
        self._finish_group(sha, key, "failed", {**task, **outcome, "status": "failed"}, new=True)
        self.ledger.finish_job(key, "failed", outcome, utc_now_iso())

    def _finish_group(self, sha: str, key: str, status: str, job: dict[str, Any], *, new: bool) -> None:
        """Summary rows (and quarantine, for failures) of every upload with this content."""
        group = self.groups[sha]
        canonical = job.get("rel_path") or group[0].rel_path
        for e in group:
            dup_of = canonical if e.rel_path != canonical else None
            if status == "done":
                info = job.get("info") or {}
                if e.reason and new:
                    self.progress.log(f"{e.rel_path}: {e.reason}", warning=True)
                self._row(e, "duplicate" if dup_of else "processed", duplicate_of=dup_of, message=e.reason or None,
                          output_folder=job.get("out_rel"), recorded_utc=info.get("created_utc")
                          or job.get("created_utc"), subject_id_in_file=info.get("subject_id")
                          or job.get("subject_id"), duration_s=job.get("duration_s"), new_this_run=new)
                continue
            if dup_of and not new and self.ledger.quarantined(e.rel_path, key) is None:
                self.progress.log(f"{e.rel_path}: same content as {dup_of}, which failed", warning=True)
            self._quarantine(e, key, job.get("reason") or "analysis-error", job.get("message") or "",
                             source=e.path if e.path.is_file() else None, job_key_=key, job=job,
                             duplicate_of=dup_of, sha=sha)

    # ------------------------------------------------------------------ summary
    def summary_rows(self, change_pct: float) -> list[dict[str, Any]]:
        """Every row, with findings and changes filled in (metrics read from each processed folder)."""
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
        add_changes(rows, metrics, change_pct)
        return rows


__all__ = ["NightJobs", "output_folder"]
