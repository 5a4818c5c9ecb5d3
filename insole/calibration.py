"""Calibration of raw insole counts to pressure (kPa), per cell.

Force-sensing resistors and capacitive cells respond non-linearly and differ from cell to cell, so a calibration
is a curve per cell. A :class:`Calibration` holds, for each cell, the median raw count measured at a series of
known uniform pressures (``load_kpa``) and maps counts to kPa with a shape-preserving piecewise-cubic
(PCHIP; Fritsch & Carlson 1980) through those points: monotone, exact at the measured points, no overshoot.
Counts below the zero-load reading map to 0 kPa; above the highest calibrated load the last segment is extended
linearly, and :attr:`Calibration.max_load_kpa` says where the calibrated range ends.

Procedure (``insole calibrate fit``), as for pressure-mapping systems calibrated on a uniform-pressure bladder
(e.g. the Tekscan and novel equilibration devices):

1. Put the insole flat in a pressure bladder (or under a uniform-pressure air bag) and connect it.
2. For each load, including 0 kPa, set the pressure, wait for it to settle, and record a few seconds:
   ``insole record --device URL --duration-s 5 -o load_050.h5``.
3. Fit: ``insole calibrate fit --step 0:load_000.h5 --step 50:load_050.h5 ... -o SERIAL.json``.
   Use at least 4 loads spanning the pressures you expect (walking: 0-600 kPa).
4. Store the file as ``SERIAL_NUMBER.json`` (or ``MODEL.json`` for a model-wide curve) in the calibration
   folder (``--calibration-dir``, ``$INSOLE_CALIBRATION_DIR``, or ``~/.config/insole/calibrations``); the
   recorder then converts that insole's raw counts to kPa and keeps the raw counts beside them.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.interpolate import PchipInterpolator

from insole.errors import ConfigurationError
from insole.provenance import utc_now_iso

CALIBRATION_FORMAT = "insole-calibration"
CALIBRATION_VERSION = 1


class CalibrationError(ConfigurationError):
    """A calibration cannot be built, read or applied."""


@dataclass
class Calibration:
    """Per-cell curves from raw counts to kPa.

    Attributes
    ----------
    load_kpa : numpy.ndarray, shape (n_points,)
        Known uniform pressures, increasing, starting at 0.
    counts : numpy.ndarray, shape (n_points, n_sensors)
        Median raw count of each cell at each load.
    model, serial_number : str
        Insole the calibration belongs to ("" if not specific).
    created_utc : str
    notes : str
    """

    load_kpa: np.ndarray
    counts: np.ndarray
    model: str = ""
    serial_number: str = ""
    created_utc: str = ""
    notes: str = ""
    _curves: list[PchipInterpolator] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.load_kpa = np.asarray(self.load_kpa, np.float64)
        self.counts = np.asarray(self.counts, np.float64)
        if self.counts.ndim != 2 or self.counts.shape[0] != self.load_kpa.size:
            raise CalibrationError(
                f"calibration counts must be (n_loads={self.load_kpa.size}, n_sensors), got {self.counts.shape}"
            )
        if self.load_kpa.size < 3 or np.any(np.diff(self.load_kpa) <= 0) or self.load_kpa[0] != 0:
            raise CalibrationError(
                f"calibration needs at least 3 increasing loads starting at 0 kPa, got {self.load_kpa.tolist()}"
            )
        bad = np.flatnonzero(np.any(np.diff(self.counts, axis=0) <= 0, axis=0))
        if bad.size:
            raise CalibrationError(
                f"cells {', '.join(str(i + 1) for i in bad[:8])} do not respond more to higher loads; check the "
                "insole's connection and the bladder pressure, or leave those loads out"
            )
        self._curves = [PchipInterpolator(self.counts[:, i], self.load_kpa, extrapolate=True) for i in range(
            self.n_sensors)]

    @property
    def n_sensors(self) -> int:
        """Cells covered."""
        return int(self.counts.shape[1])

    @property
    def max_load_kpa(self) -> float:
        """Upper end of the calibrated range."""
        return float(self.load_kpa[-1])

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Convert raw counts ``(n_frames, n_sensors)`` to kPa (NaN stays NaN)."""
        raw = np.asarray(raw, np.float64)
        if raw.ndim != 2 or raw.shape[1] != self.n_sensors:
            raise CalibrationError(f"calibration is for {self.n_sensors} cells, data has shape {raw.shape}")
        out = np.empty_like(raw)
        top_counts = self.counts[-1]
        for i, curve in enumerate(self._curves):  # one curve per cell, vectorised over frames
            col = raw[:, i]
            kpa = curve(np.clip(col, self.counts[0, i], top_counts[i]))
            slope = curve.derivative()(top_counts[i])
            kpa = np.where(col > top_counts[i], self.load_kpa[-1] + slope * (col - top_counts[i]), kpa)
            out[:, i] = np.where(col <= self.counts[0, i], 0.0, kpa)
        return out

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "format": CALIBRATION_FORMAT,
            "format_version": CALIBRATION_VERSION,
            "model": self.model,
            "serial_number": self.serial_number,
            "created_utc": self.created_utc,
            "method": "pchip-per-cell",
            "notes": self.notes,
            "load_kpa": self.load_kpa.tolist(),
            "counts": self.counts.tolist(),
        }

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=1)

    def sha256(self) -> str:
        """Hash of the JSON text (identifies the calibration used for a session)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "calibration") -> Calibration:
        """Inverse of :meth:`to_dict`; raises :class:`CalibrationError` naming what is wrong."""
        if d.get("format") != CALIBRATION_FORMAT:
            raise CalibrationError(f"{source}: not an insole calibration (format {d.get('format')!r})")
        if d.get("format_version") != CALIBRATION_VERSION:
            raise CalibrationError(f"{source}: calibration format_version {d.get('format_version')!r} unsupported")
        try:
            return cls(
                load_kpa=np.asarray(d["load_kpa"], float),
                counts=np.asarray(d["counts"], float),
                model=str(d.get("model", "")),
                serial_number=str(d.get("serial_number", "")),
                created_utc=str(d.get("created_utc", "")),
                notes=str(d.get("notes", "")),
            )
        except KeyError as exc:
            raise CalibrationError(f"{source}: missing field {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise CalibrationError(f"{source}: {exc}") from None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Calibration:
        """Read a calibration JSON file."""
        p = Path(path)
        try:
            d = json.loads(p.read_text())
        except FileNotFoundError:
            raise CalibrationError(f"calibration file {p} does not exist") from None
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CalibrationError(f"calibration file {p} cannot be read: {exc}") from None
        if not isinstance(d, dict):
            raise CalibrationError(f"calibration file {p} does not hold a JSON object")
        return cls.from_dict(d, str(p))


def fit_calibration(
    steps: list[tuple[float, np.ndarray]], *, model: str = "", serial_number: str = "", notes: str = ""
) -> Calibration:
    """Build a calibration from recordings at known uniform loads.

    Parameters
    ----------
    steps : list of (load_kpa, raw)
        ``raw`` is ``(n_frames, n_sensors)`` counts recorded while ``load_kpa`` was applied; the median over
        frames is the cell's reading (robust to the settling at the start and to spikes).
    """
    if len(steps) < 3:
        raise CalibrationError(f"need recordings at 3 or more loads (0 kPa included), got {len(steps)}")
    order = sorted(steps, key=lambda s: s[0])
    loads = np.array([s[0] for s in order], float)
    if np.any(np.diff(loads) == 0):
        raise CalibrationError("two recordings have the same load; give each load once")
    shapes = {np.asarray(r).shape[1] for _, r in order}
    if len(shapes) != 1:
        raise CalibrationError(f"recordings have different cell counts: {sorted(shapes)}")
    counts = np.stack([np.nanmedian(np.asarray(r, float), axis=0) for _, r in order])
    created = utc_now_iso()
    return Calibration(loads, counts, model=model, serial_number=serial_number, created_utc=created, notes=notes)


def default_calibration_dir() -> Path:
    """``$INSOLE_CALIBRATION_DIR`` or ``~/.config/insole/calibrations``."""
    env = os.environ.get("INSOLE_CALIBRATION_DIR")
    return Path(env) if env else Path.home() / ".config" / "insole" / "calibrations"


def find_calibration(serial_number: str, model: str, directory: Path | None = None) -> Path | None:
    """The calibration file for an insole: ``SERIAL.json`` first, then ``MODEL.json``; None if neither exists."""
    folder = directory or default_calibration_dir()
    for name in (serial_number, model):
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".")
        if safe and safe != "unknown" and (folder / f"{safe}.json").is_file():
            return folder / f"{safe}.json"
    return None
