"""The serial driver across a USB unplug of a device that restarts (sequence and clock start again at zero).

A small firmware stand-in in this process writes real openinsole-v1 bytes into a real pty link; only the
restart is scripted, because the emulator keeps counting across an unplug.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import tty

import numpy as np
from pty_link import PtyLink

from insole.devices import DeviceEvent, DeviceEventKind, open_device
from insole.emulation.openinsole_device import CommandDecoder, encode_device_info, encode_sample
from insole.frames import FrameBatch
from insole.protocols.cobs_framing import frame_bytes
from insole.protocols.openinsole_v1 import Command, DeviceInfoMessage
from insole.recorder.frame_accounting import FrameTrack, SessionZero
from insole.session import GapCause

RATE_HZ = 200


def firmware(link: PtyLink, stop: threading.Event, restarted: threading.Event) -> None:
    fd = os.open(link.device_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    cmds = CommandDecoder()
    streaming = False
    k, t0 = 0, time.monotonic()
    did_restart = False
    while not stop.is_set():
        try:
            data = os.read(fd, 1024)
        except BlockingIOError:
            data = b""
        for cmd, _ in cmds.feed(data):
            if cmd == Command.GET_INFO:
                info = DeviceInfoMessage("left", 8, layout_code=1, sampling_rate_hz=RATE_HZ, units_code=0)
                os.write(fd, b"\x00" + frame_bytes(encode_device_info(info)))
            elif cmd == Command.START:
                streaming = True
                os.write(fd, b"\x00")
        if restarted.is_set() and k > 0 and not did_restart:
            did_restart = True  # power cycle: counter and clock from zero
            k, t0 = 0, time.monotonic()
        if streaming:
            due = int((time.monotonic() - t0) * RATE_HZ)
            while k < due:
                os.write(fd, frame_bytes(encode_sample(k, 500_000 + k * 1_000_000 // RATE_HZ, [k % 4096] * 8)))
                k += 1
        time.sleep(0.002)
    os.close(fd)


def test_restarted_device_is_reported_and_accounted_as_a_new_clock_segment(tmp_path):
    arrival: list = []
    link = PtyLink(tmp_path)
    stop, restarted = threading.Event(), threading.Event()
    fw = threading.Thread(target=firmware, args=(link, stop, restarted), daemon=True)
    fw.start()

    async def run() -> tuple[list[FrameBatch], list[DeviceEvent], dict]:
        dev = open_device(f"serial://{link.host_path}?reconnect_s=10&timeout_s=5")
        await dev.open()
        batches, events = [], []
        t0 = time.monotonic()
        phase, frames_after = 0, 0
        arrival.clear()
        # driven by frames received, not by the clock, so that a loaded machine cannot reorder the steps
        async for item in dev.stream():
            (batches if isinstance(item, FrameBatch) else events).append(item)
            arrival.append(item)
            n = sum(len(b) for b in batches)
            if phase == 0 and n >= 200:  # 1 s in: the restarted counter (0.3 s later) is clearly behind
                link.unplug()
                restarted.set()
                phase = 1
                asyncio.get_running_loop().call_later(0.3, link.replug)
            elif phase == 1 and any(e.kind == "outage" for e in events) and isinstance(item, FrameBatch):
                frames_after += len(item)
            if frames_after >= 100 or time.monotonic() - t0 > 20:
                break
        counters = dev.counters()
        await dev.close()
        return batches, events, counters

    try:
        batches, events, counters = asyncio.run(run())
    finally:
        stop.set()
        fw.join(5)
        link.close()
    assert dev_info_ok(batches)
    seq = np.concatenate([b.sequence for b in batches]).astype(np.int64)
    dev_us = np.concatenate([b.device_time_us for b in batches]).astype(np.int64)
    # the driver passes the restart on as it happened: sequence and device clock go back once
    assert int(np.sum(np.diff(seq) < 0)) == 1 and int(np.sum(np.diff(dev_us) < 0)) == 1
    kinds = [e.kind for e in events]
    assert DeviceEventKind.DISCONNECTED in kinds and DeviceEventKind.OUTAGE in kinds
    disconnected = next(e for e in events if e.kind == DeviceEventKind.DISCONNECTED)
    assert disconnected.reconnecting  # the driver keeps reopening the port
    outage = next(e for e in events if e.kind == DeviceEventKind.OUTAGE)
    assert outage.recovered
    assert 0.2 <= outage.end_host_s - outage.start_host_s <= 2.0
    assert counters["device_resets"] == 1 and counters["outages"] == 1
    # the recorder's accounting turns it into a new clock segment and one gap as long as the outage
    track = FrameTrack(100.0, SessionZero())
    gaps = []
    for item in arrival:  # in the order the driver delivered them, as the recorder sees them
        if isinstance(item, DeviceEvent) and item.kind == "outage":
            track.note_outage(item.start_host_s, item.end_host_s, item.message)
        elif isinstance(item, FrameBatch) and (accepted := track.accept(item)) is not None:
            gaps += accepted.gaps
    jump = int(np.flatnonzero(np.diff(seq) < 0)[0])
    assert track.restarts == 1 and len(track.segments) == 2, (seq[jump - 2 : jump + 3], dev_us[jump - 2 : jump + 3])
    # one gap keeping both facts: the device restarted (cause), during the transport's outage (message)
    assert len(gaps) == 1 and gaps[0].cause is GapCause.DEVICE_RESTART and "; during outage (" in gaps[0].message
    assert abs((gaps[0].end_s - gaps[0].start_s) - (outage.end_host_s - outage.start_host_s)) < 0.3


def dev_info_ok(batches: list[FrameBatch]) -> bool:
    return bool(batches) and all(b.n_sensors == 8 and b.side == "left" for b in batches)


def noisy_firmware(link: PtyLink, stop: threading.Event) -> None:
    """Answers like a device, then streams line noise, as a host at the wrong baud rate would see it."""
    fd = os.open(link.device_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    cmds = CommandDecoder()
    rng = np.random.default_rng(0)
    streaming = False
    while not stop.is_set():
        try:
            data = os.read(fd, 1024)
        except BlockingIOError:
            data = b""
        for cmd, _ in cmds.feed(data):
            if cmd == Command.GET_INFO:
                info = DeviceInfoMessage("right", 16, layout_code=2, sampling_rate_hz=100, units_code=1)
                os.write(fd, b"\x00" + frame_bytes(encode_device_info(info)))
            elif cmd == Command.START:
                streaming = True
        if streaming:
            noise = rng.integers(0, 256, 400, dtype=np.uint8)
            noise[rng.random(400) < 0.05] = 0  # delimiters appear by chance
            try:
                os.write(fd, noise.tobytes())
            except BlockingIOError:
                pass
        time.sleep(0.01)
    os.close(fd)


def test_damaged_stream_while_streaming_warns_about_the_baud_rate(tmp_path):
    link = PtyLink(tmp_path)
    stop = threading.Event()
    fw = threading.Thread(target=noisy_firmware, args=(link, stop), daemon=True)
    fw.start()

    async def run() -> tuple[list[DeviceEvent], dict]:
        dev = open_device(f"serial://{link.host_path}?timeout_s=5")
        await dev.open()
        assert dev.info.side == "right" and dev.info.units == "kPa" and dev.info.layout.layout_id == "generic-16"
        events = []
        t0 = time.monotonic()
        async for item in dev.stream():
            if isinstance(item, DeviceEvent):
                events.append(item)
                if item.kind == "warning":
                    break
            if time.monotonic() - t0 > 5:
                break
        counters = dev.counters()
        await dev.close()
        return events, counters

    try:
        events, counters = asyncio.run(run())
    finally:
        stop.set()
        fw.join(5)
        link.close()
    warnings = [e.message for e in events if e.kind == "warning"]
    assert warnings and "baud rate" in warnings[0]
    assert counters["framing_errors"] + counters["crc_failures"] + counters["bad_size"] >= 20
