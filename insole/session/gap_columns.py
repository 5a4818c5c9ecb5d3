"""How gaps are stored in a foot group: version-2 columns (written and read), version-1 datasets (read only)."""

from __future__ import annotations

from collections.abc import Sequence

import h5py
import numpy as np

from insole.session.format import GAP_CHUNK_ROWS, attr_str
from insole.session.gaps import Gap, GapCause, gaps_from_v1

#: dtype of each column of ``/<side>/gaps`` (version 2).
COLUMN_DTYPES = {
    "start_s": np.float64,
    "end_s": np.float64,
    "n_frames": np.int64,
    "cause": h5py.string_dtype("utf-8"),
    "message": h5py.string_dtype("utf-8"),
}


def create_columns(foot: h5py.Group) -> None:
    """Create the empty, resizable gap columns of a foot (before SWMR appending starts)."""
    grp = foot.create_group("gaps")
    for name, dtype in COLUMN_DTYPES.items():
        grp.create_dataset(name, (0,), dtype, maxshape=(None,), chunks=(GAP_CHUNK_ROWS,))


def append_gaps(foot: h5py.Group, gaps: Sequence[Gap]) -> None:
    """Append ``gaps`` to the columns (an ``end_s`` before ``start_s`` is raised to ``start_s``)."""
    if not gaps:
        return
    grp = foot["gaps"]
    start = np.array([g.start_s for g in gaps], np.float64)
    values = {
        "start_s": start,
        "end_s": np.maximum(start, [g.end_s for g in gaps]),
        "n_frames": np.array([g.n_frames for g in gaps], np.int64),
        "cause": np.array([g.cause.value for g in gaps], dtype=object),
        "message": np.array([g.message for g in gaps], dtype=object),
    }
    k = grp["start_s"].shape[0]
    for name, column in values.items():
        grp[name].resize(k + len(gaps), axis=0)
        grp[name][k:] = column


def shift_gaps(foot: h5py.Group, delta_s: float) -> None:
    """Move every gap of the foot by ``delta_s`` seconds."""
    grp = foot["gaps"]
    for name in ("start_s", "end_s"):
        if grp[name].shape[0]:
            grp[name][...] = grp[name][()] + delta_s


def n_gaps(foot: h5py.Group, version: int) -> int:
    """Number of gaps of a foot, from the declared shape (nothing read)."""
    if "gaps" not in foot:
        return 0
    obj = foot["gaps"]
    return int(obj.shape[0] if version == 1 else obj["start_s"].shape[0])


def read_gaps(foot: h5py.Group, version: int) -> list[Gap]:
    """The gaps of a foot as records; version-1 prose causes are migrated (see :func:`gaps_from_v1`)."""
    if "gaps" not in foot:
        return []
    if version == 1:
        causes = [attr_str(c) for c in foot["gap_causes"][()]] if "gap_causes" in foot else []
        return gaps_from_v1(foot["gaps"][()], causes)
    grp = foot["gaps"]
    cols = {name: grp[name][()] for name in COLUMN_DTYPES}
    known = {c.value for c in GapCause}
    out = []
    for start, end, n, cause, message in zip(*(cols[name] for name in COLUMN_DTYPES), strict=True):
        code, text = attr_str(cause), attr_str(message)
        if code not in known:  # written by a newer insole: keep the fact, without guessing its meaning
            code, text = GapCause.OTHER.value, f"cause code {code!r} unknown to this version; {text}"
        out.append(Gap(float(start), float(end), max(int(n), -1), GapCause(code), text))
    return out
