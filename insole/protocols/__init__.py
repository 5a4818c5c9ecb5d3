"""Sans-IO wire protocols: bytes in, frames out, no I/O (the transports do the reading and writing).

``openinsole-v1``
    The project's binary protocol (:mod:`insole.protocols.openinsole_v1`, spec in
    ``firmware_protocols/openinsole-v1.md``): COBS-framed, CRC-16/IBM-3740-checked, sequence-numbered.
``csv``
    The common DIY text protocol, one CSV line per sample (:mod:`insole.protocols.csv_text`, spec in
    ``firmware_protocols/csv-text-v1.md``).

Both decoders have ``feed(data: bytes, host_time_s=None) -> list`` and a ``counters()`` dict, so transports
(serial, BLE) treat them alike; :func:`make_decoder` picks one by protocol name.
"""

from __future__ import annotations

from typing import Any

from insole.errors import ConfigurationError

#: Protocol names accepted in device URLs (``protocol=...``) and by the emulator.
PROTOCOLS = ("openinsole-v1", "csv")
_ALIASES = {"openinsole-v1": "openinsole-v1", "openinsole": "openinsole-v1", "binary": "openinsole-v1",
            "csv": "csv", "csv-text-v1": "csv", "text": "csv"}


def protocol_name(name: str) -> str:
    """Canonical protocol name (``openinsole-v1`` or ``csv``) of ``name`` or an alias."""
    try:
        return _ALIASES[name.lower()]
    except KeyError:
        raise ConfigurationError(f"unknown protocol {name!r}; choose one of: {', '.join(PROTOCOLS)}") from None


def make_decoder(name: str, **kwargs: Any) -> Any:
    """A fresh decoder for protocol ``name`` (``openinsole-v1`` or ``csv``)."""
    if protocol_name(name) == "openinsole-v1":
        from insole.protocols.openinsole_v1 import Decoder

        return Decoder(**kwargs)
    from insole.protocols.csv_text import CsvDecoder

    return CsvDecoder(**kwargs)
