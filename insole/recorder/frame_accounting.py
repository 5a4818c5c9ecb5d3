"""Per-device frame accounting: duplicates, sequence gaps, device restarts, outages and overflows.

A :class:`FrameTrack` receives one insole's batches in arrival order and decides, for every frame, whether it is
new, a duplicate, or the first after a loss; it maps device time to the session clock through a
:class:`~insole.recorder.clock.ClockAligner` per *clock segment* (a device that restarts starts a new clock and a new
sequence), and returns the gaps to record as :class:`insole.session.Gap` records. It does no I/O, so it is tested
directly.

Gaps (cause code, ``n_frames``, ``message``):

``sequence_gap``
    frames missing by sequence number (lost on the link); exact count, empty message;
``outage``
    a sequence gap that overlaps a disconnection reported by the transport; exact count, the transport's message;
``buffer_overflow``
    frames the host received but had to drop because the writer fell behind; exact count;
``device_restart``
    the device clock went back (with the sequence, or against a forward sequence step); the count is estimated
    from the time gap. A restart during an outage keeps both facts: the cause is ``device_restart`` and the
    message ends with ``; during outage (MESSAGE)`` (its frames count as ``frames_lost_restart``, not as outage frames);
``device_lost``
    a disconnection that never recovered, from the last frame to the end of the session; ``n_frames`` -1
    (unknown: the device may have stopped sampling), the message is the reason.

The known counts add up: the sum of ``n_frames`` over every gap with a count equals :attr:`FrameTrack.lost_frames`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from insole.frames import FrameBatch
from insole.recorder.clock import ClockAligner, ClockFit
from insole.session.gaps import OVERFLOW_MESSAGE, RESTART_MESSAGE, Gap, GapCause

#: A backward jump of the device clock larger than this (with a backward sequence) is a device restart.
RESTART_BACKWARD_S = 0.5
_WRAP = 2**32


@dataclass
class SessionZero:
    """Host monotonic time of session time 0 (set by the first frame of any device)."""

    host_s: float | None = None


@dataclass
class Outage:
    """A host-time interval without data, reported by the transport."""

    start_host_s: float
    end_host_s: float
    message: str
    matched: bool = False


@dataclass
class ClockSegment:
    """Frames ``[start_frame, start_frame + n_frames)`` share one device clock and one fit."""

    start_frame: int
    aligner: ClockAligner = field(default_factory=ClockAligner)
    n_frames: int = 0


@dataclass
class Accepted:
    """What to write for one incoming batch."""

    batch: FrameBatch
    time_s: np.ndarray
    gaps: list[Gap]


class FrameTrack:
    """Frame accounting for one device.

    Parameters
    ----------
    sampling_rate_hz : float
        Nominal rate, used to place gap edges one period from the frames around them.
    zero : SessionZero
        Shared by every device of the session.
    """

    def __init__(self, sampling_rate_hz: float, zero: SessionZero) -> None:
        self.period_s = 1.0 / sampling_rate_hz
        self.zero = zero
        self.segments: list[ClockSegment] = []
        self.frames = 0
        self.lost_sequence = 0
        self.lost_overflow = 0
        self.lost_outage = 0
        self.lost_restart = 0
        self.duplicates = 0
        self.restarts = 0
        self.outages: list[Outage] = []
        self._overflow: list[tuple[int, int]] = []  # sequence ranges dropped by the host
        self._last_seq: int | None = None
        self._last_dev_us: int | None = None
        self.last_time_s = -np.inf
        self.lost_message: str | None = None
        self._after_outage = False

    @property
    def lost_frames(self) -> int:
        """Every frame known to be lost, whatever the cause."""
        return self.lost_sequence + self.lost_overflow + self.lost_outage + self.lost_restart

    # ------------------------------------------------------------------ notices
    def note_overflow(self, batch: FrameBatch) -> None:
        """The host dropped ``batch`` (writer too slow); its frames will show as a gap with that cause."""
        if len(batch):
            self._overflow.append((int(batch.sequence[0]), int(batch.sequence[-1])))

    def note_lost(self, message: str) -> None:
        """The device is gone for good: its data ends at its last frame."""
        self.lost_message = message

    def note_outage(self, start_host_s: float, end_host_s: float, message: str) -> None:
        """The transport reports no data between these host times (disconnection, unplugged port)."""
        self.outages.append(Outage(start_host_s, end_host_s, message))
        self._after_outage = True

    # ------------------------------------------------------------------ frames
    def accept(self, batch: FrameBatch) -> Accepted | None:
        """Account for ``batch``; returns what to write, or None if every frame was a duplicate."""
        starts = self._restart_indices(batch.sequence.astype(np.int64), batch.device_time_us.astype(np.int64))
        if not starts:
            return self._accept_piece(batch, restart=False)
        bounds = [0, *starts, len(batch)] if starts[0] > 0 else [*starts, len(batch)]
        idx = np.arange(len(batch))
        result: Accepted | None = None
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            piece = self._accept_piece(_select(batch, (idx >= lo) & (idx < hi)), restart=lo in starts)
            result = _merge(result, piece)
        return result

    def _restart_indices(self, seq: np.ndarray, dev_us: np.ndarray) -> list[int]:
        """Frames at which the device restarted: the sequence and the device clock went back (by more than
        :data:`RESTART_BACKWARD_S`), or the sequence stepped forward while the clock fell behind that step by more
        than :data:`RESTART_BACKWARD_S`.

        The second case is a device that reboots soon after its last delivered frame and whose first frames after
        the reboot are lost: it comes back with a counter *ahead* of the old one (found by the stateful test of
        tests/test_recorder_accounting_model.py).
        """
        if self._last_seq is None:
            prev_seq = np.concatenate([[seq[0] - 1], seq[:-1]])
            prev_dev = np.concatenate([[dev_us[0] - 1], dev_us[:-1]])
        else:
            prev_seq = np.concatenate([[self._last_seq], seq[:-1]])
            prev_dev = np.concatenate([[self._last_dev_us], dev_us[:-1]])
        step = (seq - prev_seq) % _WRAP
        backwards = (step == 0) | (step >= _WRAP // 2)
        # a counter that went back with the clock, or a forward step the clock contradicts: the clock advanced
        # (or went back) by more than RESTART_BACKWARD_S less than the sequence step says
        signed = np.where(step >= _WRAP // 2, step - _WRAP, step)
        behind_us = (prev_dev - dev_us) + np.maximum(signed, 0) * self.period_s * 1e6
        restart = (backwards & (dev_us < prev_dev - RESTART_BACKWARD_S * 1e6)) | (
            ~backwards & (behind_us > RESTART_BACKWARD_S * 1e6))
        if self._after_outage and self._last_seq is not None:
            # right after a disconnection, a sequence that does not advance means the device started over,
            # even if its new counter happens to be close to the old one
            restart[0] = restart[0] or (backwards[0] and dev_us[0] <= prev_dev[0])
        self._after_outage = False
        return [int(i) for i in np.flatnonzero(restart)]

    def _accept_piece(self, batch: FrameBatch, *, restart: bool) -> Accepted | None:
        if restart or not self.segments:
            if restart and self.segments:
                self.restarts += 1
                self._last_seq = None
                self._last_dev_us = None
            self.segments.append(ClockSegment(start_frame=self.frames))
        seq = batch.sequence.astype(np.int64)
        # drop duplicates and stale frames (sequence numbers wrap at 2**32)
        last = self._last_seq
        prev = np.concatenate([[last if last is not None else seq[0] - 1], seq[:-1]])
        step = (seq - prev) % _WRAP
        keep = (step > 0) & (step < _WRAP // 2)
        if not keep.all():
            # a run of stale frames inside one batch: keep only frames beyond the running maximum
            rel = (seq - (last if last is not None else seq[0] - 1)) % _WRAP
            rel = np.where(rel >= _WRAP // 2, -1, rel)
            keep = rel > np.maximum.accumulate(np.concatenate([[0], rel[:-1]]))
            self.duplicates += int((~keep).sum())
            if not keep.any():
                return None
            batch = _select(batch, keep)
            seq = seq[keep]
            prev = np.concatenate([[last if last is not None else seq[0] - 1], seq[:-1]])
            step = (seq - prev) % _WRAP
        seg = self.segments[-1]
        seg.aligner.update(batch.device_time_us, batch.host_time_s)
        host = seg.aligner.host_time_s(batch.device_time_us)
        if self.zero.host_s is None:
            self.zero.host_s = float(host[0])
        time_s = _strictly_increasing(host - self.zero.host_s, self.last_time_s)
        gaps: list[Gap] = []
        if restart and np.isfinite(self.last_time_s):
            span = time_s[0] - self.last_time_s
            n_est = max(int(round(span / self.period_s)) - 1, 0)
            self.lost_restart += n_est
            start = self.last_time_s + self.period_s
            end = max(start, time_s[0] - self.period_s)
            outage = self._overlapping_outage(start, end)
            during = f"; during outage ({outage.message})" if outage is not None else ""
            gaps.append(Gap(start, end, n_est, GapCause.DEVICE_RESTART, RESTART_MESSAGE + during))
        for i in np.flatnonzero(step > 1):
            n = int(step[i] - 1)
            before = time_s[i - 1] if i > 0 else self.last_time_s
            start = before + self.period_s if np.isfinite(before) else time_s[i] - n * self.period_s
            end = max(start, time_s[i] - self.period_s)
            first_missing = int((prev[i] + 1) % _WRAP)
            gaps.append(self._classify(start, end, n, first_missing))
        self._last_seq = int(seq[-1])
        self._last_dev_us = int(batch.device_time_us[-1])
        self.frames += len(batch)
        seg.n_frames += len(batch)
        self.last_time_s = float(time_s[-1])
        return Accepted(batch, time_s, gaps)

    def _classify(self, start_s: float, end_s: float, n: int, first_missing_seq: int) -> Gap:
        for lo, hi in self._overflow:
            if (first_missing_seq - lo) % _WRAP <= (hi - lo) % _WRAP:
                self.lost_overflow += n
                return Gap(start_s, end_s, n, GapCause.BUFFER_OVERFLOW, OVERFLOW_MESSAGE)
        outage = self._overlapping_outage(start_s, end_s)
        if outage is not None:
            self.lost_outage += n
            return Gap(start_s, end_s, n, GapCause.OUTAGE, outage.message)
        self.lost_sequence += n
        return Gap(start_s, end_s, n, GapCause.SEQUENCE_GAP)

    def _overlapping_outage(self, start_s: float, end_s: float) -> Outage | None:
        """The first reported outage overlapping ``[start_s, end_s]`` (session time); marked as used."""
        zero = self.zero.host_s or 0.0
        for outage in self.outages:
            if (outage.start_host_s - zero <= end_s + self.period_s
                    and outage.end_host_s - zero >= start_s - self.period_s):
                outage.matched = True
                return outage
        return None

    def final_gaps(self, session_end_s: float) -> list[Gap]:
        """Gaps known only at the end: a device lost for good, from its last frame to the end of the session."""
        out: list[Gap] = []
        start = self.last_time_s + self.period_s
        if self.lost_message is not None and np.isfinite(start) and session_end_s > start:
            out.append(Gap(start, session_end_s, -1, GapCause.DEVICE_LOST, self.lost_message))
        return out

    def fits(self) -> list[tuple[ClockSegment, ClockFit]]:
        """Each clock segment with its current (final, at the end) fit."""
        return [(s, s.aligner.fit()) for s in self.segments if s.n_frames]


def _strictly_increasing(time_s: np.ndarray, floor: float, eps_s: float = 1e-6) -> np.ndarray:
    """Smallest upward adjustment making ``time_s`` strictly increasing and above ``floor`` (steps >= eps_s)."""
    ramp = np.arange(1, len(time_s) + 1) * eps_s
    return np.maximum.accumulate(np.maximum(time_s - ramp, floor)) + ramp


def _select(batch: FrameBatch, keep: np.ndarray) -> FrameBatch:
    return batch.select(keep)


def _merge(head: Accepted | None, tail: Accepted | None) -> Accepted | None:
    if head is None:
        return tail
    if tail is None:
        return head
    merged = FrameBatch.concatenate([head.batch, tail.batch])
    return Accepted(merged, np.concatenate([head.time_s, tail.time_s]), head.gaps + tail.gaps)
