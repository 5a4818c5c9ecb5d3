"""moticon-udp://: a real Moticon export replayed over loopback UDP, recorded through the real recorder."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from insole.devices import open_device
from insole.emulation.moticon_udp import MoticonReplay
from insole.errors import ConfigurationError, DeviceError
from insole.importers import moticon
from insole.recorder import Recorder
from insole.session import GapCause, read_session
from insole.transports.moticon_udp import FIELDS_PER_DATAGRAM, parse_datagram

ROOT = Path(__file__).resolve().parents[1]
EXPORT = ROOT / "sample_recordings" / "moticon" / "230927_102114.txt"
INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_url_parameters_follow_the_shared_names():
    dev = open_device("moticon-udp://127.0.0.1:8888?side=right&rate_hz=50&foot_length_mm=270")
    assert dev.info.side == "right" and dev.info.sampling_rate_hz == 50 and dev.info.n_sensors == 16
    assert dev.info.units == "kPa" and dev.info.layout.layout_id == "moticon-opengo-16"
    assert dev.info.layout.foot_length_mm == 270
    for url, match in (("moticon-udp://127.0.0.1:8888", "side is required"),
                       ("moticon-udp://127.0.0.1?side=left", "HOST:PORT"),
                       ("moticon-udp://127.0.0.1:8888?side=left&foot_mm=250", "now called foot_length_mm"),
                       ("moticon-udp://127.0.0.1:8888?side=left&baud=9600", "unknown parameter")):
        with pytest.raises(ConfigurationError, match=match):
            open_device(url)


def test_datagram_parsing():
    assert parse_datagram(b"1 2 3") is None
    row = parse_datagram((" ".join(["0.5"] + ["nan"] * 25 + ["1"] * 25)).encode())
    assert row is not None and row.shape == (FIELDS_PER_DATAGRAM,) and np.isnan(row[1:26]).all()


def test_replay_refuses_other_than_loopback():
    with pytest.raises(ConfigurationError, match="loopback"):
        MoticonReplay(EXPORT, host="192.0.2.1")


async def _record(path: Path, port: int, replay: MoticonReplay) -> None:
    devices = [open_device(f"moticon-udp://127.0.0.1:{port}?side={s}&timeout_s=5") for s in ("left", "right")]
    rec = Recorder(devices, path, connect_timeout_s=10)

    async def drive() -> None:
        await replay.run()
        await asyncio.sleep(0.4)
        rec.stop("replay finished")

    async with asyncio.timeout(60):
        await asyncio.gather(rec.run(), drive())


def test_replayed_export_recorded_through_the_recorder_equals_the_export(tmp_path):
    port = free_port()
    replay = MoticonReplay(EXPORT, port=port, start_s=3.0, duration_s=6.0, drop_every=40, lead_s=0.5)
    out = tmp_path / "live.h5"
    asyncio.run(_record(out, port, replay))
    session = read_session(out)
    source = moticon.read(EXPORT)
    lines = []
    for side in ("left", "right"):
        foot, truth = session.feet[side], source.feet[side]
        sent = [r for r in replay.sent if side in r.feet]
        received = np.array([r.time_s for r in sent if not r.dropped])
        assert foot.n_frames == received.size > 500
        # every sample as exported: the pressures exactly (N/cm2 x 10 = kPa), in order
        k = np.searchsorted(truth.time_s, received)
        np.testing.assert_array_equal(foot.pressure, truth.values[k])
        # timestamps: the vendor clock mapped onto the session clock, within one sample (10 ms)
        err = (foot.time_s - foot.time_s[0]) - (received - received[0])
        assert np.abs(err).max() < 0.010
        # lost datagrams (and export rows without this foot) are sequence gaps with exact counts
        grid = np.round((received - received[0]) * 100).astype(int)
        expected_lost = int(grid[-1] + 1 - grid.size)
        gaps = [g for g in foot.gaps if g.cause is GapCause.SEQUENCE_GAP]
        assert sum(g.n_frames for g in gaps) == expected_lost == foot.attrs["frames_lost"]
        dropped = sum(r.dropped for r in sent)
        assert dropped >= 10 and expected_lost >= dropped
        for r in (r for r in sent if r.dropped and received[0] < r.time_s < received[-1]):
            t = foot.time_s[0] + (r.time_s - received[0])
            assert any(g.start_s - 0.011 <= t <= g.end_s + 0.011 for g in gaps), f"no gap at {r.time_s}"
        lines.append(f"{side}: {foot.n_frames} samples equal to the export, max |time error| "
                     f"{1000 * np.abs(err).max():.3f} ms, {dropped} datagrams dropped -> {len(gaps)} gaps, "
                     f"{expected_lost} frames lost (incl. export rows without this foot)")
    print("\n" + "\n".join(lines))
    assert session.feet["left"].attrs["device_transport"] == "moticon-udp"


def test_a_busy_port_is_a_clear_error(tmp_path):
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as blocker:
        blocker.bind(("127.0.0.1", port))

        async def open_it() -> None:
            dev = open_device(f"moticon-udp://127.0.0.1:{port}?side=left")
            await dev.open()

        with pytest.raises(DeviceError, match="cannot listen on 127.0.0.1"):
            asyncio.run(open_it())


def test_emulate_moticon_and_record_commands(tmp_path):
    port = free_port()
    out = tmp_path / "cli.h5"
    rec = subprocess.Popen([*INSOLE, "record", "--device", f"moticon-udp://127.0.0.1:{port}?side=left",
                            "--device", f"moticon-udp://127.0.0.1:{port}?side=right", "--duration-s", "3",
                            "-o", str(out), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        emu = subprocess.run([*INSOLE, "emulate-moticon", str(EXPORT), "--port", str(port), "--start-s", "1",
                              "--duration-s", "5"], capture_output=True, text=True, timeout=60)
        assert emu.returncode == 0 and emu.stdout.startswith("sent "), emu.stderr
        _, err = rec.communicate(timeout=60)
    finally:
        rec.kill() if rec.poll() is None else None
    assert rec.returncode == 0, err
    s = read_session(out)
    assert set(s.feet) == {"left", "right"} and s.duration_s == pytest.approx(3.0, abs=0.1)
