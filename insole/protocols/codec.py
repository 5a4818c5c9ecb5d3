"""The contract every wire-protocol codec keeps, and the typed result of feeding it bytes.

A codec is sans-IO: a transport hands it bytes as they arrive (serial reads, BLE notifications, cut anywhere) with
the host receive time, and gets back a :class:`Decoded` holding what those bytes completed, sorted by kind. The
transport never needs to ask what an item is: samples are in ``samples``, the device's self-description in
``device_info``, and so on. A text protocol such as csv-text-v1 only ever fills ``samples``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from insole.frames import FrameBatch
    from insole.protocols.openinsole_v1.messages import (
        DeviceInfoMessage,
        ImuBatch,
        ImuInfoMessage,
        StatusMessage,
        SyncReply,
    )


@dataclass
class Decoded:
    """What one :meth:`Codec.feed` call completed, each list in stream order.

    Attributes
    ----------
    samples : list of FrameBatch
        Pressure samples; one batch per run of same-sized frames of one foot.
    imu : list of ImuBatch
        IMU values of the samples that carried them (same sequence numbers), as raw counts.
    device_info : list of DeviceInfoMessage
        The device's description (openinsole-v1 DEVICE_INFO frames).
    imu_info : list of ImuInfoMessage
        The description of the device's IMU (openinsole-v1 IMU_INFO frames).
    status : list of StatusMessage
        Battery, streaming state and device-side losses.
    sync : list of SyncReply
        Answers to the host's clock-sync requests.
    """

    samples: list[FrameBatch] = field(default_factory=list)
    imu: list[ImuBatch] = field(default_factory=list)
    device_info: list[DeviceInfoMessage] = field(default_factory=list)
    imu_info: list[ImuInfoMessage] = field(default_factory=list)
    status: list[StatusMessage] = field(default_factory=list)
    sync: list[SyncReply] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.samples or self.imu or self.device_info or self.imu_info or self.status or self.sync)

    @property
    def n_samples(self) -> int:
        """Samples in :attr:`samples`."""
        return sum(len(b) for b in self.samples)


class Codec(Protocol):
    """A sans-IO decoder of one wire protocol (see :func:`insole.protocols.make_codec`)."""

    #: Canonical protocol name (``openinsole-v1``, ``csv``).
    protocol: str

    def feed(self, data: bytes, host_time_s: float | None = None) -> Decoded:
        """Decode ``data`` (any number of bytes) received at host monotonic time ``host_time_s``."""
        ...

    def counters(self) -> dict[str, int]:
        """What the codec has seen: ``bytes_in``, ``frames_ok``, ``crc_failures``, ``framing_errors``,
        ``bad_size``, ``bytes_discarded``, ``sequence_gaps``, ``frames_missing``, ... (all ints)."""
        ...

    def resync(self) -> None:
        """Drop any partial frame and wait for the next frame boundary (after a reconnect)."""
        ...

    @property
    def has_device_clock(self) -> bool:
        """The stream carries the device's sample clock (else device time is counted from the nominal rate)."""
        ...
