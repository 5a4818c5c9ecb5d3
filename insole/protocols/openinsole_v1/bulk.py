"""Many openinsole-v1 frames at once: COBS decoding and CRC checks of a whole received chunk in numpy.

The scalar path of :class:`~insole.protocols.openinsole_v1.Decoder` calls the ``cobs`` C extension and
:func:`binascii.crc_hqx` once per frame; at 16 sensors that per-frame call overhead is most of the cost. Here a
chunk of received bytes is one ``uint8`` array and every run between delimiters is decoded and checked together:

* :func:`cobs_decode_runs` walks the COBS code chains of all runs in lock step (one numpy step per code byte, i.e.
  per zero byte of the frames, not per frame) and writes the decoded zeros in place. Runs whose chain holds a
  0xFF code (only possible in frames of 254 bytes and more) or more than :data:`MAX_CODES` codes are left to the
  scalar decoder, which is the reference.
* :func:`crc_ok` checks the CRC-16/IBM-3740 of many frames of one length. The CRC is affine in the message bits,
  so ``crc(d) = crc(0...0) ^ XOR_j T_j[d_j]`` where ``T_j[b]`` is the CRC, from a zero register, of byte ``b``
  followed by the zero bytes after position ``j``: one table lookup per byte and an XOR-reduction across the byte
  positions of a 2-D ``(positions, frames)`` array.

Both give exactly what the scalar path gives (``tests/test_protocol_bulk.py`` compares them byte for byte).
"""

from __future__ import annotations

from binascii import crc_hqx
from functools import lru_cache

import numpy as np

from insole.protocols.crc import CRC_INIT

#: Code bytes walked in lock step before the remaining runs are left to the scalar decoder (a 16-sensor frame
#: has about 10: one per zero byte; random garbage between delimiters has about len/255). Bounds the numpy steps
#: per feed; the scalar decoder handles whatever is left, so the value changes speed only, never the result.
MAX_CODES = 64
#: Frames gathered per 2-D block in :func:`crc_ok` (bounds the temporary index arrays to a few MB).
CRC_BLOCK = 8192


def cobs_decode_runs(a: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """COBS-decode the runs ``a[starts[i]:stops[i]]`` (no 0x00 inside) in place of a copy of ``a``.

    Parameters
    ----------
    a : numpy.ndarray of uint8
        Received bytes; every run is non-empty and free of 0x00, and ``a[stops[i]]`` (if inside ``a``) is the
        delimiter.
    starts, stops : numpy.ndarray of int64
        Run boundaries (stop exclusive).

    Returns
    -------
    decoded : numpy.ndarray of uint8
        Copy of ``a`` in which run ``i``, if ``ok[i]``, decodes to ``decoded[starts[i] + 1 : stops[i]]`` (a COBS
        run without 0xFF codes decodes to one byte fewer than it has).
    ok : numpy.ndarray of bool
        The run's code chain ends exactly at its end, holds no 0xFF code and at most :data:`MAX_CODES` codes.
        False runs are invalid COBS or unusual: decode them with the scalar decoder.
    """
    p = starts.astype(np.int64)
    nxt = np.arange(len(a) + 256, dtype=np.int64)  # where a code at each position points (0x00 points at itself;
    nxt[: len(a)] += a  # the padding catches chains that point past the buffer)
    steps: list[np.ndarray] = []  # the code positions of every run, one step at a time
    for i in range(MAX_CODES):
        p = nxt.take(p, mode="clip")  # a finished chain stands on its delimiter and stays there
        steps.append(p)
        if i >= 7 and i % 4 == 3 and (p >= stops).all():  # most frames have 8 or more codes: check every 4th
            break
    bad = p != stops  # a code pointed past the run (not COBS), or the chain is longer than MAX_CODES
    codes = np.array(steps)
    if bad.any():
        codes[:, bad] = stops[bad]  # those chains wandered into other runs: write nothing there
    decoded = a.copy()
    decoded[codes] = 0  # a code byte inside a run stands for a zero of the frame (at the end: the delimiter)
    long = (stops - starts >= 255) & ~bad  # a 0xFF code that does not point past its run needs 255 bytes
    if long.any():
        bad[long] |= _has_ff_code(a, starts[long], stops[long])
    return decoded, ~bad


def _has_ff_code(a: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Runs whose code chain holds a 0xFF (a block of 254 non-zero bytes, decoded without a trailing zero)."""
    p = starts.astype(np.int64)
    ff = np.zeros(len(p), bool)
    for _ in range(MAX_CODES):
        code = a[p]
        ff |= code == 0xFF
        q = np.minimum(p + code, stops)
        if np.array_equal(p, q):
            break
        p = q
    return ff


@lru_cache(maxsize=16)
def _crc_tables(n: int) -> tuple[np.ndarray, int, np.ndarray]:
    """Position tables ``T`` (n * 256,) uint16 for ``n``-byte messages, the CRC of ``n`` zero bytes, and the
    offset of each position's table in ``T`` (uint16 when that can hold every index)."""
    base = np.array([crc_hqx(bytes([b]), 0) for b in range(256)], np.uint16)  # byte b, then nothing
    tables = np.empty((n, 256), np.uint16)
    tables[n - 1] = base
    for j in range(n - 2, -1, -1):  # one more zero byte after the byte: the table-driven update with input 0
        prev = tables[j + 1]
        tables[j] = (prev << np.uint16(8)) ^ base[prev >> np.uint16(8)]
    table_rows = (256 * np.arange(n, dtype=np.intp)).astype(np.uint16 if n <= 255 else np.intp)
    return tables.reshape(-1), crc_hqx(bytes(n), CRC_INIT), table_rows


def crc_ok(decoded: np.ndarray, offsets: np.ndarray, frame_len: int) -> np.ndarray:
    """Which frames ``decoded[o : o + frame_len]`` end with the right little-endian CRC-16/IBM-3740.

    Parameters
    ----------
    decoded : numpy.ndarray of uint8
        Decoded bytes (:func:`cobs_decode_runs`).
    offsets : numpy.ndarray of int64
        First byte of each frame.
    frame_len : int
        Length of every frame, CRC included (at least 3).

    Returns
    -------
    numpy.ndarray of bool, shape (len(offsets),)
    """
    n = frame_len - 2
    tables, zero_crc, table_rows = _crc_tables(n)
    pad = -n % 4  # lookups padded with zeros to whole uint64 words, XOR-ed four at a time
    out = np.empty(len(offsets), bool)
    for b0 in range(0, len(offsets), CRC_BLOCK):
        rows = frame_rows(decoded, offsets[b0 : b0 + CRC_BLOCK], frame_len)
        if pad:
            looked_up = np.zeros((len(rows), n + pad), np.uint16)
            np.take(tables, rows[:, :n] + table_rows, out=looked_up[:, :n])
        else:
            looked_up = tables.take(rows[:, :n] + table_rows)
        x = np.bitwise_xor.reduce(looked_up.view(np.uint64), axis=1)
        x ^= x >> np.uint64(32)
        x ^= x >> np.uint64(16)
        crc = x.astype(np.uint16) ^ np.uint16(zero_crc)
        sent = rows[:, n].astype(np.uint16) | (rows[:, n + 1].astype(np.uint16) << np.uint16(8))
        out[b0 : b0 + CRC_BLOCK] = crc == sent
    return out


def frame_rows(buf: np.ndarray, offsets: np.ndarray, frame_len: int) -> np.ndarray:
    """The frames ``buf[o : o + frame_len]`` as rows of a 2-D uint8 array: a strided view when they are evenly
    spaced (back-to-back frames: joined, or a delimiter and a COBS code byte apart), else a gathered copy."""
    m = len(offsets)
    step = frame_len
    if m > 1:
        steps = offsets[1:] - offsets[:-1]
        step = int(steps[0])
        if step < frame_len or not (steps == step).all():
            return buf[offsets[:, None] + np.arange(frame_len)]
    return np.ndarray((m, frame_len), np.uint8, buffer=buf, offset=int(offsets[0]), strides=(step, 1))
