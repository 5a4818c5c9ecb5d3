"""Plantar regions from sensor geometry, and per-step regional measures.

Masks are fractions of foot length along the foot axis, in the style of the percentage masks of Cavanagh &
Ulbrecht (1994) used by insole software: heel < 30 %, midfoot 30-55 %, forefoot (metatarsal heads) 55-82 %,
toes >= 82 % of foot length from the back of the heel. Medial / lateral split at the foot's long axis (y = 0 in
the foot frame); a cell on the axis counts half to each. These cut-offs are our choice (the evidence note gives
none); they are stored in the result.

Per step and region: peak pressure (highest cell pressure), pressure-time integral (highest per-cell integral of
pressure over stance, kPa s), contact time (% of stance during which the region carries more than 2 % of the step's
peak total force) and load share (% of the step's force-time integral carried by the region).
"""

from __future__ import annotations

import numpy as np

from insole.layouts import SensorLayout

#: Region bounds along the foot as fractions of foot length.
REGION_BOUNDS = {"heel": (0.0, 0.30), "midfoot": (0.30, 0.55), "forefoot": (0.55, 0.82), "toes": (0.82, 10.0)}
#: Contact threshold of a region, as a share of the step's peak total force.
REGION_CONTACT_SHARE = 0.02
REGION_RULE = (
    "regions by share of foot length from the heel (Cavanagh & Ulbrecht 1994 style masks): heel < 30 %, "
    "midfoot 30-55 %, forefoot 55-82 %, toes >= 82 %; medial y > 0, lateral y < 0 (cells on the axis count "
    "half); contact = region force above 2 % of the step's peak total force"
)


def region_weights(layout: SensorLayout) -> dict[str, np.ndarray]:
    """Weight (0, 0.5 or 1) of every cell in each region; regions without cells are left out."""
    x = np.asarray(layout.x_mm) / layout.foot_length_mm
    y = np.asarray(layout.y_mm)
    out: dict[str, np.ndarray] = {}
    for name, (lo, hi) in REGION_BOUNDS.items():
        w = ((x >= lo) & (x < hi)).astype(np.float32)
        if w.any():
            out[name] = w
    medial = np.where(y > 0, 1.0, np.where(y == 0, 0.5, 0.0)).astype(np.float32)
    lateral = np.where(y < 0, 1.0, np.where(y == 0, 0.5, 0.0)).astype(np.float32)
    if medial.any() and lateral.any() and len(y) > 1:
        out["medial"] = medial
        out["lateral"] = lateral
    return out
