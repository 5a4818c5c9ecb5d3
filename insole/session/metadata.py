"""Who was recorded and how: the ``/session`` group of a session file."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np


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
        """Inverse of :meth:`to_attrs`; absent, NaN and empty values become None."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = attrs.get(f.name)
            if raw is None:
                values[f.name] = None
            elif f.name in cls._NUMERIC:
                try:
                    num = float(raw)
                except (TypeError, ValueError):
                    num = math.nan
                values[f.name] = None if math.isnan(num) else num
            else:
                text = raw.decode() if isinstance(raw, bytes) else str(raw)
                values[f.name] = text or None
        return cls(**values)

    def missing(self) -> list[str]:
        """Names of the fields that are not known."""
        return [f.name for f in fields(self) if getattr(self, f.name) is None]
