"""Writing a recalibrated copy of a session: pressure recomputed from the raw counts, calibration group replaced."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import h5py
import numpy as np

from insole.calibration import Calibration
from insole.errors import SessionExistsError, SessionFileError
from insole.frames import Side
from insole.session.format import attr_str
from insole.session.migration import upgrade_file
from insole.session.reader import open_session
from insole.session.writer import write_calibration_group


def write_recalibrated_copy(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    calibrations: Mapping[Side, Calibration],
    *,
    calibration_source: str = "",
    overwrite: bool = False,
    chunk_frames: int = 1 << 16,
) -> Path:
    """Copy ``source`` to ``output`` with the pressure of each foot in ``calibrations`` recomputed in kPa.

    A foot recorded in raw units gains a ``raw`` dataset (its counts); a calibrated foot has its kPa recomputed
    from its ``raw`` counts; ``/<side>/calibration`` holds the calibration used. The source is validated (and
    refused if hostile) first and never modified; the copy is upgraded to the current format version, written
    as ``OUTPUT.partial``, validated, and only then renamed to ``output``.

    Raises
    ------
    SessionExistsError
        ``output`` exists and ``overwrite`` is False.
    SessionFileError
        The source is invalid, lacks a foot, has no raw counts for it, or the cell counts differ.
    """
    source, output = Path(source), Path(output)
    if output.exists() and not overwrite:
        raise SessionExistsError(str(output), "already exists; choose another name or pass --overwrite")
    with open_session(source) as reader:
        for side, cal in calibrations.items():
            info = reader.foot_info(side)
            if cal.n_sensors != info.n_sensors:
                raise SessionFileError(str(source), f"/{side} has {info.n_sensors} cells, the calibration "
                                       f"{cal.n_sensors}")
            if not info.has_raw and info.units != "raw":
                raise SessionFileError(
                    str(source), f"/{side} holds {info.units} without raw counts; there is nothing to recalibrate"
                )
    partial = output.with_name(output.name + ".partial")
    shutil.copyfile(source, partial)
    try:
        with h5py.File(partial, "r+") as f:
            upgrade_file(f, str(partial))
            for side, cal in calibrations.items():
                _recalibrate_foot(f[side], cal, calibration_source, chunk_frames)
        open_session(partial).close()  # the result must validate
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return output


def _recalibrate_foot(g: h5py.Group, cal: Calibration, calibration_source: str, chunk_frames: int) -> None:
    if "raw" not in g:
        assert attr_str(g["pressure"].attrs.get("units", g.attrs.get("units"))) == "raw"
        g.copy(g["pressure"], "raw")
    raw, pressure = g["raw"], g["pressure"]
    for lo in range(0, raw.shape[0], chunk_frames):
        pressure[lo : lo + chunk_frames] = cal.apply(raw[lo : lo + chunk_frames]).astype(np.float32)
    pressure.attrs["units"] = "kPa"
    raw.attrs["units"] = "raw"
    g.attrs["units"] = "kPa"
    write_calibration_group(g, cal, calibration_source)
