"""Plantar pressure pictures of one foot: per-cell maps, clinical masks and the strike pattern.

**Cell maps.** Per cell, the mean over the steps used of (a) its peak value and (b) its pressure-time integral
over the contact's frames (from the last unloaded frame before the loading onset to the first unloaded frame
after the unloading end: the frames every per-step cell measure uses; sum of value x frame duration, durations
capped at 1.5 sample periods so a gap adds nothing), in the session's stored units after subtracting the cell's
unloaded floor (the analysis's per-cell floor, :class:`pipeline.analysis.force.ForceTrace`). Steps used: the
valid (steady-state) steps without a saturated cell, as for the regional table. The per-step cell values come
from pass 2 (:mod:`.step_frames`), so the maps cost one mean per cell.

**Clinical masks.** Masks in foot-frame coordinates, as shares of foot length ``L`` from the heel and of forefoot
width ``W`` (:attr:`insole.layouts.SensorLayout.forefoot_width_mm`, medial positive), in the style of the
percentage masks of in-shoe software (Cavanagh & Ulbrecht 1994; the "traditional" mask of Forghany et al. 2018
puts the forefoot at 51-81 % of foot length). The bands along the foot are those of the coarse regions
(:data:`pipeline.analysis.regions.REGION_BOUNDS`: heel < 30 %, midfoot 30-55 %, metatarsal heads 55-82 %, toes
>= 82 %) so that masks nest inside the regions. The medio-lateral splits are **our choice** (no published split
in shares of width was found): heel medial / lateral at the foot axis; metatarsal heads split midway between the
head positions of the generic 16-cell layout (heads 1-5 at +0.32, +0.16, 0, -0.16, -0.32 W): first head medial of
+0.24 W, heads 2-3 from +0.24 W to -0.08 W, heads 4-5 lateral of -0.08 W; hallux medial of +0.05 W (midway between
the generic hallux and lesser-toe cells), lesser toes lateral of it. A mask is reported only when the layout has a
cell in it. A cell on the foot axis (|y| < 0.5 mm) in the heel or toe band cannot be given a side: it goes to the
coarse region (``heel`` or ``toes``) instead, which is then reported in place of the split masks.

**Strike pattern.** Each valid step's point of first loading along the foot, classed by the strike-index limits
of Cavanagh & Lafortune (1980): rearfoot below one third of foot length, forefoot above two thirds, midfoot
between; the foot's pattern is the class of most steps. The point is the start of the gait line (the CoP of the
first frame at or above 10 % of the step's peak force, ``cop_start_ap_pct``), not the very first loaded frame
(``strike_index_pct``): in a shoe the upper and lacing keep a small residual load on the forefoot cells into the
next contact, which pulls the first frames' CoP forward (on the simulator's in-shoe model a third of heel strikes
read as midfoot strikes from the first loaded frame, none from the gait-line start). On an insole the CoP stays
inside the sensor hull, so a heel strike reads at the heel cells (about 6-15 % of foot length) and a forefoot
strike at the metatarsal cells (about 70 %).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from insole.layouts import SensorLayout
from pipeline.analysis.foot_function import STRIKE_LIMITS
from pipeline.analysis.regions import REGION_BOUNDS
from pipeline.analysis.result import MetricStatus, finite
from pipeline.analysis.result.plantar import CellMaps, Plantar, PlantarMask, StrikePattern

#: A cell this close to the foot axis (mm) has no side.
ON_AXIS_MM = 0.5


@dataclass(frozen=True)
class MaskSpec:
    """One clinical mask: a band along the foot (shares of foot length) and a medio-lateral range (shares of
    forefoot width, medial positive; ``y_lo`` exclusive, ``y_hi`` inclusive)."""

    name: str
    label: str
    band: str
    y_lo: float
    y_hi: float
    needs_side: bool = False  # a cell on the axis cannot be placed (heel and toe splits)


#: The clinical masks, heel to toes.
MASKS: tuple[MaskSpec, ...] = (
    MaskSpec("heel_medial", "Medial heel", "heel", 0.0, np.inf, needs_side=True),
    MaskSpec("heel_lateral", "Lateral heel", "heel", -np.inf, 0.0, needs_side=True),
    MaskSpec("midfoot", "Midfoot", "midfoot", -np.inf, np.inf),
    MaskSpec("mth1", "First metatarsal head", "forefoot", 0.24, np.inf),
    MaskSpec("mth23", "Metatarsal heads 2-3", "forefoot", -0.08, 0.24),
    MaskSpec("mth45", "Metatarsal heads 4-5", "forefoot", -np.inf, -0.08),
    MaskSpec("hallux", "Hallux", "toes", 0.05, np.inf, needs_side=True),
    MaskSpec("lesser_toes", "Lesser toes", "toes", -np.inf, 0.05, needs_side=True),
)
#: Coarse regions standing in for split masks (cells on the axis).
COARSE_LABELS = {"heel": "Heel (whole: a cell on the foot axis)", "toes": "Toes (whole: a cell on the foot axis)"}

MASK_RULE = (
    "masks by share of foot length L from the heel and of forefoot width W (medial positive), percentage masks in "
    "the style of Cavanagh & Ulbrecht 1994: heel < 0.30 L split at the foot axis into medial and lateral heel; "
    "midfoot 0.30-0.55 L; metatarsal heads 0.55-0.82 L: first > +0.24 W, second-third -0.08 to +0.24 W, "
    "fourth-fifth < -0.08 W; toes >= 0.82 L: hallux > +0.05 W, lesser toes the rest. Length bands are the coarse "
    "regions'; the width splits are ours (midway between the generic 16-cell layout's head and toe cells; no "
    "published split found). A mask is listed only when the insole has a cell in it; a heel or toe cell on the "
    "foot axis has no side and is reported in the whole heel or toes instead. Values: mean over the steps of the "
    "mask's highest cell peak pressure and highest cell pressure-time integral"
)

STRIKE_RULE = (
    "start of each valid step's gait line (CoP of the first frame at or above 10 % of the step's peak force, % of "
    "foot length from the heel) classed by the strike-index limits of Cavanagh & Lafortune 1980: rearfoot < 33.3 %, "
    "forefoot > 66.7 %, midfoot between; the foot's pattern is the class of most steps"
)

MAPS_METHOD = (
    "per cell: mean over the valid steps without a saturated cell of the cell's peak value during the contact and "
    "of its pressure-time integral (sum of value x frame duration over the contact's frames, loading onset to "
    "unloading end), in the stored units after subtracting the cell's unloaded floor"
)


def assign_masks(layout: SensorLayout) -> list[tuple[str, str, np.ndarray, bool]]:
    """The masks of ``layout`` that hold cells: ``(name, label, cell indices (from 0), coarse)``, heel to toes.

    Every cell at a known position falls in exactly one mask (a clinical mask, or the coarse heel / toes for
    cells on the foot axis).
    """
    L, W = layout.foot_length_mm, layout.forefoot_width_mm
    x = np.asarray(layout.x_mm, float) / L
    y_mm = np.asarray(layout.y_mm, float)
    y = y_mm / W
    band = {name: (x >= lo) & (x < hi) for name, (lo, hi) in REGION_BOUNDS.items()}
    on_axis = np.abs(y_mm) < ON_AXIS_MM
    out: list[tuple[str, str, np.ndarray, bool]] = []
    coarse_done: set[str] = set()
    for spec in MASKS:
        inside = band[spec.band] & (y > spec.y_lo) & (y <= spec.y_hi)
        if spec.needs_side:
            inside &= ~on_axis
            stray = band[spec.band] & on_axis
            if stray.any() and spec.band not in coarse_done:
                coarse_done.add(spec.band)
                out.append((spec.band, COARSE_LABELS[spec.band], np.flatnonzero(stray), True))
        if inside.any():
            out.append((spec.name, spec.label, np.flatnonzero(inside), False))
    return out


def _mean_rows(a: np.ndarray) -> np.ndarray:
    return a.mean(axis=0) if a.shape[0] else np.full(a.shape[1], np.nan)


def plantar_pictures(layout: SensorLayout, cell_peak: np.ndarray, cell_pti: np.ndarray, used: np.ndarray,
                     strike_at_pct: np.ndarray, valid: np.ndarray, pressure_unit: str,
                     not_applicable: str = "", cop_not_applicable: str = "") -> Plantar:
    """The :class:`Plantar` record of one foot.

    Parameters
    ----------
    layout : SensorLayout
    cell_peak, cell_pti : numpy.ndarray, shape (n_steps, n_sensors)
        Per step and cell: peak value and pressure-time integral over stance (every detected step).
    used : numpy.ndarray of bool, shape (n_steps,)
        Steps averaged (valid, no saturated cell).
    strike_at_pct, valid : numpy.ndarray, shape (n_steps,)
        Per step the point of first loading (gait-line start, % foot length) and the valid-step flag.
    pressure_unit : str
    not_applicable, cop_not_applicable : str
        Why the layout gives no regional distribution / no CoP (empty: it does).
    """
    strike = strike_pattern(strike_at_pct[valid], cop_not_applicable)
    base = {"unit": pressure_unit, "pti_unit": f"{pressure_unit} s", "layout_id": layout.layout_id,
            "geometry": layout.geometry, "foot_length_mm": float(layout.foot_length_mm),
            "forefoot_width_mm": float(layout.forefoot_width_mm), "method": MAPS_METHOD}
    if not_applicable:
        return Plantar(maps=CellMaps(status=MetricStatus.NOT_APPLICABLE, reason=not_applicable, **base),
                       strike=strike, mask_rule=MASK_RULE)
    n = int(used.sum())
    if n == 0:
        why = ("every valid step has a saturated cell" if valid.any() else "no valid steps")
        return Plantar(maps=CellMaps(status=MetricStatus.NOT_COMPUTED, reason=why, **base), strike=strike,
                       mask_rule=MASK_RULE)
    peak, pti = cell_peak[used].astype(np.float64), cell_pti[used].astype(np.float64)
    maps = CellMaps(
        status=MetricStatus.COMPUTED, n_steps=n, cell=list(range(1, layout.n_sensors + 1)),
        x_mm=[float(v) for v in layout.x_mm], y_mm=[float(v) for v in layout.y_mm],
        peak_pressure=[finite(v) for v in _mean_rows(peak)], pti=[finite(v) for v in _mean_rows(pti)], **base)
    masks = [PlantarMask(name=name, label=label, cells=[int(i) + 1 for i in idx], coarse=coarse,
                         peak_pressure=finite(peak[:, idx].max(axis=1).mean()),
                         pti=finite(pti[:, idx].max(axis=1).mean()), n_steps=n, unit=pressure_unit)
             for name, label, idx, coarse in assign_masks(layout)]
    return Plantar(maps=maps, strike=strike, masks=masks, mask_rule=MASK_RULE)


def strike_pattern(strike_at_pct: np.ndarray, not_applicable: str = "") -> StrikePattern:
    """Classify the valid steps' points of first loading (% foot length) by :data:`STRIKE_RULE`."""
    if not_applicable:
        return StrikePattern(status=MetricStatus.NOT_APPLICABLE, rule=STRIKE_RULE, reason=not_applicable)
    si = np.asarray(strike_at_pct, float)
    si = si[np.isfinite(si)] / 100.0
    if si.size == 0:
        return StrikePattern(status=MetricStatus.NOT_COMPUTED, rule=STRIKE_RULE,
                             reason="no valid step with a centre-of-pressure path")
    lo, hi = STRIKE_LIMITS
    counts = {"rearfoot": int((si < lo).sum()), "forefoot": int((si > hi).sum())}
    counts["midfoot"] = int(si.size) - counts["rearfoot"] - counts["forefoot"]
    pattern = max(("rearfoot", "midfoot", "forefoot"), key=lambda k: counts[k])
    return StrikePattern(status=MetricStatus.COMPUTED, rule=STRIKE_RULE, n_steps=int(si.size), pattern=pattern,
                         **counts)
