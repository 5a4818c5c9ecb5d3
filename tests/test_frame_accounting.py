"""Frame accounting without I/O: duplicates, wrap-around, gaps and their causes, restarts."""

from __future__ import annotations

import numpy as np

from insole.frames import FrameBatch
from insole.recorder.frame_accounting import FrameTrack, SessionZero
from insole.session import Gap, GapCause

RATE = 100.0


def batch(seq, dev_s=None, host_offset=50.0):
    seq = np.asarray(seq, np.int64)
    dev_s = seq / RATE if dev_s is None else np.asarray(dev_s, float)
    return FrameBatch(
        side="left",
        sequence=(seq % 2**32).astype(np.uint32),
        device_time_us=np.round(dev_s * 1e6).astype(np.uint64),
        host_time_s=dev_s + host_offset + 0.001,
        pressure=np.zeros((len(seq), 4), np.float32),
    )


def test_contiguous_frames_have_no_gap_and_session_time_from_zero():
    tr = FrameTrack(RATE, SessionZero())
    acc = tr.accept(batch(range(100)))
    assert acc.gaps == [] and tr.lost_frames == 0
    np.testing.assert_allclose(acc.time_s, np.arange(100) / RATE, atol=1e-5)


def test_sequence_gap_counts_exactly_the_missing_frames():
    tr = FrameTrack(RATE, SessionZero())
    tr.accept(batch(range(0, 50)))
    acc = tr.accept(batch(list(range(50, 60)) + list(range(73, 80))))
    assert [g.n_frames for g in acc.gaps] == [13]
    g = acc.gaps[0]
    assert g.cause is GapCause.SEQUENCE_GAP and g.n_frames == 13 and g.message == ""
    assert abs(g.start_s - 0.60) < 1e-3 and abs(g.end_s - 0.72) < 1e-3
    assert tr.lost_frames == tr.lost_sequence == 13 and tr.frames == 67


def test_duplicates_and_stale_frames_are_dropped_and_counted():
    tr = FrameTrack(RATE, SessionZero())
    tr.accept(batch(range(10)))
    acc = tr.accept(batch([8, 9, 10, 10, 11, 5, 12]))
    np.testing.assert_array_equal(acc.batch.sequence, [10, 11, 12])
    assert tr.duplicates == 4 and tr.lost_frames == 0
    assert tr.accept(batch([11, 12])) is None


def test_sequence_wraps_at_2_32():
    tr = FrameTrack(RATE, SessionZero())
    start = 2**32 - 5
    tr.accept(batch(range(start, start + 3), dev_s=np.arange(3) / RATE + 10))
    acc = tr.accept(batch(range(start + 3, start + 12), dev_s=np.arange(3, 12) / RATE + 10))
    assert acc.gaps == [] and tr.frames == 12 and tr.duplicates == 0


def test_outage_reported_by_transport_labels_the_gap():
    zero = SessionZero()
    tr = FrameTrack(RATE, zero)
    tr.accept(batch(range(100)))
    tr.note_outage(50.0 + 1.0, 50.0 + 1.5, "link lost")
    acc = tr.accept(batch(range(150, 200)))
    assert isinstance(acc.gaps[0], Gap)
    assert (acc.gaps[0].cause, acc.gaps[0].n_frames, acc.gaps[0].message) == (GapCause.OUTAGE, 50, "link lost")
    assert tr.lost_outage == 50 and tr.lost_sequence == 0


def test_overflow_is_attributed_to_the_host():
    tr = FrameTrack(RATE, SessionZero())
    tr.accept(batch(range(10)))
    tr.note_overflow(batch(range(10, 20)))
    acc = tr.accept(batch(range(20, 30)))
    assert acc.gaps[0].cause is GapCause.BUFFER_OVERFLOW and acc.gaps[0].n_frames == 10 and tr.lost_overflow == 10


def test_device_restart_starts_a_new_clock_segment():
    tr = FrameTrack(RATE, SessionZero())
    tr.accept(batch(range(500), dev_s=np.arange(500) / RATE + 100.0, host_offset=0.0))  # host 100..105 s
    # the device reboots at host 106 s: sequence from 0, device clock from 0.1 s
    acc = tr.accept(batch(range(0, 100), dev_s=np.arange(100) / RATE + 0.1, host_offset=105.9))
    assert tr.restarts == 1 and len(tr.segments) == 2
    assert acc.gaps[0].cause is GapCause.DEVICE_RESTART and 90 <= acc.gaps[0].n_frames <= 110
    assert acc.gaps[0].n_frames == tr.lost_restart == tr.lost_frames and "estimated" in acc.gaps[0].message
    assert np.all(np.diff(acc.time_s) > 0) and acc.time_s[0] > 5.9


def test_lost_device_gap_runs_to_the_end():
    zero = SessionZero()
    tr = FrameTrack(RATE, zero)
    tr.accept(batch(range(100)))
    tr.note_lost("went silent")
    gaps = tr.final_gaps(session_end_s=30.0)
    assert len(gaps) == 1 and gaps[0].end_s == 30.0
    assert (gaps[0].cause, gaps[0].n_frames, gaps[0].message) == (GapCause.DEVICE_LOST, -1, "went silent")


def test_restart_during_an_outage_is_recognised_even_when_the_new_counter_overlaps():
    """A device power-cycled while unplugged may come back with a counter near the old one."""
    tr = FrameTrack(RATE, SessionZero())
    tr.accept(batch(range(100, 163), host_offset=0.0))  # seq 100..162, host ~1.0..1.62 s
    tr.note_outage(1.63, 2.4, "port gone")
    acc = tr.accept(batch(range(161, 170), host_offset=0.79))  # restarted: 161.. again, later in host time
    assert tr.restarts == 1 and tr.duplicates == 0 and len(acc.batch) == 9
    # both facts kept: the cause is the restart, the outage it happened in is in the message
    assert acc.gaps[0].cause is GapCause.DEVICE_RESTART and acc.gaps[0].n_frames == tr.lost_restart
    assert acc.gaps[0].message.endswith("; during outage (port gone)")
