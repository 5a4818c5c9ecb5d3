"""COBS framing with a 0x00 delimiter: the byte-stream layer shared by serial and BLE.

Consistent Overhead Byte Stuffing (Cheshire & Baker, "Consistent Overhead Byte Stuffing", IEEE/ACM Transactions on
Networking 7(2), 1999) rewrites a frame so that it contains no 0x00 byte, at a cost of one byte per 254. A 0x00
then ends every frame, so a receiver re-synchronises at the next 0x00 after any damage: a corrupted, dropped or
inserted byte costs at most the frames it touches.

:class:`Deframer` is sans-IO: give it bytes in any pieces (serial reads, BLE notifications of MTU-3 bytes) and
it returns the complete encoded frames. Encoding and decoding use the C extension of the ``cobs`` package.
"""

from __future__ import annotations

import numpy as np
from cobs.cobs import DecodeError
from cobs.cobs import decode as cobs_decode
from cobs.cobs import encode as cobs_encode

__all__ = ["DELIMITER", "DecodeError", "Deframer", "cobs_decode", "cobs_encode", "frame_bytes"]

DELIMITER = b"\x00"


def frame_bytes(payload: bytes) -> bytes:
    """COBS-encode ``payload`` and append the 0x00 delimiter: the bytes to put on the wire."""
    return cobs_encode(payload) + DELIMITER


class Deframer:
    """Split a byte stream at 0x00 delimiters.

    Parameters
    ----------
    max_frame_bytes : int
        Longest encoded frame accepted; a longer run without a delimiter is discarded (garbage, wrong baud rate).
    synced : bool
        False: the stream may start in the middle of a frame, so everything before the first delimiter is
        discarded (counted in ``bytes_resync``, not as an error). True: the first byte starts a frame.

    Attributes
    ----------
    bytes_in : int
        Bytes fed so far.
    bytes_resync : int
        Bytes discarded before the first delimiter.
    overlong : int
        Runs longer than ``max_frame_bytes`` discarded; ``bytes_overlong`` counts their bytes.
    """

    def __init__(self, max_frame_bytes: int = 1024, synced: bool = False) -> None:
        self.max_frame_bytes = max_frame_bytes
        self.synced = synced
        self.bytes_in = 0
        self.bytes_resync = 0
        self.overlong = 0
        self.bytes_overlong = 0
        self._tail = b""

    def feed(self, data: bytes) -> list[bytes]:
        """Return the complete encoded frames (without delimiter; empty ones dropped) ending in ``data``."""
        buf, starts, stops = self.feed_runs(data)
        return [buf[a:b] for a, b in zip(starts.tolist(), stops.tolist(), strict=True)]

    def feed_runs(self, data: bytes) -> tuple[bytes, np.ndarray, np.ndarray]:
        """The frames :meth:`feed` returns, as positions in the buffer instead of ``bytes`` objects (the one
        deframing rule: the counters and the partial frame held are updated here).

        Returns
        -------
        buf : bytes
            The held partial frame followed by ``data``.
        starts, stops : numpy.ndarray of int64
            ``buf[starts[i]:stops[i]]`` is the i-th frame :meth:`feed` would return; ``buf[stops[i]]`` is its
            delimiter.
        """
        self.bytes_in += len(data)
        buf = self._tail + data if self._tail else bytes(data)
        stops = np.flatnonzero(np.frombuffer(buf, np.uint8) == 0)
        if not len(stops):
            tail, starts = buf, stops
        else:
            tail = buf[int(stops[-1]) + 1 :]
            starts = np.empty(len(stops), np.int64)
            starts[0] = 0
            starts[1:] = stops[:-1] + 1
        if len(tail) > self.max_frame_bytes:
            self.overlong += 1
            self.bytes_overlong += len(tail)
            tail = b""
            self.synced = False
        self._tail = tail
        if not self.synced and len(starts):
            first = int(stops[0] - starts[0])
            self.bytes_resync += first + (1 if first else 0)
            starts, stops = starts[1:], stops[1:]
            self.synced = True
        lens = stops - starts
        keep = lens > 0
        long = lens > self.max_frame_bytes
        if long.any():
            self.overlong += int(long.sum())
            self.bytes_overlong += int((lens[long] + 1).sum())
            keep &= ~long
        if not keep.all():
            starts, stops = starts[keep], stops[keep]
        return buf, starts, stops

    @property
    def pending(self) -> int:
        """Bytes held while waiting for a delimiter."""
        return len(self._tail)
