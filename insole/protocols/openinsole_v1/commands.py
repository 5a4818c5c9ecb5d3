"""Host-to-device commands of openinsole-v1: what a host writes to start, stop, query or sync an insole."""

from __future__ import annotations

import struct

from insole.protocols.cobs_framing import frame_bytes
from insole.protocols.openinsole_v1.wire import COMMAND_ARGS, VERSION, Command, crc_bytes


def encode_command(command: Command | int, value: int | None = None) -> bytes:
    """A host command, framed for the wire (COBS + delimiter, with a leading delimiter to flush line noise).

    ``value`` is the rate in Hz for SET_RATE and the request id for SYNC.

    Raises
    ------
    ValueError
        An unknown command code, or a command that needs a value given none.
    """
    command = Command(command)
    fmt = COMMAND_ARGS[command]
    if fmt and value is None:
        raise ValueError(f"{command.name} needs a value")
    body = bytes([VERSION, command]) + (struct.pack(fmt, value) if fmt else b"")
    return b"\x00" + frame_bytes(body + crc_bytes(body))
