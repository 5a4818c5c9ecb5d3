"""The firmware emulator: fault injection statistics, UART baud mismatch, and the real protocol on a real pty."""

from __future__ import annotations

import io
import json
import os
import threading
import time

import numpy as np
import pytest
from pty_link import PtyLink

from insole.emulation.firmware import FirmwareEmulator
from insole.emulation.line_faults import FaultConfig, FaultInjector, uart_resample
from insole.emulation.openinsole_device import encode_samples
from insole.errors import ConfigurationError
from insole.protocols import Decoded
from insole.protocols.cobs_framing import frame_bytes
from insole.protocols.openinsole_v1 import Command, Decoder, encode_command


def wire_frames(n=2000):
    p = np.random.default_rng(1).integers(0, 4000, (n, 16))
    return [frame_bytes(f) for f in encode_samples(np.arange(n), np.arange(n, dtype=np.uint64) * 1000, p)]


def test_fault_rate_matches_and_is_reproducible():
    frames = wire_frames()
    runs = []
    for _ in range(2):
        inj = FaultInjector(FaultConfig(byte_error_rate=0.01), np.random.default_rng(42), 100.0)
        runs.append([inj.apply(f) for f in frames])
    assert runs[0] == runs[1]  # same seed, same damage
    hits = sum(len(faults) for _, faults in runs[0])
    n_bytes = sum(map(len, frames))
    # binomial: mean 1040, SD ~32; 5 SD band
    assert abs(hits - 0.01 * n_bytes) < 5 * np.sqrt(0.01 * n_bytes)
    kinds = {k for _, faults in runs[0] for k in faults}
    assert kinds == {"flip", "drop", "dup"}
    # untouched frames are byte-identical, touched ones differ
    for (out, faults), f in zip(runs[0], frames, strict=True):
        assert (out == f) == (not faults)


def test_bursts_and_bad_config():
    inj = FaultInjector(FaultConfig(burst_rate_hz=50, burst_bytes=40), np.random.default_rng(0), 100.0)
    hit = [inj.apply(f)[1] for f in wire_frames(400)]
    assert 150 < sum("burst" in h for h in hit) < 250  # p = 0.5 per frame
    with pytest.raises(ConfigurationError, match="fault kinds"):
        FaultConfig(kinds=("melt",))
    with pytest.raises(ConfigurationError, match="0..0.5"):
        FaultConfig(byte_error_rate=0.9)


def test_uart_at_the_right_rate_is_transparent_and_wrong_rate_yields_no_frames():
    data = b"\x00" + b"".join(wire_frames(50))
    assert uart_resample(data, 115200, 115200) == data
    for rx in (9600, 57600, 230400, 921600):
        dec = Decoder()
        assert dec.feed(uart_resample(data, 115200, rx)).samples == []


def test_emulator_answers_commands_and_streams_the_real_protocol(tmp_path):
    link = PtyLink(tmp_path)
    log = io.StringIO()
    emu = FirmwareEmulator(str(link.device_path), rate_hz=200, duration_s=1.0, seed=4, side="right", log=log,
                           start_timeout_s=20)
    thread = threading.Thread(target=emu.run, daemon=True)
    thread.start()
    # the emulator's port must be open before the host speaks: pyserial's open() flushes the input queue, so
    # commands sent earlier are lost (as with a real insole not yet switched on). Its log's first line says it is.
    opened_by = time.monotonic() + 20
    while '"config"' not in log.getvalue() and time.monotonic() < opened_by and thread.is_alive():
        time.sleep(0.02)
    assert '"config"' in log.getvalue(), "the emulator did not open its port"
    fd = os.open(link.host_path, os.O_RDWR | os.O_NOCTTY)
    try:
        import tty

        tty.setraw(fd)
        os.write(fd, encode_command(Command.GET_INFO) + encode_command(Command.SET_RATE, 250)
                 + encode_command(Command.START))
        dec = Decoder()
        items: list[Decoded] = []
        deadline = time.monotonic() + 20
        last_data = time.monotonic()
        # read until the emulator is done and the relay has been quiet for a second (a loaded machine lags)
        while time.monotonic() < deadline and (thread.is_alive() or time.monotonic() - last_data < 1.0):
            import select

            if select.select([fd], [], [], 0.1)[0]:
                items.append(dec.feed(os.read(fd, 4096), time.monotonic()))
                last_data = time.monotonic()
        thread.join(5)
    finally:
        os.close(fd)
        link.close()
    info = [x for d in items for x in d.device_info]
    status = [x for d in items for x in d.status]
    batches = [x for d in items for x in d.samples]
    assert info and info[0].side == "right" and info[0].n_sensors == 16 and info[0].units == "kPa"
    assert status and status[0].sampling_rate_hz == 250
    seq = np.concatenate([b.sequence for b in batches])
    sent = [json.loads(line) for line in log.getvalue().splitlines()]
    sent_frames = [r for r in sent if r["type"] == "frame"]
    assert seq.tolist() == [r["seq"] for r in sent_frames] and len(seq) == 250
    pressure = np.concatenate([b.pressure for b in batches])
    np.testing.assert_allclose(pressure, np.array([r["counts"] for r in sent_frames]) * 0.1, atol=1e-3)
    dev_s = np.concatenate([b.device_time_us for b in batches]).astype(float) * 1e-6
    assert np.allclose(np.diff(dev_s), 1 / 250, atol=1e-5)  # the device clock runs at the rate set
    host = np.concatenate([b.host_time_s for b in batches])
    assert 0.7 < host[-1] - host[0] < 3.0  # written at the real pace, not all at once
    assert sent[-1]["type"] == "summary" and sent[-1]["frames_sent"] == 250


def test_pauses_delay_frames_but_lose_none(tmp_path):
    link = PtyLink(tmp_path)
    log = io.StringIO()
    emu = FirmwareEmulator(str(link.device_path), rate_hz=200, duration_s=1.0, seed=4, log=log, autostart=True,
                           faults=FaultConfig(pause_every_s=0.4, pause_s=0.25))
    fd = os.open(link.host_path, os.O_RDWR | os.O_NOCTTY)
    import select
    import tty

    tty.setraw(fd)
    thread = threading.Thread(target=emu.run, daemon=True)
    thread.start()
    dec = Decoder()
    batches = []
    try:
        deadline = time.monotonic() + 20
        while (thread.is_alive() or select.select([fd], [], [], 0.2)[0]) and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.05)[0]:
                batches += dec.feed(os.read(fd, 4096), time.monotonic()).samples
    finally:
        os.close(fd)
        link.close()
    seq = np.concatenate([b.sequence for b in batches])
    assert seq.tolist() == list(range(seq[0], seq[0] + 200))
    host = np.concatenate([b.host_time_s for b in batches])
    assert np.diff(host).max() > 0.2  # the stall is visible in the receive times
    pauses = [json.loads(x) for x in log.getvalue().splitlines() if '"pause"' in x]
    assert len(pauses) == 2
