"""Gross-error checks of the inputs before anything is computed from them: sampling rate, its agreement with the
time stamps, foot length, body mass and the size of the pressures.

None of these limits describes a person's gait: they catch wrong units, a wrong entry and a broken sensor, which
otherwise give figures that look precise (a body mass of -70 kg gives -1.12 BW peaks; pressures x 1e30 give 1e32
kPa). Each names where it comes from and whether it was set on real data.
"""

from __future__ import annotations

import numpy as np

from insole.plausibility import BODY_MASS_RANGE_KG, FOOT_LENGTH_RANGE_MM
from pipeline.errors import AnalysisError

#: Gait events need at least this rate: the event definitions are validated down to 50 Hz (simulator and the
#: independent walking model, tests/test_analysis_simulated.py); at 10 Hz the simulated stance reads 3 points
#: long with intervals that exclude the truth. One sample is then 20 ms, the agreement criterion of the events.
MIN_RATE_HZ = 50.0
#: Loading rates need at least this rate: the rise to the first peak lasts about 100-150 ms of walking, so below
#: 100 Hz its 20-80 % part spans a handful of samples (our choice; no real reference).
LOADING_RATE_MIN_RATE_HZ = 100.0
#: The nominal rate and the time stamps must agree within this share (median step between consecutive frames).
RATE_AGREEMENT = 0.05
# Body mass (kg) and foot (insole layout) length (mm): BODY_MASS_RANGE_KG and FOOT_LENGTH_RANGE_MM are the ranges,
# with their sources, of insole.plausibility, which the readers, importers and the recorder's options use too. A
# body mass outside is ignored (forces stay in newtons, with a warning); a foot length outside refuses the foot.
#: Largest plausible cell value per stored unit: four times the highest cell pressure in the real walking
#: recordings of ../shared/datasets (760 kPa, the Tekscan F-Scan export; Moticon 383 kPa, pedar 248 kPa); for
#: insoles that store force per cell, the same number in newtons is about four body weights on one cell. Set on
#: real data; a gross-error check only (wrong units, a faulty sensor), not a clinical limit.
MAX_CELL_VALUE = {"kPa": 3000.0, "N": 3000.0}


def check_rate(side: str, sampling_rate_hz: float, time_s: np.ndarray) -> None:
    """Refuse a foot sampled too slowly, or whose time stamps disagree with its nominal rate.

    Raises
    ------
    AnalysisError
    """
    fs = float(sampling_rate_hz)
    if not (np.isfinite(fs) and fs > 0):
        raise AnalysisError(f"{side} foot: sampling rate {sampling_rate_hz!r} is not a positive number")
    if fs < MIN_RATE_HZ:
        raise AnalysisError(
            f"{side} foot: sampled at {fs:g} Hz; gait events need at least {MIN_RATE_HZ:g} Hz (one sample is then "
            f"{1000 / MIN_RATE_HZ:g} ms), so no measure is reported; record at {MIN_RATE_HZ:g} Hz or more")
    dt = np.diff(np.asarray(time_s, dtype=np.float64))
    usable = np.isfinite(dt) & (dt > 0)
    if not usable.all():  # a copy only when some time steps are unusable (none is, in a clean recording)
        dt = dt[usable]
    del usable
    if dt.size >= 10:
        # the median partitions dt itself (the same value; no third frame-length copy: 69 MB per day at 100 Hz)
        actual = 1.0 / float(np.median(dt, overwrite_input=True))
        if abs(actual - fs) > RATE_AGREEMENT * fs:
            raise AnalysisError(
                f"{side} foot: the nominal sampling rate is {fs:g} Hz but the time stamps advance at {actual:.4g} Hz "
                f"(median step {1000 / actual:.3g} ms); the file's rate or its time stamps are wrong")


def check_foot_length(side: str, foot_length_mm: float) -> None:
    """Refuse a layout whose foot length is not a foot's (a negative length mirrors every CoP measure).

    Raises
    ------
    AnalysisError
    """
    lo, hi = FOOT_LENGTH_RANGE_MM
    if not (np.isfinite(foot_length_mm) and lo <= foot_length_mm <= hi):
        raise AnalysisError(
            f"{side} foot: the insole layout's foot length {foot_length_mm:g} mm is not plausible ({lo:g}-{hi:g} "
            "mm); give the subject's foot length (--foot-length-mm when recording or importing)")


def plausible_body_mass(body_mass_kg: float | None) -> tuple[float | None, str]:
    """(the body mass to use, a warning): an implausible body mass is not used (forces stay in newtons)."""
    if body_mass_kg is None:
        return None, ""
    lo, hi = BODY_MASS_RANGE_KG
    if np.isfinite(body_mass_kg) and lo <= body_mass_kg <= hi:
        return float(body_mass_kg), ""
    return None, (f"body mass {body_mass_kg:g} kg is not plausible ({lo:g}-{hi:g} kg) and was not used: forces are "
                  "in newtons; correct the body mass for figures in body weights")


def check_cell_values(side: str, units: str, max_value: float) -> None:
    """Refuse cell values beyond any plausible plantar load in the stored units.

    Raises
    ------
    AnalysisError
    """
    limit = MAX_CELL_VALUE.get(units)
    if limit is not None and np.isfinite(max_value) and max_value > limit:
        raise AnalysisError(
            f"{side} foot: cell values reach {max_value:.3g} {units}, beyond any plausible plantar load "
            f"({limit:g} {units}); the units are wrong or the insole is faulty, so nothing is computed from them")
