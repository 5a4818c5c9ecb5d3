"""Alter a recorded session in memory before analysing it: the faults a report must handle, made from real files.

Everything starts from a session recorded by the real simulator and recorder; only the named property is changed
(a foot cut short, a clock shifted, metadata strings replaced), and the real analysis then runs on the result.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from insole.session import Session, read_session


def altered(path: Path, *, left_only_s: float | None = None, right_shift_s: float | None = None,
            metadata: dict | None = None, mirrored: str | None = None) -> Session:
    """The session at ``path`` with the left foot cut to its first ``left_only_s`` seconds, the right foot's clock
    shifted by ``right_shift_s``, metadata fields replaced by ``metadata`` and the ``mirrored`` foot's cells
    mirrored medio-laterally (an insole turned over or put in the wrong shoe: medial cells read the lateral load)."""
    sess = read_session(path)
    feet = dict(sess.feet)
    if mirrored is not None:
        f = feet[mirrored]
        x, y = np.asarray(f.layout.x_mm), np.asarray(f.layout.y_mm)  # anterior, medial
        centre = (y.min() + y.max()) / 2
        partner = np.argmin(np.hypot(x[None, :] - x[:, None], y[None, :] - (2 * centre - y[:, None])), axis=1)
        feet[mirrored] = dataclasses.replace(f, pressure=f.pressure[:, partner])
    if left_only_s is not None:
        f = feet["left"]
        keep = f.time_s < f.time_s[0] + left_only_s
        feet["left"] = dataclasses.replace(
            f, time_s=f.time_s[keep], pressure=f.pressure[keep],
            saturated=None if f.saturated is None else f.saturated[keep])
    if right_shift_s is not None:
        f = feet["right"]
        feet["right"] = dataclasses.replace(f, time_s=f.time_s + right_shift_s)
    md = dataclasses.replace(sess.metadata, **(metadata or {}))
    return dataclasses.replace(sess, feet=feet, metadata=md)
