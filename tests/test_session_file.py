"""Round trips and validation of the session file format (real HDF5 files)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from insole.errors import SessionExistsError, SessionFileError
from insole.layouts import builtin_layout
from insole.session import Gap, GapCause, SessionMetadata, SessionWriter, open_session, read_session


def _write(path, n=500, sides=("left", "right"), metadata=None):
    layout = builtin_layout(16)
    rng = np.random.default_rng(0)
    data = {}
    with SessionWriter(path, metadata or SessionMetadata(subject_id="S01", body_mass_kg=71.5)) as w:
        for side in sides:
            w.add_foot(side, layout, units="kPa", sampling_rate_hz=100, device={"model": "test"})
            t = np.arange(n) / 100.0
            p = rng.uniform(0, 300, (n, 16)).astype(np.float32)
            seq = np.arange(n, dtype=np.uint32)
            # two appends to exercise resizing
            w.append(side, t[:200], p[:200], sequence=seq[:200], device_time_us=(t[:200] * 1e6).astype(np.uint64))
            w.append(side, t[200:], p[200:], sequence=seq[200:], device_time_us=(t[200:] * 1e6).astype(np.uint64))
            w.add_gap(side, Gap(1.0, 1.2, 19, GapCause.SEQUENCE_GAP))
            data[side] = (t, p)
        w.write_truth({"left": {"ic_s": np.array([0.1, 1.2]), "to_s": np.array([0.7, 1.8])}}, {"name": "neutral"})
    return data


def test_round_trip_keeps_every_sample(tmp_path):
    path = tmp_path / "s.h5"
    data = _write(path)
    s = read_session(path)
    assert s.attrs["format"] == "insole-session" and s.attrs["format_version"] == 2 and s.attrs["complete"]
    assert s.metadata.subject_id == "S01" and s.metadata.body_mass_kg == 71.5
    assert s.metadata.shoe_size_eu is None and "shoe_size_eu" in s.metadata.missing()
    for side, (t, p) in data.items():
        foot = s.feet[side]
        np.testing.assert_array_equal(foot.time_s, t)
        np.testing.assert_array_equal(foot.pressure, p)
        np.testing.assert_array_equal(foot.sequence, np.arange(len(t)))
        assert foot.units == "kPa" and foot.sampling_rate_hz == 100
        assert foot.layout.n_sensors == 16 and foot.attrs["device_model"] == "test"
        assert foot.gaps == [Gap(1.0, 1.2, 19, GapCause.SEQUENCE_GAP, "")]
        assert foot.layout.geometry == "generic" and foot.attrs["layout_geometry"] == "generic"
    np.testing.assert_array_equal(s.truth["left"]["ic_s"], [0.1, 1.2])
    assert s.truth_params["name"] == "neutral"


def test_datasets_are_chunked_and_compressed(tmp_path):
    path = tmp_path / "s.h5"
    _write(path)
    with h5py.File(path) as f:
        for name in ("left/pressure", "left/time_s"):
            assert f[name].chunks is not None and f[name].compression == "gzip"
            assert f[name].maxshape[0] is None


def test_one_foot_only_is_valid(tmp_path):
    path = tmp_path / "s.h5"
    _write(path, sides=("right",))
    assert list(read_session(path).feet) == ["right"]


def test_missing_metadata_is_stated_as_missing(tmp_path):
    path = tmp_path / "s.h5"
    _write(path, metadata=SessionMetadata())
    with h5py.File(path) as f:
        assert np.isnan(f["session"].attrs["body_mass_kg"]) and f["session"].attrs["subject_id"] == ""
    assert set(read_session(path).metadata.missing()) == {
        "subject_id", "body_mass_kg", "foot_length_mm", "shoe_size_eu", "condition", "notes"
    }


def test_existing_file_is_refused_and_kept(tmp_path):
    path = tmp_path / "s.h5"
    path.write_bytes(b"precious")
    with pytest.raises(SessionExistsError, match="already exists"):
        SessionWriter(path)
    assert path.read_bytes() == b"precious"


def test_aborted_atomic_writer_leaves_nothing(tmp_path):
    path = tmp_path / "s.h5"
    with pytest.raises(RuntimeError):
        with SessionWriter(path) as w:
            w.add_foot("left", builtin_layout(8), units="raw", sampling_rate_hz=100)
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_append_rejects_time_going_backwards(tmp_path):
    with SessionWriter(tmp_path / "s.h5") as w:
        w.add_foot("left", builtin_layout(8), units="raw", sampling_rate_hz=100)
        w.append("left", np.array([0.0, 0.01]), np.zeros((2, 8)))
        with pytest.raises(SessionFileError, match="strictly increasing"):
            w.append("left", np.array([0.01, 0.02]), np.zeros((2, 8)))
        with pytest.raises(SessionFileError, match="shape"):
            w.append("left", np.array([0.5]), np.zeros((1, 7)))


def _corrupt(path, action):
    with h5py.File(path, "r+") as f:
        action(f)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda f: f.attrs.__delitem__("format"), "not an insole session"),
        (lambda f: f.attrs.__setitem__("format_version", 7), "format_version 7 is not supported"),
        (lambda f: f.__delitem__("session"), "missing group /session"),
        (lambda f: (f.__delitem__("left"), f.__delitem__("right")), "neither /left nor /right"),
        (lambda f: f["left"].__delitem__("time_s"), "missing dataset /left/time_s"),
        (lambda f: (f["left"].__delitem__("time_s"), f["left"].create_dataset("time_s", data=np.arange(3.0))),
         r"/left/time_s has shape \(3,\)"),
        (lambda f: f["left/time_s"].__setitem__(10, 0.0), "not strictly increasing at frame 10"),
        (lambda f: f["left/time_s"].__setitem__(5, np.nan), "not finite at frame 5"),
        (lambda f: f["left/pressure"].attrs.__setitem__("units", "psi"), "units 'psi' unknown"),
        (lambda f: f["left"].attrs.__setitem__("sampling_rate_hz", -1.0),
         "sampling_rate_hz -1 Hz is outside the plausible range"),
        (lambda f: f["left/sensors"].__delitem__("x_mm"), "missing dataset /left/sensors/x_mm"),
        (lambda f: f.__setitem__("evil", h5py.ExternalLink("/etc/passwd", "/")), "external link"),
        (lambda f: f["left/gaps"].__delitem__("cause"), "missing dataset /left/gaps/cause"),
        (lambda f: f["left/gaps/n_frames"].resize(3, axis=0), "columns differ in length"),
        (lambda f: (f["left"].__delitem__("gaps"), f["left"].create_dataset("gaps", data=np.zeros((1, 2)))),
         "format_version 2 stores gaps as a group"),
        (lambda f: f["left"].attrs.__setitem__("layout_geometry", "guessed"), "layout_geometry 'guessed' unknown"),
    ],
)
def test_validation_names_the_problem(tmp_path, action, message):
    path = tmp_path / "s.h5"
    _write(path)
    _corrupt(path, action)
    with pytest.raises(SessionFileError, match=message) as err:
        open_session(path)
    assert str(path) in str(err.value)


def test_non_hdf5_truncated_and_missing_files(tmp_path):
    text = tmp_path / "notes.h5"
    text.write_text("hello")
    with pytest.raises(SessionFileError, match="not an HDF5 file"):
        open_session(text)
    good = tmp_path / "good.h5"
    _write(good, n=5000)
    truncated = tmp_path / "trunc.h5"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(SessionFileError):
        read_session(truncated)
    with pytest.raises(SessionFileError, match="does not exist"):
        open_session(tmp_path / "nope.h5")


def test_virtual_dataset_is_refused(tmp_path):
    path = tmp_path / "s.h5"
    _write(path)
    src = tmp_path / "other.h5"
    with h5py.File(src, "w") as f:
        f["x"] = np.arange(10.0)
    layout = h5py.VirtualLayout(shape=(10,), dtype="f8")
    layout[:] = h5py.VirtualSource(str(src), "x", shape=(10,))
    with h5py.File(path, "r+") as f:
        f["left"].create_virtual_dataset("extra", layout)
    with pytest.raises(SessionFileError, match="virtual dataset"):
        open_session(path)


def test_implausible_sensor_geometry_is_a_session_file_error(tmp_path):
    path = tmp_path / "s.h5"
    _write(path)
    _corrupt(path, lambda f: f["left/sensors/area_mm2"].__setitem__(0, 0.0))
    with pytest.raises(SessionFileError, match=r"/left/sensors: .*area_mm2 must be positive") as err:
        read_session(path)
    assert str(path) in str(err.value)


def test_recorder_only_operations_are_not_on_the_plain_writer(tmp_path):
    from insole.session import RecordingWriter

    recorder_only = ("start_appending", "end_appending", "rewrite_time", "shift_gaps", "device_time_us_at",
                     "last_time_s")
    assert not [name for name in recorder_only if hasattr(SessionWriter, name)]
    assert all(callable(getattr(RecordingWriter, name)) for name in recorder_only)
    path = tmp_path / "r.h5"
    with RecordingWriter(path, SessionMetadata(), atomic=False, crash_safe=True) as w:
        w.add_foot("left", builtin_layout(8), units="raw", sampling_rate_hz=100)
        w.start_appending()
        w.append("left", np.arange(5) / 100, np.ones((5, 8)), sequence=np.arange(5), device_time_us=np.arange(5) * 10)
        w.add_gap("left", Gap(0.01, 0.02, 1, GapCause.SEQUENCE_GAP))
        w.end_appending()
        w.rewrite_time("left", lambda dev_us: dev_us * 1e-3 + 1.0)
        w.shift_gaps("left", 1.0)
        assert w.last_time_s("left") == pytest.approx(1.04)
    foot = read_session(path).feet["left"]
    np.testing.assert_allclose(foot.time_s, 1.0 + np.arange(5) * 0.01, atol=1e-5)
    assert foot.gaps == [Gap(1.01, 1.02, 1, GapCause.SEQUENCE_GAP)]


def test_reader_reads_blocks_of_the_fields_asked_for(tmp_path):
    path = tmp_path / "s.h5"
    data = _write(path, n=50, sides=("left",))
    with open_session(path) as sf:
        info = sf.foot_info("left")
        assert (info.n_frames, info.n_sensors, info.has_sequence, info.has_raw) == (50, 16, True, False)
        assert info.device == {"model": "test"} and info.n_gaps == 1 and info.calibration is None
        block = sf.read("left", 45, 99, fields=("time_s", "saturated"))
        assert block.start == 45 and block.n_frames == 5 and block.pressure is None
        np.testing.assert_array_equal(block.time_s, data["left"][0][45:])
        assert block.saturated.dtype == bool
        assert sf.read("left", 60, 70).n_frames == 0
        blocks = list(sf.iter_blocks("left", 16, fields=("pressure",)))
        assert [b.start for b in blocks] == [0, 16, 32, 48]
        np.testing.assert_array_equal(np.concatenate([b.pressure for b in blocks]), data["left"][1])
        assert sf.time_span_s("left") == (0.0, 0.49)
        with pytest.raises(ValueError, match="fields must be among"):
            sf.read("left", fields=("force",))
        with pytest.raises(SessionFileError, match="has no /right group"):
            sf.foot_info("right")
