"""Recalibrate a stored session: recompute kPa from the raw counts it keeps, with another calibration."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import h5py
import numpy as np

from insole.calibration import Calibration
from insole.errors import SessionExistsError, SessionFileError
from insole.frames import Side
from insole.session_file import open_session


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
    ``/SIDE/calibration``. The copy is written under a temporary name and renamed when complete.
    """
    if output.exists() and not overwrite:
        raise SessionExistsError(str(output), "already exists; choose another name or pass --overwrite")
    with open_session(source) as sf:
        sides = sf.sides
        for side in calibrations:
            if side not in sides:
                raise SessionFileError(str(source), f"has no /{side} to recalibrate")
    partial = output.with_name(output.name + ".partial")
    shutil.copyfile(source, partial)
    try:
        with h5py.File(partial, "r+") as f:
            for side, cal in calibrations.items():
                g = f[side]
                m = g["pressure"].shape[1]
                if cal.n_sensors != m:
                    raise SessionFileError(str(source), f"/{side} has {m} cells, the calibration {cal.n_sensors}")
                if "raw" not in g:
                    units = g["pressure"].attrs.get("units", g.attrs.get("units"))
                    if units != "raw":
                        raise SessionFileError(
                            str(source), f"/{side} holds {units} without raw counts; there is nothing to recalibrate"
                        )
                    g.copy(g["pressure"], "raw")
                raw, pressure = g["raw"], g["pressure"]
                for lo in range(0, raw.shape[0], chunk_frames):
                    pressure[lo : lo + chunk_frames] = cal.apply(raw[lo : lo + chunk_frames]).astype(np.float32)
                pressure.attrs["units"] = "kPa"
                g["raw"].attrs["units"] = "raw"
                g.attrs["units"] = "kPa"
                if "calibration" in g:
                    del g["calibration"]
                cg = g.create_group("calibration")
                cg["load_kpa"] = cal.load_kpa
                cg["counts"] = cal.counts
                cg.attrs.update(
                    json=cal.to_json(), sha256=cal.sha256(), source=calibration_source, method="pchip-per-cell"
                )
        open_session(partial).close()  # the result must validate
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return output
