"""The bumble central behind the bleak backend: one per HCI transport, shared by its clients and scanners.

``local:NAME``
    An in-process :class:`bumble.link.LocalLink` registered with :func:`register_local_link` (tests, and the
    ``insole emulate-ble`` rig when driver and emulator share a process).
any bumble transport name
    e.g. ``tcp-client:127.0.0.1:19001`` to the HCI port of ``insole emulate-ble`` or of
    ``python -m bumble.apps.controllers tcp-server:_:19001 ...``; ``usb:0`` for a real USB dongle.

One HCI transport serves one host, so all clients and scanners of a transport share one :class:`BumbleHub`. The
hub multiplexes scanning (reference counted), serialises connection set-up (an LE controller takes one pending
connection at a time) and merges advertising and scan-response data per address, as BlueZ does. Imported only
when a ``ble://`` URL asks for a bumble transport (:mod:`insole.transports.ble_stack`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from bleak.exc import BleakError
from bumble import hci
from bumble.controller import Controller
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

if TYPE_CHECKING:
    from insole.transports.bumble_backend import BumbleScanner

_LOCAL_LINKS: dict[str, LocalLink] = {}
_HUBS: dict[str, BumbleHub] = {}


def register_local_link(name: str, link: LocalLink) -> None:
    """Make an in-process link reachable as transport ``local:NAME``."""
    _LOCAL_LINKS[name] = link


def unregister_local_link(name: str) -> None:
    """Forget ``local:NAME`` (and its hub, whose controller sits on the link)."""
    _LOCAL_LINKS.pop(name, None)
    _HUBS.pop(f"local:{name}", None)


def _address_str(address: hci.Address) -> str:
    return address.to_string(with_type_qualifier=False).upper()


class BumbleHub:
    """The bumble central shared by every bleak client and scanner of one HCI transport.

    Parameters
    ----------
    transport : str
        ``local:NAME`` or a bumble transport name (see the module docstring).
    """

    def __init__(self, transport: str) -> None:
        self.transport_name = transport
        self.device: Device | None = None
        self._transport: Any = None
        self._ready: asyncio.Future[None] | None = None
        self._scanners: set[BumbleScanner] = set()
        self._seen: dict[str, tuple[hci.Address, dict[int, bytes]]] = {}
        self.connect_lock = asyncio.Lock()
        self.loop = asyncio.get_running_loop()

    async def ensure_ready(self) -> Device:
        """Open the transport and power the central on (once)."""
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
            try:
                await self._start()
            except BaseException as exc:
                self._ready.set_exception(exc)
                self._ready.exception()  # mark retrieved
                fut, self._ready = self._ready, None
                del fut
                raise
            self._ready.set_result(None)
        else:
            await asyncio.shield(self._ready)
        assert self.device is not None
        return self.device

    async def _start(self) -> None:
        address = hci.Address("C0:FF:EE:00:00:01")
        if self.transport_name.startswith("local:"):
            name = self.transport_name.removeprefix("local:")
            link = _LOCAL_LINKS.get(name)
            if link is None:
                raise BleakError(
                    f"bumble transport {self.transport_name!r}: no in-process link of that name is registered; "
                    "start the emulator rig first"
                )
            controller = Controller("host", link=link, public_address="C0:FF:EE:00:00:01")
            device = Device(name="insole-host", address=address, host=Host(controller, AsyncPipeSink(controller)))
        else:
            from bumble.transport import open_transport

            try:
                self._transport = await open_transport(self.transport_name)
            except Exception as exc:
                raise BleakError(
                    f"cannot open bumble HCI transport {self.transport_name!r}: {exc}; is `insole emulate-ble` "
                    "(or bumble's controllers app) running there?"
                ) from exc
            device = Device.with_hci("insole-host", address, self._transport.source, self._transport.sink)
        device.on(device.EVENT_ADVERTISEMENT, self._on_advertisement)
        await device.power_on()
        self.device = device

    # ------------------------------------------------------------------ scanning
    async def add_scanner(self, scanner: BumbleScanner) -> None:
        device = await self.ensure_ready()
        self._scanners.add(scanner)
        if not device.scanning:
            await device.start_scanning(active=True, scan_interval=10.0, scan_window=10.0, filter_duplicates=False)

    async def remove_scanner(self, scanner: BumbleScanner) -> None:
        self._scanners.discard(scanner)
        if not self._scanners and self.device is not None and self.device.scanning:
            with contextlib.suppress(Exception):
                await self.device.stop_scanning()

    def _on_advertisement(self, adv: Advertisement) -> None:
        key = _address_str(adv.address)
        _, structures = self._seen.get(key, (adv.address, {}))
        structures = dict(structures)
        for ad_type, value in adv.data.ad_structures:
            structures[int(ad_type)] = bytes(value)
        self._seen[key] = (adv.address, structures)
        for scanner in list(self._scanners):
            scanner.on_advertisement(key, adv.rssi, structures, adv.tx_power)

    def bumble_address(self, address: str) -> hci.Address:
        """The typed bumble address of a device seen while scanning (random static if never seen)."""
        seen = self._seen.get(address.upper())
        if seen is not None:
            return seen[0]
        return hci.Address(address, hci.Address.RANDOM_DEVICE_ADDRESS)

    def advertised_name(self, address: str) -> str | None:
        seen = self._seen.get(address.upper())
        if seen is None:
            return None
        raw = seen[1].get(AdvertisingData.COMPLETE_LOCAL_NAME) or seen[1].get(AdvertisingData.SHORTENED_LOCAL_NAME)
        return raw.decode("utf-8", "replace") if raw is not None else None


def get_hub(transport: str) -> BumbleHub:
    """The hub of ``transport`` (created on first use, per event loop)."""
    hub = _HUBS.get(transport)
    if hub is not None and hub.loop is not asyncio.get_running_loop():
        hub = None  # a hub of a finished event loop (e.g. a previous test) cannot be reused
    if hub is None:
        hub = BumbleHub(transport)
        _HUBS[transport] = hub
    return hub
