"""Importers: third-party recordings -> the open session format.

One module per source format; this registry maps the format names of ``insole import FORMAT`` to them.

>>> from insole.importers import import_recording
>>> import_recording("gaitpdb", "GaCo01_01.txt", "GaCo01_01.h5")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from insole.errors import ImportSourceError
from insole.importers import gaitndd, gaitpdb, generic_csv, moticon
from insole.importers.recording import IMPORTER_VERSION, ImportedFoot, ImportedRecording, write_recording
from insole.session import SessionMetadata


@dataclass(frozen=True)
class ImportFormat:
    """A supported source format: its name, a one-line description, a reader and a sniffer."""

    name: str
    summary: str
    read: Callable[..., ImportedRecording]
    sniff: Callable[[Path], bool]


FORMATS: dict[str, ImportFormat] = {
    f.name: f
    for f in (
        ImportFormat("gaitndd", "PhysioNet gaitndd record (.hea + .let/.rit, WFDB format 212, 300 Hz)",
                     gaitndd.read, gaitndd.sniff),
        ImportFormat("gaitpdb", "PhysioNet gaitpdb walk (.txt, 8 force sensors per foot in N, 100 Hz)",
                     gaitpdb.read, gaitpdb.sniff),
        ImportFormat("moticon", "Moticon OpenGo text export (16 cells + IMU per foot, N/cm2, 100 Hz)",
                     moticon.read, moticon.sniff),
        ImportFormat("csv", "generic insole CSV (docs/import-csv.md)", generic_csv.read, generic_csv.sniff),
    )
}


def detect_format(path: str | os.PathLike[str]) -> str | None:
    """Name of the format ``path`` looks like, or None."""
    p = Path(path)
    for fmt in FORMATS.values():
        try:
            if fmt.sniff(p):
                return fmt.name
        except (OSError, UnicodeDecodeError, ValueError):
            continue
    return None


def read_recording(
    fmt: str, src: str | os.PathLike[str], *, foot_length_mm: float | None = None
) -> ImportedRecording:
    """Parse ``src`` as format ``fmt``; when that fails and the file looks like another format, say so.

    ``foot_length_mm`` (given by the user) scales the sensor layout instead of the importer's estimate.
    """
    if fmt == "auto":
        guess = detect_format(src)
        if guess is None:
            raise ImportSourceError(str(src), "format not recognised; name it: insole import "
                                    f"{{{','.join(FORMATS)}}} {src} -o FILE.h5")
        fmt = guess
    if fmt not in FORMATS:
        raise ImportSourceError(str(src), f"unknown import format {fmt!r}; choose one of {', '.join(FORMATS)}")
    try:
        return FORMATS[fmt].read(src, foot_length_mm=foot_length_mm)
    except ImportSourceError as exc:
        guess = detect_format(src)
        if guess and guess != fmt:
            raise ImportSourceError(exc.path, f"{exc.problem}. It looks like a {guess} file: "
                                    f"try 'insole import {guess} {src}'") from None
        raise


def import_recording(
    fmt: str,
    src: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    metadata: SessionMetadata | None = None,
    overwrite: bool = False,
) -> Path:
    """Import ``src`` (format ``fmt``) into the session file ``output`` and return its path.

    Raises
    ------
    ImportSourceError
        The source is missing, truncated, of another format, or has unknown columns; the message names the file.
    SessionExistsError
        ``output`` exists and ``overwrite`` is false.
    """
    rec = read_recording(fmt, src, foot_length_mm=metadata.foot_length_mm if metadata else None)
    return write_recording(rec, output, metadata=metadata, overwrite=overwrite)


__all__ = [
    "FORMATS",
    "IMPORTER_VERSION",
    "ImportFormat",
    "ImportedFoot",
    "ImportedRecording",
    "detect_format",
    "import_recording",
    "read_recording",
    "write_recording",
]
