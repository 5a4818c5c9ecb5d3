"""The novel pedar 99-cell insole layout, as published in pressuRe, scaled per insole size.

Source: the R package pressuRe 0.2.7 (Telfer S, Li E, MIT licence; Sci Rep 13:16776, 2023,
doi:10.1038/s41598-023-44041-6) publishes two tables for the pedar system (``data/pedar_cells.csv`` here):

* ``pedar_insole_grids``: the corners of the 99 cells of one insole, in normalised drawing units (the same
  drawing for every size; left insole, rows from heel to toe, cell numbers starting medially in each row);
* ``pedar_insole_area``: the area of every cell in mm² for the insole sizes ``u, v, w, x, y, z`` and the wide sizes
  ``uw, vw, xw``.

For a size, the drawing is scaled isotropically by ``s = sqrt(median(published area / drawing area))``. For the six
standard sizes the published areas are proportional to the drawn cells (spread 4.8-5.0 %), and the implied insole
lengths (227, 239, 253, 266, 280, 297 mm for u..z) step by about 13 mm per size, as shoe sizes do. For the wide
sizes the published areas do not follow the drawing (spread 18 %): their cell positions are not known, and
:func:`pedar_layout` refuses them rather than guess.

Foot frame: ``x_mm`` from the heel edge of the drawing, ``y_mm`` medial positive from the insole's long axis
(the area-weighted mean of the cell centres across). Areas are the published ones.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from insole.layouts import SensorLayout

_TABLE = Path(__file__).with_name("data") / "pedar_cells.csv"
#: Sizes whose published cell areas fit the published drawing (relative spread of area ratios below this).
MAX_AREA_SPREAD = 0.08


@dataclass(frozen=True)
class PedarSize:
    """How a pedar insole size maps onto the published layout.

    Attributes
    ----------
    size : str
        Size letter(s) from the export's sensor type (``y`` in ``y-1865l-1870r-...``).
    scale_mm : float
        Millimetres per drawing unit.
    area_spread : float
        Relative standard deviation of published area / drawn area over the 99 cells.
    insole_length_mm : float
        Length of the drawing at this scale.
    """

    size: str
    scale_mm: float
    area_spread: float
    insole_length_mm: float


@cache
def _table() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    with _TABLE.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    xs = np.array([[float(r[f"x{k}"]) for k in range(1, 5)] for r in rows])
    ys = np.array([[float(r[f"y{k}"]) for k in range(1, 5)] for r in rows])
    areas = {key[len("area_mm2_"):]: np.array([float(r[key]) for r in rows]) for key in rows[0]
             if key.startswith("area_mm2_")}
    return xs, ys, areas


def _polygons() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drawn area and centroid (x, y) of every cell (shoelace formula)."""
    xs, ys, _ = _table()
    cross = xs * np.roll(ys, -1, axis=1) - np.roll(xs, -1, axis=1) * ys
    area = 0.5 * cross.sum(axis=1)
    cx = ((xs + np.roll(xs, -1, axis=1)) * cross).sum(axis=1) / (6 * area)
    cy = ((ys + np.roll(ys, -1, axis=1)) * cross).sum(axis=1) / (6 * area)
    return np.abs(area), cx, cy


def known_sizes() -> dict[str, PedarSize]:
    """Every size of the area table with its fit to the drawing (including the ones refused)."""
    xs, ys, areas = _table()
    drawn, _, _ = _polygons()
    out = {}
    for size, published in areas.items():
        ratio = published / drawn
        scale = float(np.sqrt(np.median(ratio)))
        out[size] = PedarSize(size, scale, float(np.std(ratio) / np.mean(ratio)),
                              float((ys.max() - ys.min()) * scale))
    return out


def supported_sizes() -> list[str]:
    """Sizes with a known layout (published areas proportional to the drawn cells)."""
    return [s for s, info in known_sizes().items() if info.area_spread <= MAX_AREA_SPREAD]


def pedar_layout(size: str) -> tuple[SensorLayout, PedarSize]:
    """The 99-cell layout of pedar insole ``size`` in the foot frame (geometry ``"specified"``).

    Raises
    ------
    KeyError
        ``size`` has no layout (unknown, or a wide size whose areas do not fit the drawing).
    """
    sizes = known_sizes()
    if size not in sizes or sizes[size].area_spread > MAX_AREA_SPREAD:
        raise KeyError(size)
    info = sizes[size]
    _, ys, areas = _table()
    _, cx, cy = _polygons()
    published = areas[size]
    axis = float(np.sum(cx * published) / published.sum())
    layout = SensorLayout(f"pedar-99-{size}", (cy - ys.min()) * info.scale_mm, (axis - cx) * info.scale_mm,
                          published.astype(np.float64), info.insole_length_mm, geometry="specified")
    return layout, info
