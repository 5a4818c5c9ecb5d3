"""Follow-up pages of the nightly batch: one ``history.html`` (and ``history.json``) per subject folder.

After the night's summary rows are known, every subject folder of the inbox (``<clinic>/<subject>``) with at
least two processed sessions gets ``sessions/<clinic>/<subject>/history.html``: the follow-up across visits of
:mod:`pipeline.report.history`, drawn from each session's stored ``metrics.json`` and ``steps.csv`` (nothing is
analysed again), with a link to each visit's ``report.html`` and the subject's failed uploads listed with their
reason. The summary links each subject's latest session to its page.

Reproducible and idempotent: a page holds no generation time, and ``history.json`` keeps ``inputs_sha256``, a
digest of the subject's job keys (content hash, software version and parameters, from each ``batch.json``) and
failed uploads; a page whose inputs did not change is neither rebuilt nor rewritten, and a rebuilt page whose bytes
are unchanged is not rewritten either.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path, PurePosixPath
from typing import Any

from pipeline.batch.atomic import write_text_atomic
from pipeline.batch.rebuild import read_job_record
from pipeline.batch.text import neutral_text
from pipeline.report.history import SCHEMA_VERSION, build_history, history_json_text, render_history_html
from pipeline.report.history_inputs import FailedVisit, HistoryError, Visit, visit_from_outputs

HISTORY_PAGE = "history.html"
HISTORY_JSON = "history.json"
#: Processed sessions a subject needs for a follow-up page.
MIN_VISITS = 2


def _fingerprint(out: Path, processed: list[dict[str, Any]], failed: list[dict[str, Any]]) -> str:
    parts = [f"history schema {SCHEMA_VERSION}"]
    for r in sorted(processed, key=lambda r: r["output_folder"]):
        record = read_job_record(out / r["output_folder"]) or {}
        parts.append(f"{r['output_folder']}|{record.get('job_key')}")
    parts.extend(f"failed|{r['rel_path']}|{r.get('reason')}|{r.get('message')}" for r in
                 sorted(failed, key=lambda r: r["rel_path"]))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _stored_fingerprint(path: Path) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("inputs_sha256")
    except (OSError, ValueError, AttributeError):
        return None


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    write_text_atomic(path, text)


def _subject_page(out: Path, processed: list[dict[str, Any]], failed: list[dict[str, Any]]) -> tuple[str, str]:
    """Write (or keep) one subject's page; returns (page path relative to ``out``, problem or "")."""
    folder = PurePosixPath(processed[0]["output_folder"]).parent
    page, twin = out / folder / HISTORY_PAGE, out / folder / HISTORY_JSON
    rel = (folder / HISTORY_PAGE).as_posix()
    digest = _fingerprint(out, processed, failed)
    if page.is_file() and _stored_fingerprint(twin) == digest:
        return rel, ""
    visits: list[Visit] = []
    broken: list[FailedVisit] = []
    for r in processed:
        loaded = visit_from_outputs(out / r["output_folder"], neutral_text(r["rel_path"]),
                                    f"{PurePosixPath(r['output_folder']).name}/report.html")
        (visits if isinstance(loaded, Visit) else broken).append(loaded)
    broken += [FailedVisit(neutral_text(r["rel_path"]), neutral_text(f"{r.get('reason') or r['status']}: "
                                                                      f"{r.get('message') or ''}".rstrip(": ")))
               for r in failed]
    try:
        doc = build_history(visits, broken, timestamped=False)
    except HistoryError as exc:
        return "", f"follow-up not drawn: {exc}"
    doc["inputs_sha256"] = digest
    _write_if_changed(page, render_history_html(doc))
    _write_if_changed(twin, history_json_text(doc))
    return rel, ""


def write_history_pages(out: Path, rows: list[dict[str, Any]]) -> None:
    """Write the follow-up page of every subject with :data:`MIN_VISITS` processed sessions; set
    ``history_page`` (relative to ``out``) or ``history_problem`` on each of the subject's rows (in place)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["clinic"], r["subject"])].append(r)
    for group in groups.values():
        processed = [r for r in group if r["status"] == "processed" and r.get("output_folder")]
        if len(processed) < MIN_VISITS:
            continue
        failed = [r for r in group if r["status"] in ("quarantined", "error")]
        try:
            rel, problem = _subject_page(out, processed, failed)
        except OSError as exc:  # the page is a convenience: the night goes on, the summary says why
            rel, problem = "", f"follow-up page could not be written ({exc.strerror or exc})"
        for r in group:
            r["history_page"], r["history_problem"] = rel or None, problem or None
