"""The frame types every insole source produces: hardware drivers, protocol decoders and the simulator alike.

A :class:`FrameBatch` holds consecutive samples from one insole with time on axis 0, so that a source can hand
over many samples at once without a Python object per sample. Decoders that naturally produce one sample at a
time build batches with :func:`batch_from_frames`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Side = Literal["left", "right"]
SIDES: tuple[Side, Side] = ("left", "right")

#: Raw value that marks an invalid (unreadable) sensor sample on the wire.
INVALID_RAW = 0xFFFF


def check_side(side: str) -> Side:
    """Return ``side`` if it is ``"left"`` or ``"right"``, else raise :class:`ValueError` naming the choices."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")
    return side  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class SampleFrame:
    """One sample from one insole, as decoded from the wire.

    Attributes
    ----------
    side : {"left", "right"}
    sequence : int
        32-bit sample counter from the device; wraps at 2**32.
    device_time_us : int
        Device clock in microseconds at the sample instant.
    pressure : numpy.ndarray, shape (n_sensors,)
        Values in the device's units (raw ADC counts for hardware); NaN marks an invalid sensor sample.
    host_time_s : float
        Host monotonic clock (seconds) when the frame was received; used for clock alignment.
    saturated : bool
        The device flagged ADC saturation in this sample.
    imu : numpy.ndarray or None, shape (6,)
        Accelerometer (3) and gyroscope (3) raw values, when present.
    """

    side: Side
    sequence: int
    device_time_us: int
    pressure: np.ndarray
    host_time_s: float = float("nan")
    saturated: bool = False
    imu: np.ndarray | None = None


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


def batch_from_frames(frames: list[SampleFrame]) -> FrameBatch:
    """Stack single frames from one insole into a :class:`FrameBatch`.

    Raises
    ------
    ValueError
        If the frames mix sides or sensor counts, or the list is empty.
    """
    if not frames:
        raise ValueError("cannot build a FrameBatch from no frames")
    side = frames[0].side
    if any(f.side != side for f in frames):
        raise ValueError("frames from both feet cannot share one FrameBatch")
    n_sensors = len(frames[0].pressure)
    if any(len(f.pressure) != n_sensors for f in frames):
        raise ValueError("frames with different sensor counts cannot share one FrameBatch")
    return FrameBatch(
        side=side,
        sequence=np.fromiter((f.sequence for f in frames), np.uint32, len(frames)),
        device_time_us=np.fromiter((f.device_time_us for f in frames), np.uint64, len(frames)),
        host_time_s=np.fromiter((f.host_time_s for f in frames), np.float64, len(frames)),
        pressure=np.stack([np.asarray(f.pressure, np.float32) for f in frames]),
        saturated=np.fromiter((f.saturated for f in frames), bool, len(frames)),
    )
