"""The IMU block of the session format: written and read only through the session API, validated, compatible."""

from __future__ import annotations

import math
from pathlib import Path

import h5py
import numpy as np
import pytest

from insole.errors import SessionFileError
from insole.imu import FOOT_AXES, ImuInfo, ImuSamples, axes_matrix
from insole.layouts import builtin_layout
from insole.session import SessionMetadata, SessionWriter, open_session, read_session
from insole.session.recording_writer import RecordingWriter

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"
INFO = ImuInfo(sampling_rate_hz=100.0, acc_range_m_s2=16 * 9.80665, gyr_range_rad_s=math.radians(2000),
               frame="foot", calibrated=False, description="test IMU")


def _write(path: Path, n: int = 50, *, imu_rows: int | None = None, frame_aligned: bool = True) -> np.ndarray:
    t = np.arange(n) / 100.0
    with SessionWriter(path, SessionMetadata(subject_id="S1"), source="simulated") as w:
        w.add_foot("left", builtin_layout(8), units="kPa", sampling_rate_hz=100)
        w.add_foot("right", builtin_layout(8), units="kPa", sampling_rate_hz=100)
        for side in ("left", "right"):
            w.append(side, t, np.ones((n, 8)))
        w.add_imu("left", INFO, frame_aligned=frame_aligned)
        m = n if imu_rows is None else imu_rows
        acc = np.column_stack([np.arange(m), np.zeros(m), np.full(m, 9.81)])
        gyr = np.column_stack([np.zeros(m), -np.arange(m) / 10.0, np.zeros(m)])
        w.append_imu("left", t[:m] if m <= n else np.arange(m) / 100.0, acc, gyr)
    return t


def test_imu_block_round_trip_with_units_axes_and_ranges(tmp_path):
    path = tmp_path / "s.h5"
    t = _write(path)
    with open_session(path) as r:
        info = r.foot_info("left")
        assert info.has_imu and info.n_imu_samples == 50 and info.imu == INFO
        assert not r.foot_info("right").has_imu and r.read_imu("right") is None
        imu = r.read_imu("left", 10, 20)
        assert imu.start == 10 and imu.n_samples == 10 and imu.frame_aligned and imu.frame == "foot"
        np.testing.assert_array_equal(imu.time_s, t[10:20])
        np.testing.assert_array_equal(imu.acc_m_s2[:, 0], np.arange(10, 20))
        assert imu.acc_m_s2.dtype == np.float32 and imu.gyr_rad_s.shape == (10, 3)
        assert imu.acc_range_m_s2 == pytest.approx(16 * 9.80665) and imu.gyr_range_rad_s == pytest.approx(
            math.radians(2000))
        assert r.extras() == []  # the block is part of the format, not an extra
    s = read_session(path)
    assert s.feet["left"].imu is not None and s.feet["left"].imu.n_samples == 50 and s.feet["right"].imu is None
    with h5py.File(path) as f:  # what the format documents, with units on the datasets
        b = f["left/imu"]
        assert b["acc_m_s2"].attrs["units"] == "m/s2" and b["gyr_rad_s"].attrs["units"] == "rad/s"
        assert b.attrs["axes"] == FOOT_AXES and b.attrs["calibrated"] == "no" and b.attrs["frame_aligned"]


def test_writer_refuses_what_the_format_forbids(tmp_path):
    path = tmp_path / "s.h5"
    with SessionWriter(path, SessionMetadata()) as w:
        w.add_foot("left", builtin_layout(8), units="kPa", sampling_rate_hz=100)
        with pytest.raises(SessionFileError, match="call add_imu first"):
            w.append_imu("left", np.zeros(1), np.zeros((1, 3)), np.zeros((1, 3)))
        w.add_imu("left", INFO)
        with pytest.raises(SessionFileError, match="already added"):
            w.add_imu("left", INFO)
        with pytest.raises(SessionFileError, match=r"must be \(2, 3\)"):
            w.append_imu("left", np.array([0.0, 0.01]), np.zeros((2, 6)), np.zeros((2, 3)))
        w.append_imu("left", np.array([0.0, 0.01]), np.zeros((2, 3)), np.zeros((2, 3)))
        with pytest.raises(SessionFileError, match="not strictly increasing"):
            w.append_imu("left", np.array([0.01]), np.zeros((1, 3)), np.zeros((1, 3)))
        w.add_foot("right", builtin_layout(8), units="kPa", sampling_rate_hz=100)
        with pytest.raises(SessionFileError, match="takes an ImuInfo"):
            w.add_imu("right", {"sampling_rate_hz": 100})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="frame"):
        ImuInfo(sampling_rate_hz=100, frame="mirrored")


@pytest.mark.parametrize(("damage", "message"), [
    (lambda b: b.attrs.__setitem__("frame", "left-handed"), "attribute frame"),
    (lambda b: (b.__delitem__("gyr_rad_s"), b.create_dataset("gyr_rad_s", data=np.zeros((50, 2)))),
     r"gyr_rad_s has shape \(50, 2\)"),
    (lambda b: b["time_s"].__setitem__(slice(5, 6), 0.0), "not finite and strictly increasing"),
    (lambda b: b.attrs.__setitem__("sampling_rate_hz", 0.0), "sampling_rate_hz"),
    (lambda b: b.__delitem__("acc_m_s2"), "missing dataset /left/imu/acc_m_s2"),
])
def test_validation_names_what_is_wrong_with_the_block(tmp_path, damage, message):
    path = tmp_path / "s.h5"
    _write(path)
    with h5py.File(path, "r+") as f:
        damage(f["left/imu"])
    with pytest.raises(SessionFileError, match=message):
        open_session(path)


def test_frame_aligned_block_must_have_one_row_per_frame(tmp_path):
    path = tmp_path / "s.h5"
    _write(path, imu_rows=40)
    with pytest.raises(SessionFileError, match="frame_aligned but has 40 rows for 50 frames"):
        open_session(path)
    path2 = tmp_path / "own-clock.h5"
    _write(path2, imu_rows=40, frame_aligned=False)  # an IMU with its own time base may have any length
    with open_session(path2) as r:
        assert r.read_imu("left").n_samples == 40 and not r.read_imu("left").frame_aligned


def test_sessions_without_imu_and_older_moticon_imports_stay_valid():
    """A version-2 file written before the IMU block (the Moticon sample, with its (n, 6) extra in g and deg/s)
    opens unchanged; the reader presents the extra as an IMU block in m/s² and rad/s."""
    path = SAMPLES / "moticon" / "230927_102114.h5"
    with h5py.File(path) as f:
        legacy = f["right/imu"][()]
        assert isinstance(f["right/imu"], h5py.Dataset) and legacy.shape[1] == 6
    with open_session(path) as r:
        assert "right/imu" in r.extras()  # still readable as the extra it is
        info = r.foot_info("right")
        assert info.has_imu and info.imu.frame == "foot" and "migrated" in info.imu.description
        imu = r.read_imu("right")
        np.testing.assert_array_equal(imu.time_s, r.read("right", fields=("time_s",)).time_s)
        np.testing.assert_allclose(imu.acc_m_s2, legacy[:, :3] * 9.80665, rtol=1e-6)
        np.testing.assert_allclose(imu.gyr_rad_s, np.radians(legacy[:, 3:]), rtol=1e-6)
    with open_session(SAMPLES / "simulated" / "neutral.h5") as r:
        assert all(not r.foot_info(s).has_imu for s in r.sides)


def test_recording_writer_re_times_a_frame_aligned_block_with_its_frames(tmp_path):
    path = tmp_path / "rec.h5"
    w = RecordingWriter(path, SessionMetadata(), crash_safe=True, atomic=False)
    w.add_foot("left", builtin_layout(8), units="kPa", sampling_rate_hz=100)
    w.add_imu("left", INFO, frame_aligned=True)
    w.start_appending()
    t = np.arange(30) / 100.0
    dev = (np.arange(30) * 10_000 + 5_000_000).astype(np.uint64)
    w.append("left", t, np.ones((30, 8)), sequence=np.arange(30), device_time_us=dev)
    w.append_imu("left", t, np.zeros((30, 3)), np.zeros((30, 3)))
    w.rewrite_time("left", lambda us: us.astype(np.float64) * 1e-6 * 1.0001 - 4.9)
    w.append("left", np.array([10.0]), np.ones((1, 8)), sequence=np.array([30]), device_time_us=dev[-1:] + 10_000)
    w.append_imu("left", np.array([10.0]), np.zeros((1, 3)), np.zeros((1, 3)))
    w.close()
    with open_session(path) as r:
        frames = r.read("left", fields=("time_s",)).time_s
        np.testing.assert_array_equal(r.read_imu("left").time_s, frames)
        assert frames[0] == pytest.approx(5.0 * 1.0001 - 4.9)


def test_imu_samples_and_axis_codes():
    a = ImuSamples(np.ones((2, 3)), np.zeros((2, 3)))
    joined = ImuSamples.concatenate([a, None], [2, 3])
    assert len(joined) == 5 and np.isnan(joined.acc_m_s2[2:]).all() and not np.isnan(joined.acc_m_s2[:2]).any()
    assert ImuSamples.concatenate([None, None], [1, 1]) is None
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        ImuSamples(np.ones((2, 6)), np.zeros((2, 3)))
    np.testing.assert_array_equal(axes_matrix((1, 2, 3)), np.eye(3))
    # sensor turned 90 degrees about z: foot x = sensor y, foot y = -sensor x
    np.testing.assert_array_equal(axes_matrix((2, -1, 3)) @ [1.0, 0.0, 0.0], [0.0, -1.0, 0.0])
    for bad in ((1, -2, 3), (2, 1, 3), (1, 1, 3), (0, 0, 0)):
        with pytest.raises(ValueError):
            axes_matrix(bad)


def test_insole_info_shows_the_imu(tmp_path):
    from insole.cli.info import describe_session

    path = tmp_path / "s.h5"
    _write(path)
    feet = describe_session(path)["feet"]
    assert feet["left"]["imu"]["samples"] == 50 and feet["left"]["imu"]["frame"] == "foot"
    assert "imu" not in feet["right"]
