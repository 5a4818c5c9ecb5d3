"""What a ``serial://PATH`` URL asks for: ``serial:///dev/ttyUSB0?baud=921600&protocol=openinsole-v1``.

URL parameters (all optional):

==============  ====================  =========================================================================
parameter       default               meaning
==============  ====================  =========================================================================
baud            921600 (csv: 115200)  line rate; must match the firmware
protocol        openinsole-v1         ``openinsole-v1`` (binary) or ``csv`` (text lines, csv-text-v1)
timeout_s       5                     no device answer / no data for this long -> clear error
reconnect_s     60                    keep reopening a vanished port this long (0: give up at once)
rate_hz         (device's)            binary: ask the device for this rate; csv: nominal rate (default: from
                                      the device clock column, else 100)
side            left                  csv only (binary devices say which foot they are)
sensors         (first line)          csv only: pressures per line
fields          seq,t_us              csv only: leading columns when the device sends no header line
units           raw                   csv only: ``raw``, ``kPa`` or ``N`` (what the numbers are)
foot_length_mm  260                   foot length to scale the layout to when the device does not say
==============  ====================  =========================================================================

``side``, ``rate_hz``, ``sensors``, ``units``, ``foot_length_mm``, ``protocol`` and ``reconnect_s`` mean the same
as on ``sim://`` and ``ble://`` URLs. Unknown parameters are refused with the list of known ones; ``foot_mm`` is
now ``foot_length_mm``.
"""

from __future__ import annotations

from dataclasses import dataclass

from insole.devices import check_url_parameters, parse_device_url, url_choice, url_number
from insole.errors import ConfigurationError
from insole.frames import SIDES, Side
from insole.layouts import DEFAULT_FOOT_LENGTH_MM, FOOT_LENGTH_RANGE_MM
from insole.protocols import protocol_name

#: Every parameter of a serial:// URL.
PARAMETERS = ("baud", "protocol", "timeout_s", "reconnect_s", "rate_hz", "side", "sensors", "fields", "units",
              "foot_length_mm")


@dataclass(frozen=True)
class SerialSettings:
    """A parsed ``serial://`` URL (see the module docstring for the meaning of each field).

    ``rate_hz`` is 0 for a binary device whose own rate is kept; ``rate_given`` says whether the URL set it.
    ``sensors`` is None when the csv decoder takes the count from the first good line.
    """

    url: str
    path: str
    protocol: str
    baud: int
    timeout_s: float
    reconnect_s: float
    rate_hz: float
    rate_given: bool
    side: Side
    sensors: int | None
    fields: str
    units: str
    foot_length_mm: float

    @classmethod
    def from_url(cls, url: str) -> SerialSettings:
        """Parse and check ``url``.

        Raises
        ------
        ConfigurationError
            Not a serial:// URL, no port, an unknown, renamed or out-of-range parameter, an unknown protocol.
        """
        scheme, path, query = parse_device_url(url)
        if scheme != "serial":
            raise ConfigurationError(f"SerialInsole needs a serial:// URL, got {url!r}")
        if not path:
            raise ConfigurationError(f"{url!r} names no port; e.g. serial:///dev/ttyUSB0 (see `insole scan`)")
        check_url_parameters(url, query, PARAMETERS)
        protocol = protocol_name(query.get("protocol", "openinsole-v1"))
        binary = protocol == "openinsole-v1"
        where = f"{url}:"

        def num(key: str, default: float, lo: float, hi: float) -> float:
            return url_number(where, query, key, lo, hi, default)

        return cls(
            url=url,
            path=path,
            protocol=protocol,
            baud=int(num("baud", 921600 if binary else 115200, 300, 16_000_000)),
            timeout_s=num("timeout_s", 5.0, 0.1, 3600),
            reconnect_s=num("reconnect_s", 60.0, 0, 86400),
            rate_hz=num("rate_hz", 0.0 if binary else 100.0, 0 if binary else 1, 10_000),
            rate_given=bool(query.get("rate_hz")),
            side=url_choice(where, query, "side", SIDES, "left"),  # type: ignore[arg-type]
            sensors=int(num("sensors", 0, 1, 1024)) if query.get("sensors") else None,
            fields=query.get("fields", "seq,t_us"),
            units=url_choice(where, query, "units", ("raw", "kPa", "N"), "raw"),
            foot_length_mm=num("foot_length_mm", DEFAULT_FOOT_LENGTH_MM, *FOOT_LENGTH_RANGE_MM),
        )
