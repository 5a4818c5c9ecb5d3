"""The recorder end to end: real devices (simulated insoles), real HDF5 files, real processes and signals."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from recording_wait import wait_for_data

from insole.devices import open_device
from insole.errors import DeviceTimeoutError, SessionFileError
from insole.recorder import Recorder
from insole.session import GapCause, frames_lost, gap_intervals_s, open_session, read_session
from insole.simulator.device import VIRTUAL_EPOCH_S

INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def _record(urls, path, **kw):
    return asyncio.run(Recorder([open_device(u) for u in urls], path, **kw).run())


def test_clocks_with_offsets_and_drift_are_aligned(tmp_path):
    """Two insoles with different clock offsets and +-60 ppm drift: both feet land on one timeline."""
    path = tmp_path / "s.h5"
    drift = {"left": 60.0, "right": -45.0}
    urls = [
        f"sim://neutral?side=left&seed=5&realtime=0&clock_offset_s=12.5&clock_drift_ppm={drift['left']}",
        f"sim://neutral?side=right&seed=5&realtime=0&clock_offset_s=734.2&clock_drift_ppm={drift['right']}",
    ]
    _record(urls, path, duration_s=600)
    s = read_session(path)
    zero = s.attrs["session_zero_host_s"]
    errors = {}
    for side, foot in s.feet.items():
        true_t = foot.sequence / (100.0 * (1 + drift[side] * 1e-6)) + VIRTUAL_EPOCH_S - zero
        errors[side] = foot.time_s - true_t
        # fitted drift (host per device second) is the inverse of the device's error
        assert abs(foot.attrs["clock_drift_ppm"] + drift[side]) < 2.0
        assert foot.attrs["clock_residual_s"] < 0.002
    # each foot within 2 ms of the truth over 10 minutes (uncorrected drift alone would be 36 ms), and the
    # left-right relation within a small fraction of one 10 ms sample period
    for side in errors:
        assert np.max(np.abs(errors[side])) < 0.002, side
    assert abs(np.median(errors["left"]) - np.median(errors["right"])) < 0.001
    # truth events share that clock: every true IC falls inside the recorded span
    for side in ("left", "right"):
        ic = s.truth[side]["ic_s"]
        assert ic.min() >= 0 and ic.max() <= s.feet[side].time_s[-1] and len(ic) > 500


def test_lost_frames_are_all_accounted_for(tmp_path):
    path = tmp_path / "s.h5"
    summary = _record(["sim://neutral?side=left&seed=2&realtime=0&dropout_rate=0.02&dropout_burst=4"], path,
                      duration_s=120)
    f = read_session(path).feet["left"]
    seq = f.sequence.astype(np.int64)
    lost_by_sequence = int(seq[-1] - seq[0] + 1 - len(seq))
    assert lost_by_sequence > 100
    assert f.attrs["frames_lost"] == lost_by_sequence == summary.devices[0].lost_frames
    assert frames_lost(f.gaps) == lost_by_sequence and all(g.n_frames > 0 for g in f.gaps)
    # each gap spans exactly its missing frames
    intervals = gap_intervals_s(f.gaps)
    widths = np.round((intervals[:, 1] - intervals[:, 0]) * 100).astype(int) + 1
    assert widths.tolist() == [g.n_frames for g in f.gaps] and widths.sum() == lost_by_sequence


def test_device_restart_and_lost_foot(tmp_path):
    """Right insole reboots at 20 s (sequence and clock restart); left goes silent for good at 30 s."""
    path = tmp_path / "s.h5"
    urls = ["sim://neutral?side=left&seed=3&realtime=0&silent_after_s=30",
            "sim://neutral?side=right&seed=3&realtime=0&restart_at_s=20"]
    summary = _record(urls, path, duration_s=45, stall_timeout_s=1.0)
    s = read_session(path)
    left, right = s.feet["left"], s.feet["right"]
    assert right.attrs["device_restarts"] == 1 and right.attrs["clock_segments"] == 2
    restarts = [g for g in right.gaps if g.cause is GapCause.DEVICE_RESTART]
    assert len(restarts) == 1 and restarts[0].n_frames == right.attrs["frames_lost_restart"]
    assert frames_lost(right.gaps) == right.attrs["frames_lost"]
    assert np.all(np.diff(right.time_s) > 0) and right.time_s[-1] >= 45
    i = np.flatnonzero(np.diff(right.time_s) > 0.5)
    assert i.size == 0  # a reboot of a simulated device loses no wall time, the new clock is re-fitted
    assert left.attrs["end_state"] == "lost" and "went silent" in left.attrs["end_error"]
    assert left.time_s[-1] < 30.5
    lost_gap = [g for g in left.gaps if g.cause is GapCause.DEVICE_LOST]
    assert lost_gap and lost_gap[0].end_s >= 45 and lost_gap[0].n_frames == -1 and "went silent" in lost_gap[0].message
    assert {d.side: d.state for d in summary.devices}["left"] == "lost"


def test_imu_rows_follow_their_frames_through_drift_restarts_and_dropouts(tmp_path):
    """Crash-safe recording of an insole with an IMU (clock drift, dropouts, a reboot) beside one without: the
    IMU block has one row per frame on the frame's final session time (re-timed with the clock fit), and the
    other foot has no IMU block."""
    path = tmp_path / "s.h5"
    urls = ["sim://neutral?side=left&seed=4&realtime=0&imu=1&clock_drift_ppm=80&dropout_rate=0.02&restart_at_s=15",
            "sim://neutral?side=right&seed=4&realtime=0"]
    _record(urls, path, duration_s=30, atomic=False)
    s = read_session(path)
    left, right = s.feet["left"], s.feet["right"]
    assert right.imu is None and left.imu is not None and left.imu.frame_aligned
    assert left.attrs["device_restarts"] == 1 and left.attrs["frames_lost"] > 0
    np.testing.assert_array_equal(left.imu.time_s, left.time_s)
    assert np.isfinite(left.imu.acc_m_s2).all() and left.imu.n_samples == left.n_frames
    assert len(s.truth["left"]["foot_position_m"]) == len(s.truth["left"]["ic_s"])


def test_device_that_never_connects_times_out(tmp_path):
    path = tmp_path / "s.h5"
    with pytest.raises(DeviceTimeoutError, match="did not connect within 0.5 s"):
        _record(["sim://neutral?realtime=0&connect_delay_s=30"], path, duration_s=5, connect_timeout_s=0.5)
    assert not path.exists()


def test_existing_output_is_never_overwritten(tmp_path):
    path = tmp_path / "s.h5"
    path.write_bytes(b"an earlier recording")
    with pytest.raises(SessionFileError, match="already exists"):
        _record(["sim://neutral?realtime=0"], path, duration_s=5)
    assert path.read_bytes() == b"an earlier recording"


def _start_recording(path, extra=()):
    urls = ["sim://neutral?side=left&seed=4", "sim://neutral?side=right&seed=4"]
    args = [*INSOLE, "record", "--device", urls[0], "--device", urls[1], "-o", str(path), "--quiet", *extra]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("extra_wait_s", [0.0, 0.37, 0.81])
def test_kill_9_leaves_a_readable_file_missing_at_most_a_second(tmp_path, extra_wait_s):
    path = tmp_path / "k.h5"
    proc = _start_recording(path)
    wait_for_data(path, 2.0, proc)
    time.sleep(extra_wait_s)
    killed_at = time.monotonic()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with open_session(path) as sf:  # validates; falls back to SWMR reading of the interrupted file
        assert sf.attrs["complete"] is False
        zero = sf.attrs["session_zero_host_s"]
        for side in ("left", "right"):
            block = sf.read(side, fields=("time_s", "pressure"))
            t = block.time_s
            assert np.all(np.diff(t) > 0)
            lost_s = (killed_at - zero) - t[-1]
            assert lost_s <= 1.25, f"{side}: {lost_s:.2f} s lost"  # 1 s flush interval + one 50 ms batch
            assert block.pressure.shape == (len(t), 16)


def test_ctrl_c_finishes_the_file(tmp_path):
    path = tmp_path / "c.h5"
    proc = _start_recording(path)
    wait_for_data(path, 1.5, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped by SIGINT" in out
    s = read_session(path)
    assert s.attrs["complete"] is True and s.attrs["stopped_because"] == "stopped by SIGINT"
    assert min(f.time_s[-1] for f in s.feet.values()) > 1.4


def test_disk_full_stops_with_a_clear_message_and_a_readable_file(tmp_path):
    """The file-size limit (RLIMIT_FSIZE) makes writes fail as on a full disk, without root or a small mount."""
    path = tmp_path / "full.h5"
    code = (
        "import resource, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (3_000_000, 3_000_000));"
        "from pipeline.cli import main; main()"
    )
    args = [sys.executable, "-c", code, "record", "--device", "sim://neutral?realtime=0&noise_kpa=20",
            "--duration-s", "600", "-o", str(path), "--quiet"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert r.returncode == 5, r.stderr  # write failure (docs/recorder.md, "Exit codes")
    assert "error: disk nearly full" in r.stderr and "Traceback" not in r.stderr
    s = read_session(path)  # finalised, complete and valid
    assert s.attrs["complete"] is True and s.attrs["stopped_because"].startswith("disk nearly full")
    assert 5.0 < s.feet["left"].time_s[-1] < 600
