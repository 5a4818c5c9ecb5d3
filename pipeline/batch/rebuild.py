"""A damaged ledger is moved aside and rebuilt from the outputs on disk, so that one bad file cannot stop every night.

The ledger is only an index: everything it must know to avoid processing an upload twice is also written next to
the outputs it describes.

* ``sessions/.../batch.json`` (written by the batch process when a job is done): the job key, content hash,
  software, parameters, canonical upload, output folder, subject and recording time;
* ``quarantine/.../reason.json``: the upload, its reason, the fingerprint of the quarantine record and, for a
  failed job, its key, software and parameters.

:func:`open_ledger` opens the ledger; if it is damaged (:class:`~pipeline.batch.ledger.LedgerDamaged`), it renames
it (with its ``-wal`` and ``-shm`` files) to ``ledger.damaged-<UTC time>.sqlite``, creates a new one and restores
every ``done`` job whose outputs are complete, every failed job and every quarantine record. What cannot be
recovered is re-created by the night itself: the hash cache (uploads are hashed again once), the history of
earlier nights (their summaries stay in ``nights/``), and output folders written before ``batch.json`` existed
(processed again, their outputs replaced).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any

from pipeline.batch.atomic import TEMP_MARK, write_text_atomic
from pipeline.batch.errors import BatchError
from pipeline.batch.ledger import Ledger, LedgerDamaged

#: The record of a done job, in its output folder.
JOB_RECORD = "batch.json"
_JOB_FIELDS = ("job_key", "sha256", "software", "params_json", "rel_path", "out_rel")


def write_job_record(folder: Path, job: dict[str, Any]) -> Path:
    """Write ``batch.json`` (no time stamps: a rerun writes identical bytes) into a done job's output folder."""
    record = {k: job.get(k) for k in (*_JOB_FIELDS, "format", "subject_id", "created_utc")}
    return write_text_atomic(folder / JOB_RECORD, json.dumps(record, indent=2, sort_keys=True) + "\n")


def read_job_record(folder: Path) -> dict[str, Any] | None:
    """The ``batch.json`` of an output folder (None when missing or unusable)."""
    try:
        record = json.loads((folder / JOB_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not all(isinstance(record.get(k), str) for k in _JOB_FIELDS):
        return None
    return record


def _files(root: Path, name: str) -> list[Path]:
    found = []
    for dirpath, _dirs, files in os.walk(root):
        if name in files and TEMP_MARK not in dirpath:
            found.append(Path(dirpath) / name)
    return sorted(found)


def rebuild(ledger: Ledger, out: Path, outputs: tuple[str, ...]) -> dict[str, int]:
    """Restore jobs and quarantine records of output folder ``out`` into an empty ``ledger``.

    Parameters
    ----------
    ledger : Ledger
    out : Path
        The batch output folder.
    outputs : tuple of str
        Files a done job's folder must hold (``pipeline.batch.process.OUTPUT_FILES``).

    Returns
    -------
    dict
        Counts ``done``, ``failed`` and ``quarantine`` of the records restored.
    """
    counts = {"done": 0, "failed": 0, "quarantine": 0}
    done_keys = set()
    for path in _files(out / "sessions", JOB_RECORD):
        record = read_job_record(path.parent)
        if record is None or path.parent != out / record["out_rel"]:
            continue
        if not all((path.parent / f).is_file() for f in outputs):
            continue
        ledger.restore_job({**record, "status": "done"})
        done_keys.add(record["job_key"])
        counts["done"] += 1
    for path in _files(out / "quarantine", "reason.json"):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict) or not record.get("fingerprint") or not record.get("file"):
            continue
        job = record.get("job") if isinstance(record.get("job"), dict) else None
        if job and job.get("job_key") not in done_keys and record.get("sha256"):
            ledger.restore_job({"job_key": job["job_key"], "sha256": record["sha256"], "software": job["software"],
                                "params_json": job["params_json"], "status": "failed", "reason": record.get("reason"),
                                "message": record.get("message"),
                                "rel_path": record.get("duplicate_of") or record["file"]})
            counts["failed"] += 1
        if record.get("copy_error"):  # the copy is missing: let the night quarantine it again
            continue
        ledger.add_quarantine(record["file"], record["fingerprint"], record.get("reason") or "analysis-error",
                              record.get("message") or "", path.parent.relative_to(out).as_posix(),
                              job.get("job_key") if job else None, "rebuilt", "")
        counts["quarantine"] += 1
    return counts


def _move_aside(path: Path) -> Path:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.stem}.damaged-{stamp}-{n}{path.suffix}")
    try:
        for suffix in ("-wal", "-shm"):
            extra = path.with_name(path.name + suffix)
            if extra.exists():
                os.replace(extra, aside.with_name(aside.name + suffix))
        os.replace(path, aside)
    except OSError as exc:
        raise BatchError(f"the ledger {path} is damaged and cannot be moved aside ({exc.strerror or exc}); "
                         "move it away by hand and run again") from None
    return aside


def open_ledger(out: Path, outputs: tuple[str, ...]) -> tuple[Ledger, str | None]:
    """Open ``out/ledger.sqlite``; a damaged one is moved aside and rebuilt (see the module notes).

    Returns
    -------
    (Ledger, str or None)
        The ledger, and a notice for the summary and the log when it was rebuilt.
    """
    path = out / "ledger.sqlite"
    try:
        return Ledger(path), None
    except LedgerDamaged as exc:
        problem = str(exc).removeprefix(f"{path}: ")
    aside = _move_aside(path)
    ledger = Ledger(path)
    c = rebuild(ledger, out, outputs)
    return ledger, (f"the ledger was damaged ({problem}); it was moved to {aside.name} and rebuilt from the outputs "
                    f"on disk: {c['done']} processed job(s), {c['failed']} failed job(s) and {c['quarantine']} "
                    "quarantine record(s) recovered; uploads without a record are processed again")


__all__ = ["JOB_RECORD", "open_ledger", "read_job_record", "rebuild", "write_job_record"]
