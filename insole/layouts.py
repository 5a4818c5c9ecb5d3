"""Sensor layouts: where each pressure cell sits under the foot.

Coordinates are in the *foot frame* shared by both feet: ``x_mm`` runs anterior from the back of the heel,
``y_mm`` is medial-positive from the foot's long axis. A left and a right insole of the same model therefore have
identical coordinates; mirroring is done once, by whoever reads a physical (left/right) layout.

The built-in layouts are generic, scaled to foot length:

``"footswitch-1"``
    One force-sensitive resistor under the sole (a footswitch insole, as in PhysioNet gaitndd).
``"generic-8"``
    Eight cells in the arrangement of the Ultraflex insoles of PhysioNet gaitpdb (heel, two midfoot, two
    metatarsal, two forefoot, hallux).
``"generic-16"``
    Sixteen cells in an arrangement like common 16-cell research insoles (four heel, four midfoot, five
    metatarsal, hallux, lesser toes, one lateral forefoot).
``"grid-99"``
    A 99-cell grid covering the outline, like a high-resolution in-shoe system.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from insole.errors import ConfigurationError
from insole.plausibility import FOOT_LENGTH_MM, FOOT_LENGTH_RANGE_MM

#: How a layout's cell positions are known (see :class:`SensorLayout`).
GEOMETRIES = ("specified", "generic", "unknown")

#: Foot lengths a layout may be scaled to (:data:`insole.plausibility.FOOT_LENGTH_MM`), and the length assumed when
#: neither the device nor the user says.
DEFAULT_FOOT_LENGTH_MM = 260.0
#: Ids of the built-in layouts and their cell counts.
BUILTIN_LAYOUTS = {"footswitch-1": 1, "generic-8": 8, "generic-16": 16, "grid-99": 99}

#: Forefoot width as a fraction of foot length; used for the outline and for CPEI normalisation.
FOREFOOT_WIDTH_RATIO = 0.38

# Outline of a generic foot in units of foot length: (x, medial edge y, lateral edge y).
_OUTLINE = np.array(
    [
        (0.00, 0.000, -0.000),
        (0.03, 0.085, -0.080),
        (0.12, 0.115, -0.110),
        (0.30, 0.100, -0.125),
        (0.45, 0.100, -0.140),
        (0.62, 0.170, -0.165),
        (0.72, 0.185, -0.180),
        (0.85, 0.160, -0.150),
        (0.95, 0.110, -0.090),
        (1.00, 0.060, -0.030),
    ]
)


def foot_outline_mm(foot_length_mm: float, n_points: int = 120) -> np.ndarray:
    """Closed outline of a generic foot in the foot frame.

    Parameters
    ----------
    foot_length_mm : float
    n_points : int
        Points per edge.

    Returns
    -------
    numpy.ndarray, shape (2 * n_points, 2)
        ``(x_mm, y_mm)`` going up the medial edge and back down the lateral edge.
    """
    from scipy.interpolate import PchipInterpolator  # here: importing a layout must not load scipy

    x = np.linspace(0.0, 1.0, n_points)
    medial = PchipInterpolator(_OUTLINE[:, 0], _OUTLINE[:, 1])(x)
    lateral = PchipInterpolator(_OUTLINE[:, 0], _OUTLINE[:, 2])(x)
    pts = np.concatenate([np.c_[x, medial], np.c_[x[::-1], lateral[::-1]]])
    return pts * foot_length_mm


def _edges(x_rel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from scipy.interpolate import PchipInterpolator

    medial = PchipInterpolator(_OUTLINE[:, 0], _OUTLINE[:, 1])(x_rel)
    lateral = PchipInterpolator(_OUTLINE[:, 0], _OUTLINE[:, 2])(x_rel)
    return medial, lateral


@dataclass(frozen=True)
class SensorLayout:
    """Geometry of an insole's cells in the foot frame.

    Attributes
    ----------
    layout_id : str
        Name of the layout (e.g. ``"generic-16"``, ``"gaitpdb-8"``).
    x_mm, y_mm : numpy.ndarray, shape (n_sensors,)
        Cell centres: anterior from the heel, medial positive.
    area_mm2 : numpy.ndarray, shape (n_sensors,)
        Sensing area of each cell.
    foot_length_mm : float
        Length of the foot the layout was scaled to.
    geometry : {"specified", "generic", "unknown"}
        How the cell positions are known: ``"specified"`` by the device, vendor or dataset (measured or
        published); ``"generic"`` assumed from a built-in layout with the same cell count (the real insole may
        differ); ``"unknown"`` a placeholder (positions unknown: centre-of-pressure and regional measures do not
        apply).
    """

    layout_id: str
    x_mm: np.ndarray
    y_mm: np.ndarray
    area_mm2: np.ndarray
    foot_length_mm: float
    geometry: str = "specified"

    def __post_init__(self) -> None:
        n = len(self.x_mm)
        if n == 0 or len(self.y_mm) != n or len(self.area_mm2) != n:
            raise ConfigurationError(
                f"layout {self.layout_id!r}: x_mm, y_mm and area_mm2 must have the same non-zero length"
            )
        if not np.all(np.asarray(self.area_mm2) > 0):
            raise ConfigurationError(f"layout {self.layout_id!r}: every area_mm2 must be positive")
        if self.geometry not in GEOMETRIES:
            raise ConfigurationError(
                f"layout {self.layout_id!r}: geometry must be one of {GEOMETRIES}, got {self.geometry!r}"
            )

    @property
    def n_sensors(self) -> int:
        """Number of cells."""
        return len(self.x_mm)

    @property
    def forefoot_width_mm(self) -> float:
        """Forefoot width used to normalise medio-lateral measures (generic foot shape)."""
        return FOREFOOT_WIDTH_RATIO * self.foot_length_mm


# Normalised cell centres (x / L, y / L) of the generic layouts.
_GENERIC_16 = np.array(
    [
        (0.06, 0.035), (0.06, -0.035), (0.15, 0.045), (0.15, -0.045),  # heel
        (0.33, 0.030), (0.33, -0.070), (0.47, 0.060), (0.47, -0.090),  # midfoot (medial arch, lateral)
        (0.69, 0.120), (0.70, 0.060), (0.70, 0.000), (0.69, -0.060), (0.67, -0.120),  # metatarsal heads 1..5
        (0.91, 0.080), (0.87, -0.040),  # hallux, lesser toes
        (0.80, -0.100),  # lateral forefoot
    ]
)
_GENERIC_8 = np.array(
    [
        (0.10, 0.000),  # heel
        (0.33, -0.070), (0.33, 0.040),  # midfoot lateral, medial
        (0.55, -0.100), (0.55, 0.070),  # lateral and medial forefoot (proximal)
        (0.72, -0.110), (0.72, 0.110),  # metatarsal heads lateral, medial
        (0.92, 0.060),  # hallux
    ]
)


def _grid_99() -> tuple[np.ndarray, float]:
    """Cell centres (x/L, y/L) of a 99-cell grid inside the outline, and the cell pitch (in units of L)."""
    for pitch in np.linspace(0.06, 0.03, 300):
        xs = np.arange(pitch / 2, 1.0, pitch)
        med, lat = _edges(xs)
        cells = []
        for x, m, la in zip(xs, med, lat, strict=True):
            ys = np.arange(la + pitch / 2, m - pitch / 2 + 1e-9, pitch)
            cells.extend((x, y) for y in ys)
        if len(cells) >= 99:
            cells_arr = np.array(cells)
            # drop the cells nearest the outline edge until exactly 99 remain
            med_c, lat_c = _edges(cells_arr[:, 0])
            margin = np.minimum(med_c - cells_arr[:, 1], cells_arr[:, 1] - lat_c)
            keep = np.sort(np.argsort(-margin, kind="stable")[:99])
            return cells_arr[keep], float(pitch)
    raise AssertionError("no grid pitch gives 99 cells")  # pragma: no cover


def builtin_layout(n_sensors: int, foot_length_mm: float = DEFAULT_FOOT_LENGTH_MM) -> SensorLayout:
    """Return the generic layout with ``n_sensors`` cells (1, 8, 16 or 99) scaled to ``foot_length_mm``.

    One cell is a footswitch: a single force-sensitive resistor under the sole (as in PhysioNet gaitndd), with
    no position that a centre of pressure or a region could use.

    Raises
    ------
    ConfigurationError
        If no generic layout has that many cells, or the foot length is implausible.
    """
    if not is_plausible_foot_length_mm(foot_length_mm):
        lo, hi = FOOT_LENGTH_RANGE_MM
        raise ConfigurationError(f"foot_length_mm must be between {lo:g} and {hi:g} mm ({FOOT_LENGTH_MM.source}), "
                                 f"got {foot_length_mm}")
    L = foot_length_mm
    if n_sensors == 1:
        rel, layout_id = np.array([(0.5, 0.0)]), "footswitch-1"
        area = np.full(1, 0.02 * L * L)  # one large FSR (about 1,350 mm2 at L = 260 mm)
    elif n_sensors == 16:
        rel, layout_id = _GENERIC_16, "generic-16"
        area = np.full(16, 0.0054 * L * L)  # 16 cells cover ~5,800 mm2 of a 260 mm foot (about 35% of the sole)
    elif n_sensors == 8:
        rel, layout_id = _GENERIC_8, "generic-8"
        area = np.full(8, 0.0045 * L * L)  # eight ~300 mm2 cells at L = 260 mm
    elif n_sensors == 99:
        rel, pitch = _grid_99()
        layout_id = "grid-99"
        area = np.full(99, (pitch * L) ** 2)
    else:
        raise ConfigurationError(f"no built-in layout has {n_sensors} sensors; choose 1, 8, 16 or 99")
    return SensorLayout(layout_id, rel[:, 0] * L, rel[:, 1] * L, area, float(L), geometry="generic")


def is_plausible_foot_length_mm(foot_length_mm: float | None) -> bool:
    """``foot_length_mm`` lies in :data:`FOOT_LENGTH_RANGE_MM` (a device's 0 means "not given": False)."""
    lo, hi = FOOT_LENGTH_RANGE_MM
    return foot_length_mm is not None and lo <= foot_length_mm <= hi


def placeholder_layout(n_sensors: int, foot_length_mm: float) -> SensorLayout:
    """``unknown-N``: a stand-in for a layout whose cell positions are not known (geometry ``"unknown"``).

    Cells are spaced along the foot's long axis so that the arrays have the right shape; nothing positional
    (centre of pressure, regions) may be computed from them.
    """
    x = np.linspace(0.08, 0.92, n_sensors) * foot_length_mm
    return SensorLayout(f"unknown-{n_sensors}", x, np.zeros(n_sensors), np.full(n_sensors, 100.0),
                        float(foot_length_mm), geometry="unknown")


def layout_for_device(n_sensors: int, foot_length_mm: float, layout_id: str = "") -> SensorLayout:
    """The layout of a device's ``n_sensors`` cells: the one policy of every driver (serial, BLE, ...).

    1. The device announced a built-in layout id with that many cells: that layout, geometry ``"specified"``.
    2. Otherwise the built-in layout with that many cells (8, 16, 99), geometry ``"generic"`` (assumed).
    3. Otherwise the placeholder ``unknown-N`` (:func:`placeholder_layout`), geometry ``"unknown"``: positions are
       unknown and centre-of-pressure and regional measures do not apply.

    Parameters
    ----------
    n_sensors : int
    foot_length_mm : float
        Length to scale to (the device's, else the user's, else :data:`DEFAULT_FOOT_LENGTH_MM`).
    layout_id : str
        What the device announced (``""``, ``"custom"`` or another unknown id: nothing usable).

    Raises
    ------
    ConfigurationError
        No cells, or an implausible foot length.
    """
    if n_sensors < 1:
        raise ConfigurationError(f"a device needs at least one cell, got {n_sensors}")
    if not is_plausible_foot_length_mm(foot_length_mm):
        lo, hi = FOOT_LENGTH_RANGE_MM
        raise ConfigurationError(f"foot_length_mm must be between {lo:g} and {hi:g} mm ({FOOT_LENGTH_MM.source}), "
                                 f"got {foot_length_mm}")
    if n_sensors not in BUILTIN_LAYOUTS.values():
        return placeholder_layout(n_sensors, foot_length_mm)
    layout = builtin_layout(n_sensors, foot_length_mm)
    if BUILTIN_LAYOUTS.get(layout_id) == n_sensors:
        return dataclasses.replace(layout, geometry="specified")
    return layout


def foot_length_from_shoe_size_eu(shoe_size_eu: float) -> float:
    """Approximate foot length from a European (Paris point) shoe size.

    A Paris point is 2/3 cm of last length; the last is ~15 mm longer than the foot
    (ISO 9407 "Mondopoint" allowance convention). Good to about +-5 mm.
    """
    return shoe_size_eu * 20.0 / 3.0 - 15.0
