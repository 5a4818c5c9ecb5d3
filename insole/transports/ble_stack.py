"""Which Bluetooth stack a ``ble://`` URL uses: the system's (BlueZ, CoreBluetooth, WinRT) or bumble.

bumble is chosen by a bumble HCI transport name (``transport=`` or ``$INSOLE_BLE_TRANSPORT``): a rig of emulators
(``local:NAME``, ``tcp-client:127.0.0.1:19001`` for ``insole emulate-ble``) or a USB dongle driven by bumble
(``usb:0``). The bumble backend (:mod:`insole.transports.bumble_backend`) is imported only then.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from insole.errors import ConfigurationError

#: Environment variable naming the default bumble transport of ``ble://`` URLs (for rigs and dongles).
TRANSPORT_ENV = "INSOLE_BLE_TRANSPORT"
#: Values of the ``backend`` URL parameter (empty: bumble if a transport is named, else the system's).
BACKENDS = ("", "bumble", "system")


@dataclass
class BleStack:
    """bleak keyword arguments selecting the stack.

    Attributes
    ----------
    transport : str
        The bumble HCI transport, or ``""`` for the system's Bluetooth.
    client, scanner : dict
        Keyword arguments for ``BleakClient`` / ``BleakScanner`` (``backend=`` for bumble, else empty).
    """

    transport: str = ""
    client: dict[str, Any] = field(default_factory=dict)
    scanner: dict[str, Any] = field(default_factory=dict)


def resolve_stack(transport: str, backend: str = "", url: str = "ble://") -> BleStack:
    """The stack for a URL's ``transport`` and ``backend`` parameters (``url`` names the device in errors).

    Raises
    ------
    ConfigurationError
        An unknown backend, or ``backend=bumble`` without a transport.
    """
    transport = transport or ("" if backend == "system" else os.environ.get(TRANSPORT_ENV, ""))
    if backend not in BACKENDS:
        raise ConfigurationError(f"{url}: backend must be 'bumble' or 'system', got {backend!r}")
    if backend == "bumble" and not transport:
        raise ConfigurationError(
            f"{url}: backend=bumble needs transport=... (e.g. tcp-client:127.0.0.1:19001 for `insole emulate-ble`) "
            f"or the {TRANSPORT_ENV} environment variable"
        )
    if not transport:
        return BleStack()
    from insole.transports.bumble_backend import bumble_backends  # only now: bumble is an optional stack

    client_cls, scanner_cls = bumble_backends(transport)
    return BleStack(transport, {"backend": client_cls}, {"backend": scanner_cls})
