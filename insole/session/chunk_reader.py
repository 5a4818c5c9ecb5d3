"""Reading rows of a deflate-compressed, chunked dataset with the chunks inflated in parallel threads.

HDF5 inflates the chunks of a dataset one after the other while holding h5py's lock (and Python's), so reading a
session's pressure is single-threaded; on a long 99-cell recording it is half of the analysis. The writers of
this package store every per-frame dataset in row chunks that span all columns, filtered by byte shuffle and
deflate (``writer._COMPRESSION``). For such a dataset :func:`chunked_rows` reads each chunk's stored bytes with
h5py (``read_direct_chunk``: no filtering, fast) and inflates and un-shuffles them in a small thread pool
(ISA-L's inflate through ``isal``, else ``zlib``; both release the GIL while they inflate), unless the reading
thread is itself one of several working in parallel (:func:`inflate_in_calling_thread`). The bytes are those
HDF5 would give: deflate is lossless (and the zlib stream's checksum is checked) and the shuffle filter is a
fixed byte transposition (HDF5's ``H5Z_FILTER_SHUFFLE``), so the arrays are identical.

Anything else (other filters, chunks smaller than 16 KiB, chunks not spanning the row, non-native byte order, a
chunk whose filters were skipped, a chunk that was never written, a chunk that does not inflate to its exact size)
is read by h5py itself with its own errors: :func:`chunked_rows` returns None and the caller falls back.
Decompressed sizes are bounded by the chunk shape (no inflation bomb), and every wait for the pool is bounded.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import h5py
import numpy as np

from insole.threads import worker_threads

try:  # ISA-L's inflate (the ``isal`` package, a dependency where it has wheels): about 1.6x zlib's, same bytes
    from isal import isal_zlib as zlib
except ImportError:  # pragma: no cover - a platform without an isal wheel
    import zlib  # type: ignore[no-redef]

#: HDF5 filter ids (H5Zpublic.h).
_DEFLATE, _SHUFFLE = 1, 2
#: Chunks inflated by one task of the pool (amortises the cost of a task, ~20 us, over ~2 ms of inflating).
_CHUNKS_PER_TASK = 8
#: Fewest chunks worth sending to the pool; a shorter read is inflated in the calling thread.
_MIN_PARALLEL_CHUNKS = 2 * _CHUNKS_PER_TASK
#: Smallest chunk (bytes, inflated) read here: below it the per-chunk costs in Python (about 10 us a chunk) are
#: more than the inflating saved (measured: the 5 KiB time chunks of a 99-cell file read in 13 ms against HDF5's
#: 7 ms, its 64 KiB pressure chunks in 0.70 s against 1.68 s).
_MIN_CHUNK_BYTES = 16 * 1024
#: Bound of the wait for one task (8 chunks of at most ``format.MAX_CHUNK_BYTES`` inflate in well under a second);
#: past it the rows are read by HDF5 instead.
_TASK_TIMEOUT_S = 120.0

_pool: ThreadPoolExecutor | None = None
_pool_threads = 0
_pool_lock = threading.Lock()
_here = threading.local()  # ``inline``: this thread's reads inflate their own chunks


@contextmanager
def inflate_in_calling_thread() -> Iterator[None]:
    """Within it, the calling thread's reads inflate their chunks themselves, without the pool: for threads that
    are the parallel work themselves (two feet analysed at once), where the pool only adds waits and a third and
    fourth busy thread (two feet's first pass: 0.17-0.21 s against 0.22-0.25 s through the pool, 2 cores)."""
    before = getattr(_here, "inline", False)
    _here.inline = True
    try:
        yield
    finally:
        _here.inline = before


def _get_pool() -> ThreadPoolExecutor | None:
    """The module's thread pool (created on first use; None when :func:`~insole.threads.worker_threads` allows
    one thread: one core, or a batch worker)."""
    global _pool, _pool_threads
    threads = worker_threads()
    if threads < 2:
        return None
    with _pool_lock:
        if _pool is None or _pool_threads != threads:  # first use, or INSOLE_THREADS changed
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool, _pool_threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="insole-inflate"), threads
        return _pool


def _forget_pool_in_child() -> None:
    # a forked child (the batch runner forks its workers) has the pool object but not its threads
    global _pool, _pool_lock, _pool_threads
    _pool, _pool_lock, _pool_threads = None, threading.Lock(), 0


os.register_at_fork(after_in_child=_forget_pool_in_child)


class _Layout:
    """What :func:`chunked_rows` needs to know of a dataset: rows per chunk, bytes per row, shuffled or not."""

    __slots__ = ("rows", "row_bytes", "itemsize", "shuffled")

    def __init__(self, rows: int, row_bytes: int, itemsize: int, shuffled: bool) -> None:
        self.rows, self.row_bytes, self.itemsize, self.shuffled = rows, row_bytes, itemsize, shuffled


def _layout(ds: h5py.Dataset) -> _Layout | None:
    """The chunk layout of ``ds`` when this module can read it, else None."""
    if ds.chunks is None or ds.ndim not in (1, 2) or ds.dtype.kind not in "fiub" or not ds.dtype.isnative:
        return None
    if ds.ndim == 2 and ds.chunks[1] != ds.shape[1]:
        return None
    plist = ds.id.get_create_plist()
    filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
    if filters not in ([_DEFLATE], [_SHUFFLE, _DEFLATE]):
        return None
    width = ds.shape[1] if ds.ndim == 2 else 1
    if ds.chunks[0] * width * ds.dtype.itemsize < _MIN_CHUNK_BYTES:
        return None
    return _Layout(int(ds.chunks[0]), width * ds.dtype.itemsize, ds.dtype.itemsize, filters[0] == _SHUFFLE)


def _read_and_inflate(dsid: h5py.h5d.DatasetID, ndim: int, lay: _Layout, first: int, dest: np.ndarray) -> bool:
    """Read the stored bytes of the chunks ``first``, ``first + 1``, ... (one per row of ``dest``: uint8, chunks x
    chunk bytes) and inflate (and un-shuffle) each into its row of ``dest``.

    False when a chunk cannot be read this way (a filter skipped, never written) or does not inflate to exactly
    one chunk's bytes: the caller then lets HDF5 read the rows. h5py's calls are serialised by its own lock; the
    inflating runs without Python's.
    """
    size = lay.rows * lay.row_bytes
    for k, out in enumerate(dest):
        try:
            mask, raw = dsid.read_direct_chunk(((first + k) * lay.rows,) + (0,) * (ndim - 1))
        except (OSError, KeyError, ValueError, RuntimeError):  # e.g. a chunk never written (HDF5 gives the fill)
            return False
        if mask:  # a filter was skipped for this chunk
            return False
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(raw, size)
        except zlib.error:
            return False
        if len(data) != size or not inflater.eof or inflater.unconsumed_tail:
            return False
        if lay.shuffled and lay.itemsize > 1:  # shuffled: all first bytes of the chunk's elements, then all second...
            planes = np.frombuffer(data, np.uint8).reshape(lay.itemsize, -1)
            elements = out.reshape(-1, lay.itemsize)
            for b in range(lay.itemsize):
                elements[:, b] = planes[b]
        else:
            out[:] = np.frombuffer(data, np.uint8)
    return True


def chunked_rows(ds: h5py.Dataset, lo: int, hi: int) -> np.ndarray | None:
    """Rows ``lo:hi`` of ``ds`` (``0 <= lo <= hi <= len(ds)``), identical to ``ds[lo:hi]``, inflated in parallel;
    None when the dataset or one of its chunks is not of the kind this module reads (see the module text)."""
    lay = _layout(ds)
    if lay is None or hi <= lo:
        return None
    c0, c1 = lo // lay.rows, (hi - 1) // lay.rows + 1
    buf = np.empty(((c1 - c0) * lay.rows,) + ds.shape[1:], ds.dtype)
    dest = buf.view(np.uint8).reshape(c1 - c0, lay.rows * lay.row_bytes)
    pool = _get_pool() if c1 - c0 >= _MIN_PARALLEL_CHUNKS and not getattr(_here, "inline", False) else None
    if pool is None:
        ok = _read_and_inflate(ds.id, ds.ndim, lay, c0, dest)
    else:  # each task reads and inflates its own chunks: reading one overlaps with inflating another
        tasks: list[Future[bool]] = [
            pool.submit(_read_and_inflate, ds.id, ds.ndim, lay, c0 + k, dest[k : k + _CHUNKS_PER_TASK])
            for k in range(0, c1 - c0, _CHUNKS_PER_TASK)
        ]
        try:
            ok = all([t.result(timeout=_TASK_TIMEOUT_S) for t in tasks])  # all done before ``buf`` is given out
        except TimeoutError:
            return None
    if not ok:
        return None
    first = lo - c0 * lay.rows
    return buf[first : first + (hi - lo)]
