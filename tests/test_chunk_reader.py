"""Parallel inflating of session chunks (insole.session.chunk_reader): the same arrays as HDF5, real HDF5 files."""

from __future__ import annotations

import multiprocessing
import zlib

import h5py
import numpy as np
import pytest

import insole.session.chunk_reader as chunk_reader
from insole.errors import ConfigurationError, SessionFileError
from insole.layouts import builtin_layout
from insole.session import SessionMetadata, SessionWriter, open_session
from insole.session.chunk_reader import chunked_rows
from insole.threads import worker_threads


def _session(path, n=70_000, cells=16):
    rng = np.random.default_rng(1)
    with SessionWriter(path, SessionMetadata(subject_id="C01")) as w:
        w.add_foot("left", builtin_layout(cells), units="kPa", sampling_rate_hz=100)
        t = np.arange(n) / 100.0
        p = np.round(rng.gamma(0.5, 80.0, (n, cells)), 1).astype(np.float32)  # zeros and repeats, as insoles give
        sat = (rng.uniform(size=n) < 0.01).astype(np.uint8)
        for a in range(0, n, 9_000):  # appends of a size that is not a multiple of the chunk
            w.append("left", t[a : a + 9_000], p[a : a + 9_000], sequence=np.arange(a, min(n, a + 9_000),
                     dtype=np.uint32), saturated=sat[a : a + 9_000].astype(bool))
    return path


SPANS = [(0, 1), (0, 1024), (1, 1025), (1023, 1025), (5_000, 40_000), (0, 70_000), (69_999, 70_000), (68_000, 70_000)]


@pytest.mark.parametrize("inflater", ["default", "zlib"])
def test_rows_are_those_hdf5_reads(tmp_path, monkeypatch, inflater):
    if inflater == "zlib":  # the standard library's inflate, used where there is no isal wheel
        monkeypatch.setattr(chunk_reader, "zlib", zlib)
    path = _session(tmp_path / "s.h5")
    with h5py.File(path, "r") as f:
        assert chunked_rows(f["left/saturated"], 0, 70_000) is None  # 4 KiB chunks: HDF5 reads them faster
        for name in ("pressure", "time_s", "sequence"):
            ds = f["left"][name]
            for lo, hi in SPANS:
                rows = chunked_rows(ds, lo, hi)
                assert rows is not None, name
                expected = ds[lo:hi]
                assert rows.dtype == expected.dtype and rows.shape == expected.shape
                assert rows.tobytes() == expected.tobytes(), (name, lo, hi)
            assert chunked_rows(ds, 10, 10) is None  # nothing to read: the caller's plain slice gives the empty rows


def test_one_thread_inflates_in_the_calling_thread(tmp_path, monkeypatch):
    monkeypatch.setenv("INSOLE_THREADS", "1")  # as in a batch worker, or on one core
    path = _session(tmp_path / "s.h5")
    with h5py.File(path, "r") as f:
        ds = f["left/pressure"]
        assert chunk_reader._get_pool() is None
        assert chunked_rows(ds, 0, 70_000).tobytes() == ds[()].tobytes()
        monkeypatch.setenv("INSOLE_THREADS", "3")
        assert chunk_reader._get_pool()._max_workers == 3  # a pool of the size asked for
        assert chunked_rows(ds, 0, 70_000).tobytes() == ds[()].tobytes()


class _NoPool:
    def submit(self, *args, **kwargs):
        raise AssertionError("a chunk was given to the pool inside inflate_in_calling_thread")


def test_a_thread_that_is_the_parallel_work_inflates_its_own_reads(tmp_path, monkeypatch):
    """Inside ``inflate_in_calling_thread`` (each foot's thread of a two-foot analysis) no chunk goes to the pool,
    the rows are the same, and the pool is used again after it (also after an error inside it)."""
    monkeypatch.setenv("INSOLE_THREADS", "2")
    monkeypatch.setattr(chunk_reader, "_get_pool", lambda: _NoPool())
    path = _session(tmp_path / "s.h5")
    with h5py.File(path, "r") as f:
        ds = f["left/pressure"]
        with chunk_reader.inflate_in_calling_thread():
            with chunk_reader.inflate_in_calling_thread():  # nested: still inline when the inner one ends
                pass
            assert chunked_rows(ds, 0, 70_000).tobytes() == ds[()].tobytes()
        with pytest.raises(ValueError, match="inside"), chunk_reader.inflate_in_calling_thread():
            raise ValueError("an error inside")
        with pytest.raises(AssertionError, match="given to the pool"):
            chunked_rows(ds, 0, 70_000)

@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_wrong_thread_count_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("INSOLE_THREADS", value)
    with pytest.raises(ConfigurationError, match="INSOLE_THREADS.*whole number of threads of at least 1"):
        worker_threads()


@pytest.mark.parametrize("kwargs", [
    {},  # not chunked
    {"chunks": (500, 16)},  # chunked, no filter
    {"chunks": (500, 16), "compression": "lzf"},
    {"chunks": (500, 16), "compression": "gzip", "fletcher32": True},
    {"chunks": (500, 8), "compression": "gzip", "shuffle": True},  # a chunk does not span the row
    {"chunks": (500, 16), "compression": "gzip", "dtype": ">f4"},  # not native byte order
    {"chunks": (100, 16), "compression": "gzip", "shuffle": True},  # 6.4 KiB chunks: HDF5 reads them faster
])
def test_other_storage_is_left_to_hdf5(tmp_path, kwargs):
    kwargs = dict(kwargs)
    dtype = kwargs.pop("dtype", "<f4")
    data = np.arange(1000 * 16, dtype=np.float32).reshape(1000, 16)
    with h5py.File(tmp_path / "o.h5", "w") as f:
        ds = f.create_dataset("p", data=data, dtype=dtype, **kwargs)
        assert chunked_rows(ds, 0, 1000) is None


def test_deflate_without_shuffle_is_read(tmp_path):
    data = np.arange(1000 * 16, dtype=np.float32).reshape(1000, 16)
    with h5py.File(tmp_path / "o.h5", "w") as f:
        ds = f.create_dataset("p", data=data, chunks=(256, 16), compression="gzip")
        assert chunked_rows(ds, 3, 997).tobytes() == data[3:997].tobytes()


def test_chunk_never_written_is_left_to_hdf5(tmp_path):
    with h5py.File(tmp_path / "u.h5", "w") as f:
        ds = f.create_dataset("p", shape=(4096, 16), maxshape=(None, 16), dtype="f4", chunks=(512, 16),
                              compression="gzip", shuffle=True, fillvalue=-1.0)
        ds[:1024] = 1.0  # chunks 2..7 are never written: HDF5 gives the fill value for them
        assert chunked_rows(ds, 0, 4096) is None
        assert chunked_rows(ds, 0, 1024).tobytes() == ds[:1024].tobytes()


def test_damaged_chunk_is_a_session_file_error_and_other_blocks_still_read(tmp_path):
    path = _session(tmp_path / "s.h5")
    with h5py.File(path, "r") as f:
        ds = f["left/pressure"]
        info = ds.id.get_chunk_info(40)  # a chunk well inside the second 64 Ki-frame block
        first_rows = ds.chunks[0]
        damaged_frame = info.chunk_offset[0]
        good = ds[:first_rows * 8]
    with open(path, "r+b") as fh:  # overwrite the middle of that chunk's stored (deflated) bytes
        fh.seek(info.byte_offset + info.size // 2)
        fh.write(b"\xff\x00" * 64)
    with h5py.File(path, "r") as f:
        assert chunked_rows(f["left/pressure"], damaged_frame, damaged_frame + 10) is None  # HDF5 gets to say why
    with open_session(path) as reader:
        with pytest.raises(SessionFileError, match=r"/left is damaged and cannot be read"):
            reader.read("left", damaged_frame, damaged_frame + 10, fields=("pressure",))
        block = reader.read("left", 0, first_rows * 8, fields=("pressure",))  # the good frames are all kept
        assert block.pressure.tobytes() == good.tobytes()


def _child_reads(path, queue):
    with h5py.File(path, "r") as f:
        rows = chunked_rows(f["left/pressure"], 0, 70_000)
        queue.put(None if rows is None else float(rows.sum(dtype=np.float64)))


def test_a_forked_child_gets_a_pool_of_its_own(tmp_path):
    """The batch runner forks its workers from a process that has analysed a walk: the parent's pool threads do
    not exist in the child, which must not wait for them."""
    path = _session(tmp_path / "s.h5")
    with h5py.File(path, "r") as f:
        expected = float(f["left/pressure"][()].sum(dtype=np.float64))
        assert chunked_rows(f["left/pressure"], 0, 70_000) is not None  # the parent's pool exists now
    assert chunk_reader._pool is not None
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_reads, args=(path, queue))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung reading chunks")
    assert child.exitcode == 0
    assert queue.get(timeout=10) == expected
