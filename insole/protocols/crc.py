"""CRC-16/IBM-3740, the checksum of the openinsole-v1 frames.

Also known as CRC-16/CCITT-FALSE and CRC-16/AUTOSAR: width 16, polynomial 0x1021, initial value 0xFFFF, input and
output not reflected, no final XOR; the check value over the ASCII bytes ``"123456789"`` is 0x29B1 (catalogue of
parametrised CRC algorithms, Greg Cook, reveng.sourceforge.io, entry CRC-16/IBM-3740). Python's
:func:`binascii.crc_hqx` computes exactly this polynomial in C when started at 0xFFFF; it is the one CRC routine of
the package (the bit-by-bit form a firmware author would write is in ``firmware_protocols/openinsole-v1.md`` and, as
a cross-check, in the tests).
"""

from __future__ import annotations

from binascii import crc_hqx

#: Parameters of the algorithm, as in the reveng catalogue.
CRC_NAME = "CRC-16/IBM-3740"
CRC_POLY = 0x1021
CRC_INIT = 0xFFFF
CRC_CHECK = 0x29B1


def crc16_ibm3740(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/IBM-3740 of ``data`` (an int in 0..0xFFFF); ``crc16_ibm3740(b"123456789") == 0x29B1``."""
    return crc_hqx(data, CRC_INIT)
