"""Gaps: stretches of known missing or invalid data, with a cause code and an exact frame count.

A :class:`Gap` is what writers accept and readers return; nobody parses text to learn why data is missing or how
many frames were lost. In a version-2 file the gaps of a foot are stored as columns ``/<side>/gaps/start_s``,
``end_s``, ``n_frames``, ``cause`` and ``message``; version-1 files stored ``gaps`` (n, 2) and prose
``gap_causes``, which :func:`gaps_from_v1` turns into the same records.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


class GapCause(enum.StrEnum):
    """Why data is missing; stored as the code text in ``/<side>/gaps/cause``."""

    #: Frames missing by sequence number (lost on the link). ``n_frames`` exact.
    SEQUENCE_GAP = "sequence_gap"
    #: A sequence gap during a disconnection the transport reported; ``message`` is the transport's. Exact.
    OUTAGE = "outage"
    #: Frames the host received but dropped because writing fell behind. Exact.
    BUFFER_OVERFLOW = "buffer_overflow"
    #: The device restarted (sequence and device clock reset); ``n_frames`` estimated from the time gap.
    DEVICE_RESTART = "device_restart"
    #: The device was lost for good: from its last frame to the end of the session. ``n_frames`` -1.
    DEVICE_LOST = "device_lost"
    #: Frames present but flagged invalid by the source (stored as NaN), e.g. PhysioNet's -2048 code. Exact.
    INVALID_SAMPLES = "invalid_samples"
    #: Rows of the source present but empty for this foot (the insole sent nothing); frames absent. Exact.
    NO_DATA = "no_data"
    #: Rows missing from the source altogether (a time step of two or more periods). Exact.
    MISSING_ROWS = "missing_rows"
    #: Anything else (an unrecognised version-1 text, or a code unknown to this version). ``n_frames`` -1.
    OTHER = "other"


#: One-line meaning of every cause code (for ``insole info`` and the format document).
CAUSE_MEANINGS: dict[GapCause, str] = {
    GapCause.SEQUENCE_GAP: "frames missing by sequence number (lost on the link)",
    GapCause.OUTAGE: "frames lost during a disconnection reported by the transport",
    GapCause.BUFFER_OVERFLOW: "frames dropped by the host because writing fell behind",
    GapCause.DEVICE_RESTART: "device restarted (sequence and clock reset); frame count estimated",
    GapCause.DEVICE_LOST: "device lost for good, from its last frame to the end of the session",
    GapCause.INVALID_SAMPLES: "frames flagged invalid by the source (stored as NaN)",
    GapCause.NO_DATA: "source rows without data for this foot (frames absent)",
    GapCause.MISSING_ROWS: "rows missing from the source export (frames absent)",
    GapCause.OTHER: "other or unknown cause (see message)",
}

#: ``message`` of a device restart; an outage it happened in is appended as ``; during outage (MESSAGE)``.
RESTART_MESSAGE = "sequence and device clock reset; frame count estimated from the time gap"
#: ``message`` of a buffer overflow.
OVERFLOW_MESSAGE = "dropped by the host: writing fell behind"


@dataclass(frozen=True)
class Gap:
    """A stretch of known missing (or invalid) data on one foot.

    Attributes
    ----------
    start_s, end_s : float
        Session time of the first and the last missing frame (seconds); ``end_s >= start_s``.
    n_frames : int
        Frames missing or invalid in the gap; -1 when unknown (a lost device). Exact for every cause except
        ``device_restart`` (estimated from the time gap, because the sequence restarted).
    cause : GapCause
        Why (a code; see :class:`GapCause`).
    message : str
        Human detail only (the transport's message, the source's code, ...); never parsed.
    """

    start_s: float
    end_s: float
    n_frames: int = -1
    cause: GapCause = GapCause.OTHER
    message: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "start_s", float(self.start_s))
        object.__setattr__(self, "end_s", float(self.end_s))
        object.__setattr__(self, "n_frames", int(self.n_frames))
        object.__setattr__(self, "cause", GapCause(self.cause))
        object.__setattr__(self, "message", str(self.message))
        if self.n_frames < -1:
            raise ValueError(f"Gap.n_frames must be >= 0, or -1 when unknown; got {self.n_frames}")
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s)):
            raise ValueError(f"Gap times must be finite, got {self.start_s}, {self.end_s}")

    @property
    def duration_s(self) -> float:
        """``end_s - start_s`` (0 for a single missing frame)."""
        return self.end_s - self.start_s

    def describe(self) -> str:
        """One line for people, e.g. ``outage: 50 frames (link lost)``."""
        approx = "~" if self.cause is GapCause.DEVICE_RESTART else ""
        count = "" if self.n_frames < 0 else f": {approx}{self.n_frames} frames"
        detail = f" ({self.message})" if self.message else ""
        return f"{self.cause.value.replace('_', ' ')}{count}{detail}"


def gap_intervals_s(gaps: Sequence[Gap]) -> np.ndarray:
    """Start and end times of ``gaps`` as an array of shape (n_gaps, 2), seconds."""
    return np.array([(g.start_s, g.end_s) for g in gaps], np.float64).reshape(-1, 2)


def frames_lost(gaps: Sequence[Gap]) -> int:
    """Sum of the known frame counts (gaps with ``n_frames == -1`` are left out)."""
    return sum(g.n_frames for g in gaps if g.n_frames >= 0)


# ------------------------------------------------------------------------------------ version-1 migration
_N = r"(\d+)"
#: Version-1 prose forms (written by the recorder and the importers of insole 0.1) -> (cause, n_frames, message).
_V1_FORMS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[GapCause, int, str]]]] = [
    (re.compile(rf"sequence gap: {_N} frames?"), lambda m: (GapCause.SEQUENCE_GAP, int(m[1]), "")),
    (re.compile(rf"outage \((.*)\); device restarted \(sequence reset\): ~{_N} frames?"),
     lambda m: (GapCause.DEVICE_RESTART, int(m[2]), f"{RESTART_MESSAGE}; during outage ({m[1]})")),
    (re.compile(rf"outage \((.*)\): {_N} frames?"), lambda m: (GapCause.OUTAGE, int(m[2]), m[1])),
    (re.compile(rf"buffer overflow: {_N} frames?"), lambda m: (GapCause.BUFFER_OVERFLOW, int(m[1]), OVERFLOW_MESSAGE)),
    (re.compile(rf"device restarted \(sequence reset\): ~{_N} frames?"),
     lambda m: (GapCause.DEVICE_RESTART, int(m[1]), RESTART_MESSAGE)),
    (re.compile(r"device lost \((.*)\)"), lambda m: (GapCause.DEVICE_LOST, -1, m[1])),
    (re.compile(rf"WFDB invalid-sample code (-?\d+): {_N} sample\(s\)(.*)"),
     lambda m: (GapCause.INVALID_SAMPLES, int(m[2]), f"WFDB invalid-sample code {m[1]}{m[3]}")),
    (re.compile(rf"csv: (left|right) cells empty \({_N} row\(s\)\)"),
     lambda m: (GapCause.NO_DATA, int(m[2]), f"csv: {m[1]} cells empty")),
    (re.compile(rf"vendor export: (left|right) insole had no data \({_N} row\(s\) empty\)"),
     lambda m: (GapCause.NO_DATA, int(m[2]), f"vendor export: {m[1]} insole had no data")),
    (re.compile(rf"vendor export: {_N} row\(s\) missing"),
     lambda m: (GapCause.MISSING_ROWS, int(m[1]), "vendor export: rows missing")),
]


def parse_v1_cause(text: str) -> tuple[GapCause, int, str]:
    """Cause code, frame count and message of a version-1 ``gap_causes`` text.

    Unrecognised text becomes ``(GapCause.OTHER, -1, text)``: nothing is lost, nothing is guessed.
    """
    text = text.strip()
    for pattern, build in _V1_FORMS:
        if m := pattern.fullmatch(text):
            return build(m)
    return GapCause.OTHER, -1, text


def gaps_from_v1(intervals_s: np.ndarray, causes: Sequence[str]) -> list[Gap]:
    """Gap records of a version-1 foot: ``gaps`` (n, 2) start/end seconds and the ``gap_causes`` texts.

    A gap without a cause text (a malformed file) becomes ``other`` with an empty message.
    """
    intervals_s = np.asarray(intervals_s, np.float64).reshape(-1, 2)
    out = []
    for k, (start, end) in enumerate(intervals_s):
        cause, n, message = parse_v1_cause(causes[k]) if k < len(causes) else (GapCause.OTHER, -1, "")
        out.append(Gap(float(start), float(end), n, cause, message))
    return out
