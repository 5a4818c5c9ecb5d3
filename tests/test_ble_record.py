"""Recording BLE insoles into session files: the recorder, the ble:// driver and bumble emulators, end to end.

The in-process tests run emulators and the recorder in one event loop (transport ``local:``); the command-line
test runs ``insole emulate-ble`` and ``insole record`` / ``insole scan`` as separate processes talking HCI over a
loopback TCP port, exactly as a user would. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from insole.devices import open_device
from insole.emulation.ble_rig import EmulatorRig
from insole.recorder import Recorder
from insole.session import GapCause, read_session

pytestmark = pytest.mark.timeout(90)
ROOT = Path(__file__).resolve().parents[1]


def test_two_insoles_into_one_session_with_a_reconnect(tmp_path: Path) -> None:
    out = tmp_path / "walk.h5"

    async def main():
        async with EmulatorRig() as rig:
            # 8 cells: a 35-byte frame spans two 20-byte notifications (ATT MTU 23)
            left = rig.add("InsoleL", "left", n_sensors=8, rate_hz=100, max_mtu=23, seed=4)
            right = rig.add("InsoleR", "right", n_sensors=8, rate_hz=100, max_mtu=23, seed=4)
            await rig.start()
            devices = [open_device(rig.url("InsoleL", reconnect_s=10)), open_device(rig.url("InsoleR"))]
            recorder = Recorder(devices, out, duration_s=3.5)

            async def fault() -> None:
                await asyncio.sleep(1.2)
                await left.disconnect(stay_away_s=0.5)

            task = asyncio.create_task(fault())
            summary = await recorder.run()
            await task
            return summary, left, right

    summary, left, right = asyncio.run(asyncio.wait_for(main(), 60))
    stats = {s.side: s for s in summary.devices}
    session = read_session(out)
    assert set(session.feet) == {"left", "right"}
    for side, emu in (("left", left), ("right", right)):
        foot = session.feet[side]
        seq = foot.sequence.astype(np.int64)
        assert foot.n_frames == stats[side].frames >= 150
        assert np.all(np.diff(seq) >= 1) and np.all(np.diff(foot.time_s) > 0)
        # the file holds exactly what the emulator got onto the link, within the recorded span
        delivered = [s for s in emu.log.delivered_sequences() if seq[0] <= s <= seq[-1]]
        np.testing.assert_array_equal(seq, delivered)
        for i in (0, len(seq) // 2, len(seq) - 1):
            np.testing.assert_array_equal(foot.pressure[i], emu.log.pressure_of(int(seq[i])))
        assert foot.attrs["device_ble_address"] == emu.address
        assert foot.attrs["device_protocol"] == "openinsole-v1"
    # the gap on the left equals the samples produced while it was off the air
    missed = left.log.missed_between_delivered()
    assert len(missed) >= 40
    assert stats["left"].lost_frames == len(missed)
    assert stats["right"].lost_frames == 0
    left_foot = session.feet["left"]
    # one gap for the link loss: the transport's outage, counted in frames by sequence number
    assert len(left_foot.gaps) == 1, left_foot.gaps
    gap = left_foot.gaps[0]
    assert gap.cause is GapCause.OUTAGE and gap.message and gap.n_frames == len(missed), gap
    assert abs((gap.end_s - gap.start_s) - (len(missed) - 1) / 100.0) < 0.05
    assert len(session.feet["right"].gaps) == 0


def test_a_foot_that_never_comes_back_is_given_up_and_the_rest_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "dead.h5"

    async def main():
        async with EmulatorRig() as rig:
            left = rig.add("InsoleL", "left", n_sensors=8, rate_hz=50, seed=2)
            rig.add("InsoleR", "right", n_sensors=8, rate_hz=50, seed=2)
            await rig.start()
            devices = [open_device(rig.url("InsoleL", reconnect_s=1.0, scan_timeout_s=0.3)),
                       open_device(rig.url("InsoleR"))]
            recorder = Recorder(devices, out, duration_s=3.5)

            async def fault() -> None:
                await asyncio.sleep(1.0)
                await left.dead_battery()

            task = asyncio.create_task(fault())
            summary = await recorder.run()
            await task
            return summary, left

    summary, left = asyncio.run(asyncio.wait_for(main(), 60))
    stats = {s.side: s for s in summary.devices}
    assert stats["left"].state == "lost"
    assert "did not come back within 1 s" in stats["left"].error
    assert stats["left"].battery_pct == 0.0
    assert summary.stopped_because.startswith("duration")
    session = read_session(out)
    delivered = left.log.delivered_sequences()
    np.testing.assert_array_equal(session.feet["left"].sequence, delivered)  # everything received is kept
    assert session.feet["right"].n_frames >= 150


def test_imu_of_a_ble_insole_is_recorded_from_its_device_info_record(tmp_path: Path) -> None:
    """The device-info record describes the IMU; every recorded row is the sample's IMU block in m/s² and rad/s,
    on the frame's time; the insole without IMU in the same session gets no IMU block."""
    out = tmp_path / "imu.h5"

    async def main():
        async with EmulatorRig() as rig:
            left = rig.add("InsoleL", "left", n_sensors=8, rate_hz=100, seed=6, imu=True)
            rig.add("InsoleR", "right", n_sensors=8, rate_hz=100, seed=6)
            await rig.start()
            devices = [open_device(rig.url("InsoleL")), open_device(rig.url("InsoleR"))]
            await Recorder(devices, out, duration_s=3.0).run()
            return left

    left = asyncio.run(asyncio.wait_for(main(), 60))
    session = read_session(out)
    foot = session.feet["left"]
    imu = foot.imu
    assert imu is not None and imu.frame == "foot" and imu.frame_aligned and foot.n_frames >= 250
    assert imu.acc_range_m_s2 == pytest.approx(16 * 9.80665)
    np.testing.assert_array_equal(imu.time_s, foot.time_s)
    counts = np.array([left.log.imu_of(int(q)) for q in foot.sequence], float)
    np.testing.assert_allclose(imu.acc_m_s2, counts[:, :3] * 16 * 9.80665 / 32768, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(imu.gyr_rad_s, counts[:, 3:] * np.radians(2000) / 32768, rtol=1e-6, atol=1e-7)
    assert session.feet["right"].imu is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _insole(*args: str, timeout: float = 60, **env_extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_extra}
    return subprocess.run([sys.executable, "-c", "from pipeline.cli import main; main()", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_cli_emulate_scan_and_record_over_hci_tcp(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    emulator = subprocess.Popen(
        [sys.executable, "-c", "from pipeline.cli import main; main()", "emulate-ble", "--hci",
         f"tcp-server:127.0.0.1:{port}", "--mtu", "23", "--duration-s", "60"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait for the HCI port
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("insole emulate-ble did not open its HCI port")
        transport = f"tcp-client:127.0.0.1:{port}"
        scan = _insole("scan", "--transport", "ble", "--timeout-s", "1", INSOLE_BLE_TRANSPORT=transport)
        assert scan.returncode == 0, scan.stderr
        assert f"ble://InsoleL?transport={transport}" in scan.stdout and "side left" in scan.stdout
        assert f"ble://InsoleR?transport={transport}" in scan.stdout
        out = tmp_path / "cli.h5"
        rec = _insole("record", "--device", f"ble://InsoleL?transport={transport}",
                      "--device", f"ble://InsoleR?transport={transport}", "-o", str(out), "--duration-s", "2",
                      "--quiet")
        assert rec.returncode == 0, rec.stderr
        assert "left:" in rec.stdout and "right:" in rec.stdout
        session = read_session(out)
        assert session.feet["left"].n_frames >= 150 and session.feet["right"].n_frames >= 150
        assert session.feet["left"].attrs["device_ble_service"] == "insole"
        missing = _insole("record", "--device", f"ble://NoSuchInsole?transport={transport}&scan_timeout_s=0.5",
                          "-o", str(tmp_path / "none.h5"), "--quiet")
        assert missing.returncode == 1 and "no insole called 'NoSuchInsole'" in missing.stderr
        assert not (tmp_path / "none.h5").exists()
    finally:
        emulator.terminate()
        try:
            emulator.wait(10)
        except subprocess.TimeoutExpired:
            emulator.kill()
