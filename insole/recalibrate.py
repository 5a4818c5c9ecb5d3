"""Recalibrate a stored session: recompute kPa from the raw counts it keeps, with another calibration."""

from __future__ import annotations

from pathlib import Path

from insole.calibration import Calibration
from insole.errors import SessionExistsError, SessionFileError
from insole.frames import Side
from insole.session import open_session, write_recalibrated_copy


def recalibrate_session(
    source: Path,
    output: Path,
    calibrations: dict[Side, Calibration],
    *,
    calibration_source: str = "",
    overwrite: bool = False,
    chunk_frames: int = 1 << 16,
) -> Path:
    """Write a copy of ``source`` whose pressure is recomputed from raw counts with ``calibrations``.

    A foot recorded in raw units gains a ``raw`` dataset (its counts) and kPa pressure; a foot already
    calibrated has its kPa recomputed from its ``raw`` counts. The calibration used is stored in
    ``/SIDE/calibration``. The copy is written under a temporary name and renamed when complete (by
    :func:`insole.session.write_recalibrated_copy`, which also upgrades a version-1 source's copy to version 2).
    """
    if output.exists() and not overwrite:
        raise SessionExistsError(str(output), "already exists; choose another name or pass --overwrite")
    with open_session(source) as reader:
        for side in calibrations:
            if side not in reader.sides:
                raise SessionFileError(str(source), f"has no /{side} to recalibrate")
    return write_recalibrated_copy(source, output, calibrations, calibration_source=calibration_source,
                                   overwrite=overwrite, chunk_frames=chunk_frames)
