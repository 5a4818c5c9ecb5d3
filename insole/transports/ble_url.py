"""What a ``ble://NAME_OR_ADDRESS`` URL asks for.

URL: ``ble://InsoleL?reconnect_s=30`` (name as advertised) or ``ble://F0:00:00:00:00:01`` (address), with optional
parameters:

=================  ===========  ====================================================================================
parameter          default      meaning
=================  ===========  ====================================================================================
transport          (none)       bumble HCI transport to use instead of the system's Bluetooth (BlueZ, CoreBluetooth,
                                WinRT): ``tcp-client:127.0.0.1:19001`` for ``insole emulate-ble``, ``local:NAME`` for
                                an in-process rig, ``usb:0`` for a dongle driven by bumble. Default: the environment
                                variable ``INSOLE_BLE_TRANSPORT`` if set, else the system's Bluetooth.
backend            (auto)       ``bumble`` or ``system``; ``bumble`` without ``transport`` is an error
protocol           auto         wire protocol of the data stream: ``openinsole-v1``, ``csv``; ``auto`` takes it from
                                the device-info record (insole service) or ``csv`` (Nordic UART service)
side               (device)     ``left``/``right``; required for Nordic UART insoles that do not advertise it; if
                                given for an insole that reports its side, the two must agree
sensors            (device)     sensor count; required for Nordic UART insoles
rate_hz            (device)     nominal sampling rate; required for Nordic UART insoles
units              raw          units of Nordic UART insoles (``raw``, ``kPa``, ``N``)
foot_length_mm     260          foot length to scale the layout to when the insole does not say (Nordic UART)
scan_timeout_s     10           how long one scan for the device may take
reconnect_s        30           after a link loss, keep trying to reconnect this long, then end the device's
                                stream with an error (the recording keeps everything received)
mtu                247          ATT MTU to ask for (bumble backend; system stacks negotiate their own)
buffer_frames      5000         bound of the receive buffer; older frames are dropped (and counted) beyond it
=================  ===========  ====================================================================================

``side``, ``rate_hz``, ``sensors``, ``units``, ``foot_length_mm``, ``protocol`` and ``reconnect_s`` mean the same
as on ``sim://`` and ``serial://`` URLs (``give_up_s`` is now ``reconnect_s``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from insole.devices import check_url_parameters, parse_device_url, url_choice, url_number
from insole.errors import ConfigurationError
from insole.frames import SIDES, Side
from insole.layouts import DEFAULT_FOOT_LENGTH_MM, FOOT_LENGTH_RANGE_MM
from insole.protocols import protocol_name

#: Every parameter of a ble:// URL and its default ("" = none).
PARAMETERS = {
    "transport": "",
    "backend": "",
    "protocol": "auto",
    "side": "",
    "sensors": "",
    "rate_hz": "",
    "units": "raw",
    "foot_length_mm": f"{DEFAULT_FOOT_LENGTH_MM:g}",
    "scan_timeout_s": "10",
    "reconnect_s": "30",
    "mtu": "247",
    "buffer_frames": "5000",
}
_ADDRESS_RE = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")


@dataclass(frozen=True)
class BleSettings:
    """A parsed ``ble://`` URL (see the module docstring for the meaning of each field).

    ``side``, ``sensors`` and ``rate_hz`` are None when the URL leaves them to the device.
    """

    url: str
    target: str
    transport: str
    backend: str
    protocol: str
    side: Side | None
    sensors: int | None
    rate_hz: float | None
    units: str
    foot_length_mm: float
    scan_timeout_s: float
    reconnect_s: float
    mtu: int
    buffer_frames: int

    @property
    def target_is_address(self) -> bool:
        """The URL names a Bluetooth address (or a macOS device UUID), not an advertised name."""
        return _ADDRESS_RE.match(self.target) is not None

    @classmethod
    def from_url(cls, url: str) -> BleSettings:
        """Parse and check ``url``.

        Raises
        ------
        ConfigurationError
            Not a ble:// URL, no target, an unknown, renamed or out-of-range parameter, an unknown protocol.
        """
        scheme, target, query = parse_device_url(url)
        if scheme != "ble":
            raise ConfigurationError(f"BleInsole needs a ble:// URL, got {url!r}")
        if not target:
            raise ConfigurationError(f"{url}: give the insole's name or address, e.g. ble://InsoleL")
        check_url_parameters(url, query, PARAMETERS)
        p = {**PARAMETERS, **query}
        where = f"{url}:"

        def num(key: str, lo: float, hi: float) -> float:
            return url_number(where, p, key, lo, hi)

        protocol = p["protocol"] if p["protocol"] == "auto" else protocol_name(p["protocol"])
        return cls(
            url=url,
            target=target,
            transport=p["transport"],
            backend=p["backend"],
            protocol=protocol,
            side=url_choice(where, p, "side", SIDES, "left") if p["side"] else None,  # type: ignore[arg-type]
            sensors=int(num("sensors", 1, 1024)) if p["sensors"] else None,
            rate_hz=num("rate_hz", 0.1, 10_000) if p["rate_hz"] else None,
            units=url_choice(where, p, "units", ("raw", "kPa", "N"), "raw"),
            foot_length_mm=num("foot_length_mm", *FOOT_LENGTH_RANGE_MM),
            scan_timeout_s=num("scan_timeout_s", 0.1, 600),
            reconnect_s=num("reconnect_s", 0, 86_400),
            mtu=int(num("mtu", 23, 517)),
            buffer_frames=int(num("buffer_frames", 10, 10_000_000)),
        )
