"""Scanning for BLE insoles: by the insole and Nordic UART service UUIDs, with the side they advertise.

:func:`scan_insoles` is the async scan (any stack); :func:`scan_ble` is the ``insole scan`` scanner of the ``ble``
transport (:mod:`insole.transports.discovery`). Both return :class:`~insole.transports.discovery.ScanResult`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from insole.errors import DeviceError
from insole.transports import ble_profile as P
from insole.transports.ble_stack import TRANSPORT_ENV, resolve_stack
from insole.transports.discovery import ScanResult


def service_kind(adv: AdvertisementData) -> str:
    """The data service an advertisement names: ``insole``, ``nus`` (Nordic UART) or ``none``."""
    uuids = {u.lower() for u in adv.service_uuids}
    if P.INSOLE_SERVICE_UUID in uuids:
        return "insole"
    if P.NUS_SERVICE_UUID in uuids:
        return "nus"
    return "none"


def _result(device: BLEDevice, adv: AdvertisementData, transport: str) -> ScanResult:
    name = adv.local_name or device.name
    service = service_kind(adv)
    target = name or device.address
    params = [f"transport={transport}"] if transport else []
    if service == "nus":
        params.append("sensors=N&rate_hz=HZ")  # a Nordic UART insole does not describe itself
    query = f"?{'&'.join(params)}" if params else ""
    return ScanResult(
        "ble", f"ble://{target}{query}", f"BLE {target}", likely_insole=service != "none", address=device.address,
        name=name, side=P.side_from_manufacturer_data(adv.manufacturer_data), service=service, rssi_dbm=adv.rssi,
    )


async def scan_insoles(
    timeout_s: float = 5.0, transport: str = "", backend: str = "", include_all: bool = False
) -> list[ScanResult]:
    """Scan for insoles (devices advertising the insole or Nordic UART service; every device with ``include_all``).

    The URLs name the bumble ``transport`` when one is used, so that they can be recorded as they are.

    Raises
    ------
    DeviceError
        The stack cannot scan (no adapter, no BlueZ / D-Bus, a transport refused).
    """
    stack = resolve_stack(transport, backend)
    found: dict[str, ScanResult] = {}

    def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
        found[device.address] = _result(device, adv, stack.transport)

    uuids = None if include_all else list(P.SCAN_SERVICE_UUIDS)
    try:
        scanner = BleakScanner(on_adv, service_uuids=uuids, **stack.scanner)
        await scanner.start()
    except Exception as exc:  # no adapter, no BlueZ/D-Bus, transport refused: say so, do not crash `insole scan`
        raise DeviceError(f"cannot scan for Bluetooth devices: {exc}") from exc
    try:
        await asyncio.sleep(timeout_s)
    finally:
        with contextlib.suppress(Exception):
            await scanner.stop()
    return sorted(found.values(), key=lambda r: (r.name or "", r.address))


def scan_ble(timeout_s: float) -> list[ScanResult]:
    """``insole scan`` scanner of the ``ble`` transport.

    Uses the system's Bluetooth, or the bumble transport named by ``$INSOLE_BLE_TRANSPORT``; every device is
    listed, insoles (insole or Nordic UART service advertised) marked as likely.
    """
    transport = os.environ.get(TRANSPORT_ENV, "")
    return asyncio.run(scan_insoles(max(timeout_s, 0.1), transport=transport, include_all=True))
