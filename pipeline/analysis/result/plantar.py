"""One foot's plantar pressure pictures as records: per-cell maps, clinical masks and the strike pattern.

The maps carry each cell's own value (mean over the steps used of its peak pressure and of its pressure-time
integral) with the cell's position, so that a report can draw them and a script can re-use them without the
frames. See :mod:`pipeline.analysis.plantar` for the rules.
"""

from __future__ import annotations

from pipeline.analysis.result.records import MetricStatus, _Record


class CellMaps(_Record):
    """Per-cell peak pressure and pressure-time integral of one foot, mean over the steps used.

    Attributes
    ----------
    status : MetricStatus
        ``computed``; ``not_applicable`` for one-sensor insoles and unknown cell positions; ``not_computed``
        without usable steps. ``reason`` says why.
    unit, pti_unit : str
        Unit of ``peak_pressure`` (the session's pressure unit: ``kPa``, ``N`` per cell, or ``counts``) and of
        ``pti`` (that unit x s).
    n_steps : int
        Steps averaged (valid steps without a saturated cell).
    cell : list of int
        Cell numbers, from 1 in the layout's order.
    x_mm, y_mm : list of float
        Cell centres in the foot frame (anterior from the heel, medial positive).
    peak_pressure, pti : list of float or None
        Per cell: mean over the steps of the cell's highest value during the contact, and of its integral over
        the contact.
    foot_length_mm, forefoot_width_mm : float
        Of the layout (the foot frame's scale).
    layout_id, geometry : str
        The layout and how its positions are known (``specified`` / ``generic``).
    method : str
    """

    status: MetricStatus
    reason: str = ""
    unit: str = ""
    pti_unit: str = ""
    n_steps: int = 0
    cell: list[int] = []
    x_mm: list[float] = []
    y_mm: list[float] = []
    peak_pressure: list[float | None] = []
    pti: list[float | None] = []
    foot_length_mm: float = 0.0
    forefoot_width_mm: float = 0.0
    layout_id: str = ""
    geometry: str = ""
    method: str = ""

    @property
    def available(self) -> bool:
        """True when the maps were computed."""
        return self.status is MetricStatus.COMPUTED


class PlantarMask(_Record):
    """One clinical mask (or, where the layout has no cells for its sub-masks, a coarse region) of one foot.

    ``peak_pressure``: mean over the steps used of the mask's highest cell value in stance; ``pti``: mean over the
    steps of the mask's highest per-cell pressure-time integral (the convention of the regional table);
    ``cells``: the cell numbers (from 1) inside the mask; ``coarse``: a coarse region standing in for sub-masks
    the layout cannot separate (e.g. one heel cell on the foot axis).
    """

    name: str
    label: str
    cells: list[int]
    coarse: bool = False
    peak_pressure: float | None = None
    pti: float | None = None
    n_steps: int = 0
    unit: str = ""


class StrikePattern(_Record):
    """Foot-strike pattern of one foot: the valid steps classed by where along the foot the load starts.

    ``rearfoot``, ``midfoot``, ``forefoot``: steps in each class (gait-line start below one third of foot length,
    between, above two thirds: the strike-index limits of Cavanagh & Lafortune 1980); ``pattern`` the class of most
    steps (None when not assessed, ``reason`` says why); ``rule`` states it.
    """

    status: MetricStatus
    rule: str
    reason: str = ""
    n_steps: int = 0
    rearfoot: int = 0
    midfoot: int = 0
    forefoot: int = 0
    pattern: str | None = None


class Plantar(_Record):
    """Pressure pictures of one foot: cell maps, clinical masks (``mask_rule`` defines them) and strike pattern."""

    maps: CellMaps
    strike: StrikePattern
    masks: list[PlantarMask] = []
    mask_rule: str = ""
