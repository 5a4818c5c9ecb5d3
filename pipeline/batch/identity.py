"""What an upload *is*: the SHA-256 of the bytes actually read, and the file status that vouches for them since.

The night hashes an upload when it plans, and a worker reads it later; a clinic may replace, rewrite or delete
the file in between. Every piece of content the batch stores is therefore tied to bytes it read itself:

* :func:`read_identity` hashes an upload through one open file descriptor and takes the status of that same
  descriptor before and after reading (``fstat``): size, modification time, inode and status-change time
  (``ctime``, set by the kernel on every write, rename or ``utime``, and which upload tools cannot set). If the
  two differ, the file changed while it was read;
* :func:`check_unchanged` compares the file's status now with the identity: equal status means the same,
  unmodified inode is still under that name, so its bytes still have the hash (a worker checks it before it
  reads and again before it writes any output);
* files are opened non-blocking and must be regular files, so a FIFO swapped in after discovery cannot block the
  night.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from insole.provenance import HASH_BLOCK_BYTES
from pipeline.errors import PipelineError


class UploadChanged(PipelineError):
    """An upload is not (or no longer) the content it was planned with: replaced, rewritten or deleted."""


@dataclass(frozen=True)
class UploadIdentity:
    """Content hash and file status of an upload as it was read.

    Attributes
    ----------
    sha256 : str
        Hex SHA-256 of the bytes read.
    size : int
    mtime_ns, ctime_ns : int
        Modification and status-change times (ns).
    inode : int
    """

    sha256: str
    size: int
    mtime_ns: int
    inode: int
    ctime_ns: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (sent to workers)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UploadIdentity:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: data[k] for k in ("sha256", "size", "mtime_ns", "inode", "ctime_ns")})


def status_of(st: os.stat_result) -> tuple[int, int, int, int]:
    """``(size, mtime_ns, inode, ctime_ns)`` of a stat result."""
    return st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns


def open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for reading without blocking on a FIFO or device; it must be a regular file.

    Raises
    ------
    UploadChanged
        ``path`` is no longer a regular file.
    OSError
        It cannot be opened (missing: ``FileNotFoundError``).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UploadChanged(f"{path} is no longer a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_identity(path: Path, *, known: tuple[tuple[int, int, int, int], str] | None = None) -> UploadIdentity:
    """Hash ``path`` and take its status before and after reading, through one descriptor.

    Parameters
    ----------
    path : Path
    known : ((size, mtime_ns, inode, ctime_ns), sha256), optional
        A hash recorded earlier with its status (the ledger's hash cache): when the status is unchanged, the file
        is not read again.

    Raises
    ------
    UploadChanged
        The file changed while it was read, or is not a regular file.
    OSError
        It cannot be read.
    """
    with open_regular(path) as fh:
        before = status_of(os.fstat(fh.fileno()))
        if known is not None and known[0] == before:
            return UploadIdentity(known[1], *before)
        digest = hashlib.sha256()
        while block := fh.read(HASH_BLOCK_BYTES):
            digest.update(block)
        after = status_of(os.fstat(fh.fileno()))
    if after != before:
        raise UploadChanged(f"{path} changed while it was read (upload still in progress?)")
    return UploadIdentity(digest.hexdigest(), *before)


def check_unchanged(path: Path, identity: UploadIdentity, when: str) -> None:
    """Raise :class:`UploadChanged` unless ``path`` still has the status recorded in ``identity``.

    ``when`` says at which step (``"before reading"``, ``"before writing the outputs"``) for the message.
    """
    try:
        now = status_of(os.stat(path))
    except FileNotFoundError:
        raise UploadChanged(f"the upload disappeared from the inbox {when}") from None
    except OSError as exc:
        raise UploadChanged(f"the upload can no longer be examined {when} ({exc.strerror or exc})") from None
    if now != (identity.size, identity.mtime_ns, identity.inode, identity.ctime_ns):
        raise UploadChanged(f"the upload changed in the inbox {when} (replaced or modified)")


__all__ = ["UploadChanged", "UploadIdentity", "check_unchanged", "open_regular", "read_identity", "status_of"]
