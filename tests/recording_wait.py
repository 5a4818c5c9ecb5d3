"""Waiting, with a bound, for a live ``insole record`` process to have data on disk (the crash-safety tests)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import h5py


def wait_for_data(path: Path, seconds: float, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Return once the recording at ``path`` holds ``seconds`` of left-foot data (read as an SWMR reader).

    Raises AssertionError when ``proc`` ends first or nothing arrives within ``timeout`` (``proc`` is then killed).
    """
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        assert proc.poll() is None, proc.communicate()
        try:
            with h5py.File(path, "r", swmr=True, locking=False) as f:
                n = f["left/time_s"].shape[0]
                if n and f["left/time_s"][n - 1] >= seconds:
                    return
        except (OSError, KeyError):
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"the recording did not reach {seconds} s of data within {timeout} s")
