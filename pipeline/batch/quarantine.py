"""Quarantine: a copy of each failed upload with a reason file, under ``OUTDIR/quarantine``.

The clinic's original is never moved or deleted (the inbox belongs to the clinic and other tools may watch it);
the batch *copies* the failed upload (atomically) next to ``REASON.txt`` and ``reason.json``, so the morning's
reader has the evidence even if the original is replaced later. Uploads that must not be read at all (symbolic
links leaving the inbox, FIFOs and devices, files above the size limit) get the reason files only.

Layout::

    OUTDIR/quarantine/<clinic>/<subject>/<file name>-<fingerprint[:8]>/
        <file name>      copy of the upload (when it was safe to read)
        REASON.txt       what was wrong and what to do
        reason.json      the same, machine-readable

All names are sanitised (:func:`pipeline.batch.safety.safe_component`). The reason files contain no time stamps
(those are in the ledger), so a rerun produces identical files.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path, PurePosixPath

from insole.provenance import HASH_BLOCK_BYTES
from pipeline.batch.atomic import temp_name, write_text_atomic
from pipeline.batch.identity import UploadChanged, open_regular
from pipeline.batch.process import REASONS
from pipeline.batch.safety import safe_component
from pipeline.batch.text import neutral_text
from pipeline.errors import PipelineError

#: What the clinic can do about each kind of failure.
ADVICE = {
    "unreadable": "Upload the session file again (the copy received is damaged or not an HDF5 session).",
    "invalid-format": "Re-export the session with the recording software; if it persists, send the file to support.",
    "unsafe": "The file was refused for safety. Re-export it from the recorder; do not upload linked or "
    "hand-edited files.",
    "empty": "The recording holds no data: check the insoles were connected and re-record.",
    "not-analysable": "Check that the recording contains walking with the insoles worn; re-record if needed.",
    "conversion": "The importer could not read this file; check it is an export of a supported device.",
    "analysis-error": "A software defect: send this folder to the software maintainers.",
    "memory": "The file needs more memory than allowed; rerun with a larger --max-memory-mb if it is genuine.",
    "timeout": "The file took too long; rerun with a larger --timeout-s and --retry-failed if it is genuine.",
    "crashed": "The worker died on this file; send this folder to the software maintainers.",
}


def quarantine_folder(out_root: Path, rel_path: str, fingerprint: str) -> PurePosixPath:
    """Relative quarantine folder of upload ``rel_path`` (its content/reason ``fingerprint``)."""
    parts = PurePosixPath(rel_path).parts
    clinic = parts[0] if len(parts) >= 2 else "_"
    subject = parts[1] if len(parts) >= 3 else "_"
    name = f"{safe_component(parts[-1])}-{fingerprint[:8]}"
    return PurePosixPath("quarantine", safe_component(clinic), safe_component(subject), name)


class QuarantineCopyError(PipelineError):
    """The copy of a failed upload could not be written into the quarantine (disk full, permissions)."""


def _copy_checked(source: Path, dest: Path, sha256: str | None) -> None:
    """Copy ``source`` to ``dest`` atomically, hashing the bytes copied; they must have ``sha256`` if given."""
    tmp = temp_name(dest)
    digest = hashlib.sha256()
    try:
        try:
            src_file = open_regular(source)
        except FileNotFoundError:
            raise UploadChanged(f"{source} disappeared before it could be copied into the quarantine") from None
        with src_file as src:
            try:
                with open(tmp, "wb") as dst:
                    while block := src.read(HASH_BLOCK_BYTES):
                        digest.update(block)
                        dst.write(block)
                    dst.flush()
                    os.fsync(dst.fileno())
            except OSError as exc:
                raise QuarantineCopyError(f"its copy could not be written into the quarantine "
                                          f"({exc.strerror or exc})") from None
        if sha256 is not None and digest.hexdigest() != sha256:
            raise UploadChanged(f"{source} changed before it could be copied into the quarantine")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def quarantine_upload(
    out_root: Path,
    *,
    rel_path: str,
    source: Path | None,
    fingerprint: str,
    reason: str,
    message: str,
    detail: str = "",
    sha256: str | None = None,
    software: str = "",
    duplicate_of: str | None = None,
    job: dict[str, str] | None = None,
) -> PurePosixPath:
    """Put a copy of a failed upload and its reason files into quarantine; return the folder (relative).

    Parameters
    ----------
    out_root : Path
        The batch output folder.
    rel_path : str
        Upload path relative to the inbox (as uploaded).
    source : Path or None
        The upload to copy; None when it must not be read (the reason files alone are written).
    fingerprint : str
        Identifies this version of the upload (job key or a hash of the refusal).
    reason, message, detail : str
        Reason code, explanation, traceback (for software defects).
    sha256 : str, optional
        Hash of the content that failed; the bytes copied are hashed while copying and must match it.
    job : dict, optional
        ``job_key``, ``software``, ``params_json`` of a failed job, kept in ``reason.json`` so that a damaged
        ledger can be rebuilt from the quarantine (:mod:`pipeline.batch.rebuild`).

    Raises
    ------
    QuarantineCopyError
        The copy could not be written (the reason files were written, saying so).
    pipeline.batch.identity.UploadChanged
        The upload's bytes changed since they failed (nothing is recorded; the upload is processed again).
    OSError
        The reason files themselves could not be written.
    """
    rel = quarantine_folder(out_root, rel_path, fingerprint)
    folder = out_root / rel
    folder.mkdir(parents=True, exist_ok=True)
    copied, copy_error = None, None
    if source is not None:
        dest = folder / safe_component(PurePosixPath(rel_path).name)
        if not dest.exists():
            try:
                _copy_checked(source, dest, sha256)
            except QuarantineCopyError as exc:
                copy_error = exc
        if copy_error is None:
            copied = dest.name
    record = {
        "file": rel_path,
        "reason": reason,
        "reason_meaning": REASONS.get(reason, ""),
        "message": message,
        "what_to_do": ADVICE.get(reason, ""),
        "sha256": sha256,
        "software": software,
        "copy": copied,
        "copy_error": str(copy_error) if copy_error else None,
        "duplicate_of": duplicate_of,
        "fingerprint": fingerprint,
        **({"job": job} if job else {}),
    }
    lines = [
        f"file:        {rel_path}",
        f"reason:      {reason} ({REASONS.get(reason, '')})",
        f"message:     {message}",
    ]
    if duplicate_of:
        lines.append(f"duplicate:   same content as {duplicate_of}")
    lines += [
        f"what to do:  {ADVICE.get(reason, '')}",
        f"sha256:      {sha256 or '(not read)'}",
        f"software:    {software}",
        f"copy:        {copied or copy_error or 'none (the upload was not read, for safety or size)'}",
        "The original upload was left untouched in the inbox.",
    ]
    if detail:
        lines += ["", "details:", *detail.splitlines()]
    write_text_atomic(folder / "REASON.txt", "\n".join(neutral_text(line) for line in lines) + "\n")
    write_text_atomic(folder / "reason.json", json.dumps({**record, "detail": detail}, indent=2, sort_keys=True)
                      + "\n")
    if copy_error is not None:
        raise copy_error
    return rel
