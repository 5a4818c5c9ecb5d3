"""What the recorder knows about each device while it records, and what a finished recording holds."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Seconds of receive history the live frame rate is estimated over (and at most this many marks).
RATE_WINDOW_S = 2.0
_RATE_MARKS = 256


@dataclass
class DeviceStats:
    """Running counters for one device, shown live and stored in the file.

    Attributes
    ----------
    url : str
    side : str
        ``left``, ``right``, or ``?`` before the device is open.
    state : str
        ``connecting``, ``connected``, ``streaming``, ``silent`` (no frame for the device's silence timeout, the
        link still up), ``reconnecting``, ``disconnected``, ``lost``, ``ended`` or ``stopped``.
    frames, lost_frames, gaps : int
    battery_pct : float or None
    last_time_s : float
        Session time of the last frame.
    rate_hz : float
        Frames per second received over the last :data:`RATE_WINDOW_S` seconds of host time.
    latest_force : float
        Total load of the last frame (N with kPa and known areas, else the sum of the values).
    latest_pressure : numpy.ndarray or None
        The last frame.
    error : str
        Why the device was lost, or its last warning.
    steps : int
        Live step count (:class:`~insole.recorder.step_counter.LiveStepCounter`).
    """

    url: str
    side: str = "?"
    state: str = "connecting"
    frames: int = 0
    lost_frames: int = 0
    gaps: int = 0
    battery_pct: float | None = None
    last_time_s: float = float("nan")
    rate_hz: float = float("nan")
    latest_force: float = 0.0
    latest_pressure: np.ndarray | None = None
    error: str = ""
    steps: int = 0
    _rate_marks: list[tuple[float, int]] = field(default_factory=list)

    def update_rate(self, host_now_s: float) -> None:
        """Mark ``frames`` at host time ``host_now_s`` and re-estimate :attr:`rate_hz`."""
        marks = self._rate_marks
        marks.append((host_now_s, self.frames))
        while len(marks) > 2 and (host_now_s - marks[0][0] > RATE_WINDOW_S or len(marks) > _RATE_MARKS):
            marks.pop(0)
        (ta, fa), (tb, fb) = marks[0], marks[-1]
        self.rate_hz = (fb - fa) / (tb - ta) if tb > ta else float("nan")


class RecordingOutcome(enum.IntEnum):
    """How a recording ended; the value is the exit code of ``insole record`` (docs/recorder.md, "Exit codes").

    1 (an error before anything was recorded) and 2 (wrong usage) are the command line's own codes.
    """

    #: The requested duration was recorded on every foot, or the user stopped the recording, or (without a
    #: duration) every device ended its stream normally.
    COMPLETE = 0
    #: A foot was lost, silent or still reconnecting at the end; the file keeps everything before.
    DEVICE_LOST = 3
    #: Every device ended (or the time bound passed) before the requested duration was recorded.
    DURATION_NOT_REACHED = 4
    #: Writing failed, or the disk was nearly full; the file keeps what was flushed.
    WRITE_FAILED = 5


@dataclass
class RecordingSummary:
    """What a finished recording holds.

    Attributes
    ----------
    path : Path
    duration_s : float
        Session time of the last frame of any foot.
    devices : list of DeviceStats
    stopped_because : str
        Why the recording loop ended (also the root attribute ``stopped_because``).
    error : str or None
        What went wrong, in words for the user (None when complete).
    outcome : RecordingOutcome
    """

    path: Path
    duration_s: float
    devices: list[DeviceStats]
    stopped_because: str
    error: str | None = None
    outcome: RecordingOutcome = RecordingOutcome.COMPLETE
