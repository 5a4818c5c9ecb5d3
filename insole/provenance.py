"""Provenance helpers shared by every part that records where a result came from: content hashes and UTC stamps."""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import threading

#: Bytes read at a time when hashing a file (bounded memory for any file size).
HASH_BLOCK_BYTES = 1 << 20


def file_sha256(path: str | os.PathLike[str], block_bytes: int = HASH_BLOCK_BYTES) -> str:
    """Hex SHA-256 of a file's content, read in blocks of ``block_bytes`` (bounded memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(block_bytes):
            h.update(block)
    return h.hexdigest()


#: Slowest hashing rate :meth:`BackgroundSha256.result` waits for (bytes/s; a disk, not the CPU, is the limit).
_SLOWEST_HASH_BYTES_PER_S = 5e6


class BackgroundSha256:
    """:func:`file_sha256` of ``path`` computed in a thread of its own while the caller goes on.

    Reading a file and hashing it release Python's lock, so on a machine with a second core the hash of a long
    recording (0.1-0.2 s for an hour of 99 cells) is done while the analysis runs. :meth:`result` waits for it
    (bounded by the file's size at :data:`_SLOWEST_HASH_BYTES_PER_S`) and raises what hashing raised.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = path
        self._digest: str | None = None
        self._error: OSError | None = None
        self._bound_s = 60.0 + os.path.getsize(path) / _SLOWEST_HASH_BYTES_PER_S
        self._thread = threading.Thread(target=self._run, name="insole-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._digest = file_sha256(self._path)
        except OSError as exc:
            self._error = exc

    def result(self) -> str:
        """The hex SHA-256 (waits for it)."""
        self._thread.join(self._bound_s)
        if self._thread.is_alive():
            raise TimeoutError(f"hashing {self._path} took more than {self._bound_s:.0f} s")
        if self._error is not None:
            raise self._error
        assert self._digest is not None
        return self._digest


def utc_now_iso() -> str:
    """Current UTC time in ISO 8601 to the second, with a ``Z`` suffix (``2026-12-01T08:22:51Z``)."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
