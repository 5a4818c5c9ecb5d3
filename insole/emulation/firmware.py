"""A firmware emulator: a simulated insole speaking the real byte protocol on a serial port, with line faults.

``insole emulate --port PATH ...`` opens an existing serial device (a pty, a USB gadget, a loopback adapter),
answers the host's commands (openinsole-v1: start, stop, device info, status, set rate, sync) and writes sample
frames at the real pace, driven by :class:`insole.simulator.device.SimulatedInsole`. Faults are injected on the
encoded bytes with a seeded random generator, so a run is reproducible (:mod:`insole.emulation.line_faults`:
byte errors, noise bursts, a receiver at the wrong baud rate); pauses stall the link every ``pause_every_s`` for
``pause_s`` (samples queue up and leave late, none is lost). ``silent_after_s`` makes the firmware hang: after that
many seconds of streaming it sends nothing more and answers no command, but keeps the port open until
``duration_s`` has passed (a device that falls silent without unplugging).

Every frame is logged as one JSON line (sequence, device time, wire counts, the faults that touched its bytes),
so tests can compare what arrived with what was sent.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import asdict
from typing import IO, Any

import numpy as np
import serial

import insole
from insole.emulation.line_faults import FaultConfig, FaultInjector, uart_resample
from insole.emulation.openinsole_device import (
    CommandDecoder,
    encode_device_info,
    encode_imu_info,
    encode_samples,
    encode_status,
    encode_sync_reply,
    imu_counts,
)
from insole.emulation.sample_encoders import encode_line
from insole.errors import ConfigurationError, DeviceError
from insole.frames import FrameBatch
from insole.protocols.cobs_framing import frame_bytes
from insole.protocols.openinsole_v1 import Command, DeviceInfoMessage, ImuInfoMessage, StatusMessage, SyncReply
from insole.protocols.openinsole_v1.wire import LAYOUTS, UNITS
from insole.protocols.registry import protocol_name
from insole.simulator.device import SimulatedInsole

#: DEVICE_INFO codes of the built-in layouts and of the units the emulator can send.
_LAYOUT_CODES = {layout_id: code for code, layout_id in LAYOUTS.items()}
_UNITS_CODES = {units: code for code, (units, _) in UNITS.items() if units in ("raw", "kPa")}


class FirmwareEmulator:
    """Emulate an insole's firmware on ``port`` (see the module docstring).

    Parameters
    ----------
    port : str
        Serial device path (opened with pyserial) or any pyserial URL.
    protocol : {"openinsole-v1", "csv"}
    profile, side, rate_hz, sensors, seed : simulated insole settings (:mod:`insole.simulator.device`).
    duration_s : float
        Seconds of samples to stream after the host's start command (csv: after opening).
    units : {"kPa", "raw"}
        kPa goes on the wire in 0.1 kPa counts; raw as 12-bit ADC counts.
    faults : FaultConfig
    log : file-like or None
        JSON-lines log of everything sent.
    autostart : bool
        Stream without waiting for START (csv devices always do).
    start_timeout_s : float
        Give up if the host sends no START within this time.
    imu : bool
        The insole has an IMU (openinsole-v1 only): DEVICE_INFO says so, IMU_INFO follows it, every sample carries
        the IMU block of the simulated foot-mounted IMU (:mod:`insole.simulator.imu_model`).
    imu_axes : tuple of 3 int
        How the emulated sensor sits in the insole (IMU_INFO axes; ``(2, -1, 3)``: turned 90 degrees about z).
    silent_after_s : float
        Seconds of streaming after which the firmware hangs with the port open (0: never).
    """

    def __init__(self, port: str, *, protocol: str = "openinsole-v1", profile: str = "neutral", side: str = "left",
                 rate_hz: float = 100.0, duration_s: float = 10.0, seed: int = 1, sensors: int = 16,
                 units: str = "kPa", faults: FaultConfig | None = None, log: IO[str] | None = None,
                 autostart: bool = False, start_timeout_s: float = 60.0, baud: int = 921600,
                 csv_checksum: bool = False, imu: bool = False, imu_axes: tuple[int, int, int] = (1, 2, 3),
                 silent_after_s: float = 0.0) -> None:
        self.port_path = port
        self.protocol = protocol_name(protocol)
        if units not in _UNITS_CODES:
            raise ConfigurationError(f"units must be kPa or raw, got {units!r}")
        if duration_s <= 0:
            raise ConfigurationError(f"duration must be positive, got {duration_s}")
        self.profile, self.side, self.sensors, self.seed, self.units = profile, side, sensors, seed, units
        self.rate_hz = float(rate_hz)
        self.duration_s = float(duration_s)
        if silent_after_s < 0:
            raise ConfigurationError(f"silent_after_s must be 0 or more, got {silent_after_s}")
        self.silent_after_s = float(silent_after_s)
        self.faults = faults or FaultConfig()
        self.log = log
        self.autostart = autostart or self.protocol == "csv"
        self.start_timeout_s = start_timeout_s
        self.baud = baud
        self.csv_checksum = csv_checksum
        if imu and self.protocol != "openinsole-v1":
            raise ConfigurationError("an emulated IMU needs the openinsole-v1 protocol (csv lines carry no IMU)")
        self.imu = imu
        self.imu_info = ImuInfoMessage(side, 16000, 2000, tuple(imu_axes), 1) if imu else None  # type: ignore[arg-type]
        if self.imu_info is not None:
            self.imu_info.conversion()  # refuse impossible axes at once
        self.rng = np.random.default_rng([seed, 7331])
        self.injector = FaultInjector(self.faults, self.rng, self.rate_hz)
        self.commands = CommandDecoder()
        self._sim = self._make_sim()
        self.frames_sent = 0
        self.frames_damaged = 0
        self._port: serial.Serial | None = None
        self._port_lost_at = 0.0

    # ------------------------------------------------------------------ simulated insole
    def _make_sim(self) -> SimulatedInsole:
        url = (f"sim://{self.profile}?side={self.side}&rate_hz={self.rate_hz:g}&sensors={self.sensors}"
               f"&seed={self.seed}&realtime=0&units={self.units}&walk_s={self.duration_s + 5:g}"
               + ("&imu=1" if self.imu else ""))
        return SimulatedInsole(url)

    def _samples(self) -> Iterator[FrameBatch]:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._sim.open())
            agen = self._sim.stream()
            while True:
                try:
                    item = loop.run_until_complete(agen.__anext__())
                except StopAsyncIteration:
                    return
                if isinstance(item, FrameBatch):
                    yield item
        finally:
            loop.close()

    def _wire_counts(self, pressure: np.ndarray) -> np.ndarray:
        scale = 10.0 if self.units == "kPa" else 1.0
        return np.clip(np.round(pressure * scale), 0, 0xFFFE).astype(np.uint16)

    def device_info(self, seq: int = 0, device_time_us: int = 0) -> DeviceInfoMessage:
        """The DEVICE_INFO this emulator sends."""
        return DeviceInfoMessage(
            side=self.side, n_sensors=self.sensors, layout_code=_LAYOUT_CODES.get(self._sim.layout.layout_id, 0),
            sampling_rate_hz=int(round(self.rate_hz)), firmware_version=insole.__version__,
            units_code=_UNITS_CODES[self.units], adc_full_scale=4095 if self.units == "raw" else 0,
            foot_length_mm=int(round(self._sim.profile.foot_length_mm)),
            serial_number=f"EMU-{self.side[0].upper()}-{self.seed}", model="insole-emulator",
            sequence=seq, device_time_us=device_time_us, has_imu=self.imu,
        )

    def _info_frames(self, seq: int, device_time_us: int) -> bytes:
        """The answer to GET_INFO: DEVICE_INFO, then IMU_INFO when the insole has an IMU."""
        out = b"\x00" + frame_bytes(encode_device_info(self.device_info(seq, device_time_us)))
        if self.imu_info is not None:
            info = ImuInfoMessage(self.side, self.imu_info.acc_full_scale_mg, self.imu_info.gyr_full_scale_dps,
                                  self.imu_info.axes, self.imu_info.calibration_code, seq, device_time_us)
            out += frame_bytes(encode_imu_info(info))
        return out

    # ------------------------------------------------------------------ I/O
    def _log(self, **record: Any) -> None:
        if self.log is not None:
            self.log.write(json.dumps(record) + "\n")

    def _open(self) -> None:
        try:
            self._port = serial.serial_for_url(self.port_path, self.baud, timeout=0, write_timeout=2.0)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceError(f"emulator: cannot open {self.port_path} ({exc}); give an existing serial device "
                              "such as one end of a pty pair") from None

    def _send(self, data: bytes) -> bool:
        if self.faults.receiver_baud:
            data = uart_resample(data, self.faults.baud, self.faults.receiver_baud)
        if self._port is None:
            if time.monotonic() - self._port_lost_at < 0.2:
                return False
            try:  # the port vanished (e.g. the cable was pulled): the device keeps sampling and retries
                self._open()
                self._log(type="port_reopened", host_s=time.monotonic())
            except DeviceError:
                self._port_lost_at = time.monotonic()
                return False
        try:
            self._port.write(data)
            return True
        except (serial.SerialException, OSError) as exc:
            self._log(type="port_error", host_s=time.monotonic(), error=str(exc))
            try:
                self._port.close()
            except (serial.SerialException, OSError):
                pass
            self._port = None
            self._port_lost_at = time.monotonic()
            return False

    def _read_commands(self) -> list[tuple[Command, int | None]]:
        if self._port is None:
            return []
        try:
            data = self._port.read(self._port.in_waiting or 1)
        except (serial.SerialException, OSError):
            return []
        return self.commands.feed(data) if data and self.protocol == "openinsole-v1" else []

    # ------------------------------------------------------------------ main loop
    def run(self) -> dict[str, Any]:
        """Emulate until ``duration_s`` of samples are sent; returns the summary (also logged)."""
        self._open()
        cfg = asdict(self.faults)
        self._log(type="config", port=self.port_path, protocol=self.protocol, profile=self.profile, side=self.side,
                  rate_hz=self.rate_hz, duration_s=self.duration_s, seed=self.seed, sensors=self.sensors,
                  units=self.units, faults=cfg, imu=self.imu,
                  imu_axes=list(self.imu_info.axes) if self.imu_info is not None else None)
        if self.log is not None:
            self.log.flush()  # lets a test see that the port is open
        streaming = self.autostart
        t_open = time.monotonic()
        samples = self._samples()
        pending: list[tuple[int, int, np.ndarray, bool, np.ndarray | None]] = []
        t_start = t_open if streaming else None
        sent_k = 0
        n_total = int(round(self.duration_s * self.rate_hz))
        last_seq, last_dev = 0, 0
        next_pause = self.faults.pause_every_s if self.faults.pause_every_s > 0 else float("inf")
        header_sent = False
        hung = False
        if streaming and self.protocol == "openinsole-v1":
            self._send(b"\x00")  # autostart: let the host sync on the first frame
        try:
            while sent_k < n_total:
                now = time.monotonic()
                if self.silent_after_s and t_start is not None and now - t_start >= self.silent_after_s:
                    if not hung:  # the firmware hangs: nothing more leaves, the port stays open
                        hung = True
                        self._log(type="silent", host_s=now, after_frames=sent_k, last_seq=last_seq)
                        if self.log is not None:
                            self.log.flush()
                    self._read_commands()  # read and ignored
                    if now - t_start >= self.duration_s:
                        break
                    time.sleep(0.01)
                    continue
                for cmd, value in self._read_commands():
                    self._log(type="command", command=cmd.name, value=value, host_s=now)
                    dev_now = last_dev + (int((now - t_start) * 1e6) if t_start else 0)
                    if cmd == Command.START and not streaming:
                        streaming = True
                        t_start = now - sent_k / self.rate_hz
                        self._send(b"\x00")  # lets the host sync at once
                    elif cmd == Command.STOP:
                        streaming = False
                        if self.log is not None:
                            self.log.flush()  # the host has stopped the stream: what was sent is complete
                    elif cmd == Command.GET_INFO:
                        self._send(self._info_frames(last_seq, dev_now))
                    elif cmd in (Command.GET_STATUS, Command.SET_RATE):
                        if cmd == Command.SET_RATE and not streaming and sent_k == 0 and value and 10 <= value <= 1000:
                            self.rate_hz = float(value)
                            self._sim = self._make_sim()
                            samples = self._samples()
                            n_total = int(round(self.duration_s * self.rate_hz))
                            self.injector = FaultInjector(self.faults, self.rng, self.rate_hz)
                        battery = max(0.0, 100.0 - (now - t_open) / 36.0)
                        self._send(b"\x00" + frame_bytes(encode_status(StatusMessage(
                            self.side, battery, 3700, streaming, int(round(self.rate_hz)), 0, last_seq, dev_now))))
                    elif cmd == Command.SYNC:
                        reply = SyncReply(self.side, int(value or 0), dev_now, last_seq)
                        self._send(b"\x00" + frame_bytes(encode_sync_reply(reply)))
                if not streaming:
                    if t_start is None and now - t_open > self.start_timeout_s:
                        raise DeviceError(f"emulator: the host sent no START within {self.start_timeout_s:g} s")
                    time.sleep(0.002)
                    continue
                assert t_start is not None
                if now - t_start >= next_pause:
                    self._log(type="pause", host_s=now, pause_s=self.faults.pause_s)
                    time.sleep(self.faults.pause_s)
                    next_pause += self.faults.pause_every_s
                    continue
                due = min(n_total, int((now - t_start) * self.rate_hz) + 1)
                while len(pending) < due - sent_k:
                    batch = next(samples)
                    counts = self._wire_counts(batch.pressure)
                    imu = (imu_counts(self.imu_info, batch.imu.acc_m_s2, batch.imu.gyr_rad_s)
                           if self.imu_info is not None and batch.imu is not None else [None] * len(batch))
                    for i in range(len(batch)):
                        pending.append((int(batch.sequence[i]), int(batch.device_time_us[i]), counts[i],
                                        bool(batch.saturated[i]), imu[i]))
                chunk, pending = pending[: due - sent_k], pending[due - sent_k :]
                if chunk:
                    if self.protocol == "csv" and not header_sent:
                        names = ",".join(f"p{i}" for i in range(self.sensors))
                        self._send(f"# insole-emulator {insole.__version__} {self.side}\nseq,t_us,{names}\n".encode())
                        header_sent = True
                    self._send_chunk(chunk, now)
                    sent_k += len(chunk)
                    last_seq, last_dev = chunk[-1][0], chunk[-1][1]
                time.sleep(max(0.0005, min(0.005, t_start + (sent_k + 1) / self.rate_hz - time.monotonic())))
        finally:
            summary = {"type": "summary", "frames_sent": self.frames_sent, "frames_damaged": self.frames_damaged,
                       "commands_rejected": self.commands.rejected}
            self._log(**summary)
            if self.log is not None:
                self.log.flush()
            if self._port is not None:
                try:
                    self._port.flush()
                    time.sleep(0.05)
                finally:
                    self._port.close()
        return summary

    def _send_chunk(self, chunk: list[tuple[int, int, np.ndarray, bool, np.ndarray | None]], now: float) -> None:
        if self.protocol == "openinsole-v1":
            bodies = encode_samples(np.array([c[0] for c in chunk]), np.array([c[1] for c in chunk], np.uint64),
                                    np.stack([c[2] for c in chunk]), side=self.side,
                                    saturated=np.array([c[3] for c in chunk]),
                                    imu=np.stack([c[4] for c in chunk]) if self.imu_info is not None else None)
            wires = [frame_bytes(b) for b in bodies]
        else:
            wires = [encode_line(c[0], c[1], c[2], checksum=self.csv_checksum) for c in chunk]
        out = bytearray()
        for (seq, dev, counts, _, imu), wire in zip(chunk, wires, strict=True):
            damaged, faults = self.injector.apply(wire)
            if self.faults.receiver_baud:
                faults.append("baud")
            out += damaged
            self.frames_sent += 1
            self.frames_damaged += bool(faults)
            extra = {} if imu is None else {"imu": imu.tolist()}
            self._log(type="frame", seq=seq, device_time_us=dev, counts=counts.tolist(), faults=faults,
                      host_s=round(now, 6), **extra)
        ok = self._send(bytes(out))
        if not ok:
            self._log(type="unsent", first_seq=chunk[0][0], last_seq=chunk[-1][0], host_s=now)
