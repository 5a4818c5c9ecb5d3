"""What an insole inside a shoe measures besides the ground reaction: the simulator made to behave like real insoles.

Real in-shoe insoles differ from a force plate in ways that move the gait events (``shared/design/gait-evidence.md``,
"Events from insole force"; measured on the real recordings in ``../shared/datasets``, see
``docs/analysis-validation.md``):

* **Residual in-shoe load around toe off.** The shoe upper, the toe spring and the lacing keep pressing the forefoot
  and toes while the foot leaves the ground, and that load decays over 50-150 ms after toe off. On the Moticon and
  gaitpdb recordings the total insole force is still about 15 % of its stance level at the moment the references
  (Moticon's own events; the speed-stance relation of Kirtley et al. 1985) place toe off, and it reaches the swing
  floor 40-100 ms later. The model: a load ``residual_bw`` x body weight on the forefoot and toe cells, building
  up over the last ``residual_rise_share`` of stance and decaying with time constant ``residual_tau_s`` after the
  true toe off.
* **Preload from lacing:** a constant ``preload_kpa`` on the cells under the laces (midfoot and metatarsals,
  30-80 % of foot length), in swing as in stance: a swing floor above zero that differs between cells.
* **A sensor dead band:** a cell reads 0 below ``dead_band_kpa`` (capacitive and resistive cells have an activation
  threshold), which ends the decaying residual abruptly.
* **Cells missing under the toes** (``toe_cells=False``): insoles that stop short of the toes read nothing there.

A single-sensor footswitch insole gets no residual by default: on PhysioNet's 1-FSR footswitch recordings the
signal returns to its floor at the footswitch reference's toe off (the onset definition agrees with the database
authors' tables). The true events of the walk stay the physical foot contact (:meth:`SimulatedWalk.truth`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from insole.frames import Side
from insole.layouts import SensorLayout
from insole.simulator.gait_model import SimulatedWalk

#: Forefoot and toe load regions of the gait model (metatarsals, hallux, lesser toes) that carry the residual load.
_RESIDUAL_REGIONS = (3, 4, 5)
#: Share of foot length beyond which cells lie under the toes.
TOES_FROM = 0.82
#: Cells under the laces (share of foot length), which carry the lacing preload.
LACED_FROM, LACED_TO = 0.30, 0.80


@dataclass(frozen=True)
class InShoe:
    """The in-shoe effects of one simulated insole (see the module description).

    Attributes
    ----------
    residual_bw : float
        In-shoe load at the true toe off, in body weights.
    residual_tau_s : float
        Time constant of its decay after toe off.
    residual_rise_share : float
        Share of stance before toe off over which it builds up.
    preload_kpa : float
        Lacing preload on the cells under the laces.
    dead_band_kpa : float
        A cell reads 0 below this pressure.
    toe_cells : bool
        Whether the cells under the toes measure at all.
    """

    residual_bw: float = 0.15
    residual_tau_s: float = 0.025
    residual_rise_share: float = 0.15
    preload_kpa: float = 4.0
    dead_band_kpa: float = 2.0
    toe_cells: bool = True

    def residual_force_n(self, walk: SimulatedWalk, side: Side, t_s: np.ndarray) -> np.ndarray:
        """The residual in-shoe load (N) of ``side`` at walk times ``t_s``."""
        if self.residual_bw <= 0 or not walk.is_walking or len(walk.ic_s[side]) == 0:
            return np.zeros(len(t_s))
        ic, to = walk.ic_s[side], walk.to_s[side]
        # the stance whose toe off is the latest at or before each time ends the decay; the next one builds up
        k = np.clip(np.searchsorted(to, t_s, side="right") - 1, 0, len(to) - 1)
        nxt = np.clip(k + 1, 0, len(to) - 1)
        after = np.where(t_s >= to[k], np.exp(-np.maximum(t_s - to[k], 0.0) / self.residual_tau_s), 0.0)
        after = np.where(t_s < ic[nxt], after, 0.0)  # the next contact takes over
        build = np.zeros(len(t_s))
        for j in (k, nxt):  # the stance in progress (its toe off ahead) builds the residual up
            rise = self.residual_rise_share * (to[j] - ic[j])
            x = np.clip((t_s - (to[j] - rise)) / rise, 0.0, 1.0)
            inside = (t_s >= ic[j]) & (t_s < to[j])
            build = np.maximum(build, np.where(inside, x * x * (3.0 - 2.0 * x), 0.0))
        return self.residual_bw * walk.body_weight_n * np.maximum(after, build)

    def apply(self, walk: SimulatedWalk, side: Side, t_s: np.ndarray, layout: SensorLayout,
              pressure_kpa: np.ndarray) -> np.ndarray:
        """The noiseless reading of the insole's cells: ground-reaction pressure plus the in-shoe effects."""
        p = np.array(pressure_kpa, dtype=np.float64, copy=True)
        residual = self.residual_force_n(walk, side, t_s)
        if residual.any():
            kernel = walk.region_kernel(layout)[list(_RESIDUAL_REGIONS)].mean(axis=0)
            p += residual[:, None] * kernel[None, :] / np.asarray(layout.area_mm2)[None, :] * 1000.0
        x = np.asarray(layout.x_mm) / layout.foot_length_mm
        p[:, (x >= LACED_FROM) & (x < LACED_TO)] += self.preload_kpa
        p = np.where(p >= self.dead_band_kpa, p, 0.0)
        if not self.toe_cells:
            p[:, x >= TOES_FROM] = 0.0
        return p
