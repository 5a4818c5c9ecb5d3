"""What a ``moticon-udp://HOST:PORT`` URL asks for: ``moticon-udp://127.0.0.1:8888?side=left``.

The Moticon OpenGo desktop software streams live insole data as UDP datagrams of ASCII numbers to a host and port
set in its settings; this driver listens on ``HOST:PORT`` (a local address: ``127.0.0.1`` when the software runs
on the same computer). One stream carries both feet, so a recording opens one device per foot on the same
address; they share one socket.

URL parameters:

==============  ========  =====================================================================================
parameter       default   meaning
==============  ========  =====================================================================================
side            required  which foot of the stream this device records (``left`` or ``right``)
rate_hz         100       nominal rate of the stream; turns the timestamps into sample numbers (lost datagrams
                          become sequence gaps)
foot_length_mm  260       scales the Moticon cell layout
timeout_s       2         no datagram for this long: the link is reported lost (``disconnected``)
reconnect_s     30        after a loss keep listening this long, then give up (0: at once)
==============  ========  =====================================================================================

``side``, ``rate_hz``, ``foot_length_mm`` and ``reconnect_s`` mean the same as on every other scheme
(:func:`insole.devices.check_url_parameters`).
"""

from __future__ import annotations

from dataclasses import dataclass

from insole.devices import check_url_parameters, parse_device_url, url_choice, url_number
from insole.errors import ConfigurationError
from insole.frames import SIDES, Side
from insole.layouts import DEFAULT_FOOT_LENGTH_MM, FOOT_LENGTH_RANGE_MM

SCHEME = "moticon-udp"
#: Every parameter of a moticon-udp:// URL.
PARAMETERS = ("side", "rate_hz", "foot_length_mm", "timeout_s", "reconnect_s")


@dataclass(frozen=True)
class MoticonUdpSettings:
    """A parsed ``moticon-udp://`` URL (see the module docstring for the meaning of each field)."""

    url: str
    host: str
    port: int
    side: Side
    rate_hz: float
    foot_length_mm: float
    timeout_s: float
    reconnect_s: float

    @classmethod
    def from_url(cls, url: str) -> MoticonUdpSettings:
        """Parse and check ``url``.

        Raises
        ------
        ConfigurationError
            Not a moticon-udp:// URL, no HOST:PORT, no side, an unknown, renamed or out-of-range parameter.
        """
        scheme, location, query = parse_device_url(url)
        if scheme != SCHEME:
            raise ConfigurationError(f"MoticonUdpInsole needs a moticon-udp:// URL, got {url!r}")
        host, sep, port_text = location.rstrip("/").rpartition(":")
        if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigurationError(f"{url!r}: give the address to listen on as HOST:PORT, e.g. "
                                     "moticon-udp://127.0.0.1:8888?side=left")
        check_url_parameters(url, query, PARAMETERS)
        where = f"{url}:"
        if not query.get("side"):
            raise ConfigurationError(f"{where} parameter side is required (left or right): the stream carries both "
                                     "feet; record each with its own device on the same HOST:PORT")
        return cls(
            url=url, host=host.strip("[]"), port=int(port_text),
            side=url_choice(where, query, "side", SIDES, "left"),  # type: ignore[arg-type]
            rate_hz=url_number(where, query, "rate_hz", 1, 1000, 100.0),
            foot_length_mm=url_number(where, query, "foot_length_mm", *FOOT_LENGTH_RANGE_MM, DEFAULT_FOOT_LENGTH_MM),
            timeout_s=url_number(where, query, "timeout_s", 0.05, 3600, 2.0),
            reconnect_s=url_number(where, query, "reconnect_s", 0, 86400, 30.0),
        )
