"""openinsole-v1: the project's binary insole protocol, host side (spec: ``firmware_protocols/openinsole-v1.md``).

Every frame is little-endian, ends with a CRC-16/IBM-3740 over all bytes before it, and travels COBS-encoded with
a 0x00 delimiter (:mod:`insole.protocols.cobs_framing`). The same byte stream is used on serial and, cut into
notifications, on BLE, so one :class:`Decoder` serves every transport.

``wire``
    Frame layout, type and command codes, flags, unit and layout code tables (shared with the device side).
``messages``
    :class:`DeviceInfoMessage`, :class:`ImuInfoMessage`, :class:`StatusMessage`, :class:`SyncReply`,
    :class:`ImuBatch`.
``decoder``
    :class:`Decoder`: ``feed(data, host_time_s) -> Decoded`` (samples as :class:`~insole.frames.FrameBatch`, and
    the messages above), with counters of frames ok, CRC failures, framing errors, bytes discarded, wrong
    versions, bad sizes and sequence gaps.
``commands``
    :func:`encode_command`: what the host writes (start, stop, info, status, set rate, sync).

The device side (frame encoders, the command decoder a firmware runs) is not part of the host:
:mod:`insole.emulation.openinsole_device`.
"""

from insole.protocols.openinsole_v1.commands import encode_command
from insole.protocols.openinsole_v1.decoder import Decoder, DecoderCounters
from insole.protocols.openinsole_v1.messages import (
    DeviceInfoMessage,
    ImuBatch,
    ImuInfoMessage,
    StatusMessage,
    SyncReply,
)
from insole.protocols.openinsole_v1.wire import PROTOCOL_NAME, Command, MsgType

__all__ = [
    "PROTOCOL_NAME",
    "Command",
    "Decoder",
    "DecoderCounters",
    "DeviceInfoMessage",
    "ImuBatch",
    "ImuInfoMessage",
    "MsgType",
    "StatusMessage",
    "SyncReply",
    "encode_command",
]
