"""Upgrading a *copy* of an older session file to the current format version.

Readers migrate version-1 files in memory and never rewrite them. Operations that write a new file from an old
one (recalibration) upgrade their copy with :func:`upgrade_file` first, so that every file written is version 2.
"""

from __future__ import annotations

import h5py

from insole.frames import SIDES
from insole.session.format import FORMAT_VERSION, attr_str, geometry_of_layout_id
from insole.session.gap_columns import append_gaps, create_columns, read_gaps
from insole.session.validation import format_version


def upgrade_file(h5: h5py.File, path: str) -> int:
    """Rewrite an open, writable, already validated file in the current version; returns the version it had.

    Version 1 -> 2: ``gaps`` (n, 2) and prose ``gap_causes`` become the gap columns (causes parsed as the reader
    does), ``layout_geometry`` is derived from ``layout_id``, and the root gains ``upgraded_from_format_version``.
    """
    version = format_version(path, h5)
    if version == FORMAT_VERSION:
        return version
    for side in SIDES:
        if side not in h5:
            continue
        g = h5[side]
        gaps = read_gaps(g, version)
        for name in ("gaps", "gap_causes"):
            if name in g:
                del g[name]
        create_columns(g)
        append_gaps(g, gaps)
        if "layout_geometry" not in g.attrs:
            g.attrs["layout_geometry"] = geometry_of_layout_id(attr_str(g.attrs.get("layout_id", "unknown")))
    h5.attrs["format_version"] = FORMAT_VERSION
    h5.attrs["upgraded_from_format_version"] = version
    return version
