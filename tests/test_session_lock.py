"""No writer destroys a file another process is recording (issue 14, item 2), with real processes.

A second ``insole record --overwrite`` on the file of a live recording used to truncate it (the first recorder then
stopped with "filter returned failure", leaving an unreadable file) and then sat in HDF5's lock wait for minutes,
deaf to SIGTERM. Now it is refused at once with a message naming the process, and the first recording finishes
intact.
"""

from __future__ import annotations

import signal
import subprocess
import time

import h5py
import numpy as np
import pytest
from hostile_sessions import INSOLE, run
from recording_wait import wait_for_data

from insole.session import open_session


def _start_recording(path, seconds: float = 1.0) -> subprocess.Popen:
    """``insole record`` of one simulated insole in real time, once ``seconds`` of data are on disk."""
    proc = subprocess.Popen([*INSOLE, "record", "--device", "sim://neutral?side=left&seed=7", "-o", str(path),
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_data(path, seconds, proc)
    return proc


def _stop(proc: subprocess.Popen) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


@pytest.mark.parametrize("second", [
    ["record", "--device", "sim://neutral?side=left&seed=8", "--quiet", "--overwrite", "-o"],
    ["simulate", "--duration-s", "5", "--overwrite", "-o"],
], ids=["record", "simulate"])
def test_a_second_writer_with_overwrite_is_refused_and_the_recording_survives(tmp_path, second):
    path = tmp_path / "live.h5"
    first = _start_recording(path)
    try:
        r = run(*second, str(path), timeout=60)  # a lock wait would end in TimeoutExpired, not a message
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode == 1 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
        assert lines[0].startswith(f"error: {path}: is in use by pid {first.pid} "), lines[0]
        assert "refusing to write it" in lines[0]
        assert first.poll() is None, "the first recording must go on"
        time.sleep(0.5)  # it keeps writing after the refusal
    finally:
        code, out, err = _stop(first)
    assert code == 0, err[-2000:]
    assert "stopped by SIGTERM" in out
    with open_session(path) as sf:
        assert sf.completeness.complete
        t = sf.read("left", fields=("time_s",)).time_s
        assert t[-1] >= 1.5 and np.all(np.diff(t) > 0)
    with h5py.File(path, "r") as f:  # plain HDF5 opens it: no SWMR flag, no truncation left behind
        assert f.attrs["complete"] and f["left/pressure"].shape[0] == len(t)


def test_info_names_the_recording_process_of_a_live_file_and_repair_leaves_it_alone(tmp_path):
    path = tmp_path / "live.h5"
    first = _start_recording(path)
    try:
        r = run("info", str(path), timeout=60)
        repair = run("repair", str(path), timeout=60)
    finally:
        code, _, err = _stop(first)
    assert r.returncode == 0, r.stderr
    assert f"complete: NO: still being written by pid {first.pid}" in r.stdout, r.stdout
    assert repair.returncode == 1 and f"error: {path}: is in use by pid {first.pid}" in repair.stderr, repair.stderr
    assert code == 0, err
    with h5py.File(path, "r") as f:
        assert f.attrs["complete"] and "recovered" not in f.attrs


def test_sigterm_ends_a_recorder_refused_before_it_connects(tmp_path):
    """The refusal comes before any device is opened, so nothing is left waiting: the process is gone."""
    path = tmp_path / "live.h5"
    first = _start_recording(path)
    try:
        second = subprocess.Popen([*INSOLE, "record", "--device", "sim://neutral?side=left&connect_delay_s=30",
                                   "--overwrite", "--quiet", "-o", str(path)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _, err = second.communicate(timeout=30)  # without the check it would wait 30 s for the device, then truncate
        assert second.returncode == 1 and "is in use by" in err, err
    finally:
        _stop(first)
