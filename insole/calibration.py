"""Calibration of raw insole counts to pressure (kPa), per cell.

Force-sensing resistors and capacitive cells respond non-linearly and differ from cell to cell, so a calibration
is a curve per cell. A :class:`Calibration` holds, for each cell, the median raw count measured at a series of
known uniform pressures (``load_kpa``) and maps counts to kPa with a shape-preserving piecewise-cubic
(PCHIP; Fritsch & Carlson 1980) through those points: monotone, exact at the measured points, no overshoot.
Counts on the unloaded side of the zero-load reading map to 0 kPa; beyond the highest calibrated load the last
segment is extended linearly, and :attr:`Calibration.max_load_kpa` says where the calibrated range ends.

Counts may rise with load (FSRs, most ADC front ends) or fall with it (capacitive taxels read as a frequency or a
discharge count, such as the IIT insole of Belli et al. 2023): the direction is taken from the insole's cells and
stored (:attr:`Calibration.direction`). A cell that does not follow it, does not change across the loads or goes
back and forth is **broken**: :func:`fit_calibration` refuses it, or, with ``allow_broken=True``, lists it in
:attr:`Calibration.broken_cells`, and :meth:`Calibration.apply` returns NaN for it (never a made-up pressure).
How well the model does on a real insole (error against an air-pressure chamber, hysteresis, creep) is in
``docs/calibration-validation.md``.

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

from insole.errors import ConfigurationError
from insole.provenance import utc_now_iso

CALIBRATION_FORMAT = "insole-calibration"
#: Readings beyond the highest calibrated load by more than this share of the cell's calibrated span are faults
#: (a taxel dropping out reads far off scale), returned as NaN rather than extrapolated.
MAX_EXTRAPOLATION = 1.0
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
    broken_cells : list of int
        0-based cells found broken when fitting (no monotone response); :meth:`apply` gives NaN for them.
    direction : {1, -1}
        +1 when counts rise with load, -1 when they fall (derived from the counts of the working cells).
    """

    load_kpa: np.ndarray
    counts: np.ndarray
    model: str = ""
    serial_number: str = ""
    created_utc: str = ""
    notes: str = ""
    broken_cells: list[int] = field(default_factory=list)
    direction: int = field(default=1, init=False)
    _curves: list[Any] = field(default_factory=list, repr=False)

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
        self.broken_cells = sorted({int(c) for c in self.broken_cells})
        if any(not 0 <= c < self.n_sensors for c in self.broken_cells):
            raise CalibrationError(f"broken_cells must be cell indices 0..{self.n_sensors - 1}")
        working = np.setdiff1d(np.arange(self.n_sensors), self.broken_cells)
        self.direction, bad = monotone_direction(self.counts[:, working])
        if bad.size:
            raise CalibrationError(
                f"cells {', '.join(str(int(working[i]) + 1) for i in bad[:8])} do not respond more to higher loads "
                "(their counts are not monotone in load, or go the other way than the other cells); check the "
                "insole's connection and the bladder pressure, or leave those loads out"
            )
        from scipy.interpolate import PchipInterpolator  # here: reading a session must not load scipy

        u = self.direction * self.counts  # increasing with load for every working cell
        self._curves = [None if i in self.broken_cells else PchipInterpolator(u[:, i], self.load_kpa,
                                                                              extrapolate=True)
                        for i in range(self.n_sensors)]

    @property
    def n_sensors(self) -> int:
        """Cells covered."""
        return int(self.counts.shape[1])

    @property
    def max_load_kpa(self) -> float:
        """Upper end of the calibrated range."""
        return float(self.load_kpa[-1])

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Convert raw counts ``(n_frames, n_sensors)`` to kPa.

        NaN stays NaN; broken cells give NaN; a reading more than :data:`MAX_EXTRAPOLATION` of the cell's span
        beyond the highest calibrated load gives NaN (a fault, not a pressure).
        """
        raw = np.asarray(raw, np.float64)
        if raw.ndim != 2 or raw.shape[1] != self.n_sensors:
            raise CalibrationError(f"calibration is for {self.n_sensors} cells, data has shape {raw.shape}")
        out = np.full_like(raw, np.nan)
        u_all = self.direction * self.counts
        for i, curve in enumerate(self._curves):  # one curve per cell, vectorised over frames
            if curve is None:
                continue
            col = self.direction * raw[:, i]
            lo, top = u_all[0, i], u_all[-1, i]
            kpa = curve(np.clip(col, lo, top))
            slope = curve.derivative()(top)
            kpa = np.where(col > top, self.load_kpa[-1] + slope * (col - top), kpa)
            kpa = np.where(col <= lo, 0.0, kpa)
            # far beyond the calibrated range is not a pressure but a fault (a taxel dropping out): NaN
            out[:, i] = np.where(col > top + MAX_EXTRAPOLATION * (top - lo), np.nan, kpa)
        return out

    def faulty_cells(self, raw: np.ndarray, max_share: float = 0.01) -> list[int]:
        """Cells that are broken in this recording: more than ``max_share`` of their readings are faults.

        A fault is a finite reading that :meth:`apply` refuses (far beyond the calibrated range: a taxel dropping
        out or saturating). Cells already in :attr:`broken_cells` are included.

        Parameters
        ----------
        raw : numpy.ndarray, shape (n_frames, n_sensors)
        max_share : float
        """
        raw = np.asarray(raw, np.float64)
        kpa = self.apply(raw)
        faults = np.isnan(kpa) & np.isfinite(raw)
        share = faults.mean(axis=0) if raw.shape[0] else np.zeros(self.n_sensors)
        return sorted(set(self.broken_cells) | {int(i) for i in np.flatnonzero(share > max_share)})

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
            "broken_cells": list(self.broken_cells),
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
                broken_cells=[int(c) for c in d.get("broken_cells", [])],
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


def robust_reading(raw: np.ndarray) -> np.ndarray:
    """Interquartile mean over frames of ``raw`` ``(n_frames, n_cells)``: the mean of the central half.

    Like a median it ignores settling and spikes; unlike a median of integer counts it resolves changes smaller
    than one count (an 8-bit capacitive taxel moves ~1 count per 10 kPa), so neighbouring loads stay distinct.
    """
    lo, hi = np.nanpercentile(raw, [25, 75], axis=0)
    inside = (raw >= lo) & (raw <= hi)
    with np.errstate(invalid="ignore"):
        return np.nansum(np.where(inside, raw, 0.0), axis=0) / inside.sum(axis=0)


def monotone_direction(counts: np.ndarray) -> tuple[int, np.ndarray]:
    """The direction of the response (+1 counts rise with load, -1 fall) and the cells that do not follow it.

    Parameters
    ----------
    counts : numpy.ndarray, shape (n_loads, n_cells)
        Reading of each cell at increasing loads.

    Returns
    -------
    direction : int
        The direction of the majority of the strictly monotone cells (+1 when none is).
    bad : numpy.ndarray of int
        Column indices of the cells not strictly monotone in that direction.
    """
    steps = np.diff(np.asarray(counts, np.float64), axis=0)
    rising, falling = np.all(steps > 0, axis=0), np.all(steps < 0, axis=0)
    direction = -1 if falling.sum() > rising.sum() else 1
    ok = rising if direction == 1 else falling
    return direction, np.flatnonzero(~ok)


def fit_calibration(
    steps: list[tuple[float, np.ndarray]], *, model: str = "", serial_number: str = "", notes: str = "",
    allow_broken: bool = False, min_span_counts: float = 0.0,
) -> Calibration:
    """Build a calibration from recordings at known uniform loads.

    Parameters
    ----------
    steps : list of (load_kpa, raw)
        ``raw`` is ``(n_frames, n_sensors)`` counts recorded while ``load_kpa`` was applied; the interquartile
        mean over frames is the cell's reading (:func:`robust_reading`: robust to the settling at the start and to
        spikes like a median, but not stuck on one value of an integer ADC).
    model, serial_number, notes : str
    allow_broken : bool
        Mark cells without a monotone response as broken (NaN when applied) instead of refusing the fit.
    min_span_counts : float
        With ``allow_broken``, a cell whose reading changes by less than this between the lowest and the highest
        load is broken too (a dead taxel reads the same at every load).
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
    counts = np.stack([robust_reading(np.asarray(r, float)) for _, r in order])
    broken: list[int] = []
    if allow_broken:
        finite = np.all(np.isfinite(counts), axis=0)
        span = np.abs(counts[-1] - counts[0])
        dead = np.flatnonzero(~finite | (np.nan_to_num(span) < max(min_span_counts, 1e-12)))
        alive = np.setdiff1d(np.arange(counts.shape[1]), dead)
        _, bad = monotone_direction(counts[:, alive])
        broken = sorted({int(c) for c in dead} | {int(alive[i]) for i in bad})
        if len(broken) == counts.shape[1]:
            raise CalibrationError("no cell responds monotonically to the loads; check the recordings")
        counts = np.where(np.isfinite(counts), counts, 0.0)
    created = utc_now_iso()
    return Calibration(loads, counts, model=model, serial_number=serial_number, created_utc=created, notes=notes,
                       broken_cells=broken)


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
