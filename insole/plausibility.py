"""Plausible ranges of the numbers a session carries, with their sources; one place for readers, writers and the
analysis (``pipeline`` imports them from here).

A value outside its range is not a measurement of a walking person: it is a typing, unit or scaling error
(pounds entered as kilograms are still plausible, grams are not; a pressure stored in Pa as kPa is 1000 times too
large) or a corrupted file. The ranges are deliberately generous: they refuse impossible values, they do not judge
unusual people. Every reader and importer refuses a value outside them with a one-line error naming the value, the
range and where it was found; writers refuse to store one.

Ranges and their sources
------------------------
``body_mass_kg`` 15-300 kg
    Lower: about the median body mass of four-year-old children (WHO Multicentre Growth Reference Study Group,
    *WHO Child Growth Standards: weight-for-age*, 2006: about 16 kg at 48 months), the youngest walkers the
    insoles and layouts here are sized for (see ``foot_length_mm``). Upper: more than twice the 95th percentile of
    adult body mass in the United States (about 130 kg for men; Fryar CD et al., *Anthropometric reference data
    for children and adults: United States, 2015-2018*, Vital Health Stat 3(46), NCHS 2021).
``foot_length_mm`` 150-350 mm
    Lower: a child's foot of EU shoe size 24-25 (the Paris point is 2/3 cm: EU size = 1.5 x last length in cm,
    the last being about 15 mm longer than the foot). Upper: far above the largest adult feet in the 2012 US Army
    anthropometric survey (ANSUR II; Gordon CC et al., Natick/TR-15/007, 2014: foot length of men about 271 +- 13
    mm, so 350 mm is more than six standard deviations above the mean).
``shoe_size_eu`` 15-55
    EU 15 is the smallest children's size on the Paris-point scale in common use, EU 55 beyond the largest adult
    sizes sold.
``sampling_rate_hz`` 1-10,000 Hz
    Insole systems sample at 50-1000 Hz; below 1 Hz no step (about 0.5 s) can be resolved; 10 kHz is the highest
    rate any device URL accepts (``serial://...?rate_hz=``).
pressure, per unit
    ``kPa`` -101.325 to 10,000 kPa: no gauge pressure is below vacuum (the standard atmosphere, 101.325 kPa,
    ISO 2533); the highest plantar pressures reported clinically are about 1,200 kPa (the "high pressure" threshold
    of 12.3 kg/cm2 in Veves A et al., Diabetologia 1992;35:660-663), in-shoe systems measure up to 600-1,200 kPa
    (novel pedar-X sensor ranges), and the openinsole wire format cannot exceed 6,553.4 kPa: 10,000 kPa is above
    every one of them, so no recorded value is refused while a Pa-as-kPa or x1000 scaling error is.
    ``N`` (force per cell) -1,000 to 10,000 N: the whole body mass limit (300 kg) at 3.4 times body weight, above
    the 2.5-3 body weights of the vertical ground reaction force in running (Cavanagh PR, Lafortune MA, J Biomech
    1980;13:397-406), on one cell; the lower bound leaves room for a sensor's zero offset.
    ``raw`` -2^31 to 2^32 - 1 counts: anything a 32-bit ADC word (signed or unsigned) can hold.
    NaN is allowed everywhere (a sample flagged invalid by the source); infinities are not.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "BODY_MASS_KG",
    "BODY_MASS_RANGE_KG",
    "FOOT_LENGTH_MM",
    "FOOT_LENGTH_RANGE_MM",
    "PRESSURE",
    "SAMPLING_RATE_HZ",
    "SHOE_SIZE_EU",
    "PlausibleRange",
    "first_implausible",
    "pressure_range",
]


@dataclass(frozen=True)
class PlausibleRange:
    """A closed interval of plausible values of one quantity.

    Attributes
    ----------
    name : str
        What is measured (``body_mass_kg``).
    low, high : float
        Bounds, inclusive.
    unit : str
    source : str
        Where the bounds come from (short form; the module docstring has the full references).
    """

    name: str
    low: float
    high: float
    unit: str
    source: str

    @property
    def bounds(self) -> tuple[float, float]:
        """``(low, high)``."""
        return self.low, self.high

    def contains(self, value: float) -> bool:
        """True for a finite number inside the range."""
        return isinstance(value, int | float) and math.isfinite(value) and self.low <= value <= self.high

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not a plausible ``name`` (None when it is). ``value`` may be any object."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return f"{self.name} must be a number, got {value!r}"
        number = float(value)
        if not math.isfinite(number):
            return f"{self.name} must be finite, got {number!r}"
        if not self.low <= number <= self.high:
            return (f"{self.name} {number:g} {self.unit} is outside the plausible range {self.low:g}-{self.high:g} "
                    f"{self.unit} ({self.source})")
        return None


BODY_MASS_KG = PlausibleRange("body_mass_kg", 15.0, 300.0, "kg",
                              "WHO Child Growth Standards 2006; NHANES 2015-2018 x 2")
FOOT_LENGTH_MM = PlausibleRange("foot_length_mm", 150.0, 350.0, "mm", "EU size 24 child to beyond ANSUR II 2012")
SHOE_SIZE_EU = PlausibleRange("shoe_size_eu", 15.0, 55.0, "EU", "Paris-point children's to largest adult sizes")
SAMPLING_RATE_HZ = PlausibleRange("sampling_rate_hz", 1.0, 10_000.0, "Hz",
                                  "insoles sample at 50-1000 Hz; 10 kHz is the highest rate a device URL accepts")
#: Plausible values of ``pressure`` (and ``raw``) per unit of the session format.
PRESSURE: dict[str, PlausibleRange] = {
    "kPa": PlausibleRange("pressure", -101.325, 10_000.0, "kPa",
                          "vacuum to ~8x the highest clinical plantar pressures, Veves 1992"),
    "N": PlausibleRange("force per cell", -1_000.0, 10_000.0, "N", "300 kg at 3.4 body weights, Cavanagh 1980"),
    "raw": PlausibleRange("raw count", -(2.0**31), 2.0**32 - 1, "counts", "any 32-bit ADC word"),
}


def pressure_range(units: str) -> PlausibleRange:
    """The plausible range of ``pressure`` values in ``units`` (``kPa``, ``N`` or ``raw``)."""
    try:
        return PRESSURE[units]
    except KeyError:
        raise ValueError(f"units must be one of {', '.join(PRESSURE)}, got {units!r}") from None


def first_implausible(values: np.ndarray, units: str) -> tuple[tuple[int, ...], float] | None:
    """The index and value of the first implausible entry of ``values`` (NaN is allowed), or None.

    Parameters
    ----------
    values : numpy.ndarray
        Pressures (any shape; ``(n_frames, n_sensors)`` in the session format).
    units : {"kPa", "N", "raw"}

    Returns
    -------
    (index, value) or None
        ``index`` is a tuple (frame, cell) for 2-D input.
    """
    rng = pressure_range(units)
    import numpy as np  # here: the ranges are imported by every command's --help, which must not load numpy

    arr = np.asarray(values)
    if arr.size == 0:
        return None
    low, high = np.fmin.reduce(arr, axis=None), np.fmax.reduce(arr, axis=None)  # NaN ignored unless all NaN
    if (low >= rng.low and high <= rng.high) or (np.isnan(low) and np.isnan(high)):
        return None
    with np.errstate(invalid="ignore"):
        bad = (arr < rng.low) | (arr > rng.high) | np.isinf(arr)
    if not bad.any():
        return None
    flat = int(np.flatnonzero(bad.ravel())[0])
    index = tuple(int(i) for i in np.unravel_index(flat, arr.shape))
    return index, float(arr.ravel()[flat])

#: The ranges as plain ``(low, high)`` tuples, for code that needs only the bounds (the analysis imports these).
BODY_MASS_RANGE_KG: tuple[float, float] = BODY_MASS_KG.bounds
FOOT_LENGTH_RANGE_MM: tuple[float, float] = FOOT_LENGTH_MM.bounds
