"""Sans-IO wire protocols: bytes in, typed frames out, no I/O (the transports do the reading and writing).

``openinsole-v1``
    The project's binary protocol (:mod:`insole.protocols.openinsole_v1`, spec in
    ``firmware_protocols/openinsole-v1.md``): COBS-framed, CRC-16/IBM-3740-checked, sequence-numbered.
``csv``
    The common DIY text protocol, one CSV line per sample (:mod:`insole.protocols.csv_text`, spec in
    ``firmware_protocols/csv-text-v1.md``).

Every decoder is a :class:`~insole.protocols.codec.Codec`: ``feed(data, host_time_s) ->``
:class:`~insole.protocols.codec.Decoded` and ``counters()``, so transports (serial, BLE) treat them alike;
:func:`~insole.protocols.registry.make_codec` builds one by protocol name (the one registry of names and aliases).
"""

from insole.protocols.codec import Codec, Decoded
from insole.protocols.registry import PROTOCOLS, make_codec, protocol_name

__all__ = ["PROTOCOLS", "Codec", "Decoded", "make_codec", "protocol_name"]
