"""What a reader checks on every dataset before reading it: element type, filters it can decode, and caps on the
declared size and the chunk size (``docs/session-format.md``, "Caps").

A small hostile file can declare huge datasets (HDF5 stores a shape, not the data: unwritten chunks read as the fill
value) or one enormous compressed chunk that must be decompressed whole to read a single frame. The caps are far
above what the writers of this package produce: their chunks are at most 64 KiB (16 MiB for 4096 cells), and a
per-frame dataset reaches :data:`~insole.session.format.MAX_FRAME_DATASET_BYTES` only after 62 days at 100 Hz with
16 cells, or 24.1 hours at 1 kHz with 99 cells (:func:`frames_until_cap` says how many frames fit).
"""

from __future__ import annotations

import math

import h5py
import numpy as np

from insole.errors import SessionFileError, SessionUnsafeError
from insole.session.format import MAX_CHUNK_BYTES, MAX_FRAME_DATASET_BYTES, MAX_FRAMES, MAX_WHOLE_READ_BYTES

#: HDF5 filters a reader accepts (when this installation can decode them): deflate, shuffle, Fletcher-32, szip,
#: n-bit, scale-offset, LZF. Any other filter (a plugin such as LZ4 or Blosc) is refused with its number.
KNOWN_FILTERS = {1: "gzip", 2: "shuffle", 3: "fletcher32", 4: "szip", 5: "nbit", 6: "scaleoffset", 32000: "lzf"}
#: Element kinds of numbers and of text.
NUMERIC = "fiu"
TEXT = "OSU"


def declared_bytes(ds: h5py.Dataset) -> int:
    """Bytes the dataset's declared shape holds in memory once read (variable-length elements count 16 bytes)."""
    return int(math.prod(ds.shape)) * (16 if h5py.check_vlen_dtype(ds.dtype) is not None else ds.dtype.itemsize)


def chunk_bytes(ds: h5py.Dataset) -> int:
    """Uncompressed bytes of one chunk (0 for a contiguous or compact dataset)."""
    if ds.chunks is None:
        return 0
    return int(math.prod(ds.chunks)) * max(ds.dtype.itemsize, 1)


def filter_problem(ds: h5py.Dataset) -> str | None:
    """Why the dataset's filters cannot be decoded here (None when they can)."""
    try:
        dcpl = ds.id.get_create_plist()
        n = dcpl.get_nfilters()
        filters = [dcpl.get_filter(i) for i in range(n)]
    except (OSError, RuntimeError, ValueError) as exc:
        return f"has a filter pipeline that cannot be read ({exc})"
    for code, _flags, _values, name in filters:
        code = int(code)
        label = KNOWN_FILTERS.get(code) or (name.decode(errors="replace") if isinstance(name, bytes) else str(name))
        if code not in KNOWN_FILTERS:
            return (f"is compressed with filter {code} ({label or 'unnamed'}), which this reader does not accept "
                    f"(accepted: {', '.join(KNOWN_FILTERS.values())}); rewrite the file with gzip")
        if not h5py.h5z.filter_avail(code):
            return f"is compressed with filter {code} ({label}), which this HDF5 installation cannot decode"
    return None


def check_storage(path: str, ds: h5py.Dataset, where: str) -> None:
    """Filters and chunk size, for any dataset of the file (also extras nobody reads yet)."""
    problem = filter_problem(ds)
    if problem is not None:
        raise SessionFileError(path, f"{where} {problem}")
    size = chunk_bytes(ds)
    if size > MAX_CHUNK_BYTES:
        raise SessionUnsafeError(path, f"{where} is stored in chunks of {ds.chunks} ({_mib(size)} each, "
                                   f"uncompressed); readers decompress at most {_mib(MAX_CHUNK_BYTES)} per chunk "
                                   "(hostile or foreign file?)")


def check_dataset(path: str, ds: h5py.Dataset, where: str, *, kinds: str, per_frame: bool) -> None:
    """Element type and declared size of a dataset the format defines.

    Parameters
    ----------
    path : str
    ds : h5py.Dataset
    where : str
        Its name for messages (``/left/time_s``).
    kinds : str
        Accepted ``numpy.dtype.kind`` letters (:data:`NUMERIC`, :data:`TEXT`, or one of them).
    per_frame : bool
        A per-frame dataset (read in blocks: :data:`MAX_FRAME_DATASET_BYTES`) or one read whole
        (:data:`MAX_WHOLE_READ_BYTES`).
    """
    kind = "O" if h5py.check_vlen_dtype(ds.dtype) is not None else ds.dtype.kind
    if kind not in kinds:
        want = "text" if set(kinds) <= set(TEXT) else "floating-point numbers" if kinds == "f" else "numbers"
        raise SessionFileError(path, f"{where} must hold {want}, holds {_dtype_name(ds.dtype)}")
    if ds.ndim >= 1 and ds.shape[0] > MAX_FRAMES:
        raise SessionUnsafeError(path, f"{where} declares {ds.shape[0]} rows, more than the {MAX_FRAMES} a reader "
                               "accepts")
    cap = MAX_FRAME_DATASET_BYTES if per_frame else MAX_WHOLE_READ_BYTES
    size = declared_bytes(ds)
    if size > cap:
        raise SessionUnsafeError(path, f"{where} declares shape {ds.shape} ({_mib(size)} once read), more than the "
                               f"{_mib(cap)} a reader accepts for {'a per-frame' if per_frame else 'this'} dataset")


def frames_until_cap(n_sensors: int, itemsize: int = 4) -> int:
    """How many frames of ``n_sensors`` cells of ``itemsize`` bytes fit under the per-frame caps (for writers)."""
    per_frame = max(n_sensors * itemsize, 8)  # time_s and device_time_us are 8 bytes per frame
    return int(min(MAX_FRAMES, MAX_FRAME_DATASET_BYTES // per_frame))


def _mib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def _dtype_name(dtype: np.dtype) -> str:
    if h5py.check_string_dtype(dtype) is not None:
        return f"text ({dtype})"
    return str(dtype)
