"""A soak with exact frame accounting: two insoles on a faulty link, a writer that stalls, every frame counted.

The insoles are the simulator (``sim://...&realtime=0``, faster than real time on a virtual host clock) behind
:class:`FaultyLinkInsole`, which sends every frame through the real openinsole-v1 wire path: each frame is
encoded and COBS-framed (:mod:`insole.emulation.openinsole_device`), damaged by the serial emulator's
:class:`~insole.emulation.line_faults.FaultInjector` (bit flips, noise bursts) and decoded by the driver's own
:class:`~insole.protocols.openinsole_v1.decoder.Decoder` (COBS, length, CRC-16). On top, at seeded random frame
indices: burst losses (frames that never arrive, no notice), disconnections (frames lost while the link is down,
reported as the serial driver does: ``disconnected``, then ``outage`` and ``connected``) and reboots (sequence
counter and device clock start again; the sampling grid goes on, as in the simulator's ``restart_at_s``).
:class:`StallingRecorder` makes the recorder's writer stall at seeded flushes, long enough for the bounded queue to
overflow. Every frame sent is kept (sequence, device time, wire counts), so the check is exact:
``frames recorded + frames in gaps == frames sent`` per foot, and every stored frame equals the frame sent.

Faults stay away from the first and the last second: frames lost before the first or after the last frame that
arrives are invisible to any sequence accounting (the recorder marks a lost tail as ``device_lost``, count
unknown). Used by ``benchmarks/soak.py`` (30 minutes of data) and ``tests/test_recorder_soak.py`` (short).
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from insole.devices import DeviceEvent, DeviceEventKind, DeviceInfo, InsoleDevice
from insole.emulation.line_faults import FaultConfig, FaultInjector
from insole.emulation.openinsole_device import encode_samples
from insole.frames import FrameBatch
from insole.protocols.cobs_framing import frame_bytes
from insole.protocols.openinsole_v1.decoder import Decoder
from insole.recorder import Recorder
from insole.recorder.recorder import OVERFLOW_AFTER_S
from insole.session import GapCause, open_session
from insole.simulator.device import SimulatedInsole

#: Device clock reading (s) of sequence number 0 after a reboot.
REBOOT_CLOCK_S = 0.1
#: Seconds at either end of the walk kept free of faults.
MARGIN_S = 1.0


@dataclass
class FaultPlan:
    """Seeded fault times of one insole, as frame index ranges ``[start, stop)`` of its sampling grid.

    Attributes
    ----------
    loss_bursts, disconnects : list of (int, int)
    reboots : list of int
        Frame index at which the counter restarts from 0.
    """

    loss_bursts: list[tuple[int, int]] = field(default_factory=list)
    disconnects: list[tuple[int, int]] = field(default_factory=list)
    reboots: list[int] = field(default_factory=list)

    @classmethod
    def draw(cls, rng: np.random.Generator, n_frames: int, rate_hz: float, duration_s: float) -> FaultPlan:
        """Per 10 minutes of data: ~20 burst losses (2-60 frames), ~3 disconnections (0.5-8 s), ~2 reboots (at
        least one of each)."""
        lo, hi = int(MARGIN_S * rate_hz), n_frames - int(MARGIN_S * rate_hz) - int(10 * rate_hz)
        per = duration_s / 600.0

        def starts(mean: float) -> list[int]:  # at least one of each kind
            n = max(1, int(rng.poisson(mean * per))) if hi > lo else 0
            return sorted(int(k) for k in rng.integers(lo, hi, n)) if n else []

        bursts = [(k, k + int(rng.integers(2, 61))) for k in starts(20)]
        disc = [(k, k + int(rng.uniform(0.5, 8.0) * rate_hz)) for k in starts(3)]
        reboots = starts(2)
        # a reboot needs the old clock well ahead of the new one (the recorder's restart test): >= 1 s apart
        kept: list[int] = []
        for k in reboots:
            if not kept or k - kept[-1] > 2 * rate_hz:
                kept.append(k)
        return cls(bursts, disc, kept)


class FaultyLinkInsole(InsoleDevice):
    """A simulated insole (accelerated) behind a faulty openinsole-v1 link (see the module docstring).

    Parameters
    ----------
    sim_url : str
        ``sim://`` URL; ``realtime=0`` is expected (the soak runs faster than real time).
    faults : FaultConfig
        Line faults for the injector (bit flips, noise bursts).
    plan : FaultPlan
    seed : int
    """

    def __init__(self, sim_url: str, faults: FaultConfig, plan: FaultPlan, seed: int) -> None:
        self.sim = SimulatedInsole(sim_url)
        self.url = f"faulty-link+{sim_url}"
        self.plan = plan
        self.rate_hz = self.sim.rate_hz
        self.injector = FaultInjector(faults, np.random.default_rng([seed, 11]), self.rate_hz)
        self.decoder = Decoder(pressure_scale=0.1)  # 0.1 kPa wire counts, as the emulator sends
        self.sent_seq: list[np.ndarray] = []
        self.sent_dev_us: list[np.ndarray] = []
        self.sent_counts: list[np.ndarray] = []
        self.frames_sent = 0
        self.frames_damaged = 0
        self.frames_withheld = 0  # lost on the link before the wire (burst losses, disconnections)

    @property
    def info(self) -> DeviceInfo:
        base = self.sim.info
        return DeviceInfo(url=self.url, side=base.side, n_sensors=base.n_sensors,
                          sampling_rate_hz=base.sampling_rate_hz, units="kPa", layout=base.layout,
                          model="faulty-link soak insole", serial_number=base.serial_number,
                          firmware_version=base.firmware_version, extra={"simulated": True})

    async def open(self) -> None:
        await self.sim.open()

    async def close(self) -> None:
        await self.sim.close()

    def _withheld(self, k: np.ndarray) -> np.ndarray:
        out = np.zeros(len(k), bool)
        for a, b in [*self.plan.loss_bursts, *self.plan.disconnects]:
            out |= (k >= a) & (k < b)
        return out

    async def stream(self) -> AsyncIterator[FrameBatch | DeviceEvent]:
        side = self.sim.side
        reboots = np.array([-1, *sorted(self.plan.reboots)], np.int64)  # -1: before any reboot
        disc = sorted(self.plan.disconnects)
        down: tuple[int, int, float] | None = None  # disconnection in progress: (start, stop, host start)
        self.decoder.feed(b"\x00")
        async for item in self.sim.stream():
            if not isinstance(item, FrameBatch):
                continue  # the link's own events are made here
            k = item.sequence.astype(np.int64)  # the simulator counts its sampling grid from 0
            # reboots: the counter and the device clock restart (the grid goes on)
            k_boot = reboots[np.searchsorted(reboots, k, side="right") - 1]
            booted = k_boot >= 0
            seq = np.where(booted, k - k_boot, k).astype(np.uint32)
            dev_us = np.where(booted,
                              np.round((REBOOT_CLOCK_S + (k - k_boot) / self.rate_hz) * 1e6).astype(np.uint64),
                              item.device_time_us)
            counts = np.clip(np.round(item.pressure.astype(np.float64) * 10), 0, 0xFFFE).astype(np.uint16)
            self.sent_seq.append(seq)
            self.sent_dev_us.append(dev_us.astype(np.uint64))
            self.sent_counts.append(counts)
            self.frames_sent += len(k)
            withheld = self._withheld(k)
            self.frames_withheld += int(withheld.sum())
            bodies = encode_samples(seq, dev_us.astype(np.uint64), counts, side=side)
            out: list[FrameBatch] = []
            events: list[DeviceEvent] = []
            for i, body in enumerate(bodies):
                host = float(item.host_time_s[i])
                ki = int(k[i])
                if down is None:
                    hit = next((d for d in disc if d[0] == ki), None)
                    if hit is not None:
                        down = (hit[0], hit[1], host)
                        events.append(DeviceEvent(DeviceEventKind.DISCONNECTED, host, "link down (soak)",
                                                  reconnecting=True))
                elif ki >= down[1]:
                    events.append(DeviceEvent(DeviceEventKind.OUTAGE, host, f"link down for {host - down[2]:.2f} s",
                                              start_host_s=down[2], end_host_s=host))
                    events.append(DeviceEvent(DeviceEventKind.CONNECTED, host, "link up again (soak)"))
                    down = None
                if withheld[i]:
                    continue
                wire, faults = self.injector.apply(frame_bytes(body))
                self.frames_damaged += bool(faults)
                out.extend(self.decoder.feed(wire, host).samples)
            for ev in events:  # before the frames: an outage must be known when the frames after it arrive
                yield ev
            if out:
                yield FrameBatch.concatenate(out)
            await asyncio.sleep(0)

    def truth(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every frame sent, in order: sequence, device time (µs), wire counts (0.1 kPa)."""
        return (np.concatenate(self.sent_seq), np.concatenate(self.sent_dev_us), np.concatenate(self.sent_counts))


class StallingRecorder(Recorder):
    """A recorder whose writer stalls ``stall_s`` (wall clock) at the given flush numbers.

    The queue is kept small (``queue_batches``) so that a stall overflows it: the devices then drop batches,
    which the recorder accounts as ``buffer_overflow`` gaps.
    """

    queue_batches = 8

    def __init__(self, *args: Any, stall_at_flushes: list[int], stall_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stall_at = set(stall_at_flushes)
        self.stall_s = stall_s
        self.flushes = 0
        self.stalls = 0

    async def _flush(self, writer: Any) -> None:
        self.flushes += 1
        if self.flushes in self.stall_at:
            self.stalls += 1
            await asyncio.sleep(self.stall_s)
        await super()._flush(writer)


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def _sample_resources(samples: list[tuple[float, float, float]], every_s: float, stop: asyncio.Event) -> None:
    t0 = time.monotonic()
    while not stop.is_set():
        samples.append((time.monotonic() - t0, _rss_mb(), _cpu_s()))
        try:
            await asyncio.wait_for(stop.wait(), every_s)
        except TimeoutError:
            pass
    samples.append((time.monotonic() - t0, _rss_mb(), _cpu_s()))


def run_soak(path: Path, *, minutes: float, seed: int = 1, rate_hz: float = 100.0, bit_error_rate: float = 1e-3,
             burst_rate_hz: float = 0.05, stalls: int = 3, stall_s: float = OVERFLOW_AFTER_S + 2.0,
             sample_every_s: float = 2.0) -> dict[str, Any]:
    """Record two faulty-link insoles for ``minutes`` of data into ``path`` and check the accounting.

    Returns a report: per foot the frames sent, recorded, in gaps (by cause), damaged on the wire, corrupt frames
    stored (compared with what was sent) and whether the accounting is exact; the writer stalls; resource samples
    ``(wall_s, rss_mb, cpu_s)``; wall time.
    """
    duration_s = minutes * 60.0
    rng = np.random.default_rng([seed, 2024])
    n_frames = int(duration_s * rate_hz)
    faults = FaultConfig(byte_error_rate=bit_error_rate, kinds=("flip",), burst_rate_hz=burst_rate_hz,
                         burst_bytes=24)
    devices = []
    for side in ("left", "right"):
        plan = FaultPlan.draw(rng, n_frames, rate_hz, duration_s)
        url = (f"sim://neutral?side={side}&seed={seed}&rate_hz={rate_hz:g}&realtime=0&walk_s={duration_s:g}"
               f"&clock_drift_ppm={40 if side == 'left' else -30}")
        devices.append(FaultyLinkInsole(url, faults, plan, seed=seed * 2 + (side == "right")))
    n_flushes = int(duration_s)  # about one flush per second of data
    stall_at = sorted(int(x) for x in rng.integers(5, max(n_flushes - 5, 6), stalls)) if stalls else []
    recorder = StallingRecorder(devices, path, stall_at_flushes=stall_at, stall_s=stall_s, overwrite=True,
                                stall_timeout_s=60.0)
    samples: list[tuple[float, float, float]] = []

    async def main() -> Any:
        stop = asyncio.Event()
        sampler = asyncio.create_task(_sample_resources(samples, sample_every_s, stop))
        try:
            return await recorder.run()
        finally:
            stop.set()
            await sampler

    t0 = time.monotonic()
    summary = asyncio.run(main())
    wall_s = time.monotonic() - t0
    report: dict[str, Any] = {"minutes_of_data": minutes, "seed": seed, "rate_hz": rate_hz, "wall_s": wall_s,
                              "stopped_because": summary.stopped_because, "outcome": int(summary.outcome),
                              "stalls": recorder.stalls, "stall_s": stall_s, "resources": samples, "feet": {}}
    with open_session(path) as sf:  # validates the file
        report["valid"] = True
        for dev in devices:
            side = dev.info.side
            block = sf.read(side, fields=("pressure", "sequence", "device_time_us"))
            report["feet"][side] = _account(dev, block, sf.gaps(side), sf.foot_info(side).attrs)
    return report


def _account(dev: FaultyLinkInsole, block: Any, gaps: list[Any], attrs: dict[str, Any]) -> dict[str, Any]:
    seq_t, dev_t, counts_t = dev.truth()
    seq_r = block.sequence.astype(np.int64)
    dev_r = block.device_time_us.astype(np.uint64)
    # every stored frame must be a frame sent, in the order sent, with the same values (matched in order: after
    # reboots, sequence numbers and device times repeat)
    idx = np.full(len(seq_r), -1, np.int64)
    j = 0
    seq_tl, dev_tl = seq_t.astype(np.int64).tolist(), dev_t.astype(np.int64).tolist()
    for i, (sq, dv) in enumerate(zip(seq_r.tolist(), dev_r.astype(np.int64).tolist(), strict=True)):
        while j < len(seq_tl) and (seq_tl[j] != sq or dev_tl[j] != dv):
            j += 1
        if j == len(seq_tl):
            break
        idx[i] = j
        j += 1
    unknown = int((idx < 0).sum())  # not found in order: corrupt, or out of order
    ordered = unknown == 0
    good = idx >= 0
    stored_counts = np.round(block.pressure[good].astype(np.float64) * 10).astype(np.int64)
    differ = int((stored_counts != counts_t[idx[good]].astype(np.int64)).any(axis=1).sum())
    by_cause: dict[str, int] = {}
    for g in gaps:
        if g.n_frames >= 0:
            by_cause[str(g.cause)] = by_cause.get(str(g.cause), 0) + int(g.n_frames)
    in_gaps = sum(by_cause.values())
    recorded = len(seq_r)
    return {
        "sent": int(len(seq_t)), "recorded": recorded, "in_gaps": in_gaps, "gaps_by_cause": by_cause,
        "exact": recorded + in_gaps == len(seq_t), "corrupt_stored": unknown + differ, "in_order": ordered,
        "damaged_on_wire": dev.frames_damaged, "withheld_on_link": dev.frames_withheld,
        "decoder": dev.decoder.counters(),
        "frames_lost_attr": int(attrs.get("frames_lost", -1)),
        "frames_duplicate": int(attrs.get("frames_duplicate", -1)),
        "plan": {"loss_bursts": len(dev.plan.loss_bursts), "disconnects": len(dev.plan.disconnects),
                 "reboots": len(dev.plan.reboots)},
        "restart_gaps": sum(1 for g in gaps if g.cause == GapCause.DEVICE_RESTART),
    }
