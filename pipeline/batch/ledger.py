"""The batch ledger: an embedded SQLite database in the output folder (``OUTDIR/ledger.sqlite``).

A *job* is one piece of content processed by one software version with one parameter set; its key is
``sha256(content sha256 | software | parameters JSON)``. A rerun therefore skips unchanged content, and
reprocesses everything when the software version or the parameters change. Several uploads with the same
content (duplicates under different names) share one job.

Tables
------
``files``       every upload seen: relative path, size, mtime, inode, status-change time, content sha256 (a hash
                cache: a file whose size, mtime, inode and ctime are unchanged is not hashed again; ctime changes on
                every write and cannot be set by upload tools), format, first/last seen.
``jobs``        one row per job: status (``running`` / ``done`` / ``failed`` / ``error``), reason code, message,
                duration, attempts, canonical upload, output folder, subject, recording time, run id.
``quarantine``  every quarantined upload (path + fingerprint): reason, folder in ``OUTDIR/quarantine``.
``runs``        one row per night: start, end, options, counts.

Every change is a short transaction in WAL mode, so killing the batch at any moment leaves the ledger
consistent: a job is ``done`` only after its outputs were renamed into place, so at worst a file is processed
again. A ledger damaged on disk (truncated, overwritten) is detected when it is opened (:class:`LedgerDamaged`);
:mod:`pipeline.batch.rebuild` then moves it aside and rebuilds it from the outputs.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    rel_path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, inode INTEGER, sha256 TEXT, format TEXT,
    first_seen_utc TEXT, last_seen_run TEXT, ctime_ns INTEGER);
CREATE INDEX IF NOT EXISTS files_sha ON files (sha256);
CREATE TABLE IF NOT EXISTS jobs (
    job_key TEXT PRIMARY KEY, sha256 TEXT NOT NULL, software TEXT NOT NULL, params_json TEXT NOT NULL,
    rel_path TEXT NOT NULL, format TEXT, out_rel TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'error')),
    reason TEXT, message TEXT, detail TEXT, duration_s REAL, attempts INTEGER NOT NULL DEFAULT 0,
    started_utc TEXT, finished_utc TEXT, run_id TEXT, subject_id TEXT, created_utc TEXT);
CREATE INDEX IF NOT EXISTS jobs_sha ON jobs (sha256);
CREATE TABLE IF NOT EXISTS quarantine (
    rel_path TEXT NOT NULL, fingerprint TEXT NOT NULL, reason TEXT NOT NULL, message TEXT,
    quarantine_rel TEXT, job_key TEXT, run_id TEXT, utc TEXT, PRIMARY KEY (rel_path, fingerprint));
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started_utc TEXT, finished_utc TEXT, options_json TEXT, counts_json TEXT);
"""


class LedgerDamaged(PipelineError):
    """The ledger file is not a consistent SQLite database (truncated, overwritten, corrupted)."""


def _damaged(exc: sqlite3.Error) -> bool:
    """True for SQLite errors that mean a damaged file (not a lock, a permission or a full disk)."""
    text = str(exc).lower()
    if isinstance(exc, sqlite3.OperationalError):
        return any(k in text for k in ("malformed", "not a database", "corrupt"))
    return isinstance(exc, sqlite3.DatabaseError)


def job_key(sha256: str, software: str, params_json: str) -> str:
    """Ledger key of processing content ``sha256`` with ``software`` and parameters ``params_json``."""
    return hashlib.sha256(f"{sha256}|{software}|{params_json}".encode()).hexdigest()


class Ledger:
    """The SQLite ledger of one output folder.

    Parameters
    ----------
    path : Path
        Database file (created with its tables if absent).
    """

    #: Seconds SQLite waits for a lock held by another connection before it gives up ("database is locked").
    BUSY_TIMEOUT_S = 60.0

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, timeout=self.BUSY_TIMEOUT_S, isolation_level=None)
        try:
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            problems = [r[0] for r in self.db.execute("PRAGMA quick_check").fetchall()]
            if problems != ["ok"]:
                raise LedgerDamaged(f"{path}: {'; '.join(map(str, problems[:3]))}")
            with self.transaction():
                for stmt in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                    self.db.execute(stmt)
                columns = {r[1] for r in self.db.execute("PRAGMA table_info(files)")}
                if "ctime_ns" not in columns:  # schema 1: no ctime in the hash cache (old rows never match)
                    self.db.execute("ALTER TABLE files ADD COLUMN ctime_ns INTEGER")
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.Error as exc:
            self.db.close()
            if _damaged(exc):
                raise LedgerDamaged(f"{path}: {exc}") from None
            raise
        except LedgerDamaged:
            self.db.close()
            raise

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on error)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    # ------------------------------------------------------------------ files
    def cached_sha256(self, rel_path: str, size: int, mtime_ns: int, inode: int, ctime_ns: int) -> str | None:
        """The recorded hash of ``rel_path`` if its size, mtime, inode and ctime are unchanged."""
        row = self.db.execute(
            "SELECT sha256 FROM files WHERE rel_path=? AND size=? AND mtime_ns=? AND inode=? AND ctime_ns=?",
            (rel_path, size, mtime_ns, inode, ctime_ns),
        ).fetchone()
        return row["sha256"] if row else None

    def cached_identity(self, rel_path: str) -> tuple[tuple[int, int, int, int], str] | None:
        """``((size, mtime_ns, inode, ctime_ns), sha256)`` recorded for ``rel_path`` (the hash cache)."""
        row = self.db.execute("SELECT size, mtime_ns, inode, ctime_ns, sha256 FROM files WHERE rel_path=?",
                              (rel_path,)).fetchone()
        if row is None or row["ctime_ns"] is None:
            return None
        return (row["size"], row["mtime_ns"], row["inode"], row["ctime_ns"]), row["sha256"]

    def forget_file(self, rel_path: str) -> None:
        """Drop the cached hash of ``rel_path`` (its content changed while the night ran)."""
        with self.transaction() as db:
            db.execute("DELETE FROM files WHERE rel_path=?", (rel_path,))

    def record_files(self, rows: Iterable[dict[str, Any]], run_id: str, utc: str) -> None:
        """Insert or update the uploads seen this run."""
        with self.transaction() as db:
            for r in rows:
                db.execute(
                    "INSERT INTO files VALUES (:rel_path, :size, :mtime_ns, :inode, :sha256, :format, :utc, :run, "
                    ":ctime_ns) ON CONFLICT(rel_path) DO UPDATE SET size=excluded.size, mtime_ns=excluded.mtime_ns, "
                    "inode=excluded.inode, sha256=excluded.sha256, format=excluded.format, "
                    "last_seen_run=excluded.last_seen_run, ctime_ns=excluded.ctime_ns",
                    {**r, "utc": utc, "run": run_id},
                )

    # ------------------------------------------------------------------ jobs
    def job(self, key: str) -> sqlite3.Row | None:
        """The job row of ``key`` (None if never seen)."""
        return self.db.execute("SELECT * FROM jobs WHERE job_key=?", (key,)).fetchone()

    def mark_running(self, jobs: Iterable[dict[str, Any]], run_id: str, utc: str) -> None:
        """Record that these jobs start now (one transaction)."""
        with self.transaction() as db:
            for j in jobs:
                db.execute(
                    "INSERT INTO jobs (job_key, sha256, software, params_json, rel_path, format, out_rel, status, "
                    "attempts, started_utc, run_id) VALUES (:job_key, :sha256, :software, :params_json, :rel_path, "
                    ":format, :out_rel, 'running', 1, :utc, :run_id) ON CONFLICT(job_key) DO UPDATE SET "
                    "status='running', attempts=attempts+1, started_utc=:utc, run_id=:run_id, "
                    "rel_path=excluded.rel_path, out_rel=excluded.out_rel, reason=NULL, message=NULL, detail=NULL",
                    {**j, "utc": utc, "run_id": run_id},
                )

    def finish_job(self, key: str, status: str, outcome: dict[str, Any], utc: str) -> None:
        """Record the end of a job: ``done``, ``failed`` (quarantined) or ``error`` (retried next run)."""
        info = outcome.get("info") or {}
        with self.transaction() as db:
            db.execute(
                "UPDATE jobs SET status=?, reason=?, message=?, detail=?, duration_s=?, finished_utc=?, "
                "subject_id=?, created_utc=? WHERE job_key=?",
                (status, outcome.get("reason") or None, outcome.get("message") or None,
                 outcome.get("detail") or None, outcome.get("duration_s"), utc, info.get("subject_id"),
                 info.get("created_utc"), key),
            )

    def restore_job(self, job: dict[str, Any]) -> None:
        """Insert a ``done`` or ``failed`` job recovered from the outputs (:mod:`pipeline.batch.rebuild`)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO jobs (job_key, sha256, software, params_json, rel_path, format, out_rel, "
                "status, reason, message, attempts, run_id, subject_id, created_utc) VALUES (:job_key, :sha256, "
                ":software, :params_json, :rel_path, :format, :out_rel, :status, :reason, :message, 1, 'rebuilt', "
                ":subject_id, :created_utc)",
                {"format": None, "out_rel": None, "reason": None, "message": None, "subject_id": None,
                 "created_utc": None, **job},
            )

    def jobs_for(self, software: str, params_json: str) -> list[sqlite3.Row]:
        """Every job of this software version and parameter set."""
        return self.db.execute(
            "SELECT * FROM jobs WHERE software=? AND params_json=? ORDER BY rel_path", (software, params_json)
        ).fetchall()

    # ------------------------------------------------------------------ quarantine
    def quarantined(self, rel_path: str, fingerprint: str) -> sqlite3.Row | None:
        """The quarantine record of this upload version, if any."""
        return self.db.execute(
            "SELECT * FROM quarantine WHERE rel_path=? AND fingerprint=?", (rel_path, fingerprint)
        ).fetchone()

    def add_quarantine(self, rel_path: str, fingerprint: str, reason: str, message: str, quarantine_rel: str,
                       job_key: str | None, run_id: str, utc: str) -> None:
        """Record a quarantined upload."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (rel_path, fingerprint, reason, message, quarantine_rel, job_key, run_id, utc),
            )

    # ------------------------------------------------------------------ runs
    def start_run(self, run_id: str, utc: str, options: dict[str, Any]) -> None:
        """Record the start of a night."""
        with self.transaction() as db:
            db.execute("INSERT INTO runs (run_id, started_utc, options_json) VALUES (?, ?, ?)",
                       (run_id, utc, json.dumps(options, sort_keys=True)))

    def finish_run(self, run_id: str, utc: str, counts: dict[str, Any]) -> None:
        """Record the end of a night and its counts."""
        with self.transaction() as db:
            db.execute("UPDATE runs SET finished_utc=?, counts_json=? WHERE run_id=?",
                       (utc, json.dumps(counts, sort_keys=True), run_id))
