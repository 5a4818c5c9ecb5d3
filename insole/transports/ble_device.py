"""Bluetooth Low Energy insoles on bleak: the ``ble://NAME_OR_ADDRESS`` driver.

URL parameters: :mod:`insole.transports.ble_url`; the stack (system or bumble): :mod:`insole.transports.ble_stack`;
what the insole is: :mod:`insole.transports.ble_describe`; scanning: :mod:`insole.transports.ble_scan`.

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
  notifications (bleak #1343);
* an insole whose device-info record has an ``imu`` object gets ``DeviceInfo.imu``, and its decoder converts the
  samples' IMU block with it (m/s², rad/s, foot sensor frame).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import numpy as np
from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError
from bleak_retry_connector import BleakNotFoundError, establish_connection

from insole.devices import DeviceEvent, DeviceEventKind, DeviceInfo, InsoleDevice
from insole.errors import DeviceError, InsoleError, ProtocolError
from insole.frames import FrameBatch, Side
from insole.protocols import Codec, make_codec
from insole.protocols.openinsole_v1 import Command, encode_command
from insole.transports import ble_profile as P
from insole.transports.ble_describe import describe_ble_insole
from insole.transports.ble_stack import resolve_stack
from insole.transports.ble_url import BleSettings

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.25
BACKOFF_MAX_S = 4.0
#: Battery level at or below which a warning event is sent.
LOW_BATTERY_PCT = 10
#: Device Information characteristics read on the first connection.
_DIS = (("manufacturer", P.MANUFACTURER_NAME_UUID), ("model", P.MODEL_NUMBER_UUID),
        ("serial_number", P.SERIAL_NUMBER_UUID), ("firmware_version", P.FIRMWARE_REVISION_UUID))


class BleInsole(InsoleDevice):
    """An insole on Bluetooth Low Energy (see :mod:`insole.transports.ble_url` for the URL)."""

    def __init__(self, url: str) -> None:
        self.settings = BleSettings.from_url(url)
        self.url = url
        self.target = self.settings.target
        self._stack = resolve_stack(self.settings.transport, self.settings.backend, url)
        if self._stack.transport:
            self._stack.client["bumble_mtu"] = self.settings.mtu
        self.reconnect_s = self.settings.reconnect_s
        self.scan_timeout_s = self.settings.scan_timeout_s
        self.buffer_frames = self.settings.buffer_frames
        self._info: DeviceInfo | None = None
        self._record: P.BleDeviceRecord | None = None
        self._protocol = ""
        self._decoder: Codec | None = None
        self._counter_totals: dict[str, int] = collections.Counter()
        self._client: BleakClient | None = None
        self._ble_device: BLEDevice | None = None
        self._adv_side: Side | None = None
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
                    await client.write_gatt_char(P.INSOLE_CONTROL_UUID, encode_command(Command.STOP), response=True)
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
        if self.settings.target_is_address:
            return device.address.upper() == self.target.upper()
        return (adv.local_name or device.name) == self.target

    async def _find(self, timeout_s: float, diagnose: bool = False) -> BLEDevice:
        """Scan (filtered by the insole services) until the target shows up."""
        found: asyncio.Future[tuple[BLEDevice, AdvertisementData]] = asyncio.get_running_loop().create_future()

        def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
            if not found.done() and self._matches(device, adv):
                found.set_result((device, adv))

        scanner = BleakScanner(on_adv, service_uuids=list(P.SCAN_SERVICE_UUIDS), **self._stack.scanner)
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

        scanner = BleakScanner(on_adv, **self._stack.scanner)
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
                max_attempts=max_attempts, **self._stack.client,
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
            self._info, self._protocol = await self._describe(client, data_char is not None)
        assert self._info is not None
        if self._decoder is not None:
            self._counter_totals.update(self._decoder.counters())
        info = self._info
        self._decoder = make_codec(self._protocol, side=info.side, n_sensors=info.n_sensors,
                                   rate_hz=info.sampling_rate_hz,
                                   imu_info=self._record.imu if info.imu is not None and self._record else None)
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
            await client.write_gatt_char(P.INSOLE_CONTROL_UUID, encode_command(Command.START), response=True)
        self._events.append(DeviceEvent(DeviceEventKind.CONNECTED, time.monotonic(),
                                        f"{self.url}: streaming from {client.address}"))
        self._wake.set()

    async def _describe(self, client: BleakClient, insole_service: bool) -> tuple[DeviceInfo, str]:
        """Read the Device Information service and (insole service) the device-info record."""
        dis: dict[str, str] = {}
        for key, uuid in _DIS:
            char = self._find_char(client, uuid)
            if char is not None:
                with contextlib.suppress(BleakError, TimeoutError):
                    dis[key] = bytes(await client.read_gatt_char(char)).decode("utf-8", "replace").strip("\x00 ")
        record = None
        if insole_service:
            info_char = self._find_char(client, P.INSOLE_INFO_UUID)
            if info_char is None:
                raise ProtocolError(f"{self.url}: the insole service lacks its device-info characteristic")
            record = P.BleDeviceRecord.from_bytes(bytes(await client.read_gatt_char(info_char)), self.url)
        self._record = record
        return describe_ble_insole(self.settings, client.address, dis, record, self._adv_side)

    # ------------------------------------------------------------------ callbacks (plain functions, no awaiting)
    def _on_data(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        host_s = time.monotonic()
        self._last_rx_s = host_s
        decoder, info = self._decoder, self._info
        if decoder is None or info is None:
            return
        out = decoder.feed(bytes(data), host_time_s=host_s)
        for batch in out.samples:
            if batch.side != info.side:
                self.wrong_side_frames += len(batch)
                continue
            self._frames.append(batch)
            self._n_buffered += len(batch)
            while self._n_buffered > self.buffer_frames and self._frames:
                dropped = self._frames.popleft()
                self._n_buffered -= len(dropped)
                self.overflow_frames += len(dropped)
        for status in out.status:
            if status.battery_pct is not None:
                self._on_battery(_char, bytearray([int(status.battery_pct)]))
        self._wake.set()

    def _on_battery(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        if not data:
            return
        pct = float(min(100, data[0]))
        now = time.monotonic()
        self._events.append(DeviceEvent(DeviceEventKind.BATTERY, now, f"battery {pct:.0f} %", battery_pct=pct))
        if pct <= LOW_BATTERY_PCT:
            self._events.append(DeviceEvent(DeviceEventKind.WARNING, now, f"{self.url}: battery low ({pct:.0f} %)"))
        self._wake.set()

    def _on_disconnect(self, client: BleakClient) -> None:
        if self._closed or client is not self._client:
            return
        now = time.monotonic()
        self._lost_at_s = now
        self._client = None
        self._events.append(DeviceEvent(DeviceEventKind.DISCONNECTED, now, f"{self.url}: link lost; reconnecting",
                                        reconnecting=True))
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
                remaining = self.reconnect_s - (time.monotonic() - lost_at)
                if remaining <= 0:
                    # DeviceError, not DeviceTimeoutError: a consumer's timeout handling must not mistake it for
                    # its own timeout (the recorder would report "went silent")
                    self._fatal = DeviceError(
                        f"{self.url}: the link was lost and the insole did not come back within "
                        f"{self.reconnect_s:g} s (reconnect_s; {attempt} reconnection attempts); recording goes on "
                        "without it and keeps everything received before"
                    )
                    now = time.monotonic()
                    self._events.append(DeviceEvent(DeviceEventKind.OUTAGE, now, "link lost for good",
                                                    start_host_s=data_until, end_host_s=now, recovered=False,
                                                    attempt=attempt))
                    self._wake.set()
                    return
                attempt += 1
                self._events.append(DeviceEvent(DeviceEventKind.RECONNECTING, time.monotonic(),
                                                f"{self.url}: reconnecting (attempt {attempt})", attempt=attempt))
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
                    await asyncio.sleep(min(backoff, max(0.0, self.reconnect_s - (time.monotonic() - lost_at))))
                    backoff = min(backoff * 2, BACKOFF_MAX_S)
                    continue
                now = time.monotonic()
                self.reconnects += 1
                self._events.append(DeviceEvent(
                    DeviceEventKind.OUTAGE, now,
                    f"link down {now - lost_at:.2f} s, reconnected after {attempt} attempt(s)",
                    start_host_s=data_until, end_host_s=now, attempt=attempt,
                ))
                self._wake.set()
                break

    # ------------------------------------------------------------------ batches
    def _take_batch(self) -> FrameBatch:
        batches = list(self._frames)
        self._frames.clear()
        self._n_buffered = 0
        return FrameBatch.concatenate(batches)
