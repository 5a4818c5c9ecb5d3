"""The one registry of wire-protocol codecs: protocol names and aliases -> codec factories.

Device URLs (``protocol=...``), the drivers, the emulators and the importers all name protocols through
:func:`protocol_name` and build decoders through :func:`make_codec`, so an alias accepted in one place is accepted
everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from insole.errors import ConfigurationError
from insole.protocols.codec import Codec


def _openinsole_v1(*, side: str, n_sensors: int | None, rate_hz: float, fields: str, synced: bool,
                   imu_info: Any = None) -> Codec:
    from insole.protocols.openinsole_v1.decoder import Decoder

    return Decoder(synced=synced, imu_info=imu_info)  # the frames say which foot, how many cells and when


def _csv(*, side: str, n_sensors: int | None, rate_hz: float, fields: str, synced: bool,
         imu_info: Any = None) -> Codec:
    from insole.protocols.csv_text import CsvDecoder

    return CsvDecoder(side=side, fields=fields, n_sensors=n_sensors, rate_hz=rate_hz, synced=synced)


@dataclass(frozen=True)
class CodecEntry:
    """One registered protocol.

    Attributes
    ----------
    name : str
        Canonical name.
    aliases : tuple of str
        Other names accepted for it (lower case).
    spec : str
        Where the protocol is specified.
    factory : callable
        Keyword arguments ``side, n_sensors, rate_hz, fields, synced, imu_info`` -> a fresh :class:`Codec`.
    """

    name: str
    aliases: tuple[str, ...]
    spec: str
    factory: Callable[..., Codec]


CODECS: dict[str, CodecEntry] = {
    "openinsole-v1": CodecEntry("openinsole-v1", ("openinsole", "binary"), "firmware_protocols/openinsole-v1.md",
                                _openinsole_v1),
    "csv": CodecEntry("csv", ("csv-text-v1", "text"), "firmware_protocols/csv-text-v1.md", _csv),
}
#: Protocol names accepted in device URLs (``protocol=...``) and by the emulators.
PROTOCOLS = tuple(CODECS)
_ALIASES = {alias: e.name for e in CODECS.values() for alias in (e.name, *e.aliases)}


def protocol_name(name: str) -> str:
    """Canonical protocol name (``openinsole-v1`` or ``csv``) of ``name`` or an alias (any case).

    Raises
    ------
    ConfigurationError
        No protocol has that name.
    """
    try:
        return _ALIASES[name.lower()]
    except KeyError:
        raise ConfigurationError(f"unknown protocol {name!r}; choose one of: {', '.join(PROTOCOLS)}") from None


def make_codec(
    name: str,
    *,
    side: str = "left",
    n_sensors: int | None = None,
    rate_hz: float = 100.0,
    fields: str = "seq,t_us",
    synced: bool = False,
    imu_info: Any = None,
) -> Codec:
    """A fresh decoder of protocol ``name`` (or an alias).

    Parameters
    ----------
    name : str
    side : {"left", "right"}
        The foot, for protocols whose frames do not say it (csv).
    n_sensors : int or None
        Pressures per sample, for protocols that do not announce it (csv; None: from the first good line).
    rate_hz : float
        Nominal rate, for protocols without a device clock column (csv).
    fields : str
        Leading csv columns when the device sends no header line.
    synced : bool
        The first byte fed starts a frame (else everything up to the first frame boundary is discarded).
    imu_info : ImuInfoMessage or None
        How to convert the IMU block (openinsole-v1), when the device describes its IMU outside the stream (the
        BLE device-info record); otherwise the stream's IMU_INFO frame is used. Protocols without IMU ignore it.

    Raises
    ------
    ConfigurationError
        Unknown protocol or unusable settings.
    """
    entry = CODECS[protocol_name(name)]
    return entry.factory(side=side, n_sensors=n_sensors, rate_hz=rate_hz, fields=fields, synced=synced,
                         imu_info=imu_info)
