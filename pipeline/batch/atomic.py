"""Atomic file output: write under a temporary name in the destination folder, then ``os.replace``.

A reader (or a restarted batch) therefore sees either the previous file or the complete new one, never a
half-written file. Temporary names start with ``.`` and contain ``.tmp-`` so :func:`remove_stale_temps` can clean
up what a killed run left behind.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

TEMP_MARK = ".tmp-"


def temp_name(final: Path) -> Path:
    """A unique temporary sibling of ``final`` (same folder, hence same file system)."""
    return final.with_name(f".{final.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes_atomic(final: Path, data: bytes) -> Path:
    """Write ``data`` to ``final`` atomically."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def write_text_atomic(final: Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``final`` atomically."""
    return write_bytes_atomic(final, text.encode("utf-8"))


def write_with_atomic(final: Path, writer: Callable[[Path], object]) -> Path:
    """Let ``writer(tmp_path)`` create the file, then move it to ``final`` atomically."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    try:
        written = writer(tmp)
        src = Path(written) if isinstance(written, str | os.PathLike) else tmp
        _fsync(src)
        os.replace(src, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def remove_stale_temps(root: Path) -> int:
    """Delete temporary files left under ``root`` by a killed run; returns how many."""
    n = 0
    if not root.is_dir():
        return 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if name.startswith(".") and TEMP_MARK in name:
                Path(dirpath, name).unlink(missing_ok=True)
                n += 1
    return n
