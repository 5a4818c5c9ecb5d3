"""An insole emulator as a bumble GATT peripheral (put it on a link with :class:`insole.emulation.ble_rig.EmulatorRig`).

:class:`InsoleEmulator` is the firmware side of ``firmware_protocols/openinsole-ble-gatt.md`` on the bumble stack:
it advertises (insole service UUID, name, side), serves the insole service (data / control / device-info), the
Battery and Device Information services, and streams samples of the simulated walker
(:mod:`insole.simulator.gait_model`) as the wire-protocol byte stream cut into notifications of at most
ATT_MTU - 3 bytes. Variants: ``service="nus"`` (Nordic UART with CSV lines, as DIY insoles do) and
``service="none"`` (advertises a name but no insole service: a wrong device).

The simulated link has no radio loss, so the emulator injects faults itself: lost notifications
(:attr:`InsoleEmulator.notification_loss`), delays, forced disconnects (also in the middle of a frame), a device
that stays away, garbage notifications and a dead battery. It keeps a log of every sample it produced and whether
it reached the link whole, so tests can check the driver against the truth.

:class:`~insole.emulation.ble_rig.EmulatorRig` puts emulators on one :class:`bumble.link.LocalLink` and exposes it
to the driver either in-process (transport ``local:NAME``) or to another process through an HCI transport such as
``tcp-server:_:19001`` (``insole emulate-ble``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from typing import Any

import numpy as np
from bumble import hci
from bumble.controller import Controller
from bumble.device import Connection, Device
from bumble.gatt import Characteristic
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from insole.emulation.ble_gatt import SERVICES, advertising_data, insole_gatt
from insole.emulation.openinsole_device import CommandDecoder, encode_sync_reply, imu_counts
from insole.emulation.sample_encoders import sample_encoder
from insole.emulation.sample_log import SampleLog
from insole.errors import ConfigurationError
from insole.frames import Side, check_side
from insole.layouts import layout_for_device
from insole.protocols.cobs_framing import frame_bytes
from insole.protocols.openinsole_v1 import Command, ImuInfoMessage, SyncReply
from insole.simulator.device import kpa_to_raw
from insole.simulator.gait_model import simulate_walk
from insole.simulator.imu_model import SimulatedImu
from insole.simulator.profiles import profile_from_query
from insole.transports import ble_profile as P

log = logging.getLogger(__name__)

#: How often the emulator wakes up to send the samples that are due.
TICK_S = 0.02


class InsoleEmulator:
    """One insole as a BLE peripheral on a bumble controller.

    Parameters
    ----------
    name : str
        Advertised local name (e.g. ``InsoleL``).
    side : {"left", "right"}
    link : LocalLink
        The simulated radio link to join.
    address : str
        Static random address, e.g. ``F0:00:00:00:00:01``.
    service : {"insole", "nus", "none"}
        Which data service to serve.
    protocol : str
        Wire protocol of the byte stream (``openinsole-v1`` or ``csv``; ``nus`` forces ``csv``).
    n_sensors : int
        8, 16 or 99 (generic layouts); any other count walks on the placeholder layout ``unknown-N``
        (:func:`insole.layouts.layout_for_device`), as a DIY insole of unknown geometry would.
    rate_hz : float
    max_mtu : int
        Largest ATT MTU the peripheral accepts (23-517); the notifications carry at most ``max_mtu - 3`` bytes.
    battery_pct : int
    seed : int
        Seed of the simulated walker; emulators with the same seed walk as one person.
    profile : str
        Gait profile name (:mod:`insole.simulator.profiles`).
    imu : bool
        The insole has an IMU (openinsole-v1 on the insole service): the device-info record describes it (±16 g,
        ±2000 deg/s, foot axes) and every sample carries the IMU block of the simulated foot-mounted IMU.
    """

    def __init__(
        self,
        name: str,
        side: str,
        link: LocalLink,
        address: str,
        *,
        service: str = "insole",
        protocol: str = "openinsole-v1",
        n_sensors: int = 16,
        rate_hz: float = 50.0,
        max_mtu: int = 247,
        battery_pct: int = 87,
        seed: int = 0,
        profile: str = "neutral",
        imu: bool = False,
    ) -> None:
        if service not in SERVICES:
            raise ConfigurationError(f"emulator service must be insole, nus or none, got {service!r}")
        if not 23 <= max_mtu <= 517:
            raise ConfigurationError(f"ATT MTU must be 23-517 (Core spec vol 3 part F 3.2.8), got {max_mtu}")
        self.name = name
        self.side: Side = check_side(side)
        self.address = address
        self.service = service
        self.protocol = "csv" if service == "nus" else protocol
        self.encoder = sample_encoder(self.protocol)
        self.n_sensors = n_sensors
        self.rate_hz = float(rate_hz)
        self.max_mtu = max_mtu
        self.battery_pct = int(battery_pct)
        self.seed = seed
        gait = profile_from_query(profile, {})
        self._walk = simulate_walk(gait, 3600.0 * 6, seed)
        self._layout = layout_for_device(n_sensors, gait.foot_length_mm)
        self._foot_length_mm = gait.foot_length_mm
        if imu and (self.protocol != "openinsole-v1" or service != "insole"):
            raise ConfigurationError("an emulated IMU needs the insole service with openinsole-v1")
        self.imu_info = ImuInfoMessage(self.side, 16000, 2000, (1, 2, 3), 1) if imu else None
        self._imu = SimulatedImu(seed, self.side) if imu else None
        # fault injection (change at any time)
        #: probability that a notification is silently lost (seeded, reproducible)
        self.notification_loss = 0.0
        #: extra delay before each notification, seconds
        self.notification_delay_s = 0.0
        self.log = SampleLog()
        #: bumble's simulated controller does not model scan responses (it repeats the advertising data), so by
        #: default the emulator also puts its name into the advertising data; real firmware keeps to 31 bytes.
        self.pack_name_in_advertising = True
        self.notifications_sent = 0
        self.notifications_lost = 0
        self.connections = 0
        self._rng = np.random.default_rng([seed, 0 if self.side == "left" else 1, 7])
        self._link = link
        self._device: Device | None = None
        self._connection: Connection | None = None
        self._streaming = False
        self._subscribed = False
        self._away_until = 0.0
        self._cut_mid_frame = False
        self._dead = False
        self._stopping = False
        self._adv_tasks: set[asyncio.Future[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._start_mono = 0.0
        self._next_k = 0
        self._pending = bytearray()
        self._resync_sent = False
        self._commands = CommandDecoder()
        self._replies: list[bytes] = []
        self._clock_offset_us = int(self._rng.uniform(1.0, 1000.0) * 1e6)

    # ------------------------------------------------------------------ GATT
    def _build(self) -> Device:
        controller = Controller(f"emu-{self.name}", link=self._link, public_address=self.address)
        device = Device(name=self.name, address=hci.Address(self.address), host=Host(controller,
                                                                                      AsyncPipeSink(controller)))
        device.gatt_server.max_mtu = self.max_mtu
        gatt = insole_gatt(self.service, self.record(), self._on_control, lambda: self.battery_pct)
        self._data_char, self._battery_char = gatt.data_char, gatt.battery_char
        for s in gatt.services:
            device.add_service(s)
        if self._data_char is not None:
            self._data_char.on(Characteristic.EVENT_SUBSCRIPTION, self._on_subscription)
        device.on(device.EVENT_CONNECTION, self._on_connection)
        return device

    def record(self) -> P.BleDeviceRecord:
        """The device-info record this emulator serves."""
        return P.BleDeviceRecord(
            side=self.side, n_sensors=self.n_sensors, sampling_rate_hz=self.rate_hz, units="raw",
            protocol=self.protocol, foot_length_mm=self._foot_length_mm, model=f"emulated-{self.n_sensors}",
            serial_number=f"EMU-{self.name}", firmware_version="emu-1.0", imu=self.imu_info,
        )

    def advertising_data(self) -> tuple[bytes, bytes]:
        """(advertising data, scan response): flags, service UUID and side; the name in the scan response."""
        return advertising_data(self.name, self.side, self.service, self.pack_name_in_advertising)

    # ------------------------------------------------------------------ life cycle
    async def start(self) -> None:
        """Power on, advertise, and start the sample clock."""
        self._device = self._build()
        await self._device.power_on()
        await self._advertise()
        self._start_mono = time.monotonic()
        self._task = asyncio.create_task(self._run(), name=f"emulator-{self.name}")

    async def stop(self) -> None:
        """Stop sampling, drop the connection and leave the air."""
        self._stopping = True
        for fut in self._adv_tasks:  # let a half-done advertising start finish its HCI commands
            if not fut.done():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(fut), 1.0)
                fut.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.disconnect()
        if self._device is not None:
            with contextlib.suppress(Exception):
                await self._device.stop_advertising()

    async def _advertise(self) -> None:
        assert self._device is not None
        if self._dead or self._stopping or self._connection is not None:
            return
        adv, scan = self.advertising_data()
        await self._device.start_advertising(
            advertising_data=adv, scan_response_data=scan,
            advertising_interval_min=20.0, advertising_interval_max=20.0,
        )

    def _on_connection(self, connection: Connection) -> None:
        self._connection = connection
        self.connections += 1
        self._streaming = self.service == "nus"  # DIY NUS insoles stream as soon as a host subscribes
        self._subscribed = False
        self._pending.clear()
        self._resync_sent = False
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)

    def _on_disconnection(self, reason: int) -> None:
        self._connection = None
        self._streaming = False
        self._subscribed = False
        self._pending.clear()
        delay = max(0.0, self._away_until - time.monotonic())
        if not self._dead and not self._stopping:
            self._adv_tasks.add(asyncio.ensure_future(self._advertise_later(delay)))

    async def _advertise_later(self, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        with contextlib.suppress(Exception):
            await self._advertise()

    def _on_subscription(self, connection: Connection, enabled: bool, *_: Any) -> None:
        self._subscribed = bool(enabled)

    def _on_control(self, connection: Connection, value: bytes) -> None:
        for cmd, arg in self._commands.feed(bytes(value)):
            if cmd == Command.START:
                self._streaming = True
            elif cmd == Command.STOP:
                self._streaming = False
            elif cmd == Command.SYNC and arg is not None:
                t_us = self._clock_offset_us + int((time.monotonic() - self._start_mono) * 1e6)
                reply = encode_sync_reply(SyncReply(self.side, arg, t_us, sequence=self._next_k))
                self._replies.append(frame_bytes(reply))
            elif cmd == Command.SET_RATE and arg is not None and abs(arg - self.rate_hz) > 1e-9:
                log.warning("%s: only %g Hz is supported; ignoring a request for %d Hz", self.name, self.rate_hz, arg)

    # ------------------------------------------------------------------ faults
    @property
    def connected(self) -> bool:
        """A host is connected."""
        return self._connection is not None

    @property
    def streaming(self) -> bool:
        """A host is connected, subscribed and has started the stream."""
        return self._connection is not None and self._subscribed and self._streaming

    async def disconnect(self, stay_away_s: float = 0.0, mid_frame: bool = False) -> None:
        """Drop the connection (as a radio loss would) and stay off the air for ``stay_away_s`` (inf: forever).

        With ``mid_frame=True`` the link drops right after a notification that ends inside a frame.
        """
        self._away_until = time.monotonic() + stay_away_s if math.isfinite(stay_away_s) else math.inf
        if math.isinf(stay_away_s):
            self._dead = True
        if mid_frame:
            self._cut_mid_frame = True
            return
        await self._drop()

    async def _drop(self) -> None:
        conn = self._connection
        self._streaming = False  # nothing new goes out on a link about to drop
        if conn is not None and self._device is not None:
            # let what was already handed to the stack reach the air, so that the truth log ("delivered") is exact
            queue = self._device.host.le_acl_packet_queue or self._device.host.acl_packet_queue
            if queue is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(queue.drain(conn.handle), 1.0)
            with contextlib.suppress(Exception):
                await conn.disconnect(hci.HCI_CONNECTION_TIMEOUT_ERROR)

    async def inject(self, data: bytes) -> None:
        """Send raw bytes as notifications (garbage, or a hand-made frame)."""
        conn = self._connection
        if conn is None or self._device is None or self._data_char is None:
            return
        for chunk in P.split_notifications(data, conn.att_mtu):
            await self._device.notify_subscriber(conn, self._data_char, chunk)

    async def set_battery(self, pct: int) -> None:
        """Change the battery level and notify a subscribed host."""
        self.battery_pct = int(pct)
        if self._connection is not None and self._device is not None:
            with contextlib.suppress(Exception):
                await self._device.notify_subscriber(self._connection, self._battery_char)

    async def dead_battery(self) -> None:
        """Report 0 % and die: the link drops and the insole never advertises again."""
        await self.set_battery(0)
        self._dead = True
        if self._device is not None:
            with contextlib.suppress(Exception):
                await self._device.stop_advertising()
        await self._drop()

    # ------------------------------------------------------------------ sampling
    def _samples(self, k: np.ndarray) -> np.ndarray:
        t = k / self.rate_hz
        kpa = self._walk.pressure_kpa(self.side, t, self._layout)
        noise = self._rng.normal(0.0, 2.0, kpa.shape)
        return np.clip(np.round(kpa_to_raw(kpa) + 12.0 + noise), 0, 4094)

    def _imu_counts(self, k: np.ndarray) -> np.ndarray | None:
        """The IMU block of samples ``k`` (int16 counts), or None without an IMU."""
        if self._imu is None or self.imu_info is None:
            return None
        values = self._imu.measure(self._walk, k / self.rate_hz)
        return imu_counts(self.imu_info, values.acc_m_s2, values.gyr_rad_s)

    async def _run(self) -> None:
        clock_offset_us = self._clock_offset_us
        while True:
            await asyncio.sleep(TICK_S)
            due = int((time.monotonic() - self._start_mono) * self.rate_hz)
            if due <= self._next_k:
                continue
            k = np.arange(self._next_k, due)
            self._next_k = due
            pressure = self._samples(k)
            imu = self._imu_counts(k)
            device_us = clock_offset_us + np.round(k * 1e6 / self.rate_hz).astype(np.int64)
            if not self.streaming:
                for i in range(len(k)):
                    self._log(int(k[i]), int(device_us[i]), False, pressure[i], None if imu is None else imu[i])
                continue
            blobs = self.encoder.encode_samples(self.side, k % 2**32, device_us, pressure, imu=imu)
            if self._replies:
                extra, self._replies = b"".join(self._replies), []
                await self._send(np.zeros(0, np.int64), np.zeros(0, np.int64), [], extra)
            await self._send(k, device_us, blobs, pressure=pressure, imu=imu)

    def _log(self, seq: int, t_us: int, ok: bool, pressure: np.ndarray, imu: np.ndarray | None = None) -> None:
        self.log.pressure.append(pressure)
        self.log.imu.append(imu)
        self.log.sequence.append(seq)
        self.log.device_time_us.append(t_us)
        self.log.delivered.append(ok)

    async def _send(self, k: np.ndarray, device_us: np.ndarray, blobs: list[bytes], prefix: bytes = b"",
                    pressure: np.ndarray | None = None, imu: np.ndarray | None = None) -> None:
        conn, device, char = self._connection, self._device, self._data_char
        assert device is not None and char is not None
        prefix = (b"" if self._resync_sent else self.encoder.resync) + prefix
        self._resync_sent = True
        stream = prefix + b"".join(blobs)
        lengths = np.array([len(b) for b in blobs], np.int64)
        ends = len(prefix) + np.cumsum(lengths)
        starts = ends - lengths
        ok = np.ones(len(blobs), bool)
        size = max(1, (conn.att_mtu if conn is not None else 23) - P.ATT_NOTIFY_OVERHEAD)
        sent = 0
        for pos in range(0, len(stream), size):
            chunk = stream[pos : pos + size]
            end = pos + len(chunk)
            if not self.streaming or conn is None or conn is not self._connection:
                break
            if self.notification_delay_s > 0:
                await asyncio.sleep(self.notification_delay_s)
            if self.notification_loss > 0 and self._rng.random() < self.notification_loss:
                self.notifications_lost += 1
                ok &= ~((starts < end) & (ends > pos))  # samples touched by the lost chunk are lost
            else:
                try:
                    await device.notify_subscriber(conn, char, chunk)
                except Exception:
                    break
                self.notifications_sent += 1
            sent = end
            if self._cut_mid_frame and np.any((starts < end) & (ends > end)):
                self._cut_mid_frame = False
                await self._drop()
                break
        ok &= ends <= sent
        for i in range(len(k)):
            self._log(int(k[i]), int(device_us[i]), bool(ok[i]), pressure[i] if pressure is not None else None,
                      imu[i] if imu is not None else None)
