"""Finding insoles: one scanner per transport, collected by ``insole scan``; one :class:`ScanResult` for all.

A scanner is ``func(timeout_s: float) -> list[ScanResult]`` registered as ``"module:function"`` so that a
transport's libraries load only when scanning (serial: :mod:`insole.transports.serial_scan`, BLE:
:mod:`insole.transports.ble_scan`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from insole.errors import InsoleError

if TYPE_CHECKING:
    from insole.frames import Side


@dataclass(frozen=True)
class ScanResult:
    """One candidate device.

    Attributes
    ----------
    transport : str
        ``serial``, ``ble``, ...
    url : str
        A device URL to pass to ``insole record --device``.
    description : str
        What the system says it is (USB product, BLE name).
    details : dict
        Transport-specific extras worth showing (serial: VID:PID, USB serial number, maker, location).
    likely_insole : bool
        The scanner thinks this is an insole (known USB bridge, advertised service), not just any port.
    address : str
        Where the device is: the port path, or the BLE address.
    name : str or None
        The advertised BLE name (None when there is none, and for serial ports).
    side : {"left", "right"} or None
        The foot, when the device says so before connecting (BLE manufacturer data).
    service : str
        BLE: the data service advertised, ``insole``, ``nus`` (Nordic UART) or ``none``; ``""`` for serial.
    rssi_dbm : int or None
        BLE signal strength.
    """

    transport: str
    url: str
    description: str = ""
    details: dict[str, str] = field(default_factory=dict)
    likely_insole: bool = False
    address: str = ""
    name: str | None = None
    side: Side | None = None
    service: str = ""
    rssi_dbm: int | None = None

    def summary(self) -> dict[str, str]:
        """What to show beside the URL: address (unless the URL has it), side, service, RSSI, :attr:`details`."""
        shown = {"address": self.address if self.address not in self.url else "", "side": self.side or "",
                 "service": self.service,
                 "rssi": f"{self.rssi_dbm} dBm" if self.rssi_dbm is not None else ""}
        return {k: v for k, v in {**shown, **self.details}.items() if v}


_SCANNERS: dict[str, str] = {
    "serial": "insole.transports.serial_scan:scan_serial_ports",
    "ble": "insole.transports.ble_scan:scan_ble",
}


def register_scanner(transport: str, target: str) -> None:
    """Register ``"module:function"`` as the scanner of ``transport``."""
    _SCANNERS[transport] = target


def scanners() -> list[str]:
    """Names of the registered transports."""
    return sorted(_SCANNERS)


def scan(transports: list[str] | None = None, timeout_s: float = 5.0) -> tuple[list[ScanResult], dict[str, str]]:
    """Run the scanners of ``transports`` (all by default).

    Returns
    -------
    results : list of ScanResult
    problems : dict
        transport -> why its scan failed (e.g. no Bluetooth adapter); the other transports still report.
    """
    results: list[ScanResult] = []
    problems: dict[str, str] = {}
    for name in transports or scanners():
        target = _SCANNERS.get(name)
        if target is None:
            problems[name] = f"unknown transport; known: {', '.join(scanners())}"
            continue
        module_name, _, attr = target.partition(":")
        try:
            func: Callable[[float], list[ScanResult]] = getattr(importlib.import_module(module_name), attr)
            results.extend(func(timeout_s))
        except (InsoleError, OSError, ImportError) as exc:
            problems[name] = str(exc)
    return results, problems
