"""Which calibration converts each device's raw counts to kPa: the one given, or one found for the device."""

from __future__ import annotations

from pathlib import Path

from insole.calibration import Calibration, find_calibration
from insole.devices import DeviceInfo
from insole.errors import InsoleError


def choose_calibrations(
    infos: list[DeviceInfo], given: list[Calibration | None], calibration_dir: Path | None
) -> tuple[list[Calibration | None], list[str]]:
    """Pick each raw-count device's calibration: the one given, else one found by serial number, then model.

    Parameters
    ----------
    infos : list of DeviceInfo
        The open devices.
    given : list of Calibration or None
        Per device (same order), a calibration passed by the user.
    calibration_dir : Path or None
        Folder searched by :func:`insole.calibration.find_calibration` (None: its default).

    Returns
    -------
    calibrations : list of Calibration or None
        Per device; None: the values are stored as they come.
    sources : list of str
        Per device: ``"given"``, the file found, or ``""``.

    Raises
    ------
    InsoleError
        A calibration for a device that does not send raw counts, or for another number of cells.
    """
    calibrations: list[Calibration | None] = []
    sources: list[str] = []
    for info, cal in zip(infos, given, strict=True):
        source = ""
        if cal is None and info.units == "raw":
            found = find_calibration(info.serial_number, info.model, calibration_dir)
            if found is not None:
                cal = Calibration.load(found)
                source = str(found)
        elif cal is not None:
            source = "given"
        if cal is not None:
            if info.units != "raw":
                raise InsoleError(f"{info.url} already sends {info.units}; a calibration applies to raw counts")
            if cal.n_sensors != info.n_sensors:
                raise InsoleError(
                    f"calibration for {cal.n_sensors} cells cannot be used with {info.url} ({info.n_sensors} cells)"
                )
        calibrations.append(cal)
        sources.append(source)
    return calibrations, sources
