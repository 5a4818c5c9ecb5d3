"""Which wire-protocol codec turns a BLE byte stream into samples (and back, for the emulator).

The BLE transport reuses the sans-IO decoders of :mod:`insole.protocols` unchanged: the driver feeds every
notification into ``decoder.feed(bytes, host_time_s)`` and gets :class:`~insole.frames.FrameBatch` objects (and,
for openinsole-v1, status / sync / device-info messages) back. The emulator encodes with the same modules.

``openinsole-v1``
    COBS-framed binary frames with CRC-16/IBM-3740 (``firmware_protocols/openinsole-v1.md``); the protocol of the
    custom insole service.
``csv``
    csv-text-v1 lines (``firmware_protocols/csv-text-v1.md``), as DIY insoles send over the Nordic UART service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from insole.frames import Side
from insole.protocols import make_decoder, protocol_name
from insole.protocols import openinsole_v1 as v1
from insole.protocols.cobs_framing import frame_bytes
from insole.protocols.csv_text import encode_line


@dataclass(frozen=True)
class Codec:
    """A protocol's decoder factory and sample encoder.

    Attributes
    ----------
    name : str
    new_decoder : callable
        ``(side, n_sensors, rate_hz) -> decoder`` with ``feed(bytes, host_time_s) -> list`` and ``counters()``.
    encode_samples : callable
        ``(side, sequence, device_time_us, pressure) -> list of bytes`` (one wire chunk per sample, framed).
    resync : bytes
        What a device sends at the start of a connection so that any decoder starts clean (a delimiter).
    """

    name: str
    new_decoder: Callable[[Side, int, float], Any]
    encode_samples: Callable[[Side, np.ndarray, np.ndarray, np.ndarray], list[bytes]]
    resync: bytes


def _v1_encode(side: Side, seq: np.ndarray, t_us: np.ndarray, pressure: np.ndarray) -> list[bytes]:
    return [frame_bytes(f) for f in v1.encode_samples(seq, t_us, pressure.astype(np.uint16), side=side)]


def _csv_encode(side: Side, seq: np.ndarray, t_us: np.ndarray, pressure: np.ndarray) -> list[bytes]:
    return [encode_line(int(s), int(t), p) for s, t, p in zip(seq, t_us, pressure, strict=True)]


_CODECS = {
    "openinsole-v1": Codec(
        "openinsole-v1", lambda side, n, rate: make_decoder("openinsole-v1"), _v1_encode, b"\x00"
    ),
    "csv": Codec(
        "csv",
        lambda side, n, rate: make_decoder("csv", side=side, n_sensors=n, rate_hz=rate),
        _csv_encode,
        b"\n",
    ),
}


def get_codec(name: str) -> Codec:
    """The codec of protocol ``name`` (or an alias such as ``binary``, ``text``).

    Raises
    ------
    ConfigurationError
        Unknown protocol name.
    """
    return _CODECS[protocol_name(name)]
