"""The recorder: one or two insoles, one clock, every lost frame accounted for, written as it arrives.

Data flow: each device runs in its own task and pushes :class:`~insole.frames.FrameBatch` objects and
:class:`~insole.devices.DeviceEvent` notices into a bounded queue; the recorder task aligns clocks, detects
sequence gaps, appends to the :class:`~insole.session.RecordingWriter` and flushes at least every
``flush_interval_s``. Memory is bounded by the queue size, whatever the session length.

Session clock: zero is the aligned host time of the first frame received from any device; ``time_s`` of every
foot is ``fit(device_time) - zero``. At the end the final clock fit of each device re-times the whole foot, so
early frames benefit from the complete fit; the fit and its residual are stored as ``clock_*`` attributes.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from insole.calibration import Calibration, find_calibration
from insole.devices import DeviceEvent, InsoleDevice
from insole.errors import DeviceError, DeviceTimeoutError, InsoleError, SessionFileError
from insole.frames import FrameBatch
from insole.recorder.frame_accounting import FrameTrack, SessionZero
from insole.session import RecordingWriter, SessionMetadata

#: Frames held per device between the device and the writer before the oldest are dropped (and counted).
QUEUE_BATCHES = 2048
#: Seconds a device waits for room in the queue before its batch is dropped as a buffer overflow.
OVERFLOW_AFTER_S = 2.0
#: Bytes kept free on the output's disk to finalise the file (plus 10 s of data at the current rate).
RESERVE_BYTES = 2 * 1024 * 1024


@dataclass
class DeviceStats:
    """Running counters for one device, shown live and stored in the file."""

    url: str
    side: str = "?"
    state: str = "connecting"
    frames: int = 0
    lost_frames: int = 0
    gaps: int = 0
    battery_pct: float | None = None
    last_time_s: float = float("nan")
    rate_hz: float = float("nan")
    latest_force: float = 0.0
    latest_pressure: np.ndarray | None = None
    error: str = ""
    steps: int = 0
    _loaded: bool = False
    _force_max: float = 0.0
    _rate_marks: list[tuple[float, int]] = field(default_factory=list)


@dataclass
class RecordingSummary:
    """What a finished recording holds."""

    path: Path
    duration_s: float
    devices: list[DeviceStats]
    stopped_because: str
    error: str | None = None


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
        Stop once this much session time is recorded (None: until :meth:`stop` or Ctrl-C).
    overwrite : bool
    flush_interval_s : float
        Longest time between flushes to disk; bounds what a crash can lose.
    connect_timeout_s : float
        How long a device may take to open and send its first frame.
    stall_timeout_s : float
        A device silent this long (after it had streamed) is declared lost for good; recording goes on with
        the other foot.
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
        self._stop = asyncio.Event()
        self._stop_reason = "stopped"
        self._error: str | None = None
        self._pending: list[list[tuple[Any, np.ndarray]]] = [[] for _ in devices]
        self._size_mark: int | None = None

    def stop(self, reason: str = "stopped by user") -> None:
        """Ask the recording to end; the file is finalised."""
        self._stop_reason = reason
        self._stop.set()

    async def run(self) -> RecordingSummary:
        """Record until the duration is reached, :meth:`stop` is called, or every device is lost."""
        if self.path.exists() and not self.overwrite:
            raise SessionFileError(
                str(self.path),
                "already exists (perhaps an earlier, interrupted recording: check it with `insole info`); "
                "choose another name or pass --overwrite",
            )
        queue: asyncio.Queue[tuple[int, FrameBatch | DeviceEvent | BaseException | None]] = asyncio.Queue(
            maxsize=QUEUE_BATCHES
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
        self._resolve_calibrations()
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
                try:
                    async with asyncio.timeout(0.25):
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
                    elif st.state != "lost":
                        st.state = "ended"
                    self._notify()
                    continue
                if isinstance(item, DeviceEvent):
                    self._on_event(idx, item)
                    continue
                self._on_batch(idx, item, writer)
                now = time.monotonic()
                recorded = max((x.last_time_s for x in self.stats if np.isfinite(x.last_time_s)), default=0.0)
                # flush every second of wall time, and of data (sources faster than real time)
                if now - last_flush >= self.flush_interval_s or recorded - last_flush_data >= self.flush_interval_s:
                    self._write_pending(writer)
                    writer.flush()
                    last_flush, last_flush_data = now, recorded
                    if self._disk_nearly_full(writer.write_path):
                        break
                if self.duration_s is not None and all(
                    (s.last_time_s >= self.duration_s) or s.state in ("lost", "ended") for s in self.stats
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
            if write_error is None:
                self._finalise(writer)
            else:
                writer.abort()
        for st in self.stats:
            if st.state in ("streaming", "connected", "connecting", "reconnecting"):
                st.state = "stopped"
        if write_error is not None:
            raise SessionFileError(
                str(self.path),
                f"writing stopped: {write_error}; frames up to the last flush (at most "
                f"{self.flush_interval_s:g} s earlier) are kept, read them with `insole info`",
            )
        duration = max((s.last_time_s for s in self.stats if np.isfinite(s.last_time_s)), default=0.0)
        return RecordingSummary(self.path, float(duration), self.stats, self._stop_reason, self._error)

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
            pending.clear()

    def _resolve_calibrations(self) -> None:
        """Pick each raw-count device's calibration (given, or found by serial number / model)."""
        for i, dev in enumerate(self.devices):
            info = dev.info
            cal = self.calibrations[i]
            if cal is None and info.units == "raw":
                found = find_calibration(info.serial_number, info.model, self.calibration_dir)
                if found is not None:
                    cal = Calibration.load(found)
                    self._calibration_sources[i] = str(found)
            elif cal is not None:
                self._calibration_sources[i] = "given"
            if cal is not None:
                if info.units != "raw":
                    raise InsoleError(f"{info.url} already sends {info.units}; a calibration applies to raw counts")
                if cal.n_sensors != info.n_sensors:
                    raise InsoleError(
                        f"calibration for {cal.n_sensors} cells cannot be used with {info.url} ({info.n_sensors} cells)"
                    )
            self.calibrations[i] = cal

    def _space_left_bytes(self, path: Path) -> float:
        """Free space for the output: the disk's free bytes, or the process file-size limit (``ulimit -f``)."""
        free = float(shutil.disk_usage(path.parent).free)
        soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
        if soft != resource.RLIM_INFINITY:
            free = min(free, soft - path.stat().st_size)
        return free

    def _disk_nearly_full(self, path: Path) -> bool:
        """Stop cleanly while the file can still be finalised: keep 2 MiB plus ten flushes' worth in reserve."""
        size = path.stat().st_size
        growth = max(size - self._size_mark, 0) if self._size_mark is not None else 0
        self._size_mark = size
        left = self._space_left_bytes(path)
        if left >= RESERVE_BYTES + 10.0 * growth:
            return False
        self._stop_reason = self._error = (
            f"disk nearly full ({left / 1e6:.1f} MB left for {self.path}); recording stopped and the file "
            "finalised; free some space before the next recording"
        )
        return True

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
        for dev in self.devices:
            with contextlib.suppress(Exception):
                await dev.close()

    async def _pump(self, idx: int, dev: InsoleDevice, queue: asyncio.Queue[Any]) -> None:
        try:
            agen = dev.stream().__aiter__()
            first = True
            while True:
                timeout = self.connect_timeout_s if first else self.stall_timeout_s
                try:
                    async with asyncio.timeout(timeout):
                        item = await agen.__anext__()
                except StopAsyncIteration:
                    break
                except DeviceTimeoutError:
                    raise  # the device's own timeout, with its own message
                except TimeoutError:
                    what = "sent no data" if first else "went silent"
                    raise DeviceTimeoutError(
                        f"{dev.url} {what} for {timeout:g} s; recording goes on without it"
                    ) from None
                if isinstance(item, FrameBatch):
                    first = False
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

    def _check_stalls(self) -> None:
        self._notify()

    def _notify(self) -> None:
        if self.on_update is not None:
            self.on_update(self.stats)

    # ------------------------------------------------------------------ data
    def _on_event(self, idx: int, ev: DeviceEvent) -> None:
        st = self.stats[idx]
        if ev.kind == "battery" and ev.value is not None:
            st.battery_pct = float(ev.value)
        elif ev.kind == "disconnected":
            st.state = "reconnecting" if "reconnect" in ev.message else "disconnected"
        elif ev.kind == "connected":
            st.state = "streaming"
        elif ev.kind == "outage" and ev.start_host_s is not None and ev.end_host_s is not None:
            self._tracks[idx].note_outage(ev.start_host_s, ev.end_host_s, ev.message or "disconnected")
        elif ev.kind == "warning":
            st.error = ev.message
        self._notify()

    def _on_batch(self, idx: int, batch: FrameBatch, writer: RecordingWriter) -> None:
        st, dev, track = self.stats[idx], self.devices[idx], self._tracks[idx]
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
        self._count_steps(st, pressure, dev.info.layout.area_mm2 if in_kpa else None)
        now = time.monotonic()
        st._rate_marks.append((now, st.frames))
        while len(st._rate_marks) > 2 and (now - st._rate_marks[0][0] > 2.0 or len(st._rate_marks) > 256):
            st._rate_marks.pop(0)
        (ta, fa), (tb, fb) = st._rate_marks[0], st._rate_marks[-1]
        st.rate_hz = (fb - fa) / (tb - ta) if tb > ta else float("nan")
        self._notify()

    @staticmethod
    def _count_steps(st: DeviceStats, pressure: np.ndarray, area_mm2: np.ndarray | None) -> None:
        """Live step counter: rising crossings of 30 % of the running peak load, released below 10 %."""
        force = (
            np.nansum(pressure * area_mm2[None, :], axis=1) / 1000.0
            if area_mm2 is not None
            else np.nansum(pressure, axis=1)
        )
        st.latest_pressure = pressure[-1]
        st.latest_force = float(force[-1])
        st._force_max = max(st._force_max * 0.999, float(np.max(force)))
        hi, lo = 0.3 * st._force_max, 0.1 * st._force_max
        loaded = st._loaded
        for f in force[(force > hi) | (force < lo)]:  # only samples outside the hysteresis band matter
            if not loaded and f > hi:
                loaded = True
                st.steps += 1
            elif loaded and f < lo:
                loaded = False
        st._loaded = loaded

    def _finalise(self, writer: RecordingWriter) -> None:
        try:
            writer.end_appending()
            tracks = self._tracks
            zero_old = tracks[0].zero.host_s
            # Final session zero: the earliest first frame of any foot under its final clock fit.
            firsts = [
                fit.slope * writer.device_time_us_at(dev.info.side, seg.start_frame) * 1e-6 + fit.offset_s
                for dev, track in zip(self.devices, tracks, strict=True)
                for seg, fit in track.fits()[:1]
            ]
            zero = min(firsts) if firsts else zero_old
            session_end = 0.0
            for dev, st, track in zip(self.devices, self.stats, tracks, strict=True):
                side = dev.info.side
                fits = track.fits()
                for seg, fit in fits:
                    writer.rewrite_time(
                        side,
                        lambda dev_us, f=fit: f.slope * (dev_us.astype(np.float64) * 1e-6) + f.offset_s - zero,
                        start=seg.start_frame,
                        stop=seg.start_frame + seg.n_frames,
                    )
                if fits and zero_old is not None:
                    writer.shift_gaps(side, zero_old - zero)
                st.last_time_s = writer.last_time_s(side)
                session_end = max(session_end, st.last_time_s if np.isfinite(st.last_time_s) else 0.0)
            for dev, st, track in zip(self.devices, self.stats, tracks, strict=True):
                side = dev.info.side
                if zero is not None:
                    for gap in track.final_gaps(session_end):
                        writer.add_gap(side, gap)
                        st.gaps += 1
                attrs: dict[str, Any] = {
                    "frames_received": track.frames,
                    "frames_lost": track.lost_frames,
                    "frames_lost_sequence": track.lost_sequence,
                    "frames_lost_outage": track.lost_outage,
                    "frames_lost_overflow": track.lost_overflow,
                    "frames_lost_restart": track.lost_restart,
                    "frames_duplicate": track.duplicates,
                    "device_restarts": track.restarts,
                    "outages": len(track.outages),
                    "end_state": st.state,
                    "end_error": st.error,
                }
                fits = track.fits()
                if fits:
                    fit = fits[-1][1]
                    attrs.update(
                        clock_slope=fit.slope,
                        clock_offset_s=fit.offset_s - zero,
                        clock_drift_ppm=fit.drift_ppm,
                        clock_residual_s=max(f.residual_s for _, f in fits),
                        clock_n_windows=sum(f.n_windows for _, f in fits),
                        clock_segments=len(fits),
                    )
                if st.battery_pct is not None:
                    attrs["battery_pct_end"] = st.battery_pct
                writer.set_attrs(side, **attrs)
                truth = dev.ground_truth()
                if truth is not None and fits and zero is not None:
                    self._write_truth(writer, side, truth, zero)
            writer.set_attrs(
                "/", stopped_because=self._stop_reason, session_zero_host_s=np.nan if zero is None else zero
            )
        finally:
            writer.close()

    def _write_truth(self, writer: RecordingWriter, side: str, truth: dict[str, Any], zero: float) -> None:
        if writer.n_frames(side) == 0:  # type: ignore[arg-type]
            return
        t_end = writer.last_time_s(side)  # type: ignore[arg-type]
        ic = np.asarray(truth["ic_host_s"]) - zero
        to = np.asarray(truth["to_host_s"]) - zero
        keep = (ic >= 0) & (to <= t_end)
        params = {k: v for k, v in truth.get("profile", {}).items() if isinstance(v, str | int | float | bool)}
        writer.write_truth({side: {"ic_s": ic[keep], "to_s": to[keep]}}, params)


def record(devices: list[InsoleDevice], path: str | Path, **kwargs: Any) -> RecordingSummary:
    """Synchronous wrapper around :meth:`Recorder.run` for scripts."""
    return asyncio.run(Recorder(devices, path, **kwargs).run())
