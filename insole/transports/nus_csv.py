"""Sans-IO codec for the CSV text lines DIY insoles send over the Nordic UART service (protocol name ``csv``).

One sample per line, ASCII, fields separated by commas, ``\\n`` (optionally ``\\r\\n``) terminated::

    SEQUENCE,DEVICE_TIME_US,P0,P1,...,P(N-1)

``SEQUENCE`` is a 32-bit sample counter (wraps at 2**32), ``DEVICE_TIME_US`` the device clock in microseconds,
``Pi`` the sensor values in the device's units (integers or decimals; an empty field or ``nan`` marks an invalid
sensor sample). Lines are at most :data:`MAX_LINE_BYTES` long. The format has no integrity check: a line is
accepted when it has exactly ``2 + n_sensors`` fields that all parse; anything else is dropped and counted, and
decoding resumes at the next newline, so a lost notification costs at most the lines it touched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from insole.frames import SampleFrame, Side

#: Longest accepted line (a 99-cell insole with 5-digit values fits in ~620 bytes).
MAX_LINE_BYTES = 1024


@dataclass
class CsvCounters:
    """What a :class:`CsvLineDecoder` has seen.

    Attributes
    ----------
    bytes_in : int
    lines_ok : int
    lines_bad : int
        Lines with the wrong field count, unparsable fields or non-ASCII bytes.
    overlong : int
        Lines longer than :data:`MAX_LINE_BYTES` (dropped).
    """

    bytes_in: int = 0
    lines_ok: int = 0
    lines_bad: int = 0
    overlong: int = 0


class CsvLineDecoder:
    """Turn a CSV byte stream into :class:`~insole.frames.SampleFrame` objects.

    Parameters
    ----------
    side : {"left", "right"}
    n_sensors : int
        Expected sensor count; lines with another count are dropped and counted.
    """

    def __init__(self, side: Side, n_sensors: int) -> None:
        self.side = side
        self.n_sensors = n_sensors
        self.counters = CsvCounters()
        self._buf = bytearray()
        self._skip_to_newline = False

    def reset(self) -> None:
        """Forget a partial line (e.g. after a reconnect: the rest of it will never come)."""
        if self._buf:
            self.counters.lines_bad += 1
        self._buf.clear()
        self._skip_to_newline = False

    def feed(self, data: bytes) -> list[SampleFrame]:
        """Consume bytes; return the complete, valid samples they finish (host time NaN)."""
        self.counters.bytes_in += len(data)
        out: list[SampleFrame] = []
        start = 0
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                if not self._skip_to_newline:
                    self._buf += data[start:]
                    if len(self._buf) > MAX_LINE_BYTES:
                        self.counters.overlong += 1
                        self._buf.clear()
                        self._skip_to_newline = True
                return out
            if self._skip_to_newline:
                self._skip_to_newline = False
                self._buf.clear()
            else:
                self._buf += data[start:nl]
                frame = self._parse(bytes(self._buf))
                self._buf.clear()
                if frame is not None:
                    out.append(frame)
            start = nl + 1

    def _parse(self, line: bytes) -> SampleFrame | None:
        line = line.rstrip(b"\r")
        if not line:
            return None  # blank lines are allowed as keep-alives
        if len(line) > MAX_LINE_BYTES:
            self.counters.overlong += 1
            return None
        try:
            fields = line.decode("ascii").split(",")
            if len(fields) != 2 + self.n_sensors:
                raise ValueError("field count")
            seq = int(fields[0])
            t_us = int(fields[1])
            if not (0 <= seq < 2**32 and 0 <= t_us < 2**64):
                raise ValueError("range")
            pressure = np.array([float(f) if f.strip() else math.nan for f in fields[2:]], np.float32)
        except (UnicodeDecodeError, ValueError):
            self.counters.lines_bad += 1
            return None
        self.counters.lines_ok += 1
        return SampleFrame(side=self.side, sequence=seq, device_time_us=t_us, pressure=pressure)


def encode_csv_line(sequence: int, device_time_us: int, pressure: np.ndarray, decimals: int = 0) -> bytes:
    """One CSV line (with ``\\n``) for a sample; NaN values become empty fields."""
    values = ",".join("" if not np.isfinite(p) else f"{p:.{decimals}f}" for p in pressure)
    return f"{int(sequence) % 2**32},{int(device_time_us)},{values}\n".encode("ascii")
