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
from insole.importers import fscan, gaitndd, gaitpdb, generic_csv, moticon, pedar, stappone, xsensor
from insole.importers.recording import IMPORTER_VERSION, ImportedFoot, ImportedRecording, write_recording
from insole.session import SessionMetadata


@dataclass(frozen=True)
class ImportFormat:
    """A supported source format: its name, a one-line description, a reader, a sniffer and its extra options.

    ``options`` names the keyword arguments the reader takes besides ``foot_length_mm`` (``side``: which foot a
    one-foot file is; ``pair``: the other foot's file).
    """

    name: str
    summary: str
    read: Callable[..., ImportedRecording]
    sniff: Callable[[Path], bool]
    options: tuple[str, ...] = ()


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
        ImportFormat("pedar", "novel pedar ASCII export (.asc, 99 cells per foot, kPa)", pedar.read, pedar.sniff),
        ImportFormat("fscan", "Tekscan F-Scan ASCII movie (.asf, one foot per file; the L/R sibling is paired)",
                     fscan.read, fscan.sniff, ("side", "pair")),
        ImportFormat("xsensor", "XSENSOR Foot CSV export (both feet, sensel matrix, mmHg)", xsensor.read,
                     xsensor.sniff),
        ImportFormat("stappone", "stappone insole CSV (one sole, 12 raw channels, IMU)", stappone.read,
                     stappone.sniff, ("side",)),
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
    fmt: str, src: str | os.PathLike[str], *, foot_length_mm: float | None = None, **options: object
) -> ImportedRecording:
    """Parse ``src`` as format ``fmt``; when that fails and the file looks like another format, say so.

    ``foot_length_mm`` (given by the user) scales the sensor layout instead of the importer's estimate.
    ``options`` (``side``, ``pair``) go to the formats that take them (:attr:`ImportFormat.options`); None values
    are dropped.
    """
    if fmt == "auto":
        guess = detect_format(src)
        if guess is None:
            raise ImportSourceError(str(src), "format not recognised; name it: insole import "
                                    f"{{{','.join(FORMATS)}}} {src} -o FILE.h5")
        fmt = guess
    if fmt not in FORMATS:
        raise ImportSourceError(str(src), f"unknown import format {fmt!r}; choose one of {', '.join(FORMATS)}")
    given = {k: v for k, v in options.items() if v is not None}
    refused = sorted(set(given) - set(FORMATS[fmt].options))
    if refused:
        raise ImportSourceError(str(src), f"--{refused[0]} does not apply to {fmt} files (it is for "
                                f"{', '.join(f.name for f in FORMATS.values() if refused[0] in f.options)})")
    try:
        return FORMATS[fmt].read(src, foot_length_mm=foot_length_mm, **given)
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
    **options: object,
) -> Path:
    """Import ``src`` (format ``fmt``) into the session file ``output`` and return its path.

    ``options`` (``side``, ``pair``) are passed to :func:`read_recording`.

    Raises
    ------
    ImportSourceError
        The source is missing, truncated, of another format, or has unknown columns; the message names the file.
    SessionExistsError
        ``output`` exists and ``overwrite`` is false.
    """
    rec = read_recording(fmt, src, foot_length_mm=metadata.foot_length_mm if metadata else None, **options)
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
