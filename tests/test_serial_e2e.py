"""End to end over real ptys: emulator process -> pty -> serial driver -> recorder -> session file.

The cable is two real pty pairs joined by a relay thread (tests/pty_link.py) so that the host end can be
unplugged and plugged back like a USB cable. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from pty_link import PtyLink

from insole.devices import open_device
from insole.errors import DeviceError, DeviceTimeoutError
from insole.session import GapCause, read_session

INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]


@pytest.fixture
def link(tmp_path):
    lk = PtyLink(tmp_path)
    yield lk
    lk.close()


def start_emulator(link: PtyLink, log: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*INSOLE, "emulate", "--port", str(link.device_path), "--log", str(log), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_started(log: Path, timeout_s: float = 30.0) -> None:
    """Wait until the emulator process has opened its port (its log starts with the config line)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if log.exists() and log.stat().st_size > 0:
            return
        time.sleep(0.05)
    raise AssertionError("the emulator did not start")


def record(url: str, out: Path, duration_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*INSOLE, "record", "--device", url, "--duration-s", str(duration_s), "-o", str(out),
                           "--quiet", "--connect-timeout-s", "10"], capture_output=True, text=True, timeout=120)


def read_log(path: Path) -> dict[int, dict]:
    frames = {}
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        if rec["type"] == "frame":
            frames[rec["seq"]] = rec
    return frames


def _host_stopped(log: Path) -> bool:
    """True when the last host command in the emulator's (flushed) log is STOP: what was sent is all logged."""
    last = None
    for line in log.read_text().splitlines() if log.exists() else ():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:  # a line still being written
            continue
        if rec["type"] == "command":
            last = rec["command"]
    return last == "STOP"


def finish(emu: subprocess.Popen[str], log: Path, timeout_s: float = 30.0) -> None:
    """End the emulator once its log is complete, waiting at most ``timeout_s``.

    After the host's STOP the emulator idles with the port open until it is stopped (it streams only ``duration_s``
    of samples, and a stopped stream never gets there), so waiting for it to exit on its own always took the full
    timeout. It flushes its log when the STOP arrives, so once the log's last command is STOP every frame sent is in
    the log and the emulator can be terminated; an emulator that finished its duration has exited by itself.
    """
    deadline = time.monotonic() + timeout_s
    while emu.poll() is None and not _host_stopped(log) and time.monotonic() < deadline:
        time.sleep(0.05)
    if emu.poll() is None:
        emu.terminate()
    try:
        emu.wait(timeout=10)
    except subprocess.TimeoutExpired:
        emu.kill()
        emu.wait()


def test_byte_errors_cost_only_the_frames_they_touch(link, tmp_path):
    log = tmp_path / "emu.jsonl"
    emu = start_emulator(link, log, "--rate-hz", "1000", "--duration-s", "6", "--seed", "3",
                         "--byte-error-rate", "1e-3")
    out = tmp_path / "s.h5"
    r = record(f"serial://{link.host_path}?baud=921600&protocol=openinsole-v1", out, 4.0)
    finish(emu, log)
    assert r.returncode == 0, r.stderr
    sent = read_log(log)
    with h5py.File(out) as f:
        g = f["left"]
        seq = g["sequence"][()].astype(np.int64)
        pressure = g["pressure"][()]
        dev_us = g["device_time_us"][()]
        frames_lost_attr = int(g.attrs["frames_lost"])
        assert g.attrs["device_protocol"] == "openinsole-v1"
    assert len(seq) > 3000 and np.all(np.diff(seq) > 0)
    # zero corrupt frames accepted: every recorded frame is exactly what the emulator sent under that number
    expected = np.array([sent[int(s)]["counts"] for s in seq]) * 0.1
    np.testing.assert_allclose(pressure, expected, atol=1e-3)
    assert np.array_equal(dev_us, [sent[int(s)]["device_time_us"] for s in seq])
    # >= 99.9 % of the frames no fault touched were recovered
    span = [s for s in sent if seq[0] <= s <= seq[-1]]
    untouched = [s for s in span if not sent[s]["faults"]]
    damaged = len(span) - len(untouched)
    recovered = set(seq.tolist())
    share = sum(s in recovered for s in untouched) / len(untouched)
    assert damaged > 50, "the fault injector did not damage enough frames for the check to mean anything"
    assert share >= 0.999, share
    # the gaps recorded add up to the frames actually lost
    lost = len(span) - len(seq)
    gaps = read_session(out).feet["left"].gaps
    gap_frames = sum(g.n_frames for g in gaps if g.cause is GapCause.SEQUENCE_GAP)
    assert gap_frames == lost == frames_lost_attr
    print(f"\nBER 1e-3: {len(span)} frames sent, {damaged} damaged, {len(seq)} recorded, "
          f"untouched recovered {share:.4%}, lost {lost} in {len(gaps)} gaps")


def test_csv_protocol_end_to_end(link, tmp_path):
    log = tmp_path / "emu.jsonl"
    emu = start_emulator(link, log, "--protocol", "csv", "--rate-hz", "200", "--duration-s", "4", "--units", "raw",
                         "--csv-checksum", "--byte-error-rate", "1e-3", "--seed", "5")
    out = tmp_path / "c.h5"
    r = record(f"serial://{link.host_path}?baud=115200&protocol=csv&side=left&units=raw", out, 2.5)
    finish(emu, log)
    assert r.returncode == 0, r.stderr
    sent = read_log(log)
    with h5py.File(out) as f:
        g = f["left"]
        seq = g["sequence"][()].astype(np.int64)
        assert g["pressure"].attrs["units"] == "raw"
        assert g.attrs["sampling_rate_hz"] == 200 and g.attrs["device_rate_source"] == "device clock"
        np.testing.assert_array_equal(g["pressure"][()], [sent[int(s)]["counts"] for s in seq])
        span = [s for s in sent if seq[0] <= s <= seq[-1]]
        assert int(g.attrs["frames_lost"]) == len(span) - len(seq)
    assert len(seq) > 300


def test_unplugged_port_is_an_outage_gap(link, tmp_path):
    log = tmp_path / "emu.jsonl"
    emu = start_emulator(link, log, "--rate-hz", "200", "--duration-s", "8", "--seed", "2")
    out = tmp_path / "o.h5"
    url = f"serial://{link.host_path}?protocol=openinsole-v1&reconnect_s=10"
    rec = subprocess.Popen([*INSOLE, "record", "--device", url, "--duration-s", "5", "-o", str(out), "--quiet"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not out.exists() and time.monotonic() < deadline:  # the recorder creates the file once streaming
        time.sleep(0.05)
    time.sleep(1.0)
    link.unplug()
    time.sleep(1.0)
    link.replug()
    stdout, stderr = rec.communicate(timeout=60)
    finish(emu, log)
    assert rec.returncode == 0, stderr
    foot = read_session(out).feet["left"]
    t = foot.time_s
    outage = [g for g in foot.gaps if g.cause is GapCause.OUTAGE]
    assert len(outage) == 1, foot.gaps
    start, end = outage[0].start_s, outage[0].end_s
    assert 0.8 <= end - start <= 3.0, (start, end)
    # no sample inside the outage, samples on both sides of it
    assert not np.any((t > start + 0.05) & (t < end - 0.05))
    assert t[0] < start and t[-1] > end
    assert link.bytes_lost_unplugged > 0


def test_port_that_never_sends_times_out_clearly(link):
    dev = open_device(f"serial://{link.host_path}?timeout_s=1")

    async def go():
        await dev.open()

    with pytest.raises(DeviceTimeoutError, match="no byte arrived in 1 s"):
        asyncio.run(go())


def test_wrong_baud_rate_is_named(link, tmp_path):
    log = tmp_path / "emu.jsonl"
    emu = start_emulator(link, log, "--rate-hz", "200", "--duration-s", "30", "--autostart",
                         "--baud", "115200", "--receiver-baud", "921600")
    wait_started(log)
    dev = open_device(f"serial://{link.host_path}?baud=921600&timeout_s=2")

    async def go():
        await dev.open()

    try:
        with pytest.raises(DeviceError, match="baud rate is probably wrong"):
            asyncio.run(go())
    finally:
        emu.terminate()
        emu.wait(10)


def test_missing_port_error_says_what_to_do(tmp_path):
    dev = open_device(f"serial://{tmp_path}/nope?timeout_s=1")
    with pytest.raises(DeviceError, match="insole scan"):
        asyncio.run(dev.open())


def test_imu_block_of_a_serial_insole_is_recorded_in_the_foot_frame(link, tmp_path):
    """An emulated insole with an IMU mounted turned 90 degrees about z: DEVICE_INFO announces it, IMU_INFO
    describes it, and every recorded IMU row is the sample's counts mapped into the foot sensor frame, in m/s² and
    rad/s, on the frame's own time stamp."""
    from imu_helpers import stances_from_force, total_force_n

    from pipeline.analysis.imu import ImuReason, ImuStrideSpeed

    log = tmp_path / "emu.jsonl"
    emu = start_emulator(link, log, "--duration-s", "8", "--seed", "4", "--imu", "--imu-axes", "2,-1,3")
    out = tmp_path / "s.h5"
    r = record(f"serial://{link.host_path}?baud=921600&protocol=openinsole-v1", out, 6.0)
    finish(emu, log)
    assert r.returncode == 0, r.stderr
    sent = read_log(log)
    s = read_session(out)
    foot = s.feet["left"]
    imu = foot.imu
    assert imu is not None and imu.frame == "foot" and imu.frame_aligned and imu.info.calibrated is False
    assert imu.acc_range_m_s2 == pytest.approx(16 * 9.80665) and imu.gyr_range_rad_s == pytest.approx(np.radians(2000))
    np.testing.assert_array_equal(imu.time_s, foot.time_s)
    counts = np.array([sent[int(q)]["imu"] for q in foot.sequence], float)
    # foot x = sensor y, foot y = -sensor x, foot z = sensor z
    foot_counts_acc = np.column_stack([counts[:, 1], -counts[:, 0], counts[:, 2]])
    foot_counts_gyr = np.column_stack([counts[:, 4], -counts[:, 3], counts[:, 5]])
    np.testing.assert_allclose(imu.acc_m_s2, foot_counts_acc * 16 * 9.80665 / 32768, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(imu.gyr_rad_s, foot_counts_gyr * np.radians(2000) / 32768, rtol=1e-6, atol=1e-7)
    # the mapping makes the axes right: the sensor check of the stride analysis passes
    ic, to = stances_from_force(foot.time_s, total_force_n(foot.pressure, foot.layout.area_mm2))
    algo = ImuStrideSpeed().compute_session_imu(imu, ic, to)
    assert algo.sensor_check_.usable, algo.sensor_check_.message
    assert algo.summary_.reason is ImuReason.OK and algo.summary_.n_valid >= 2
    assert 1.1 < algo.summary_.gait_speed_m_s < 1.5  # the emulator walks at the profile's 1.3 m/s
