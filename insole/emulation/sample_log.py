"""The truth an emulated insole keeps: every sample it produced, and whether it reached the link whole.

Tests compare what a driver received with this log (:attr:`insole.emulation.ble_peripheral.InsoleEmulator.log`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SampleLog:
    """Truth kept by an emulator: one row per sample it produced.

    Attributes
    ----------
    sequence : list of int
    device_time_us : list of int
    delivered : list of bool
        All bytes of the sample went out in notifications while a host was subscribed and streaming.
    pressure : list of numpy.ndarray
        The wire counts of each sample.
    imu : list of numpy.ndarray or None
        The IMU block's int16 counts of each sample (None for an insole without IMU).
    """

    sequence: list[int] = field(default_factory=list)
    device_time_us: list[int] = field(default_factory=list)
    delivered: list[bool] = field(default_factory=list)
    pressure: list[np.ndarray] = field(default_factory=list)
    imu: list[np.ndarray | None] = field(default_factory=list)

    def delivered_sequences(self) -> list[int]:
        """Sequence numbers of the samples that reached the link whole."""
        return [s for s, d in zip(self.sequence, self.delivered, strict=True) if d]

    def pressure_of(self, sequence: int) -> np.ndarray:
        """Wire counts of sample ``sequence``."""
        return self.pressure[self.sequence.index(sequence)]

    def imu_of(self, sequence: int) -> np.ndarray | None:
        """IMU counts of sample ``sequence`` (None without IMU)."""
        return self.imu[self.sequence.index(sequence)]

    def missed_between_delivered(self) -> list[int]:
        """Sequence numbers not delivered, between the first and the last delivered sample."""
        d = np.asarray(self.delivered, bool)
        if not d.any():
            return []
        idx = np.flatnonzero(d)
        seq = np.asarray(self.sequence, np.int64)[idx[0] : idx[-1] + 1]
        return seq[~d[idx[0] : idx[-1] + 1]].tolist()
