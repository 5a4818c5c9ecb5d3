"""Version-1 files still open: gaps and layout geometry migrate in memory; files are never rewritten in place."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from legacy_v1 import V1_CAUSES, write_v1_session

from insole.calibration import fit_calibration
from insole.frames import FrameBatch
from insole.layouts import SensorLayout, builtin_layout
from insole.provenance import file_sha256
from insole.recorder.frame_accounting import FrameTrack, SessionZero
from insole.session import (
    Gap,
    GapCause,
    SessionMetadata,
    SessionWriter,
    open_session,
    parse_v1_cause,
    read_session,
    write_recalibrated_copy,
)


def test_v1_file_opens_with_every_prose_cause_migrated(tmp_path):
    path = tmp_path / "v1.h5"
    pressure = write_v1_session(path)
    s = read_session(path)
    assert s.attrs["format_version"] == 1 and s.metadata.subject_id == "V1"
    for side, foot in s.feet.items():
        np.testing.assert_array_equal(foot.pressure, pressure[side])
        expected = [Gap(k, k + 0.05, n, GapCause(code), message) for k, (_, code, n, message) in enumerate(V1_CAUSES)]
        assert foot.gaps == expected
        assert foot.attrs["device_serial_number"] == "SN-V1"
    with open_session(path) as reader:
        assert reader.format_version == 1
        assert reader.foot_info("left").n_gaps == len(V1_CAUSES)


@pytest.mark.parametrize("text, code, n_frames, message", V1_CAUSES)
def test_parse_v1_cause(text, code, n_frames, message):
    assert parse_v1_cause(text) == (GapCause(code), n_frames, message)


def test_v1_file_is_never_rewritten(tmp_path):
    path = tmp_path / "v1.h5"
    write_v1_session(path)
    before = file_sha256(path), path.stat().st_mtime_ns
    with open_session(path) as reader:
        for side in reader.sides:
            reader.foot_info(side)
            reader.gaps(side)
            reader.load_foot(side)
    read_session(path)
    assert (file_sha256(path), path.stat().st_mtime_ns) == before


@pytest.mark.parametrize(
    "layout_id, geometry",
    [("generic-16", "generic"), ("generic-8", "generic"), ("unknown-4", "unknown"), ("gaitpdb-8", "specified")],
)
def test_v1_layout_geometry_is_derived_from_the_layout_id(tmp_path, layout_id, geometry):
    base = builtin_layout(8)
    layout = SensorLayout(layout_id, base.x_mm, base.y_mm, base.area_mm2, base.foot_length_mm)
    path = tmp_path / "v1.h5"
    write_v1_session(path, layout=layout, causes=())
    foot = read_session(path).feet["left"]
    assert foot.layout.geometry == geometry and foot.attrs["layout_geometry"] == geometry
    assert foot.gaps == []


def test_v1_gap_without_a_cause_text_is_other(tmp_path):
    path = tmp_path / "v1.h5"
    write_v1_session(path, causes=("sequence gap: 3 frames", "buffer overflow: 2 frames"), sides=("left",))
    with h5py.File(path, "r+") as f:
        f["left/gap_causes"].resize(1, axis=0)
    assert read_session(path).feet["left"].gaps == [
        Gap(0.0, 0.05, 3, GapCause.SEQUENCE_GAP), Gap(1.0, 1.05, -1, GapCause.OTHER, "")
    ]


def _batch(seq, host_offset=50.0, dev_s=None):
    seq = np.asarray(seq, np.int64)
    dev_s = seq / 100.0 if dev_s is None else np.asarray(dev_s, float)
    return FrameBatch(side="left", sequence=(seq % 2**32).astype(np.uint32),
                      device_time_us=np.round(dev_s * 1e6).astype(np.uint64), host_time_s=dev_s + host_offset,
                      pressure=np.zeros((len(seq), 4), np.float32))


def test_v1_recorder_texts_migrate_to_the_records_the_recorder_writes_now():
    """The prose insole 0.1's recorder wrote for each case parses into the Gap today's recorder produces."""
    tr = FrameTrack(100.0, SessionZero())
    tr.accept(_batch(range(100)))
    gaps = tr.accept(_batch(range(113, 120))).gaps  # sequence gap of 13
    tr.note_outage(50.0 + 1.3, 50.0 + 1.8, "link lost")
    gaps += tr.accept(_batch(range(170, 180))).gaps  # outage of 50
    tr.note_overflow(_batch(range(180, 190)))
    gaps += tr.accept(_batch(range(190, 200))).gaps  # overflow of 10
    tr.note_lost("went silent")
    gaps += tr.final_gaps(session_end_s=30.0)
    v1_texts = [f"sequence gap: {gaps[0].n_frames} frames", f"outage (link lost): {gaps[1].n_frames} frames",
                f"buffer overflow: {gaps[2].n_frames} frames", "device lost (went silent)"]
    assert [g.n_frames for g in gaps] == [13, 50, 10, -1]
    assert [(g.cause, g.n_frames, g.message) for g in gaps] == [parse_v1_cause(t) for t in v1_texts]
    restart = FrameTrack(100.0, SessionZero())
    restart.accept(_batch(range(500), dev_s=np.arange(500) / 100.0 + 100.0, host_offset=0.0))
    g = restart.accept(_batch(range(100), dev_s=np.arange(100) / 100.0 + 0.1, host_offset=105.9)).gaps[0]
    old = f"device restarted (sequence reset): ~{g.n_frames} frames"
    assert (g.cause, g.n_frames, g.message) == parse_v1_cause(old)


def test_unknown_v2_cause_code_is_kept_as_other(tmp_path):
    path = tmp_path / "s.h5"
    with SessionWriter(path, SessionMetadata()) as w:
        w.add_foot("left", builtin_layout(8), units="raw", sampling_rate_hz=100)
        w.append("left", np.arange(5) / 100, np.ones((5, 8)))
        w.add_gap("left", Gap(0.01, 0.02, 2, GapCause.SEQUENCE_GAP, "x"))
    with h5py.File(path, "r+") as f:
        f["left/gaps/cause"][0] = "teleported"
    (gap,) = read_session(path).feet["left"].gaps
    assert gap.cause is GapCause.OTHER and gap.n_frames == 2 and "'teleported'" in gap.message and "x" in gap.message


def test_recalibrating_a_v1_session_writes_a_v2_copy_and_leaves_the_source(tmp_path):
    src = tmp_path / "v1.h5"
    write_v1_session(src, units="raw", causes=("sequence gap: 13 frames", "device lost (went silent)"))
    digest = file_sha256(src)
    counts = np.array([[0.0] * 16, [100.0] * 16, [200.0] * 16, [400.0] * 16])
    cal = fit_calibration([(load, np.tile(row, (5, 1))) for load, row in zip((0, 50, 100, 200), counts, strict=True)])
    out = write_recalibrated_copy(src, tmp_path / "kpa.h5", {"left": cal}, calibration_source="test.json")
    assert file_sha256(src) == digest
    before, after = read_session(src), read_session(out)
    assert after.attrs["format_version"] == 2 and after.attrs["upgraded_from_format_version"] == 1
    for side in ("left", "right"):
        assert after.feet[side].gaps == before.feet[side].gaps
        assert after.feet[side].gaps[0] == Gap(0.0, 0.05, 13, GapCause.SEQUENCE_GAP)
        assert after.feet[side].attrs["layout_geometry"] == "generic"
    assert after.feet["left"].units == "kPa" and after.feet["right"].units == "raw"
    np.testing.assert_allclose(after.feet["left"].pressure, cal.apply(before.feet["left"].pressure), rtol=1e-5,
                               atol=1e-3)
    with open_session(out) as reader:
        info = reader.foot_info("left")
        assert info.has_raw and info.calibration is not None and info.calibration.source == "test.json"
        assert info.calibration.load().sha256() == cal.sha256() == info.calibration.sha256
        np.testing.assert_array_equal(reader.read("left", fields=("raw",)).raw, before.feet["left"].pressure)
