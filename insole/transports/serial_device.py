"""Serial insoles (USB-UART bridges, native USB CDC): ``serial:///dev/ttyUSB0?baud=921600&protocol=openinsole-v1``.

URL parameters (all optional):

=============  ====================  =========================================================================
parameter      default               meaning
=============  ====================  =========================================================================
baud           921600 (csv: 115200)  line rate; must match the firmware
protocol       openinsole-v1         ``openinsole-v1`` (binary) or ``csv`` (text lines, csv-text-v1)
timeout_s      5                     no device answer / no data for this long -> clear error
reconnect_s    60                    keep reopening a vanished port this long (0: give up at once)
rate_hz        (device's)            binary: ask the device for this rate; csv: nominal rate (default: from
                                     the device clock column, else 100)
side           left                  csv only (binary devices say which foot they are)
sensors        (first line)          csv only: pressures per line
fields         seq,t_us              csv only: leading columns when the device sends no header line
units          raw                   csv only: ``raw``, ``kPa`` or ``N`` (what the numbers are)
foot_mm        260                   foot length for the generic layout when the device does not say
=============  ====================  =========================================================================

The port is read on a background thread (pyserial blocks); each read is stamped with ``time.monotonic()`` and
decoded by the sans-IO codec of :mod:`insole.protocols`, and the frames are handed to the event loop, so the
caller never blocks. When the port vanishes (USB unplug), the driver emits ``disconnected``, keeps reopening the
same path (use a stable name such as ``/dev/serial/by-id/...``), and once data flows again emits an ``outage``
event with the host-time interval without data, which the recorder stores as a gap. A device that restarted
(sequence number went back) is re-based so that sequence numbers and device time keep increasing.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import serial
from serial.tools import list_ports

from insole.devices import DeviceEvent, DeviceInfo, InsoleDevice, parse_device_url, url_number
from insole.errors import ConfigurationError, DeviceError, DeviceTimeoutError
from insole.frames import FrameBatch, check_side
from insole.layouts import SensorLayout, builtin_layout
from insole.protocols import make_decoder, protocol_name
from insole.protocols.openinsole_v1 import Command, DeviceInfoMessage, StatusMessage, encode_command
from insole.transports.discovery import ScanResult

_PARAMS = {"baud", "protocol", "timeout_s", "reconnect_s", "rate_hz", "side", "sensors", "fields", "units", "foot_mm"}
#: USB vendor ids of the UART bridges and MCUs that DIY insoles use (FTDI, Silicon Labs CP210x, WCH CH340,
#: Espressif native USB, Nordic nRF52840, Adafruit, Raspberry Pi RP2040).
_INSOLE_VIDS = {0x0403, 0x10C4, 0x1A86, 0x303A, 0x1915, 0x239A, 0x2E8A}
#: A decoded stream with more damaged frames than good ones over at least this many damaged frames (per
#: check interval) is reported as a probable baud-rate mismatch.
BAUD_WARN_MIN_ERRORS = 20
_READ_TIMEOUT_S = 0.02
_CLOCK_FIELDS = {"t_us", "time_us", "us", "micros", "t_ms", "time_ms", "ms", "millis"}


def _num(query: dict[str, str], key: str, default: float, lo: float, hi: float) -> float:
    return url_number("serial://", query, key, lo, hi, default)


def custom_layout(n_sensors: int, foot_length_mm: float, layout_id: str = "") -> SensorLayout:
    """A placeholder layout for sensor counts without a built-in layout: cells spaced along the foot's long axis.

    Positions are not known, so centre-of-pressure figures from it are meaningless; the id says so
    (``unknown-N``).
    """
    x = np.linspace(0.08, 0.92, n_sensors) * foot_length_mm
    return SensorLayout(layout_id or f"unknown-{n_sensors}", x, np.zeros(n_sensors),
                        np.full(n_sensors, 100.0), float(foot_length_mm), geometry="unknown")


def layout_for(n_sensors: int, foot_length_mm: float, layout_id: str = "") -> SensorLayout:
    """The built-in layout for ``n_sensors`` if there is one (and ``layout_id`` does not say otherwise)."""
    if n_sensors in (8, 16, 99) and layout_id in ("", "generic-8", "generic-16", "grid-99"):
        return builtin_layout(n_sensors, foot_length_mm)
    return custom_layout(n_sensors, foot_length_mm, "" if layout_id in ("", "custom") else layout_id)


class SerialInsole(InsoleDevice):
    """An insole on a serial port (see the module docstring for the URL)."""

    def __init__(self, url: str) -> None:
        scheme, path, query = parse_device_url(url)
        if scheme != "serial":
            raise ConfigurationError(f"SerialInsole needs a serial:// URL, got {url!r}")
        if not path:
            raise ConfigurationError(f"{url!r} names no port; e.g. serial:///dev/ttyUSB0 (see `insole scan`)")
        unknown = set(query) - _PARAMS
        if unknown:
            raise ConfigurationError(
                f"{url!r}: unknown parameter(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_PARAMS))}"
            )
        self.url = url
        self.path = path
        self.protocol = protocol_name(query.get("protocol", "openinsole-v1"))
        binary = self.protocol == "openinsole-v1"
        self.baud = int(_num(query, "baud", 921600 if binary else 115200, 300, 16_000_000))
        self.timeout_s = _num(query, "timeout_s", 5.0, 0.1, 3600)
        self.reconnect_s = _num(query, "reconnect_s", 60.0, 0, 86400)
        self.rate_hz = _num(query, "rate_hz", 0.0 if binary else 100.0, 0 if binary else 1, 10_000)
        self._rate_given = bool(query.get("rate_hz"))
        try:
            self.side = check_side(query.get("side", "left"))
        except ValueError as exc:
            raise ConfigurationError(f"{url}: {exc}") from None
        sensors = query.get("sensors")
        self.n_sensors = int(_num(query, "sensors", 0, 1, 255)) if sensors else None
        self.units = query.get("units", "raw")
        if self.units not in ("raw", "kPa", "N"):
            raise ConfigurationError(f"{url}: units must be raw, kPa or N, got {self.units!r}")
        self.foot_mm = _num(query, "foot_mm", 260.0, 150, 350)
        kwargs: dict[str, Any] = {}
        if not binary:
            kwargs = {"side": self.side, "fields": query.get("fields", "seq,t_us"), "n_sensors": self.n_sensors,
                      "rate_hz": self.rate_hz}
        self._decoder_kwargs = kwargs
        self.decoder = make_decoder(self.protocol, **kwargs)
        self._info: DeviceInfo | None = None
        self._device_info_msg: DeviceInfoMessage | None = None
        self._port: serial.Serial | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Any] | None = None
        self._early: list[Any] = []  # items decoded while open() waits for the device description
        self._opening = True
        # reconnect and re-basing state (reader thread only)
        self._last_host_s = float("nan")
        self._last_seq: int | None = None
        self._last_dev_us = 0
        self._outage_start: float | None = None
        self.outages = 0
        self.device_resets = 0
        self.wrong_sensor_count = 0

    # ------------------------------------------------------------------ contract
    @property
    def info(self) -> DeviceInfo:
        if self._info is None:
            raise DeviceError(f"{self.url}: open() the device before asking for its info")
        return self._info

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
        yield DeviceEvent("connected", time.monotonic(), f"{self.url} streaming")
        while True:
            item = await self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
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

    async def _next_early(self, deadline: float, kinds: tuple[type, ...]) -> Any:
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
            else:
                info_msg = item
        if info_msg is None and first_batch is None:
            raise self._silence_error("did not answer the device-info request")
        if info_msg is not None:
            self._device_info_msg = info_msg
            self._early = [x for x in self._early if not isinstance(x, FrameBatch)]  # before STOP took effect
            side, n = info_msg.side, info_msg.n_sensors
            rate = float(info_msg.sampling_rate_hz)
            foot = float(info_msg.foot_length_mm) if 150 <= info_msg.foot_length_mm <= 350 else self.foot_mm
            layout = layout_for(n, foot, info_msg.layout_id)
            units = info_msg.units
            model, serial_no, fw = info_msg.model or "unknown", info_msg.serial_number or "unknown", \
                info_msg.firmware_version
        else:
            assert first_batch is not None
            side, n, rate = first_batch.side, first_batch.n_sensors, self.rate_hz or 100.0
            layout, units, model, serial_no, fw = layout_for(n, self.foot_mm), "raw", "unknown", "unknown", "unknown"
        if self.rate_hz and self.rate_hz != rate:
            self._write(encode_command(Command.SET_RATE, int(round(self.rate_hz))))
            status = await self._next_early(time.monotonic() + self.timeout_s, (StatusMessage,))
            if not isinstance(status, StatusMessage) or status.sampling_rate_hz != int(round(self.rate_hz)):
                got = status.sampling_rate_hz if isinstance(status, StatusMessage) else "no answer"
                raise DeviceError(f"{self.url}: the device did not accept rate_hz={self.rate_hz:g} ({got})")
            rate = float(status.sampling_rate_hz)
        self._write(encode_command(Command.START))
        self._info = DeviceInfo(
            url=self.url, side=side, n_sensors=n, sampling_rate_hz=rate, units=units, layout=layout, model=model,
            serial_number=serial_no, firmware_version=fw,
            extra={"protocol": self.protocol, "baud": self.baud, "transport": "serial",
                   "layout_reported": info_msg.layout_id if info_msg else "not reported"},
        )

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
        has_clock = any(f in _CLOCK_FIELDS for f in (self.decoder.header or self.decoder.fields))
        if not self._rate_given and has_clock:
            dev = np.concatenate([b.device_time_us for b in batches]).astype(np.float64)
            step = np.diff(dev)
            step = step[step > 0]
            if len(step) >= 5:
                rate = float(np.round(1e6 / np.median(step), 1))
        self._info = DeviceInfo(
            url=self.url, side=self.side, n_sensors=n, sampling_rate_hz=rate, units=self.units,
            layout=layout_for(n, self.foot_mm), model="csv-text device",
            extra={"protocol": self.protocol, "baud": self.baud, "transport": "serial",
                   "rate_source": "url" if self._rate_given else ("device clock" if rate != self.rate_hz
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
    def _put(self, item: Any) -> None:
        loop, queue = self._loop, self._queue
        if loop is None or queue is None:
            return
        with contextlib.suppress(RuntimeError):  # loop closed during shutdown
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def _reader(self) -> None:
        last_data = time.monotonic()
        last_check = last_data
        prev = self.decoder.counters()
        warned_silence = False
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
                    last_data = time.monotonic()
                    continue
                now = time.monotonic()
                if data:
                    last_data, warned_silence = now, False
                    for item in self.decoder.feed(data, now):
                        self._handle(item, now)
                elif not self._opening and not warned_silence and now - last_data > self.timeout_s:
                    warned_silence = True
                    self._put(DeviceEvent("warning", now, f"{self.url}: no data for {self.timeout_s:g} s"))
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
                "warning", now,
                f"{self.url}: {errors} damaged frames and only {good} good ones in the last second; "
                f"is the baud rate ({self.baud}) right, or the cable bad?",
            ))
        return cur

    def _handle(self, item: Any, now: float) -> None:
        if isinstance(item, FrameBatch):
            if self._info is not None and item.n_sensors != self._info.n_sensors:
                self.wrong_sensor_count += len(item)
                self._put(DeviceEvent("warning", now, f"{self.url}: {len(item)} frames with {item.n_sensors} "
                                      f"sensors instead of {self._info.n_sensors} dropped"))
                return
            item = self._rebase(item, now)
            self._last_host_s = now
        elif isinstance(item, StatusMessage):
            if item.battery_pct is not None and not self._opening:
                self._put(DeviceEvent("battery", now, f"battery {item.battery_pct:.0f} %", value=item.battery_pct))
            if self._opening:
                self._put(item)
            return
        elif not isinstance(item, DeviceInfoMessage):
            return  # IMU batches and sync replies are not recorded yet
        if self._opening or isinstance(item, FrameBatch):
            self._put(item)

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
            self._put(DeviceEvent("outage", now, f"{self.path} was gone for {now - start:.2f} s",
                                  start_host_s=start, end_host_s=now))
            self._put(DeviceEvent("connected", now, f"{self.url} streaming again"))
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
        self._put(DeviceEvent("disconnected", t_lost, f"{self.path} vanished ({exc}); reconnecting"))
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


def scan_serial_ports(timeout_s: float = 0.0) -> list[ScanResult]:
    """Serial ports that could be insoles (pyserial's ``list_ports``), USB bridges of known makers first."""
    results = []
    for p in list_ports.comports():
        details = {k: str(v) for k, v in (("vid:pid", f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None else None),
                                          ("serial_number", p.serial_number), ("manufacturer", p.manufacturer),
                                          ("location", p.location)) if v}
        results.append(ScanResult("serial", f"serial://{p.device}?protocol=openinsole-v1",
                                  p.description if p.description != "n/a" else p.name or p.device, details,
                                  likely_insole=p.vid in _INSOLE_VIDS))
    results.sort(key=lambda r: (not r.likely_insole, r.url))
    return results
