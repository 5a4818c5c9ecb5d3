"""Every wait of a recording has a bound and a message; `--duration-s` bounds the wall clock; exit codes say how it
ended. Through the real CLI subprocess, real ptys and the real firmware emulator process (nothing mocked)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from pty_link import PtyLink

from insole.frames import FrameBatch
from insole.recorder import Recorder
from insole.recorder.stats import RecordingOutcome
from insole.session import GapCause, read_session
from insole.simulator.device import SimulatedInsole

INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]
#: A hang guard only (the old recorder took 44 s for this case); the tests assert what was recorded, not timing.
HANG_GUARD_S = 120


@pytest.fixture
def link(tmp_path):
    lk = PtyLink(tmp_path)
    yield lk
    lk.close()


def sent_frames(log: Path) -> list[dict]:
    return [r for r in map(json.loads, log.read_text().splitlines()) if r["type"] == "frame"]


def test_silent_serial_insole_is_bounded_by_the_duration_named_and_exits_3(link, tmp_path):
    """A serial insole that hangs at 5 s with the port open: `--duration-s 15` returns, names the insole and the time
    it fell silent, exits 3 (device lost) and keeps the first 5 s of frames."""
    log, out = tmp_path / "emu.jsonl", tmp_path / "silent.h5"
    emu = subprocess.Popen([*INSOLE, "emulate", "--port", str(link.device_path), "--log", str(log), "--rate-hz", "100",
                            "--duration-s", "60", "--silent-after-s", "5", "--seed", "1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"serial://{link.host_path}?timeout_s=5"
        r = subprocess.run([*INSOLE, "record", "--device", url, "--duration-s", "15", "-o", str(out), "--quiet",
                            "--connect-timeout-s", "20"], capture_output=True, text=True, timeout=HANG_GUARD_S)
    finally:
        emu.kill()
        emu.wait()
    assert r.returncode == int(RecordingOutcome.DEVICE_LOST) == 3, r.stderr
    assert "Traceback" not in r.stderr
    # names the insole (foot, URL, serial number) and when it fell silent, on the session clock
    assert f"left insole ({url}, serial number EMU-L-1)" in r.stderr, r.stderr
    at = re.search(r"fell silent at (\d+\.\d) s: no frame for 5 s", r.stderr)
    assert at is not None and 4.5 <= float(at.group(1)) <= 5.1, r.stderr
    assert "exit code 3: device lost" in r.stderr
    assert "time bound reached: 15 s asked for" in r.stdout, r.stdout
    s = read_session(out)
    left = s.feet["left"]
    assert s.attrs["complete"] is True and s.attrs["stopped_because"].startswith("time bound reached")
    assert left.attrs["end_state"] == "silent" and "fell silent at" in left.attrs["end_error"]
    # exactly the frames sent before the hang are kept, in order
    sent = sent_frames(log)
    assert 450 <= len(sent) <= 510
    np.testing.assert_array_equal(left.sequence, [f["seq"] for f in sent])
    assert left.time_s[-1] == pytest.approx(float(at.group(1)), abs=0.1)
    assert left.attrs["frames_lost"] == 0


class PausingInsole(SimulatedInsole):
    """A real-time simulated insole whose link goes quiet for ``pause_s`` after ``pause_at`` frames (the frames
    of the pause are lost), with a short silence timeout: a silence that ends."""

    def __init__(self, url: str, pause_at: int, pause_s: float, silence_s: float) -> None:
        super().__init__(url)
        self.pause_at, self.pause_s, self.silence_s = pause_at, pause_s, silence_s
        self.lost_in_pause = 0

    @property
    def silence_timeout_s(self) -> float:
        return self.silence_s

    async def stream(self):
        t_end = None
        async for item in super().stream():
            if isinstance(item, FrameBatch):
                if t_end is None and item.sequence[-1] >= self.pause_at:
                    t_end = time.monotonic() + self.pause_s
                if t_end is not None and time.monotonic() < t_end:
                    self.lost_in_pause += len(item)  # lost on the link
                    continue
            yield item


def test_a_silence_that_ends_is_an_outage_gap_and_the_recording_completes(tmp_path):
    """No frame for longer than the silence timeout, then frames again: shown as silent, stored as an `outage`
    gap holding exactly the frames lost, the duration is reached: outcome 0."""
    dev = PausingInsole("sim://neutral?side=left&rate_hz=100", pause_at=100, pause_s=1.0, silence_s=0.3)
    seen: list[str] = []
    summary = asyncio.run(Recorder([dev], tmp_path / "p.h5", duration_s=3.0,
                                   on_update=lambda st: seen.append(st[0].state)).run())
    assert "silent" in seen and summary.devices[0].state == "stopped"
    assert summary.outcome is RecordingOutcome.COMPLETE and summary.error is None
    foot = read_session(tmp_path / "p.h5").feet["left"]
    gaps = foot.gaps
    assert [g.cause for g in gaps] == [GapCause.OUTAGE], gaps
    assert gaps[0].message.startswith("silent, fell silent at")
    seq = foot.sequence.astype(np.int64)
    missing = int((np.diff(seq) - 1).sum())
    assert gaps[0].n_frames == missing == dev.lost_in_pause > 0 and foot.attrs["frames_lost_outage"] == missing


def test_devices_ending_before_the_duration_exit_4(tmp_path):
    """Both simulated insoles end their walk at 3 s of a 10 s recording: exit 4, the message says what was held."""
    out = tmp_path / "short.h5"
    urls = ["sim://neutral?side=left&realtime=0&walk_s=3", "sim://neutral?side=right&realtime=0&walk_s=3"]
    r = subprocess.run([*INSOLE, "record", "--device", urls[0], "--device", urls[1], "--duration-s", "10",
                        "-o", str(out), "--quiet"], capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert r.returncode == int(RecordingOutcome.DURATION_NOT_REACHED) == 4, r.stderr
    assert "10 s were asked for but the recording holds only: left insole" in r.stderr
    assert "3.0 s (ended)" in r.stderr and "exit code 4: duration not reached" in r.stderr
    s = read_session(out)
    assert s.attrs["complete"] is True and s.feet["left"].time_s[-1] == pytest.approx(3.0, abs=0.02)


def test_silent_simulated_foot_is_reported_while_the_other_foot_completes(tmp_path):
    """One of two real-time insoles hangs at 1 s (sim silent_after_s): the other foot reaches the duration, the
    hanging one is named, the gap to the end of the session is `device_lost` with the silence in its message."""
    out = tmp_path / "one.h5"
    urls = ["sim://neutral?side=left&silent_after_s=1", "sim://neutral?side=right"]
    r = subprocess.run([*INSOLE, "record", "--device", urls[0], "--device", urls[1], "--duration-s", "8",
                        "-o", str(out), "--quiet"], capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert r.returncode == 3, r.stderr
    assert "left insole (sim://neutral?side=left&silent_after_s=1" in r.stderr
    assert re.search(r"fell silent at 1\.0 s: no frame for 5 s", r.stderr), r.stderr
    s = read_session(out)
    assert s.feet["right"].time_s[-1] >= 8.0 - 2 / 100
    gaps = s.feet["left"].gaps
    assert [g.cause for g in gaps] == [GapCause.DEVICE_LOST] and gaps[0].n_frames == -1
    assert "fell silent at 1.0 s" in gaps[0].message and "still silent when the recording ended" in gaps[0].message
