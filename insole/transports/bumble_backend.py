"""A bleak backend on the bumble Bluetooth stack, so that bleak code runs without BlueZ or hardware.

bleak accepts any :class:`bleak.backends.client.BaseBleakClient` / :class:`bleak.backends.scanner.BaseBleakScanner`
subclass through its ``backend=`` parameter. :func:`bumble_backends` returns such a pair bound to one bumble HCI
transport (``local:NAME``, ``tcp-client:HOST:PORT``, ``usb:0``, ...; see :mod:`insole.transports.bumble_hub`).
This is a runtime backend: it also drives real USB Bluetooth dongles through bumble. It is imported only when a
``ble://`` URL asks for a bumble transport (:mod:`insole.transports.ble_stack`).

Pairing is not supported (the insole profile needs none).
"""

from __future__ import annotations

import contextlib
import logging
import uuid as uuid_mod
from collections.abc import Callable
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bumble.core import AdvertisingData, PhysicalTransport
from bumble.device import Connection, Peer
from bumble.gatt import Characteristic
from bumble.gatt_client import CharacteristicProxy, DescriptorProxy

from insole.transports.bumble_hub import get_hub

log = logging.getLogger(__name__)

#: ATT MTU the central asks for after connecting (the peripheral may grant less).
DEFAULT_REQUEST_MTU = 247

_BACKENDS: dict[str, tuple[type[BaseBleakClient], type[BaseBleakScanner]]] = {}


def _uuid_str(u: Any) -> str:
    """bumble UUID -> bleak's lower-case 128-bit string."""
    raw = bytes(u.to_bytes(force_128=True))  # little-endian
    return str(uuid_mod.UUID(bytes=raw[::-1]))


_PROPERTY_NAMES = [
    (Characteristic.Properties.BROADCAST, "broadcast"),
    (Characteristic.Properties.READ, "read"),
    (Characteristic.Properties.WRITE_WITHOUT_RESPONSE, "write-without-response"),
    (Characteristic.Properties.WRITE, "write"),
    (Characteristic.Properties.NOTIFY, "notify"),
    (Characteristic.Properties.INDICATE, "indicate"),
    (Characteristic.Properties.AUTHENTICATED_SIGNED_WRITES, "authenticated-signed-writes"),
    (Characteristic.Properties.EXTENDED_PROPERTIES, "extended-properties"),
]


def _parse_structures(structures: dict[int, bytes]) -> tuple[str | None, list[str], dict[int, bytes], dict[str, bytes]]:
    """Name, service UUIDs, manufacturer data and service data from merged advertising structures."""
    name_raw = structures.get(AdvertisingData.COMPLETE_LOCAL_NAME) or structures.get(
        AdvertisingData.SHORTENED_LOCAL_NAME
    )
    name = name_raw.decode("utf-8", "replace") if name_raw is not None else None
    uuids: list[str] = []
    for ad_type, size in (
        (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, 2),
        (AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, 2),
        (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, 16),
        (AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, 16),
    ):
        raw = structures.get(ad_type, b"")
        for i in range(0, len(raw) - size + 1, size):
            chunk = raw[i : i + size]
            if size == 2:
                uuids.append(f"0000{int.from_bytes(chunk, 'little'):04x}-0000-1000-8000-00805f9b34fb")
            else:
                uuids.append(str(uuid_mod.UUID(bytes=chunk[::-1])))
    manufacturer: dict[int, bytes] = {}
    raw = structures.get(AdvertisingData.MANUFACTURER_SPECIFIC_DATA)
    if raw is not None and len(raw) >= 2:
        manufacturer[int.from_bytes(raw[:2], "little")] = raw[2:]
    service_data: dict[str, bytes] = {}
    raw = structures.get(AdvertisingData.SERVICE_DATA_16_BIT_UUID)
    if raw is not None and len(raw) >= 2:
        service_data[f"0000{int.from_bytes(raw[:2], 'little'):04x}-0000-1000-8000-00805f9b34fb"] = raw[2:]
    raw = structures.get(AdvertisingData.SERVICE_DATA_128_BIT_UUID)
    if raw is not None and len(raw) >= 16:
        service_data[str(uuid_mod.UUID(bytes=raw[:16][::-1]))] = raw[16:]
    return name, uuids, manufacturer, service_data


class BumbleScanner(BaseBleakScanner):
    """bleak scanner backend on a :class:`BumbleHub` (bind a transport with :func:`bumble_backends`)."""

    transport: str = ""

    def __init__(
        self,
        detection_callback: Any,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._hub = get_hub(self.transport)

    async def start(self) -> None:
        self.seen_devices = {}
        await self._hub.add_scanner(self)

    async def stop(self) -> None:
        await self._hub.remove_scanner(self)

    def on_advertisement(self, key: str, rssi: int, structures: dict[int, bytes], tx_power: int | None) -> None:
        name, uuids, manufacturer, service_data = _parse_structures(structures)
        if not self.is_allowed_uuid(uuids):
            return
        adv = AdvertisementData(
            local_name=name,
            manufacturer_data=manufacturer,
            service_data=service_data,
            service_uuids=uuids,
            tx_power=None if tx_power in (None, 127) else tx_power,
            rssi=rssi,
            platform_data=(structures,),
        )
        device = self.create_or_update_device(key, key, name, {"bumble_transport": self.transport}, adv)
        self.call_detection_callbacks(device, adv)


class BumbleClient(BaseBleakClient):
    """bleak client backend on a :class:`BumbleHub` (bind a transport with :func:`bumble_backends`)."""

    transport: str = ""

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        services: set[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self.address = self.address.upper()
        self._hub = get_hub(self.transport)
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._request_mtu = int(kwargs.get("bumble_mtu", DEFAULT_REQUEST_MTU))
        self._subscriptions: dict[int, Callable[[bytes], None]] = {}
        self._name = (
            address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        )

    @property
    def name(self) -> str:
        return self._name or self._hub.advertised_name(self.address) or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        if pair:
            log.warning("the bumble backend does not pair; connecting without pairing")
        device = await self._hub.ensure_ready()
        timeout = float(kwargs.get("timeout", self._timeout))
        async with self._hub.connect_lock:
            try:
                connection = await device.connect(
                    self._hub.bumble_address(self.address), transport=PhysicalTransport.LE, timeout=timeout
                )
            except TimeoutError:
                raise
            except Exception as exc:
                raise BleakDeviceNotFoundError(self.address, f"{self.address} not found: {exc}") from exc
        self._connection = connection
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        try:
            peer = Peer(connection)
            self._peer = peer
            await peer.request_mtu(self._request_mtu)
            await peer.discover_all()
            self.services = self._build_services(peer)
        except BaseException:
            await self.disconnect()
            raise

    def _on_disconnection(self, reason: int) -> None:
        was_connected = self._connection is not None
        self._connection = None
        self._peer = None
        if was_connected and self._disconnected_callback is not None:
            self._disconnected_callback()

    def _build_services(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        for svc in peer.services:
            service = BleakGATTService(svc, svc.handle, _uuid_str(svc.uuid))
            collection.add_service(service)
            for ch in svc.characteristics:
                props = [name for flag, name in _PROPERTY_NAMES if ch.properties & flag]
                char = BleakGATTCharacteristic(
                    ch, ch.handle, _uuid_str(ch.uuid), props, self._max_write_size, service
                )
                collection.add_characteristic(char)
                for d in ch.descriptors:
                    collection.add_descriptor(BleakGATTDescriptor(d, d.handle, _uuid_str(d.type), char))
        return collection

    def _max_write_size(self) -> int:
        return self.mtu_size - 3

    async def disconnect(self) -> None:
        connection, self._connection = self._connection, None
        self._peer = None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.disconnect()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("the bumble backend does not pair")

    async def unpair(self) -> None:
        raise NotImplementedError("the bumble backend does not pair")

    def _require(self) -> Peer:
        if self._peer is None:
            raise BleakError(f"{self.address}: not connected")
        return self._peer

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any) -> bytearray:
        self._require()
        proxy: CharacteristicProxy = characteristic.obj
        return bytearray(await proxy.read_value())

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, **kwargs: Any) -> bytearray:
        self._require()
        proxy: DescriptorProxy = descriptor.obj
        return bytearray(await proxy.read_value())

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any, response: bool) -> None:
        self._require()
        proxy: CharacteristicProxy = characteristic.obj
        await proxy.write_value(bytes(data), with_response=response)

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        self._require()
        proxy: DescriptorProxy = descriptor.obj
        await proxy.write_value(bytes(data), with_response=True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        peer = self._require()

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        self._subscriptions[characteristic.handle] = on_value
        await peer.subscribe(characteristic.obj, on_value)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        peer = self._require()
        on_value = self._subscriptions.pop(characteristic.handle, None)
        await peer.unsubscribe(characteristic.obj, on_value)


def bumble_backends(transport: str) -> tuple[type[BaseBleakClient], type[BaseBleakScanner]]:
    """bleak ``backend=`` classes (client, scanner) bound to one bumble HCI transport."""
    pair = _BACKENDS.get(transport)
    if pair is None:
        safe = "".join(c if c.isalnum() else "_" for c in transport)
        client = type(f"BumbleClient_{safe}", (BumbleClient,), {"transport": transport})
        scanner = type(f"BumbleScanner_{safe}", (BumbleScanner,), {"transport": transport})
        pair = (client, scanner)
        _BACKENDS[transport] = pair
    return pair
