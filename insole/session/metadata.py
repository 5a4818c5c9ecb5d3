"""Who was recorded and how: the ``/session`` group of a session file.

Numbers are checked against the plausible ranges of :mod:`insole.plausibility` both when they are stored
(:class:`~insole.session.writer.SessionWriter` refuses them) and when they are read (:meth:`SessionMetadata.from_attrs`
raises): a body mass of -70 kg or a foot length of ``'abc'`` is an error, never a silently missing value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from insole.errors import ConfigurationError
from insole.plausibility import BODY_MASS_KG, FOOT_LENGTH_MM, SHOE_SIZE_EU, PlausibleRange

#: The plausible range of each numeric field.
RANGES: dict[str, PlausibleRange] = {r.name: r for r in (BODY_MASS_KG, FOOT_LENGTH_MM, SHOE_SIZE_EU)}


@dataclass
class SessionMetadata:
    """Who was recorded and how. Every field may be missing (None).

    Attributes
    ----------
    subject_id : str or None
        Pseudonymous subject code; do not store names.
    body_mass_kg, foot_length_mm, shoe_size_eu : float or None
    condition : str or None
        E.g. ``barefoot``, ``shoes``, ``orthotic``.
    notes : str or None
    """

    subject_id: str | None = None
    body_mass_kg: float | None = None
    foot_length_mm: float | None = None
    shoe_size_eu: float | None = None
    condition: str | None = None
    notes: str | None = None

    _NUMERIC = ("body_mass_kg", "foot_length_mm", "shoe_size_eu")

    def to_attrs(self) -> dict[str, Any]:
        """Attributes for ``/session``: NaN marks a missing number, ``""`` missing text."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in self._NUMERIC:
                out[f.name] = np.float64("nan") if value is None else float(value)
            else:
                out[f.name] = "" if value is None else str(value)
        return out

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> SessionMetadata:
        """Inverse of :meth:`to_attrs`; absent, NaN and empty values become None.

        Raises
        ------
        ConfigurationError
            A numeric attribute holds text or an array, or a value outside its plausible range
            (:mod:`insole.plausibility`); the message names the attribute.
        """
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = attrs.get(f.name)
            if raw is None:
                values[f.name] = None
            elif f.name in cls._NUMERIC:
                if isinstance(raw, np.ndarray) and raw.shape == ():
                    raw = raw[()]
                if isinstance(raw, bool | np.bool_) or not isinstance(raw, int | float | np.integer | np.floating):
                    shown = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
                    raise ConfigurationError(f"attribute {f.name} must be a number (NaN when unknown), got "
                                             f"{str(shown)[:40]!r}")
                num = float(raw)
                values[f.name] = None if math.isnan(num) else num
            else:
                text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
                values[f.name] = text or None
        md = cls(**values)
        md.check()
        return md

    def problems(self) -> list[str]:
        """Why any known number is implausible (see :mod:`insole.plausibility`); empty when all are fine."""
        out = []
        for name, rng in RANGES.items():
            value = getattr(self, name)
            if value is not None and not (isinstance(value, float) and math.isnan(value)):  # NaN: not known
                problem = rng.problem(value)
                if problem is not None:
                    out.append(problem)
        return out

    def check(self) -> None:
        """Raise :class:`~insole.errors.ConfigurationError` naming the first implausible value, if any."""
        problems = self.problems()
        if problems:
            raise ConfigurationError(problems[0])

    def missing(self) -> list[str]:
        """Names of the fields that are not known."""
        return [f.name for f in fields(self) if getattr(self, f.name) is None]
