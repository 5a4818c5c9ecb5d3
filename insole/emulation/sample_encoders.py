"""The device side of each wire protocol's sample stream: what an insole puts on the wire per sample.

``openinsole-v1``
    COBS-framed binary SAMPLE frames (:mod:`insole.emulation.openinsole_device`).
``csv``
    csv-text-v1 lines (:func:`encode_line`, spec ``firmware_protocols/csv-text-v1.md``), as DIY insoles send over a
    UART or the Nordic UART service.

:func:`sample_encoder` picks one by protocol name (the names and aliases of :mod:`insole.protocols.registry`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from insole.emulation import openinsole_device as v1
from insole.frames import Side
from insole.protocols.cobs_framing import frame_bytes
from insole.protocols.csv_text import nmea_checksum
from insole.protocols.registry import protocol_name


def encode_line(sequence: int | None, time_us: int | None, pressure: Any, *, checksum: bool = False,
                time_ms: bool = False) -> bytes:
    """One CSV line: ``[seq,][t_us|t_ms,]p0,...\\n`` (integers; NaN -> empty field), optionally with ``*HH``."""
    fields: list[str] = []
    if sequence is not None:
        fields.append(str(int(sequence)))
    if time_us is not None:
        fields.append(str(int(time_us) // 1000 if time_ms else int(time_us)))
    fields.extend("" if not np.isfinite(p) else str(int(round(float(p)))) for p in np.asarray(pressure, float))
    body = ",".join(fields).encode("ascii")
    if checksum:
        body += b"*%02X" % nmea_checksum(body)
    return body + b"\n"


@dataclass(frozen=True)
class SampleEncoder:
    """A protocol's sample encoder, as a device uses it.

    Attributes
    ----------
    name : str
        Canonical protocol name.
    encode_samples : callable
        ``(side, sequence, device_time_us, pressure, imu=None) -> list of bytes`` (one wire chunk per sample,
        framed); ``imu`` (n, 6) int16 counts, for protocols that carry an IMU block (openinsole-v1).
    resync : bytes
        What a device sends at the start of a connection so that any decoder starts clean (a delimiter).
    """

    name: str
    encode_samples: Callable[..., list[bytes]]
    resync: bytes


def _v1_encode(side: Side, seq: np.ndarray, t_us: np.ndarray, pressure: np.ndarray,
               imu: np.ndarray | None = None) -> list[bytes]:
    return [frame_bytes(f) for f in v1.encode_samples(seq, t_us, pressure.astype(np.uint16), side=side, imu=imu)]


def _csv_encode(side: Side, seq: np.ndarray, t_us: np.ndarray, pressure: np.ndarray,
                imu: np.ndarray | None = None) -> list[bytes]:
    if imu is not None:
        raise ValueError("csv-text-v1 lines carry no IMU values")
    return [encode_line(int(s), int(t), p) for s, t, p in zip(seq, t_us, pressure, strict=True)]


_ENCODERS = {
    "openinsole-v1": SampleEncoder("openinsole-v1", _v1_encode, b"\x00"),
    "csv": SampleEncoder("csv", _csv_encode, b"\n"),
}


def sample_encoder(name: str) -> SampleEncoder:
    """The sample encoder of protocol ``name`` (or an alias such as ``binary``, ``text``).

    Raises
    ------
    ConfigurationError
        Unknown protocol name.
    """
    return _ENCODERS[protocol_name(name)]
