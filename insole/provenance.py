"""Provenance helpers shared by every part that records where a result came from: content hashes and UTC stamps."""

from __future__ import annotations

import datetime as _dt
import hashlib
import os

#: Bytes read at a time when hashing a file (bounded memory for any file size).
HASH_BLOCK_BYTES = 1 << 20


def file_sha256(path: str | os.PathLike[str], block_bytes: int = HASH_BLOCK_BYTES) -> str:
    """Hex SHA-256 of a file's content, read in blocks of ``block_bytes`` (bounded memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(block_bytes):
            h.update(block)
    return h.hexdigest()


def utc_now_iso() -> str:
    """Current UTC time in ISO 8601 to the second, with a ``Z`` suffix (``2026-12-01T08:22:51Z``)."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
