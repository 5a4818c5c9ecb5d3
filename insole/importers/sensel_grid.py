"""Matrix insoles (Tekscan F-Scan, XSENSOR): a rows x columns sensel grid mapped into the foot frame.

The exports give the grid pitch and the sensel area, so the cell positions are known from the file (geometry
``specified``). What the files do not say is the orientation of the matrix; both vendors display the sensor seen
from above with the toes at the top, which is what these exports hold (checked on the pressuRe sample files: the
hallux and the first metatarsal head load the high columns of a left foot, the lateral midfoot the low ones):

* row 1 is the toe end; the last row holding a sensel is the heel edge;
* for a left foot the medial side is the last column, for a right foot the first column;
* a ``mirror_rows`` / ``mirror_cols`` flag (F-Scan's ``MIRROR_ROW`` / ``MIRROR_COL``) flips that.

Foot frame: ``x_mm`` from the heel edge of the outermost sensel row, ``y_mm`` medial positive from the long axis
(the mean column of the sensels kept).
"""

from __future__ import annotations

import numpy as np

from insole.layouts import SensorLayout

#: What every grid layout assumes, for ``layout_assumption``.
ORIENTATION_NOTE = ("matrix seen from above, toes at row 1; medial = last column of a left foot, first column of a "
                    "right foot; long axis = mean column of the sensels")


def grid_layout(
    keep: np.ndarray, row_pitch_mm: float, col_pitch_mm: float, area_mm2: float, side: str, layout_id: str,
    *, mirror_rows: bool = False, mirror_cols: bool = False,
) -> SensorLayout:
    """Layout of the sensels where ``keep`` (rows x cols, bool) is true, in row-major order.

    Parameters
    ----------
    keep : numpy.ndarray of bool, shape (n_rows, n_cols)
    row_pitch_mm, col_pitch_mm : float
        Centre-to-centre spacing along the foot (rows) and across it (columns).
    area_mm2 : float
        Sensing area of one sensel.
    side : {"left", "right"}
    layout_id : str
    mirror_rows, mirror_cols : bool
        The export flips the matrix.
    """
    rows, cols = np.nonzero(keep)
    n_rows, n_cols = keep.shape
    r = (n_rows - 1 - rows) if mirror_rows else rows
    c = (n_cols - 1 - cols) if mirror_cols else cols
    heel_row = int(r.max())
    x_mm = (heel_row - r + 0.5) * row_pitch_mm
    medial_sign = 1.0 if side == "left" else -1.0
    y_mm = medial_sign * (c - c.mean()) * col_pitch_mm
    length_mm = float((r.max() - r.min() + 1) * row_pitch_mm)
    return SensorLayout(layout_id, x_mm.astype(np.float64), y_mm.astype(np.float64),
                        np.full(rows.size, float(area_mm2)), length_mm, geometry="specified")


def cell_names(keep: np.ndarray) -> str:
    """``r1c10,r1c11,...`` (1-based row and column of every kept sensel), for the foot attributes."""
    rows, cols = np.nonzero(keep)
    return ",".join(f"r{a + 1}c{b + 1}" for a, b in zip(rows, cols, strict=True))
