"""Names, version, limits and small conversions of the session file format (see ``docs/session-format.md``).

Format version 2 (written by every writer); version 1 files are still read and migrated in memory by the reader.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FORMAT_NAME = "insole-session"
#: Version every writer writes.
FORMAT_VERSION = 2
#: Versions a reader opens (older ones are migrated in memory, never rewritten in place).
READABLE_VERSIONS = (1, 2)
UNITS = ("kPa", "N", "raw")
SOURCES = ("recorded", "simulated", "imported")

#: Rows per HDF5 chunk of the per-frame datasets (~64 KiB for 16 float32 sensors).
CHUNK_FRAMES = 1024
#: Rows per chunk of the gap columns.
GAP_CHUNK_ROWS = 256
#: Largest sensor count and frame count a reader accepts before reading anything (hostile-file guard).
MAX_SENSORS = 4096
MAX_FRAMES = 2_000_000_000
#: Caps checked on the declared shapes before anything is read (``docs/session-format.md``, "Caps"). Writers use
#: chunks of about 64 KiB; a 24-hour, 100 Hz, 16-cell foot writes 553 MB of float32 pressure.
#: Largest uncompressed chunk a reader decompresses.
MAX_CHUNK_BYTES = 16 * 2**20
#: Largest declared size of one per-frame dataset (read in blocks): a day at 1 kHz with 99 float32 cells fits.
MAX_FRAME_DATASET_BYTES = 32 * 2**30
#: Largest declared size of a dataset that is read whole (gap columns, cell geometry, calibration, truth, extras).
MAX_WHOLE_READ_BYTES = 256 * 2**20
#: Largest number of gaps of one foot (and at most twice the frames of the file's longest foot, plus 16).
MAX_GAPS = 10_000_000

#: Per-frame datasets of a foot group: name -> dtype (``pressure`` and ``raw`` are 2-D, the others 1-D).
FRAME_DATASETS: dict[str, Any] = {
    "time_s": np.float64,
    "pressure": np.float32,
    "raw": np.float32,
    "sequence": np.uint32,
    "device_time_us": np.uint64,
    "saturated": np.uint8,
}
#: Names a reader's ``read`` / ``iter_blocks`` accept in ``fields``.
FIELDS = tuple(FRAME_DATASETS)
#: Members of a foot group defined by the format (datasets and groups); everything else is an optional extra.
FOOT_CORE = frozenset({*FRAME_DATASETS, "sensors", "gaps", "gap_causes", "calibration", "imu"})
#: Top-level members defined by the format.
ROOT_CORE = frozenset({"session", "left", "right", "truth"})
#: Columns of ``/<side>/gaps`` (version 2), in :class:`~insole.session.gaps.Gap` field order.
GAP_COLUMNS = ("start_s", "end_s", "n_frames", "cause", "message")

#: Built-in layouts whose cell positions are assumed (see :data:`insole.layouts.GEOMETRIES`).
GENERIC_LAYOUT_IDS = frozenset({"generic-8", "generic-16", "grid-99"})


def geometry_of_layout_id(layout_id: str) -> str:
    """How a version-1 file's layout was known, from its ``layout_id`` (version 2 stores ``layout_geometry``).

    Built-in layouts (``generic-8``, ``generic-16``, ``grid-99``) are ``"generic"``, placeholders (``unknown-N``)
    ``"unknown"``, anything else (a device's, vendor's or dataset's own layout) ``"specified"``.
    """
    if layout_id in GENERIC_LAYOUT_IDS:
        return "generic"
    if layout_id.startswith("unknown"):
        return "unknown"
    return "specified"


def attr_str(value: Any) -> str:
    """An HDF5 attribute as text (h5py returns bytes for some string attributes)."""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def plain(value: Any) -> Any:
    """An HDF5 attribute as a plain Python value: ``str``, ``int``, ``float``, ``bool`` or a list of them."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()] if value.dtype.kind == "O" else value.tolist()
    return value


def plain_attrs(attrs: Any) -> dict[str, Any]:
    """Every attribute of an HDF5 object as a plain dict (see :func:`plain`)."""
    return {str(k): plain(v) for k, v in attrs.items()}
