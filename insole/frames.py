"""The frame types every insole source produces: hardware drivers, protocol decoders and the simulator alike.

A :class:`FrameBatch` holds consecutive samples from one insole with time on axis 0, so that a source can hand
over many samples at once without a Python object per sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Side = Literal["left", "right"]
SIDES: tuple[Side, Side] = ("left", "right")


def check_side(side: str) -> Side:
    """Return ``side`` if it is ``"left"`` or ``"right"``, else raise :class:`ValueError` naming the choices."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")
    return side  # type: ignore[return-value]


@dataclass(slots=True)
class FrameBatch:
    """Consecutive samples from one insole, time on axis 0.

    Attributes
    ----------
    side : {"left", "right"}
    sequence : numpy.ndarray of uint32, shape (n,)
    device_time_us : numpy.ndarray of uint64, shape (n,)
    host_time_s : numpy.ndarray of float64, shape (n,)
        Host monotonic receive time per sample (NaN where unknown).
    pressure : numpy.ndarray of float32, shape (n, n_sensors)
    saturated : numpy.ndarray of bool, shape (n,)
    """

    side: Side
    sequence: np.ndarray
    device_time_us: np.ndarray
    host_time_s: np.ndarray
    pressure: np.ndarray
    saturated: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __post_init__(self) -> None:
        n = len(self.sequence)
        if self.saturated.shape != (n,):
            self.saturated = np.zeros(n, bool) if self.saturated.size == 0 else self.saturated
        for name in ("device_time_us", "host_time_s", "saturated"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"FrameBatch.{name} has {len(getattr(self, name))} rows, sequence has {n}")
        if self.pressure.ndim != 2 or self.pressure.shape[0] != n:
            raise ValueError(f"FrameBatch.pressure must be (n={n}, n_sensors), got {self.pressure.shape}")

    def __len__(self) -> int:
        return len(self.sequence)

    @property
    def n_sensors(self) -> int:
        """Number of sensors per sample."""
        return int(self.pressure.shape[1])

