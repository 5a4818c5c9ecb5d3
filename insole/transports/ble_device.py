"""Bluetooth Low Energy insoles on bleak: ``ble://NAME_OR_ADDRESS`` devices.

URL: ``ble://InsoleL?give_up_s=30`` (name as advertised) or ``ble://F0:00:00:00:00:01`` (address), with optional
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
foot_length_mm     265          insole length for the generic layout (Nordic UART insoles)
scan_timeout_s     10           how long one scan for the device may take
give_up_s          30           after a link loss, keep trying to reconnect this long, then end the device's
                                stream with an error (the recording keeps everything received)
mtu                247          ATT MTU to ask for (bumble backend; system stacks negotiate their own)
buffer_frames      5000         bound of the receive buffer; older frames are dropped (and counted) beyond it
=================  ===========  ====================================================================================

Design (bleak habits from ``protocol-notes.md``):

* the scan is filtered by the insole and Nordic UART service UUIDs; a device that advertises the requested name
  without either service is reported as such;
* the notification callback is a plain function: it feeds the sans-IO decoder and appends to a bounded buffer,
  never awaits (an async callback makes one task per notification, without ordering or back-pressure);
* every (re)connection uses a new client from bleak-retry-connector's ``establish_connection`` (which passes
  ``backend=`` through), after a fresh scan, and re-subscribes; attempts back off from 0.25 s to 4 s;
* each connection gets a new decoder, so a frame cut by a disconnect is dropped, not glued to the next one;
* every sample carries the host receive time of its notification; sequence numbers expose gaps (the recorder turns
  them into gap records), and the link-down interval is reported as an ``outage`` event;
* on BlueZ, notifications are requested with AcquireNotify (``use_start_notify=False``), which drops fewer fast
  notifications (bleak #1343).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError
from bleak_retry_connector import BleakNotFoundError, establish_connection

from insole.devices import DeviceEvent, DeviceInfo, InsoleDevice, parse_device_url, url_number
from insole.errors import ConfigurationError, DeviceError, InsoleError, ProtocolError
from insole.frames import FrameBatch, Side, check_side
from insole.layouts import builtin_layout
from insole.protocols import openinsole_v1 as v1
from insole.transports import ble_profile as P
from insole.transports.ble_codecs import Codec, get_codec

log = logging.getLogger(__name__)

#: Environment variable naming the default bumble transport of ``ble://`` URLs (for rigs and dongles).
TRANSPORT_ENV = "INSOLE_BLE_TRANSPORT"

_PARAMS = {
    "transport": "",
    "backend": "",
    "protocol": "auto",
    "side": "",
    "sensors": "",
    "rate_hz": "",
    "units": "raw",
    "foot_length_mm": "265",
    "scan_timeout_s": "10",
    "give_up_s": "30",
    "mtu": "247",
    "buffer_frames": "5000",
}
_ADDRESS_RE = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")
BACKOFF_FIRST_S = 0.25
BACKOFF_MAX_S = 4.0
#: Battery level at or below which a warning event is sent.
LOW_BATTERY_PCT = 10


def _num(url: str, query: dict[str, str], key: str, lo: float, hi: float) -> float:
    return url_number(f"{url}:", query, key, lo, hi)


def resolve_backends(transport: str, backend: str = "", url: str = "ble://") -> dict[str, Any]:
    """bleak keyword arguments selecting the backend: ``{}`` for the system stack, ``{"backend": cls}`` for bumble.

    Returns a dict with keys ``client`` and ``scanner`` (each a dict of keyword arguments).
    """
    transport = transport or ("" if backend == "system" else os.environ.get(TRANSPORT_ENV, ""))
    if backend not in ("", "bumble", "system"):
        raise ConfigurationError(f"{url}: backend must be 'bumble' or 'system', got {backend!r}")
    if backend == "bumble" and not transport:
        raise ConfigurationError(
            f"{url}: backend=bumble needs transport=... (e.g. tcp-client:127.0.0.1:19001 for `insole emulate-ble`) "
            f"or the {TRANSPORT_ENV} environment variable"
        )
    if not transport:
        return {"client": {}, "scanner": {}, "transport": ""}
    from insole.transports.bumble_backend import bumble_backends

    client_cls, scanner_cls = bumble_backends(transport)
    return {"client": {"backend": client_cls}, "scanner": {"backend": scanner_cls}, "transport": transport}


@dataclass(frozen=True)
class ScanResult:
    """One insole seen while scanning.

    Attributes
    ----------
    name : str or None
    address : str
    side : {"left", "right"} or None
        From the advertised manufacturer data.
    service : {"insole", "nus", "none"}
    rssi_dbm : int
    """

    name: str | None
    address: str
    side: str | None
    service: str
    rssi_dbm: int


def _service_kind(adv: AdvertisementData) -> str:
    uuids = {u.lower() for u in adv.service_uuids}
    if P.INSOLE_SERVICE_UUID in uuids:
        return "insole"
    if P.NUS_SERVICE_UUID in uuids:
        return "nus"
    return "none"


async def scan_insoles(
    timeout_s: float = 5.0, transport: str = "", backend: str = "", include_all: bool = False
) -> list[ScanResult]:
    """Scan for insoles (devices advertising the insole or Nordic UART service; every device with ``include_all``)."""
    kwargs = resolve_backends(transport, backend)
    found: dict[str, ScanResult] = {}

    def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
        found[device.address] = ScanResult(
            adv.local_name or device.name, device.address, P.side_from_manufacturer_data(adv.manufacturer_data),
            _service_kind(adv), adv.rssi,
        )

    uuids = None if include_all else list(P.SCAN_SERVICE_UUIDS)
    try:
        scanner = BleakScanner(on_adv, service_uuids=uuids, **kwargs["scanner"])
        await scanner.start()
    except Exception as exc:  # no adapter, no BlueZ/D-Bus, transport refused: say so, do not crash `insole scan`
        raise DeviceError(f"cannot scan for Bluetooth devices: {exc}") from exc
    try:
        await asyncio.sleep(timeout_s)
    finally:
        with contextlib.suppress(Exception):
            await scanner.stop()
    return sorted(found.values(), key=lambda r: (r.name or "", r.address))


def scan_ble(timeout_s: float) -> list[Any]:
    """``insole scan`` scanner of the ``ble`` transport (:mod:`insole.transports.discovery`).

    Uses the system's Bluetooth, or the bumble transport named by ``$INSOLE_BLE_TRANSPORT``; every device is
    listed, insoles (insole or Nordic UART service advertised) marked as likely.
    """
    from insole.transports.discovery import ScanResult as Found

    transport = os.environ.get(TRANSPORT_ENV, "")
    query = f"?transport={transport}" if transport else ""
    found = asyncio.run(scan_insoles(max(timeout_s, 0.1), transport=transport, include_all=True))
    out = []
    for r in found:
        target = r.name or r.address
        nus = "&" if query else "?"
        extra = f"{nus}sensors=N&rate_hz=HZ" if r.service == "nus" else ""
        details = {"address": r.address, "rssi": f"{r.rssi_dbm} dBm", "service": r.service}
        if r.side:
            details["side"] = r.side
        out.append(Found("ble", f"ble://{target}{query}{extra}", f"BLE {target}", details, r.service != "none"))
    return out


class BleInsole(InsoleDevice):
    """An insole on Bluetooth Low Energy (see the module docstring for the URL)."""

    def __init__(self, url: str) -> None:
        scheme, target, query = parse_device_url(url)
        if scheme != "ble":
            raise ConfigurationError(f"BleInsole needs a ble:// URL, got {url!r}")
        if not target:
            raise ConfigurationError(f"{url}: give the insole's name or address, e.g. ble://InsoleL")
        unknown = sorted(set(query) - set(_PARAMS))
        if unknown:
            raise ConfigurationError(f"{url}: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(_PARAMS)}")
        self.url = url
        self.target = target
        params = {**_PARAMS, **query}
        self._kwargs = resolve_backends(params["transport"], params["backend"], url)
        self.protocol = params["protocol"]
        if self.protocol != "auto":
            get_codec(self.protocol)  # fail early on an unknown name
        try:
            self.side_hint: Side | None = check_side(params["side"]) if params["side"] else None
        except ValueError as exc:
            raise ConfigurationError(f"{url}: {exc}") from None
        self.sensors_hint = int(_num(url, params, "sensors", 1, 1024)) if params["sensors"] else None
        self.rate_hint = _num(url, params, "rate_hz", 0.1, 10_000) if params["rate_hz"] else None
        self.units_hint = params["units"]
        if self.units_hint not in ("raw", "kPa", "N"):
            raise ConfigurationError(f"{url}: units must be raw, kPa or N, got {self.units_hint!r}")
        self.foot_length_mm = _num(url, params, "foot_length_mm", 100, 400)
        self.scan_timeout_s = _num(url, params, "scan_timeout_s", 0.1, 600)
        self.give_up_s = _num(url, params, "give_up_s", 0, 86_400)
        self.mtu = int(_num(url, params, "mtu", 23, 517))
        if self._kwargs["transport"]:
            self._kwargs["client"]["bumble_mtu"] = self.mtu
        self.buffer_frames = int(_num(url, params, "buffer_frames", 10, 10_000_000))
        self._info: DeviceInfo | None = None
        self._codec: Codec | None = None
        self._decoder: Any = None
        self._counter_totals: dict[str, int] = collections.Counter()
        self._client: BleakClient | None = None
        self._ble_device: BLEDevice | None = None
        self._adv_side: str | None = None
        self._frames: collections.deque[FrameBatch] = collections.deque()
        self._n_buffered = 0
        self._events: collections.deque[DeviceEvent] = collections.deque()
        self._wake = asyncio.Event()
        self._lost = asyncio.Event()
        self._closed = False
        self._fatal: InsoleError | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._last_rx_s = float("nan")
        self._lost_at_s = float("nan")
        self.overflow_frames = 0
        self.wrong_side_frames = 0
        self.reconnects = 0

    # ------------------------------------------------------------------ contract
    @property
    def info(self) -> DeviceInfo:
        if self._info is None:
            raise DeviceError(f"{self.url}: open() the device before asking for its description")
        return self._info

    @property
    def decoder_counters(self) -> dict[str, int]:
        """Bytes and frames seen by the decoders of every connection so far (good, bad)."""
        totals = collections.Counter(self._counter_totals)
        if self._decoder is not None:
            totals.update(self._decoder.counters())
        return dict(totals)

    async def open(self) -> None:
        device = await self._find(self.scan_timeout_s, diagnose=True)
        client = await self._connect(device)
        try:
            await self._setup(client, first=True)
        except BaseException:
            with contextlib.suppress(Exception):
                await client.disconnect()
            raise
        self._supervisor = asyncio.create_task(self._supervise(), name=f"ble-supervisor-{self.target}")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._lost.set()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._supervisor
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                if client.services.get_characteristic(P.INSOLE_CONTROL_UUID) is not None:
                    await client.write_gatt_char(P.INSOLE_CONTROL_UUID, v1.encode_command(v1.Command.STOP),
                                                 response=True)
            with contextlib.suppress(Exception):
                await client.disconnect()

    async def stream(self) -> AsyncIterator[FrameBatch | DeviceEvent]:
        if self._info is None:
            raise DeviceError(f"{self.url}: open() the device before streaming")
        while True:
            if not self._frames and not self._events:
                if self._fatal is not None:
                    raise self._fatal
                if self._closed:
                    return
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await self._wake.wait()
            while self._events:
                yield self._events.popleft()
            if self._frames:
                yield self._take_batch()

    # ------------------------------------------------------------------ scanning and connecting
    def _matches(self, device: BLEDevice, adv: AdvertisementData) -> bool:
        if _ADDRESS_RE.match(self.target):
            return device.address.upper() == self.target.upper()
        return (adv.local_name or device.name) == self.target

    async def _find(self, timeout_s: float, diagnose: bool = False) -> BLEDevice:
        """Scan (filtered by the insole services) until the target shows up."""
        found: asyncio.Future[tuple[BLEDevice, AdvertisementData]] = asyncio.get_running_loop().create_future()

        def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
            if not found.done() and self._matches(device, adv):
                found.set_result((device, adv))

        scanner = BleakScanner(on_adv, service_uuids=list(P.SCAN_SERVICE_UUIDS), **self._kwargs["scanner"])
        try:
            await scanner.start()
        except BleakError as exc:
            raise DeviceError(f"{self.url}: cannot scan for Bluetooth devices: {exc}") from exc
        try:
            async with asyncio.timeout(timeout_s):
                device, adv = await found
        except TimeoutError:
            device = None
        finally:
            with contextlib.suppress(Exception):
                await scanner.stop()
        if device is None:
            if diagnose:
                await self._diagnose_missing()
            # DeviceError rather than DeviceTimeoutError: callers wrap open() in their own timeouts and must not
            # mistake this for theirs
            raise DeviceError(
                f"{self.url}: no insole called {self.target!r} advertised the insole or Nordic UART service within "
                f"{timeout_s:g} s; is it on, charged, in range and not connected to another host? (`insole scan` "
                "lists what is around)"
            )
        self._adv_side = P.side_from_manufacturer_data(adv.manufacturer_data) or self._adv_side
        self._ble_device = device
        return device

    async def _diagnose_missing(self) -> None:
        """The target was not seen with an insole service: is it there without one?"""
        seen: list[tuple[BLEDevice, AdvertisementData]] = []

        def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
            if self._matches(device, adv):
                seen.append((device, adv))

        scanner = BleakScanner(on_adv, **self._kwargs["scanner"])
        with contextlib.suppress(Exception):
            await scanner.start()
            await asyncio.sleep(min(1.0, self.scan_timeout_s))
        with contextlib.suppress(Exception):
            await scanner.stop()
        if seen:
            device, adv = seen[-1]
            services = ", ".join(adv.service_uuids) or "no service UUIDs"
            raise DeviceError(
                f"{self.url}: {self.target!r} ({device.address}) is advertising, but not the insole service "
                f"{P.INSOLE_SERVICE_UUID} nor the Nordic UART service (it advertises {services}); it is not an "
                "insole, or its firmware does not follow firmware_protocols/openinsole-ble-gatt.md"
            )

    async def _connect(self, device: BLEDevice, max_attempts: int = 3) -> BleakClient:
        try:
            return await establish_connection(
                BleakClient, device, self.target, disconnected_callback=self._on_disconnect,
                max_attempts=max_attempts, **self._kwargs["client"],
            )
        except (BleakError, BleakNotFoundError, TimeoutError) as exc:
            raise DeviceError(f"{self.url}: could not connect to {device.address}: {exc}") from exc

    def _find_char(self, client: BleakClient, uuid: str) -> BleakGATTCharacteristic | None:
        return client.services.get_characteristic(uuid)

    async def _setup(self, client: BleakClient, first: bool) -> None:
        """Read the description (first connection), make a new decoder, subscribe and start streaming."""
        data_char = self._find_char(client, P.INSOLE_DATA_UUID)
        nus_char = self._find_char(client, P.NUS_TX_UUID)
        if data_char is None and nus_char is None:
            raise DeviceError(
                f"{self.url}: {client.address} has neither the insole service {P.INSOLE_SERVICE_UUID} nor the Nordic "
                "UART service; it is not an insole, or its firmware does not follow "
                "firmware_protocols/openinsole-ble-gatt.md"
            )
        if first:
            self._info, self._codec = await self._describe(client, data_char is not None)
        assert self._codec is not None and self._info is not None
        if self._decoder is not None:
            self._counter_totals.update(self._decoder.counters())
        self._decoder = self._codec.new_decoder(self._info.side, self._info.n_sensors, self._info.sampling_rate_hz)
        self._client = client
        self._lost.clear()
        battery = self._find_char(client, P.BATTERY_LEVEL_UUID)
        if battery is not None:
            with contextlib.suppress(BleakError, TimeoutError):
                level = await client.read_gatt_char(battery)
                if level:
                    self._on_battery(battery, level)
            if "notify" in battery.properties:
                with contextlib.suppress(BleakError, TimeoutError):
                    await client.start_notify(battery, self._on_battery)
        # BlueZ: AcquireNotify drops fewer fast notifications than StartNotify (bleak #1343); other backends ignore it
        await client.start_notify(data_char or nus_char, self._on_data, bluez={"use_start_notify": False})
        if data_char is not None:
            await client.write_gatt_char(P.INSOLE_CONTROL_UUID, v1.encode_command(v1.Command.START), response=True)
        self._events.append(DeviceEvent("connected", time.monotonic(), f"{self.url}: streaming from {client.address}"))
        self._wake.set()

    async def _describe(self, client: BleakClient, insole_service: bool) -> tuple[DeviceInfo, Codec]:
        dis: dict[str, str] = {}
        for key, uuid in (("manufacturer", P.MANUFACTURER_NAME_UUID), ("model", P.MODEL_NUMBER_UUID),
                          ("serial_number", P.SERIAL_NUMBER_UUID), ("firmware_version", P.FIRMWARE_REVISION_UUID)):
            char = self._find_char(client, uuid)
            if char is not None:
                with contextlib.suppress(BleakError, TimeoutError):
                    dis[key] = bytes(await client.read_gatt_char(char)).decode("utf-8", "replace").strip("\x00 ")
        if insole_service:
            info_char = self._find_char(client, P.INSOLE_INFO_UUID)
            if info_char is None:
                raise ProtocolError(f"{self.url}: the insole service lacks its device-info characteristic")
            rec = P.BleDeviceRecord.from_bytes(bytes(await client.read_gatt_char(info_char)), self.url)
            side, n_sensors, rate_hz, units = rec.side, rec.n_sensors, rec.sampling_rate_hz, rec.units
            foot_length_mm, protocol = rec.foot_length_mm, rec.protocol
            model = rec.model if rec.model != "unknown" else dis.get("model", "unknown")
            serial = rec.serial_number if rec.serial_number != "unknown" else dis.get("serial_number", "unknown")
            firmware = rec.firmware_version if rec.firmware_version != "unknown" else dis.get("firmware_version",
                                                                                              "unknown")
            if self.side_hint is not None and self.side_hint != side:
                raise ConfigurationError(
                    f"{self.url}: the URL says side={self.side_hint} but the insole reports {side}; fix the URL"
                )
        else:
            side = self.side_hint or self._adv_side
            missing = [k for k, v in (("side", side), ("sensors", self.sensors_hint), ("rate_hz", self.rate_hint))
                       if v is None]
            if missing:
                raise ConfigurationError(
                    f"{self.url}: a Nordic UART insole does not describe itself; add {', '.join(missing)} to the URL, "
                    f"e.g. ble://{self.target}?side=left&sensors=8&rate_hz=100"
                )
            assert side is not None and self.sensors_hint is not None and self.rate_hint is not None
            n_sensors, rate_hz, units = self.sensors_hint, self.rate_hint, self.units_hint
            foot_length_mm, protocol = self.foot_length_mm, "csv"
            model, serial, firmware = (dis.get(k, "unknown") for k in ("model", "serial_number", "firmware_version"))
        if self.protocol != "auto":
            protocol = self.protocol
        codec = get_codec(protocol)
        info = DeviceInfo(
            url=self.url, side=check_side(side), n_sensors=n_sensors, sampling_rate_hz=rate_hz, units=units,
            layout=builtin_layout(n_sensors, foot_length_mm), model=model, serial_number=serial,
            firmware_version=firmware,
            extra={"transport": "ble", "ble_address": client.address, "ble_name": self.target,
                   "protocol": protocol, "manufacturer": dis.get("manufacturer", "unknown"),
                   "ble_service": "insole" if insole_service else "nus"},
        )
        return info, codec

    # ------------------------------------------------------------------ callbacks (plain functions, no awaiting)
    def _on_data(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        host_s = time.monotonic()
        self._last_rx_s = host_s
        decoder = self._decoder
        if decoder is None:
            return
        for item in decoder.feed(bytes(data), host_time_s=host_s):
            if isinstance(item, FrameBatch):
                if item.side != self._info.side:  # type: ignore[union-attr]
                    self.wrong_side_frames += len(item)
                    continue
                self._frames.append(item)
                self._n_buffered += len(item)
                while self._n_buffered > self.buffer_frames and self._frames:
                    dropped = self._frames.popleft()
                    self._n_buffered -= len(dropped)
                    self.overflow_frames += len(dropped)
            elif isinstance(item, v1.StatusMessage) and item.battery_pct is not None:
                self._on_battery(_char, bytearray([int(item.battery_pct)]))
        self._wake.set()

    def _on_battery(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        if not data:
            return
        pct = float(min(100, data[0]))
        now = time.monotonic()
        self._events.append(DeviceEvent("battery", now, f"battery {pct:.0f} %", value=pct))
        if pct <= LOW_BATTERY_PCT:
            self._events.append(DeviceEvent("warning", now, f"{self.url}: battery low ({pct:.0f} %)"))
        self._wake.set()

    def _on_disconnect(self, client: BleakClient) -> None:
        if self._closed or client is not self._client:
            return
        now = time.monotonic()
        self._lost_at_s = now
        self._client = None
        self._events.append(DeviceEvent("disconnected", now, f"{self.url}: link lost; reconnecting"))
        self._lost.set()
        self._wake.set()

    # ------------------------------------------------------------------ reconnection
    async def _supervise(self) -> None:
        while not self._closed:
            await self._lost.wait()
            if self._closed:
                return
            lost_at = self._lost_at_s
            data_until = self._last_rx_s if np.isfinite(self._last_rx_s) else lost_at
            backoff = BACKOFF_FIRST_S
            attempt = 0
            while not self._closed:
                remaining = self.give_up_s - (time.monotonic() - lost_at)
                if remaining <= 0:
                    # DeviceError, not DeviceTimeoutError: a consumer's timeout handling must not mistake it for
                    # its own timeout (the recorder would report "went silent")
                    self._fatal = DeviceError(
                        f"{self.url}: the link was lost and the insole did not come back within {self.give_up_s:g} s "
                        f"(give_up_s; {attempt} reconnection attempts); recording goes on without it and keeps "
                        "everything received before"
                    )
                    self._events.append(DeviceEvent("outage", time.monotonic(), "link lost for good",
                                                    start_host_s=data_until, end_host_s=time.monotonic()))
                    self._wake.set()
                    return
                attempt += 1
                self._events.append(DeviceEvent("status", time.monotonic(), f"{self.url}: reconnecting (attempt "
                                                                             f"{attempt})"))
                self._wake.set()
                client: BleakClient | None = None
                try:
                    async with asyncio.timeout(max(remaining, 0.1)):
                        device = await self._find(min(self.scan_timeout_s, remaining))
                        client = await self._connect(device, max_attempts=1)
                        await self._setup(client, first=False)
                except (InsoleError, BleakError, TimeoutError) as exc:
                    log.info("%s: reconnection attempt %d failed: %s", self.url, attempt, exc)
                    if client is not None:
                        with contextlib.suppress(Exception):
                            await client.disconnect()
                    await asyncio.sleep(min(backoff, max(0.0, self.give_up_s - (time.monotonic() - lost_at))))
                    backoff = min(backoff * 2, BACKOFF_MAX_S)
                    continue
                now = time.monotonic()
                self.reconnects += 1
                self._events.append(DeviceEvent(
                    "outage", now, f"link down {now - lost_at:.2f} s, reconnected after {attempt} attempt(s)",
                    start_host_s=data_until, end_host_s=now,
                ))
                self._wake.set()
                break

    # ------------------------------------------------------------------ batches
    def _take_batch(self) -> FrameBatch:
        batches = list(self._frames)
        self._frames.clear()
        self._n_buffered = 0
        if len(batches) == 1:
            return batches[0]
        n = min(b.n_sensors for b in batches)
        return FrameBatch(
            side=batches[0].side,
            sequence=np.concatenate([b.sequence for b in batches]),
            device_time_us=np.concatenate([b.device_time_us for b in batches]),
            host_time_s=np.concatenate([b.host_time_s for b in batches]),
            pressure=np.concatenate([b.pressure[:, :n] for b in batches]),
            saturated=np.concatenate([b.saturated for b in batches]),
        )
