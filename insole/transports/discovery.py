"""Finding insoles: one scanner per transport, collected by ``insole scan``.

A scanner is ``func(timeout_s: float) -> list[ScanResult]`` registered as ``"module:function"`` so that a
transport's libraries load only when scanning; the BLE transport adds itself with
``"ble": "insole.transports.ble_device:scan_ble"``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from insole.errors import InsoleError


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
        Anything else worth showing (VID:PID, serial number, RSSI, ...).
    likely_insole : bool
        The scanner thinks this is an insole (known USB bridge, advertised service), not just any port.
    """

    transport: str
    url: str
    description: str = ""
    details: dict[str, str] = field(default_factory=dict)
    likely_insole: bool = False


_SCANNERS: dict[str, str] = {
    "serial": "insole.transports.serial_device:scan_serial_ports",
    "ble": "insole.transports.ble_device:scan_ble",
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
