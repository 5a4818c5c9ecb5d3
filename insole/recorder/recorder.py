"""The recorder: one or two insoles, one clock, every lost frame accounted for, written as it arrives.

Data flow: each device runs in its own task and pushes :class:`~insole.frames.FrameBatch` objects and
:class:`~insole.devices.DeviceEvent` notices into a bounded queue; the recorder task aligns clocks, detects
sequence gaps (:mod:`insole.recorder.frame_accounting`), appends to the :class:`~insole.session.RecordingWriter`
and flushes at least every ``flush_interval_s``. Memory is bounded by the queue size, whatever the session length.
Device events steer the recorder by their kind and structured fields only (:class:`~insole.devices.DeviceEventKind`).

Session clock: zero is the aligned host time of the first frame received from any device; ``time_s`` of every
foot is ``fit(device_time) - zero``. A device with an IMU (``DeviceInfo.imu``) gets a frame-aligned IMU block: one
row per frame, on the frame's session time, re-timed with it at the end. The end of a recording is
:mod:`insole.recorder.finalise`; the disk space check :mod:`insole.recorder.disk_guard`; the live step count
:mod:`insole.recorder.step_counter`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from insole.calibration import Calibration
from insole.devices import DeviceEvent, DeviceEventKind, InsoleDevice
from insole.errors import DeviceError, DeviceTimeoutError, InsoleError, RecordingWriteError, SessionFileError
from insole.frames import FrameBatch
from insole.imu import ImuSamples
from insole.recorder.calibration_choice import choose_calibrations
from insole.recorder.disk_guard import DiskGuard
from insole.recorder.finalise import SessionFinaliser
from insole.recorder.frame_accounting import Accepted, FrameTrack, SessionZero
from insole.recorder.stats import DeviceStats, RecordingOutcome, RecordingSummary
from insole.recorder.step_counter import LiveStepCounter
from insole.session import RecordingWriter, SessionMetadata, refuse_if_busy

__all__ = ["Recorder", "record"]

#: Batches held between the devices and the writer; a full queue makes devices wait (back-pressure).
QUEUE_BATCHES = 2048
#: Seconds a device waits for room in the queue before its batch is dropped as a buffer overflow.
OVERFLOW_AFTER_S = 2.0
#: Wall-clock seconds past ``duration_s`` (counted from the first frame) left for the last frames in flight.
DURATION_GRACE_S = 1.0
#: Seconds a device may take to close (stop streaming, disconnect) before it is abandoned.
CLOSE_TIMEOUT_S = 5.0
#: A foot whose data ends less than this many frame periods before ``duration_s`` has reached it.
DURATION_TOLERANCE_PERIODS = 2
#: States of a foot that did not stream to the end (the outcome is :attr:`RecordingOutcome.DEVICE_LOST`).
_TROUBLED = ("lost", "silent", "reconnecting", "disconnected")


class _Silent:
    """Queue notice from a device's pump: no frame for the device's silence timeout (the link may be up)."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s


class Recorder:
    """Record devices into a session file.

    Parameters
    ----------
    devices : list of InsoleDevice
        One per foot (at most one left and one right).
    path : str or Path
        Output session file.
    metadata : SessionMetadata
    duration_s : float or None
        Stop once this much session time is recorded on every foot, and at the latest ``duration_s`` +
        :data:`DURATION_GRACE_S` seconds of wall clock after the first frame, whatever the devices do (None: until
        :meth:`stop` or Ctrl-C). A foot short of the duration then makes the outcome non-zero.
    overwrite : bool
    flush_interval_s : float
        Longest time between flushes to disk; bounds what a crash can lose.
    connect_timeout_s : float
        How long a device may take to open and send its first frame.
    stall_timeout_s : float
        A device silent this long (after it had streamed, and not reconnecting by itself) is declared lost for
        good; recording goes on with the other foot. Sooner, after the device's own
        :attr:`~insole.devices.InsoleDevice.silence_timeout_s`, it is shown as ``silent`` (an outage).
    atomic : bool
        Write under a temporary name and rename at the end (simulations); live recordings write in place and
        flush, so that a crash leaves a readable file.
    calibrations : list of Calibration or None
        Per device (same order): the calibration to convert raw counts to kPa. Devices sending raw counts
        without one given are looked up in ``calibration_dir`` by serial number, then model
        (:func:`insole.calibration.find_calibration`); without a calibration, raw counts are stored as they are.
    calibration_dir : Path or None
        Folder of calibration files (default :func:`insole.calibration.default_calibration_dir`).
    on_update : callable or None
        Called with the list of :class:`DeviceStats` after each batch (the live view).
    """

    def __init__(
        self,
        devices: list[InsoleDevice],
        path: str | Path,
        metadata: SessionMetadata | None = None,
        *,
        duration_s: float | None = None,
        overwrite: bool = False,
        flush_interval_s: float = 1.0,
        connect_timeout_s: float = 15.0,
        stall_timeout_s: float = 30.0,
        on_update: Callable[[list[DeviceStats]], None] | None = None,
        source: str = "recorded",
        atomic: bool = False,
        calibrations: list[Calibration | None] | None = None,
        calibration_dir: Path | None = None,
    ) -> None:
        if not devices:
            raise InsoleError("no device to record from; give at least one --device")
        if len(devices) > 2:
            raise InsoleError("at most two insoles (one per foot) can be recorded together")
        self.devices = devices
        self.path = Path(path)
        self.metadata = metadata or SessionMetadata()
        self.duration_s = duration_s
        self.overwrite = overwrite
        self.flush_interval_s = flush_interval_s
        self.connect_timeout_s = connect_timeout_s
        self.stall_timeout_s = stall_timeout_s
        self.on_update = on_update
        self.source = source
        self.atomic = atomic
        if calibrations is not None and len(calibrations) != len(devices):
            raise InsoleError(f"{len(calibrations)} calibrations given for {len(devices)} devices")
        self.calibrations: list[Calibration | None] = list(calibrations or [None] * len(devices))
        self.calibration_dir = calibration_dir
        self._calibration_sources = [""] * len(devices)
        self.stats = [DeviceStats(d.url) for d in devices]
        self._steps = [LiveStepCounter() for _ in devices]
        self._stop = asyncio.Event()
        self._stop_reason = "stopped"
        self._error: str | None = None
        self._pending: list[list[tuple[Accepted, np.ndarray]]] = [[] for _ in devices]
        self._disk = DiskGuard(self.path)
        self._first_frame_wall_s: float | None = None
        self._last_host_s = [float("nan")] * len(devices)
        self._disk_full = False
        self._user_stop = False

    #: Batches held between the devices and the writer (a subclass may change it).
    queue_batches = QUEUE_BATCHES

    def stop(self, reason: str = "stopped by user") -> None:
        """Ask the recording to end; the file is finalised."""
        self._stop_reason = reason
        self._user_stop = True
        self._stop.set()

    async def run(self) -> RecordingSummary:
        """Record until the duration is reached, :meth:`stop` is called, or every device is lost."""
        if self.path.exists() and not self.overwrite:
            raise SessionFileError(
                str(self.path),
                "already exists (perhaps an earlier, interrupted recording: check it with `insole info`); "
                "choose another name or pass --overwrite",
            )
        refuse_if_busy(self.path)  # a file another recording is writing: refused before connecting any device
        queue: asyncio.Queue[tuple[int, FrameBatch | DeviceEvent | BaseException | None]] = asyncio.Queue(
            maxsize=self.queue_batches
        )
        await self._open_all()
        sides = [d.info.side for d in self.devices]
        if len(set(sides)) != len(sides):
            await self._close_all()
            raise InsoleError(f"both devices are {sides[0]} insoles; record one left and one right")
        writer = RecordingWriter(
            self.path,
            self.metadata,
            source=self.source,
            overwrite=self.overwrite,
            atomic=self.atomic,
            crash_safe=not self.atomic,
        )
        zero = SessionZero()
        self._tracks = [FrameTrack(d.info.sampling_rate_hz, zero) for d in self.devices]
        self.calibrations, self._calibration_sources = choose_calibrations(
            [d.info for d in self.devices], self.calibrations, self.calibration_dir
        )
        for dev, st, cal, cal_src in zip(
            self.devices, self.stats, self.calibrations, self._calibration_sources, strict=True
        ):
            info = dev.info
            st.side, st.state = info.side, "streaming"
            writer.add_foot(
                info.side,
                info.layout,
                calibration=cal,
                calibration_source=cal_src,
                units="kPa" if cal is not None else info.units,
                sampling_rate_hz=info.sampling_rate_hz,
                device={
                    "url": info.url,
                    "model": info.model,
                    "serial_number": info.serial_number,
                    "firmware_version": info.firmware_version,
                    **{k: v for k, v in info.extra.items() if isinstance(v, str | int | float | bool)},
                },
            )
            if info.imu is not None:
                writer.add_imu(info.side, info.imu, frame_aligned=True)
        writer.start_appending()
        tasks = [asyncio.create_task(self._pump(i, d, queue)) for i, d in enumerate(self.devices)]
        last_flush = time.monotonic()
        last_flush_data = 0.0
        finished = 0
        write_error: OSError | None = None
        try:
            while finished < len(self.devices):
                if self._stop.is_set():
                    break
                if self._past_time_bound():
                    waited = time.monotonic() - (self._first_frame_wall_s or 0.0)
                    self._stop_reason = (f"time bound reached: {self.duration_s:g} s asked for, {waited:.1f} s "
                                         "since the first frame")
                    break
                try:
                    async with asyncio.timeout(self._wait_s()):
                        idx, item = await queue.get()
                except TimeoutError:
                    self._notify()
                    continue
                st = self.stats[idx]
                if item is None or isinstance(item, BaseException):
                    finished += 1
                    if isinstance(item, BaseException):
                        st.state, st.error = "lost", str(item)
                        self._tracks[idx].note_lost(str(item))
                    elif st.state not in ("lost", "silent"):
                        st.state = "ended"
                    self._notify()
                    continue
                if isinstance(item, _Silent):
                    self._on_silent(idx, item)
                    continue
                if isinstance(item, DeviceEvent):
                    self._on_event(idx, item)
                    continue
                self._on_batch(idx, item, writer)
                now = time.monotonic()
                recorded = max((x.last_time_s for x in self.stats if np.isfinite(x.last_time_s)), default=0.0)
                # flush every second of wall time, and of data (sources faster than real time)
                if now - last_flush >= self.flush_interval_s or recorded - last_flush_data >= self.flush_interval_s:
                    await self._flush(writer)
                    last_flush, last_flush_data = now, recorded
                    full = self._disk.nearly_full(writer.write_path)
                    if full is not None:
                        self._stop_reason = self._error = full
                        self._disk_full = True
                        break
                if self.duration_s is not None and all(
                    self._reached(i) or s.state in ("lost", "ended") for i, s in enumerate(self.stats)
                ):
                    self._stop_reason = f"duration of {self.duration_s:g} s reached"
                    break
            else:
                self._stop_reason = "all devices ended"
        except OSError as exc:  # a write failed although space looked sufficient
            write_error = exc
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self._close_all()
            if write_error is None:
                try:
                    self._write_pending(writer)
                except OSError as exc:
                    write_error = exc
            outcome, problem = self._outcome()
            if write_error is None:
                SessionFinaliser(self.devices, self.stats, self._tracks, self._stop_reason).finalise(writer)
            else:
                writer.abort()
        for st in self.stats:
            if st.state in ("streaming", "connected", "connecting"):
                st.state = "stopped"
        if write_error is not None:
            raise RecordingWriteError(
                str(self.path),
                f"writing stopped: {write_error}; frames up to the last flush (at most "
                f"{self.flush_interval_s:g} s earlier) are kept, read them with `insole info`",
            )
        duration = max((s.last_time_s for s in self.stats if np.isfinite(s.last_time_s)), default=0.0)
        return RecordingSummary(self.path, float(duration), self.stats, self._stop_reason, problem, outcome)

    # ------------------------------------------------------------------ bounds and outcome
    def _reached(self, idx: int) -> bool:
        """Foot ``idx`` holds the requested duration (within :data:`DURATION_TOLERANCE_PERIODS` frames)."""
        if self.duration_s is None:
            return True
        last = self.stats[idx].last_time_s
        period = 1.0 / self.devices[idx].info.sampling_rate_hz
        return bool(np.isfinite(last) and last + DURATION_TOLERANCE_PERIODS * period >= self.duration_s)

    def _time_bound_s(self) -> float | None:
        """Wall-clock (monotonic) time at which the recording ends whatever the devices do."""
        if self.duration_s is None or self._first_frame_wall_s is None:
            return None
        return self._first_frame_wall_s + self.duration_s + DURATION_GRACE_S

    def _past_time_bound(self) -> bool:
        bound = self._time_bound_s()
        return bound is not None and time.monotonic() >= bound

    def _wait_s(self) -> float:
        """How long the recorder loop may wait for the next item: at most 0.25 s, never past the time bound."""
        bound = self._time_bound_s()
        return 0.25 if bound is None else max(0.0, min(0.25, bound - time.monotonic()))

    def _name(self, idx: int) -> str:
        """The insole as the user knows it: foot, URL and serial number."""
        dev, st = self.devices[idx], self.stats[idx]
        try:
            serial_no = dev.info.serial_number
        except InsoleError:
            serial_no = "unknown"
        sn = f", serial number {serial_no}" if serial_no not in ("", "unknown") else ""
        return f"{st.side} insole ({dev.url}{sn})"

    def _outcome(self) -> tuple[RecordingOutcome, str | None]:
        """How the recording ended, and the problem in words (None when complete). Called before finalising:
        feet still silent or reconnecting get their ``device_lost`` gap to the end here."""
        problems: list[str] = []
        for idx, (st, track) in enumerate(zip(self.stats, self._tracks, strict=True)):
            if st.state in ("silent", "reconnecting") and track.lost_message is None:
                track.note_lost(f"{st.error}; still {st.state} when the recording ended")
            if st.state in _TROUBLED:
                problems.append(f"{self._name(idx)}: {st.error or st.state}")
        if self._disk_full:
            return RecordingOutcome.WRITE_FAILED, self._error
        if problems:
            return RecordingOutcome.DEVICE_LOST, "; ".join(problems)
        if self.duration_s is not None and not self._user_stop:
            short = [i for i in range(len(self.devices)) if not self._reached(i)]
            if short:
                held = ", ".join(f"{self._name(i)} {np.nan_to_num(self.stats[i].last_time_s, neginf=0.0):.1f} s "
                                 f"({self.stats[i].state})" for i in short)
                return (RecordingOutcome.DURATION_NOT_REACHED,
                        f"{self.duration_s:g} s were asked for but the recording holds only: {held}")
        return RecordingOutcome.COMPLETE, None

    async def _flush(self, writer: RecordingWriter) -> None:
        """Append what is pending and flush the file to disk (awaited, so that a subclass may stall here)."""
        self._write_pending(writer)
        writer.flush()

    def _write_pending(self, writer: RecordingWriter) -> None:
        """Append the frames and gaps held since the last flush."""
        for idx, pending in enumerate(self._pending):
            if not pending:
                continue
            side = self.stats[idx].side
            for acc, _ in pending:
                writer.add_gaps(side, acc.gaps)  # type: ignore[arg-type]
            calibrated = self.calibrations[idx] is not None
            writer.append(
                side,  # type: ignore[arg-type]
                np.concatenate([a.time_s for a, _ in pending]),
                np.concatenate([p for _, p in pending]),
                sequence=np.concatenate([a.batch.sequence for a, _ in pending]).astype(np.uint32),
                device_time_us=np.concatenate([a.batch.device_time_us for a, _ in pending]),
                saturated=np.concatenate([a.batch.saturated for a, _ in pending]),
                raw=np.concatenate([a.batch.pressure for a, _ in pending]) if calibrated else None,
            )
            if self.devices[idx].info.imu is not None:
                # one IMU row per frame, on the frame's time (NaN rows for frames that came without IMU values)
                imu = ImuSamples.concatenate([a.batch.imu for a, _ in pending], [len(a.batch) for a, _ in pending])
                imu = imu if imu is not None else ImuSamples.missing(sum(len(a.batch) for a, _ in pending))
                writer.append_imu(side, np.concatenate([a.time_s for a, _ in pending]),  # type: ignore[arg-type]
                                  imu.acc_m_s2, imu.gyr_rad_s)
            pending.clear()

    # ------------------------------------------------------------------ devices
    async def _open_all(self) -> None:
        async def open_one(dev: InsoleDevice, st: DeviceStats) -> None:
            try:
                async with asyncio.timeout(self.connect_timeout_s):
                    await dev.open()
            except DeviceTimeoutError:
                raise  # the device's own timeout, with its own message
            except TimeoutError:
                raise DeviceTimeoutError(
                    f"{dev.url} did not connect within {self.connect_timeout_s:g} s; is it on and in range?"
                ) from None
            st.state = "connected"

        results = await asyncio.gather(
            *(open_one(d, s) for d, s in zip(self.devices, self.stats, strict=True)), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            await self._close_all()
            err = errors[0]
            if isinstance(err, InsoleError):
                raise err
            raise DeviceError(f"could not open a device: {err}") from err

    async def _close_all(self) -> None:
        """Close every device, each within :data:`CLOSE_TIMEOUT_S` (a link that hangs on goodbye is abandoned)."""
        for dev, st in zip(self.devices, self.stats, strict=True):
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await dev.close()
            except TimeoutError:
                st.error = (st.error + "; " if st.error else "") + f"closing took over {CLOSE_TIMEOUT_S:g} s, abandoned"
            except Exception:  # noqa: S110 - a device failing to close must not lose the recording
                pass

    async def _next_item(self, idx: int, dev: InsoleDevice, nxt: asyncio.Future[Any], first: bool,
                         last_frame_s: float, queue: asyncio.Queue[Any]) -> Any:
        """Wait for the stream's next item, reporting silence (once) and giving up at the stall timeout.

        The pending ``__anext__`` is never cancelled by a timeout (that would end the stream); only the waiting
        is bounded.
        """
        silence_s = min(dev.silence_timeout_s, self.stall_timeout_s)
        silent_reported = False
        while True:
            now = time.monotonic()
            state = self.stats[idx].state
            reconnecting = state in ("reconnecting", "disconnected")  # the driver bounds its own reconnection
            if first:
                deadline = last_frame_s + self.connect_timeout_s
            elif silent_reported or reconnecting:
                deadline = last_frame_s + self.stall_timeout_s
            else:
                deadline = last_frame_s + silence_s
            done, _ = await asyncio.wait({nxt}, timeout=max(0.0, min(deadline - now, 0.5)))
            if done:
                return nxt.result()
            await asyncio.sleep(0)  # a loop that was blocked may have a result waiting
            if nxt.done():
                return nxt.result()
            now = time.monotonic()
            if now < deadline or (reconnecting and not first):
                continue
            if first:
                raise DeviceTimeoutError(
                    f"{dev.url} sent no data for {self.connect_timeout_s:g} s; recording goes on without it")
            if not silent_reported:
                silent_reported = True
                await queue.put((idx, _Silent(silence_s)))
                continue
            raise DeviceTimeoutError(
                f"{dev.url} went silent for {self.stall_timeout_s:g} s; recording goes on without it")

    async def _pump(self, idx: int, dev: InsoleDevice, queue: asyncio.Queue[Any]) -> None:
        nxt: asyncio.Future[Any] | None = None
        try:
            agen = dev.stream().__aiter__()
            first = True
            last_frame_s = time.monotonic()
            while True:
                nxt = asyncio.ensure_future(agen.__anext__())
                try:
                    item = await self._next_item(idx, dev, nxt, first, last_frame_s, queue)
                except StopAsyncIteration:
                    break
                nxt = None
                if isinstance(item, FrameBatch):
                    first = False
                    last_frame_s = time.monotonic()
                try:
                    # back-pressure for fast sources; a writer stalled this long loses the batch, counted
                    async with asyncio.timeout(OVERFLOW_AFTER_S):
                        await queue.put((idx, item))
                except TimeoutError:
                    if isinstance(item, FrameBatch):
                        self._tracks[idx].note_overflow(item)
            await queue.put((idx, None))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the device is lost; the other foot goes on
            await queue.put((idx, exc))
        finally:
            if nxt is not None and not nxt.done():  # end the stream's pending step before the device closes
                nxt.cancel()

    def _notify(self) -> None:
        if self.on_update is not None:
            self.on_update(self.stats)

    # ------------------------------------------------------------------ data
    def _on_event(self, idx: int, ev: DeviceEvent) -> None:
        """Follow a device's notice by its kind and structured fields (its message is only shown or stored)."""
        st = self.stats[idx]
        match ev.kind:
            case DeviceEventKind.BATTERY:
                st.battery_pct = ev.battery_pct
            case DeviceEventKind.DISCONNECTED:
                st.state = "reconnecting" if ev.reconnecting else "disconnected"
            case DeviceEventKind.RECONNECTING:
                st.state = "reconnecting"
            case DeviceEventKind.CONNECTED:
                st.state = "streaming"
            case DeviceEventKind.OUTAGE:
                assert ev.start_host_s is not None and ev.end_host_s is not None  # checked by DeviceEvent
                self._tracks[idx].note_outage(ev.start_host_s, ev.end_host_s, ev.message or "disconnected")
            case DeviceEventKind.WARNING:
                st.error = ev.message
        self._notify()

    def _on_silent(self, idx: int, notice: _Silent) -> None:
        """No frame for the device's silence timeout: shown at once as an outage (state ``silent``)."""
        st = self.stats[idx]
        at = f"{st.last_time_s:.1f} s" if np.isfinite(st.last_time_s) else "the start"
        st.state = "silent"
        st.error = (f"fell silent at {at}: no frame for {notice.timeout_s:g} s (the device's silence timeout), "
                    "the link is still open")
        self._notify()

    def _on_batch(self, idx: int, batch: FrameBatch, writer: RecordingWriter) -> None:
        st, dev, track = self.stats[idx], self.devices[idx], self._tracks[idx]
        if self._first_frame_wall_s is None:
            self._first_frame_wall_s = time.monotonic()
        if st.state == "silent" and len(batch):  # frames again: the silence was an outage
            start = self._last_host_s[idx]
            end = float(batch.host_time_s[0])
            track.note_outage(start if np.isfinite(start) else end, end, f"silent, {st.error}")
            st.state, st.error = "streaming", f"was silent ({st.error}); streaming again"
        if len(batch):
            self._last_host_s[idx] = float(batch.host_time_s[-1])
        first = track.zero.host_s is None
        accepted = track.accept(batch)
        if accepted is None:
            return
        if first:
            writer.set_attrs("/", session_zero_host_s=track.zero.host_s)
        b = accepted.batch
        cal = self.calibrations[idx]
        pressure = cal.apply(b.pressure) if cal is not None else b.pressure
        # held until the next flush: one HDF5 append per second instead of one per batch
        self._pending[idx].append((accepted, pressure))
        st.frames = track.frames
        st.lost_frames = track.lost_frames
        st.gaps += len(accepted.gaps)
        st.last_time_s = track.last_time_s
        in_kpa = cal is not None or dev.info.units == "kPa"
        self._steps[idx].update(st, pressure, dev.info.layout.area_mm2 if in_kpa else None)
        st.update_rate(time.monotonic())
        self._notify()


def record(devices: list[InsoleDevice], path: str | Path, **kwargs: Any) -> RecordingSummary:
    """Synchronous wrapper around :meth:`Recorder.run` for scripts."""
    return asyncio.run(Recorder(devices, path, **kwargs).run())
