"""The frame types every insole source produces: hardware drivers, protocol decoders and the simulator alike.

A :class:`FrameBatch` holds consecutive samples from one insole with time on axis 0, so that a source can hand
over many samples at once without a Python object per sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from insole.imu import ImuSamples

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
    imu : ImuSamples or None
        The insole's inertial values of the same samples (foot sensor frame, m/s² and rad/s; NaN rows for frames
        without them), from sources that have an IMU and describe it (:class:`insole.imu.ImuInfo`).
    """

    side: Side
    sequence: np.ndarray
    device_time_us: np.ndarray
    host_time_s: np.ndarray
    pressure: np.ndarray
    saturated: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    imu: ImuSamples | None = None

    def __post_init__(self) -> None:
        n = len(self.sequence)
        if self.saturated.shape != (n,):
            self.saturated = np.zeros(n, bool) if self.saturated.size == 0 else self.saturated
        for name in ("device_time_us", "host_time_s", "saturated"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"FrameBatch.{name} has {len(getattr(self, name))} rows, sequence has {n}")
        if self.pressure.ndim != 2 or self.pressure.shape[0] != n:
            raise ValueError(f"FrameBatch.pressure must be (n={n}, n_sensors), got {self.pressure.shape}")
        if self.imu is not None and len(self.imu) != n:
            raise ValueError(f"FrameBatch.imu has {len(self.imu)} rows, sequence has {n}")

    def __len__(self) -> int:
        return len(self.sequence)

    @property
    def n_sensors(self) -> int:
        """Number of sensors per sample."""
        return int(self.pressure.shape[1])


    def select(self, keep: np.ndarray) -> FrameBatch:
        """The samples where ``keep`` (a boolean mask or index array) selects them, IMU values included."""
        return FrameBatch(
            side=self.side,
            sequence=self.sequence[keep],
            device_time_us=self.device_time_us[keep],
            host_time_s=self.host_time_s[keep],
            pressure=self.pressure[keep],
            saturated=self.saturated[keep],
            imu=None if self.imu is None else self.imu.select(keep),
        )

    @staticmethod
    def concatenate(batches: list[FrameBatch], n_sensors: int | None = None) -> FrameBatch:
        """Consecutive batches of one foot as one; ``n_sensors`` keeps only the first cells of each.

        Batches without IMU values among ones with them get NaN IMU rows.
        """
        if len(batches) == 1 and n_sensors in (None, batches[0].n_sensors):
            return batches[0]
        n = min(b.n_sensors for b in batches) if n_sensors is None else n_sensors
        return FrameBatch(
            side=batches[0].side,
            sequence=np.concatenate([b.sequence for b in batches]),
            device_time_us=np.concatenate([b.device_time_us for b in batches]),
            host_time_s=np.concatenate([b.host_time_s for b in batches]),
            pressure=np.concatenate([b.pressure[:, :n] for b in batches]),
            saturated=np.concatenate([b.saturated for b in batches]),
            imu=ImuSamples.concatenate([b.imu for b in batches], [len(b) for b in batches]),
        )
