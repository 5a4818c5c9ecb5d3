"""The IIT insole in its air-pressure chamber (Belli et al. 2023, BSD-3): loading the MATLAB files, as sessions.

The files are MATLAB v5 (``scipy.io.loadmat``): ``experiment.C`` (N x 282: sample counter, time stamp, 280 taxel
counts) and ``experiment.P`` (M x 1, chamber pressure in bar), aligned by index (the first min(N, M) rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io

from insole.layouts import placeholder_layout
from insole.session import SessionMetadata, SessionWriter

CHAMBER = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "insole_calibration_chamber"
KPA_PER_BAR = 100.0
SERIAL = "IIT-insole-left-infinergy"
VALIDATION = ("validation_dataset_1", "validation_dataset_2", "validation_dataset_3")


@dataclass(frozen=True)
class ChamberRun:
    """One file: taxel counts (n, 280), chamber pressure (n,) in kPa, time (n,) in s."""

    name: str
    counts: np.ndarray
    pressure_kpa: np.ndarray
    time_s: np.ndarray


def load(name: str) -> ChamberRun:
    exp = scipy.io.loadmat(CHAMBER / "left_insole" / f"{name}.mat", squeeze_me=True,
                           struct_as_record=False)["experiment"]
    c, p = np.asarray(exp.C, np.float64), np.asarray(exp.P, np.float64).ravel()
    n = min(len(c), len(p))
    period = float(np.median(np.diff(c[:n, 1])))
    return ChamberRun(name, c[:n, 2:], p[:n] * KPA_PER_BAR, np.arange(n) * period)


def write_raw_session(path: Path, counts: np.ndarray, time_s: np.ndarray) -> Path:
    """The counts as a one-foot (left) raw session, as the recorder would store the insole."""
    rate = 1.0 / float(np.median(np.diff(time_s))) if len(time_s) > 1 else 50.0
    with SessionWriter(path, SessionMetadata(notes="IIT insole in the plenum chamber (Belli et al. 2023)"),
                       source="recorded") as w:
        w.add_foot("left", placeholder_layout(counts.shape[1], 260.0), units="raw", sampling_rate_hz=rate,
                   device={"model": "IIT capacitive insole (280 taxels)", "serial_number": SERIAL},
                   with_sequence=False, with_device_time=False)
        w.append("left", time_s, counts.astype(np.float32))
    return path
