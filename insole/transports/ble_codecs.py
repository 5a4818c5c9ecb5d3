"""Which wire-protocol codec turns a BLE byte stream into samples (and back, for the emulator).

The BLE transport is codec-agnostic: the driver feeds every notification into an object with
``feed(bytes) -> list[SampleFrame]`` (a sans-IO decoder) and the emulator turns samples into bytes with an encoder.
This module is the one place that maps a protocol name to that pair:

``openinsole-v1``
    COBS-framed binary frames with CRC-16/IBM-3740 (``firmware_protocols/openinsole-v1.md``,
    :mod:`insole.protocols.openinsole_v1`); the protocol of the custom insole service.
``csv``
    Text lines over the Nordic UART service (:mod:`insole.transports.nus_csv`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from insole.errors import ConfigurationError
from insole.frames import Side
from insole.transports.nus_csv import CsvLineDecoder, encode_csv_line


class StreamDecoder(Protocol):
    """What the driver needs from a decoder."""

    def feed(self, data: bytes) -> list[Any]:
        """Consume bytes, return the samples (and other frames) they complete."""


@dataclass(frozen=True)
class SampleSpec:
    """What the emulator encodes: one sample."""

    side: Side
    sequence: int
    device_time_us: int
    pressure: np.ndarray  # raw counts or device units
    saturated: bool = False


@dataclass(frozen=True)
class Codec:
    """A protocol's decoder factory, sample encoder and counter reader."""

    name: str
    new_decoder: Callable[[Side, int], StreamDecoder]
    encode_sample: Callable[[SampleSpec], bytes]
    counters: Callable[[StreamDecoder], dict[str, int]]
    #: bytes that make any decoder drop a partial frame and resynchronise (sent at each new connection)
    resync: bytes = b""


def _csv_counters(dec: StreamDecoder) -> dict[str, int]:
    c = dec.counters  # type: ignore[attr-defined]
    return {"bytes_in": c.bytes_in, "frames_ok": c.lines_ok, "frames_bad": c.lines_bad + c.overlong}


CSV = Codec(
    name="csv",
    new_decoder=lambda side, n: CsvLineDecoder(side, n),
    encode_sample=lambda s: encode_csv_line(s.sequence, s.device_time_us, s.pressure),
    counters=_csv_counters,
    resync=b"\n",
)


def _v1_codec() -> Codec:
    # INTEGRATION POINT (issue-3): the openinsole-v1 codec lives in insole.protocols.openinsole_v1.
    try:
        from insole.protocols import openinsole_v1  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            "protocol openinsole-v1 needs insole.protocols.openinsole_v1 (the wire-protocol codec), which is not "
            "installed in this build; use protocol=csv (Nordic UART) meanwhile"
        ) from None
    raise ConfigurationError("openinsole-v1 codec is present but not yet wired into the BLE transport")


def get_codec(name: str) -> Codec:
    """The codec called ``name``.

    Raises
    ------
    ConfigurationError
        Unknown protocol name.
    """
    if name == "csv":
        return CSV
    if name == "openinsole-v1":
        return _v1_codec()
    raise ConfigurationError(f"unknown BLE wire protocol {name!r}; known: openinsole-v1, csv")
