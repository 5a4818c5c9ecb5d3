"""Serial insoles (USB-UART bridges, native USB CDC): ``serial:///dev/ttyUSB0?baud=921600&protocol=openinsole-v1``.

URL parameters: :mod:`insole.transports.serial_url`. The layout follows the one policy of
:func:`insole.layouts.layout_for_device`: the layout the device announces, else the built-in one for its cell count
(8, 16, 99), else ``unknown-N``.

The port is read on a background thread (pyserial blocks); each read is stamped with ``time.monotonic()`` and
decoded by the sans-IO codec of :mod:`insole.protocols`, and the frames are handed to the event loop, so the
caller never blocks. When the port vanishes (USB unplug), the driver emits ``disconnected``, keeps reopening the
same path (use a stable name such as ``/dev/serial/by-id/...``), and once data flows again emits an ``outage``
event with the host-time interval without data, which the recorder stores as a gap. A device that restarted
(sequence number went back) is counted in ``device_resets``; its frames are passed on as they came.

IMU: an openinsole-v1 device whose DEVICE_INFO sets the IMU flag answers GET_INFO with an IMU_INFO frame as well;
the driver waits for it, describes the IMU in ``DeviceInfo.imu`` and the decoder converts every sample's IMU block
(m/s², rad/s, foot sensor frame). Samples with an IMU block from a device that did not describe its IMU (or that
described it impossibly) keep only their pressure, with one warning event saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator

import numpy as np
import serial

from insole.devices import DeviceEvent, DeviceEventKind, DeviceInfo, InsoleDevice
from insole.errors import DeviceError, DeviceTimeoutError, ProtocolError
from insole.frames import FrameBatch
from insole.imu import ImuInfo
from insole.layouts import is_plausible_foot_length_mm, layout_for_device
from insole.protocols import Codec, Decoded, make_codec
from insole.protocols.openinsole_v1 import Command, DeviceInfoMessage, ImuInfoMessage, StatusMessage, encode_command
from insole.transports.serial_url import SerialSettings

#: What the reader thread hands to the event loop: samples and notices for the stream, the device's answers while
#: opening, an error that ends the stream, or None (the reader ended).
_Item = FrameBatch | DeviceEvent | DeviceInfoMessage | ImuInfoMessage | StatusMessage | BaseException | None
#: A decoded stream with more damaged frames than good ones over at least this many damaged frames (per
#: check interval) is reported as a probable baud-rate mismatch.
BAUD_WARN_MIN_ERRORS = 20
_READ_TIMEOUT_S = 0.02


class SerialInsole(InsoleDevice):
    """An insole on a serial port (see :mod:`insole.transports.serial_url` for the URL)."""

    def __init__(self, url: str) -> None:
        self.settings = SerialSettings.from_url(url)
        cfg = self.settings
        self.url, self.path, self.protocol, self.baud = url, cfg.path, cfg.protocol, cfg.baud
        self.timeout_s, self.reconnect_s, self.rate_hz = cfg.timeout_s, cfg.reconnect_s, cfg.rate_hz
        self.decoder: Codec = make_codec(cfg.protocol, side=cfg.side, n_sensors=cfg.sensors, rate_hz=cfg.rate_hz,
                                         fields=cfg.fields)
        self._info: DeviceInfo | None = None
        self._port: serial.Serial | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Item] | None = None
        self._early: list[_Item] = []  # items decoded while open() waits for the device description
        self._opening = True
        # reconnect and re-basing state (reader thread only)
        self._last_host_s = float("nan")
        self._last_seq: int | None = None
        self._last_dev_us = 0
        self._outage_start: float | None = None
        self.outages = 0
        self.device_resets = 0
        self.wrong_sensor_count = 0
        self._imu_warned = False

    # ------------------------------------------------------------------ contract
    @property
    def info(self) -> DeviceInfo:
        if self._info is None:
            raise DeviceError(f"{self.url}: open() the device before asking for its info")
        return self._info

    @property
    def silence_timeout_s(self) -> float:
        """The URL's ``timeout_s``: no frame for this long while streaming counts as silence."""
        return self.timeout_s

    def counters(self) -> dict[str, int]:
        """Decoder counters plus the driver's own (outages, device resets, frames with the wrong sensor count)."""
        d = dict(self.decoder.counters())
        d.update(outages=self.outages, device_resets=self.device_resets, wrong_sensor_count=self.wrong_sensor_count)
        return d

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._port = await asyncio.to_thread(self._open_port, True)
        self._thread = threading.Thread(target=self._reader, name=f"serial-reader {self.path}", daemon=True)
        self._thread.start()
        try:
            if self.protocol == "openinsole-v1":
                await self._handshake()
            else:
                await self._wait_csv()
        except BaseException:
            await self.close()
            raise
        self._opening = False
        for item in self._early:  # samples decoded while opening; answers (info, status) were consumed
            if isinstance(item, FrameBatch | DeviceEvent):
                self._queue.put_nowait(item)
        self._early.clear()

    async def close(self) -> None:
        self._stop.set()
        port = self._port
        if port is not None and self.protocol == "openinsole-v1":
            with contextlib.suppress(Exception):
                self._write(encode_command(Command.STOP))
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 2.0)
            self._thread = None
        with self._lock:
            if self._port is not None:
                with contextlib.suppress(Exception):
                    self._port.close()
                self._port = None

    async def stream(self) -> AsyncIterator[FrameBatch | DeviceEvent]:
        if self._queue is None or self._info is None:
            raise DeviceError(f"{self.url}: open() the device before streaming")
        yield DeviceEvent(DeviceEventKind.CONNECTED, time.monotonic(), f"{self.url} streaming")
        while True:
            item = await self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, FrameBatch | DeviceEvent):  # answers to the handshake were consumed by open()
                yield item

    # ------------------------------------------------------------------ opening
    def _open_port(self, first: bool) -> serial.Serial:
        try:
            port = serial.Serial(self.path, self.baud, timeout=_READ_TIMEOUT_S, write_timeout=1.0)
        except (serial.SerialException, OSError, ValueError) as exc:
            if not first:
                raise
            raise DeviceError(
                f"{self.url}: cannot open {self.path} ({exc}); is the insole plugged in and the path right? "
                "`insole scan` lists the serial ports; on Linux your user may need to be in the 'dialout' group"
            ) from None
        port.reset_input_buffer()
        return port

    def _write(self, data: bytes) -> None:
        with self._lock:
            if self._port is not None:
                self._port.write(data)
                self._port.flush()

    async def _next_early(self, deadline: float, kinds: tuple[type, ...]) -> _Item | str:
        """Wait until an item of ``kinds`` was decoded (kept in order for the stream) or the deadline passes."""
        assert self._queue is not None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                async with asyncio.timeout(min(remaining, 0.5)):
                    item = await self._queue.get()
            except TimeoutError:
                return "tick"
            if isinstance(item, BaseException):
                raise item
            if item is None:
                raise DeviceError(f"{self.url}: the port closed while opening")
            if isinstance(item, kinds):
                return item
            self._early.append(item)

    async def _handshake(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        self._write(encode_command(Command.STOP) + encode_command(Command.GET_INFO))
        info_msg: DeviceInfoMessage | None = None
        first_batch: FrameBatch | None = None
        while info_msg is None:
            item = await self._next_early(deadline, (DeviceInfoMessage, FrameBatch))
            if item is None:
                break
            if item == "tick":
                self._write(encode_command(Command.GET_INFO))
            elif isinstance(item, FrameBatch):
                first_batch = first_batch or item  # a device that streams without being asked
                self._early.append(item)
            elif isinstance(item, DeviceInfoMessage):
                info_msg = item
        if info_msg is None and first_batch is None:
            raise self._silence_error("did not answer the device-info request")
        if info_msg is not None:
            self._early = [x for x in self._early if not isinstance(x, FrameBatch)]  # before STOP took effect
            side, n = info_msg.side, info_msg.n_sensors
            rate = float(info_msg.sampling_rate_hz)
            foot = (float(info_msg.foot_length_mm) if is_plausible_foot_length_mm(info_msg.foot_length_mm)
                    else self.settings.foot_length_mm)
            layout = layout_for_device(n, foot, info_msg.layout_id)
            units = info_msg.units
            model, serial_no, fw = info_msg.model or "unknown", info_msg.serial_number or "unknown", \
                info_msg.firmware_version
        else:
            assert first_batch is not None
            side, n, rate = first_batch.side, first_batch.n_sensors, self.rate_hz or 100.0
            layout = layout_for_device(n, self.settings.foot_length_mm)
            units, model, serial_no, fw = "raw", "unknown", "unknown", "unknown"
        imu_msg = await self._wait_imu_info(deadline) if info_msg is not None and info_msg.has_imu else None
        if self.rate_hz and self.rate_hz != rate:
            self._write(encode_command(Command.SET_RATE, int(round(self.rate_hz))))
            status = await self._next_early(time.monotonic() + self.timeout_s, (StatusMessage,))
            if not isinstance(status, StatusMessage) or status.sampling_rate_hz != int(round(self.rate_hz)):
                got = status.sampling_rate_hz if isinstance(status, StatusMessage) else "no answer"
                raise DeviceError(f"{self.url}: the device did not accept rate_hz={self.rate_hz:g} ({got})")
            rate = float(status.sampling_rate_hz)
        imu = self._describe_imu(imu_msg, info_msg, rate, model)
        self._write(encode_command(Command.START))
        self._info = DeviceInfo(
            url=self.url, side=side, n_sensors=n, sampling_rate_hz=rate, units=units, layout=layout, model=model,
            serial_number=serial_no, firmware_version=fw,
            extra={"protocol": self.protocol, "baud": self.baud, "transport": "serial",
                   "layout_reported": info_msg.layout_id if info_msg else "not reported"},
            imu=imu,
        )

    async def _wait_imu_info(self, deadline: float) -> ImuInfoMessage | None:
        """The IMU_INFO that follows a DEVICE_INFO announcing an IMU (asked for again every 0.5 s)."""
        found = next((x for x in self._early if isinstance(x, ImuInfoMessage)), None)
        while found is None:
            item = await self._next_early(deadline, (ImuInfoMessage,))
            if item is None:
                break
            if item == "tick":
                self._write(encode_command(Command.GET_INFO))
            elif isinstance(item, ImuInfoMessage):
                found = item
        self._early = [x for x in self._early if not isinstance(x, DeviceInfoMessage | ImuInfoMessage | FrameBatch)]
        return found

    def _describe_imu(self, msg: ImuInfoMessage | None, info_msg: DeviceInfoMessage | None, rate: float,
                      model: str) -> ImuInfo | None:
        """``DeviceInfo.imu`` from the device's IMU_INFO; a missing or impossible one is a warning, not an error."""
        if info_msg is None or not info_msg.has_imu:
            return None
        problem = "it announced an IMU but sent no IMU_INFO frame"
        if msg is not None:
            try:
                return msg.imu_info(rate, model)
            except ProtocolError as exc:
                problem = str(exc)
        self._imu_warned = True
        self._early.append(DeviceEvent(DeviceEventKind.WARNING, time.monotonic(), f"{self.url}: the IMU is not "
                                       f"recorded: {problem} (firmware_protocols/openinsole-v1.md, IMU_INFO)"))
        return None

    async def _wait_csv(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        batches: list[FrameBatch] = []
        while sum(map(len, batches)) < 20:  # enough lines to estimate the rate from the device clock
            item = await self._next_early(min(deadline, time.monotonic() + 1.0) if batches else deadline,
                                          (FrameBatch,))
            if item is None:
                if batches:
                    break
                raise self._silence_error("sent no valid text line")
            if isinstance(item, FrameBatch):
                batches.append(item)
                self._early.append(item)
        n = batches[0].n_sensors
        rate = self.rate_hz
        if not self.settings.rate_given and self.decoder.has_device_clock:
            dev = np.concatenate([b.device_time_us for b in batches]).astype(np.float64)
            step = np.diff(dev)
            step = step[step > 0]
            if len(step) >= 5:
                rate = float(np.round(1e6 / np.median(step), 1))
        self._info = DeviceInfo(
            url=self.url, side=self.settings.side, n_sensors=n, sampling_rate_hz=rate, units=self.settings.units,
            layout=layout_for_device(n, self.settings.foot_length_mm), model="csv-text device",
            extra={"protocol": self.protocol, "baud": self.baud, "transport": "serial",
                   "rate_source": "url" if self.settings.rate_given else ("device clock" if rate != self.rate_hz
                                                                  else "default")},
        )

    def _silence_error(self, what: str) -> DeviceError:
        c = self.decoder.counters()
        if c["bytes_in"] == 0:
            return DeviceTimeoutError(
                f"{self.url} {what}: no byte arrived in {self.timeout_s:g} s. Check that the insole is powered and "
                f"running its firmware, that {self.path} is its port (`insole scan`), and that nothing else has the "
                "port open."
            )
        return DeviceError(
            f"{self.url} {what}: {c['bytes_in']} bytes arrived in {self.timeout_s:g} s but no valid "
            f"{self.protocol} data ({c['framing_errors']} framing errors, {c['crc_failures']} checksum failures, "
            f"{c['bad_size']} bad sizes, {c['bytes_discarded']} bytes discarded). The baud rate is probably wrong: "
            f"the URL says baud={self.baud}; set the firmware's rate (common: 115200, 230400, 460800, 921600)"
            + (". If the device sends text lines, use protocol=csv." if self.protocol != "csv"
               else ". If the device sends binary frames, use protocol=openinsole-v1.")
        )

    # ------------------------------------------------------------------ reader thread
    def _put(self, item: _Item) -> None:
        loop, queue = self._loop, self._queue
        if loop is None or queue is None:
            return
        with contextlib.suppress(RuntimeError):  # loop closed during shutdown
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def _reader(self) -> None:
        last_check = time.monotonic()
        prev = self.decoder.counters()
        try:
            while not self._stop.is_set():
                port = self._port
                try:
                    if port is None:
                        raise serial.SerialException("port closed")
                    data = port.read(max(1, port.in_waiting))
                except (serial.SerialException, OSError, TypeError) as exc:
                    if self._stop.is_set():
                        break
                    if not self._reconnect(exc):
                        break
                    continue
                now = time.monotonic()
                if data:
                    self._handle(self.decoder.feed(data, now), now)
                if now - last_check >= 1.0:
                    prev = self._check_errors(prev, now)
                    last_check = now
        except Exception as exc:  # never die silently: hand the error to the stream
            self._put(DeviceError(f"{self.url}: reader failed: {exc!r}"))
        finally:
            self._put(None)

    def _check_errors(self, prev: dict[str, int], now: float) -> dict[str, int]:
        cur = self.decoder.counters()
        errors = sum(cur[k] - prev[k] for k in ("framing_errors", "crc_failures", "bad_size"))
        good = cur["frames_ok"] - prev["frames_ok"]
        if errors >= BAUD_WARN_MIN_ERRORS and errors > good and not self._opening:
            self._put(DeviceEvent(
                DeviceEventKind.WARNING, now,
                f"{self.url}: {errors} damaged frames and only {good} good ones in the last second; "
                f"is the baud rate ({self.baud}) right, or the cable bad?",
            ))
        return cur

    def _handle(self, out: Decoded, now: float) -> None:
        """Pass decoded samples on (and, while opening, the device's answers); battery levels become events.

        Samples go first: a device answering GET_INFO may still send samples from before the STOP took effect,
        and the handshake drops those (they precede the answer).
        """
        for batch in out.samples:
            if self._info is not None and batch.n_sensors != self._info.n_sensors:
                self.wrong_sensor_count += len(batch)
                self._put(DeviceEvent(DeviceEventKind.WARNING, now, f"{self.url}: {len(batch)} frames with "
                                      f"{batch.n_sensors} sensors instead of {self._info.n_sensors} dropped"))
                continue
            self._put(self._rebase(batch, now))
            self._last_host_s = now
        for status in out.status:
            if self._opening:
                self._put(status)
            elif status.battery_pct is not None:
                self._put(DeviceEvent(DeviceEventKind.BATTERY, now, f"battery {status.battery_pct:.0f} %",
                                      battery_pct=status.battery_pct))
        if self._opening:
            for info in out.device_info:
                self._put(info)
            for imu_info in out.imu_info:
                self._put(imu_info)
        elif out.imu and not self._imu_warned and self._info is not None and self._info.imu is None:
            self._imu_warned = True
            self._put(DeviceEvent(DeviceEventKind.WARNING, now, f"{self.url}: samples carry IMU values but the device "
                                  "did not describe its IMU when opened (IMU_INFO); only the pressure is recorded"))
        # sync replies are not used yet

    def _rebase(self, batch: FrameBatch, now: float) -> FrameBatch:
        """After an outage: report it, and count a device restart (sequence going back).

        Frames are passed on unchanged: the recorder recognises a restart (sequence and device clock both
        jumping back), starts a new clock segment and records the gap with its cause.
        """
        seq = batch.sequence.astype(np.int64)
        if self._outage_start is not None:
            start = self._outage_start if np.isfinite(self._outage_start) else now
            if self._last_seq is not None:
                step = (int(seq[0]) - self._last_seq) % 2**32
                if step == 0 or step >= 2**31:  # sequence went back: the device restarted
                    self.device_resets += 1
            self._put(DeviceEvent(DeviceEventKind.OUTAGE, now, f"{self.path} was gone for {now - start:.2f} s",
                                  start_host_s=start, end_host_s=now))
            self._put(DeviceEvent(DeviceEventKind.CONNECTED, now, f"{self.url} streaming again"))
            self._outage_start = None
        self._last_seq = int(batch.sequence[-1])
        self._last_dev_us = int(batch.device_time_us[-1])
        return batch

    def _reconnect(self, exc: BaseException) -> bool:
        """Reopen the vanished port; True once it is back, False when giving up (error queued)."""
        t_lost = time.monotonic()
        with self._lock:
            if self._port is not None:
                with contextlib.suppress(Exception):
                    self._port.close()
                self._port = None
        if self._opening or self.reconnect_s <= 0:
            self._put(DeviceError(f"{self.url}: the port failed ({exc}) and reconnecting is off (reconnect_s=0)"
                                  if self.reconnect_s <= 0 else f"{self.url}: the port failed while opening ({exc})"))
            return False
        self.outages += 1
        self._outage_start = self._last_host_s if np.isfinite(self._last_host_s) else t_lost
        self._put(DeviceEvent(DeviceEventKind.DISCONNECTED, t_lost, f"{self.path} vanished ({exc}); reconnecting",
                              reconnecting=True))
        while not self._stop.is_set():
            if time.monotonic() - t_lost > self.reconnect_s:
                self._put(DeviceError(f"{self.url}: {self.path} vanished and did not come back within "
                                      f"{self.reconnect_s:g} s; plug the insole back in and start a new recording"))
                return False
            try:
                port = self._open_port(False)
            except (serial.SerialException, OSError, ValueError):
                self._stop.wait(0.2)
                continue
            with self._lock:
                self._port = port
            self.decoder.resync()
            if self.protocol == "openinsole-v1":
                with contextlib.suppress(Exception):
                    self._write(encode_command(Command.START))
            return True
        return False

