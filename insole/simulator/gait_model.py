"""A walking model that produces true gait events and plantar pressure under each foot.

The model is deliberately physiological rather than a sine wave:

* stride times vary with a first-order autoregressive process around the cadence of the walking speed;
* each stance has the double-hump vertical force of walking (heel-strike transient, loading peak, mid-stance
  valley, push-off peak), built from landmarks at stance-phase positions with a shape-preserving (PCHIP) curve;
* the load moves from heel through midfoot and metatarsal heads to the toes; each region's load is spread over
  the insole cells with a Gaussian footprint, so the centre of pressure (CoP) follows from the cells, as on a real
  insole, and the medio-lateral path reflects the profile.

Time here is the walker's true time in seconds from the start of the walk. Devices add their own clock, noise,
saturation and dropouts (:mod:`insole.simulator.device`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.signal import lfilter

from insole.frames import SIDES, Side
from insole.layouts import SensorLayout
from insole.simulator.profiles import GaitProfile

GRAVITY_M_S2 = 9.80665

#: Reference speed at which the profile's force landmarks are given.
_REFERENCE_SPEED_M_S = 1.3
#: Position of the push-off peak in stance (share of stance).
_SECOND_PEAK_AT = 0.76

# Load regions: name, centre (x / L, y / L), spread (x / L, y / L). y is medial positive.
_REGIONS = ("heel", "midfoot_lateral", "midfoot_medial", "metatarsals", "hallux", "lesser_toes")


def cadence_steps_per_min(speed_m_s: float) -> float:
    """Typical cadence of adults walking at ``speed_m_s``.

    A linear fit through adult overground data (about 99 steps/min at 0.9 m/s, 112 at 1.3 m/s, 124 at 1.7 m/s;
    Grieve & Gear 1966; Kirtley, Whittle & Jefferson 1985).
    """
    return 70.0 + 32.0 * speed_m_s


def stance_share(speed_m_s: float) -> float:
    """Stance as a share of the stride: (64.2 - 3.5 x speed) % (Kirtley, Whittle & Jefferson 1985)."""
    return (64.2 - 3.5 * speed_m_s) / 100.0


#: Running (the ``running`` profile): about 165 steps/min at 3-4 m/s (Cavanagh PR, Kram R. Med Sci Sports Exerc
#: 1989;21:467-479) and stance about 38 % of the stride, with flight phases between the steps (Novacheck TF. Gait
#: Posture 1998;7:77-95). The vertical force is a single hump (Cavanagh & Lafortune 1980).
RUNNING_CADENCE_STEPS_PER_MIN = 165.0
RUNNING_STANCE_SHARE = 0.38


@dataclass
class SimulatedWalk:
    """True events and pressure generator for one walker (both feet).

    Use :func:`simulate_walk` to build one. Two devices created with the same profile and seed share one walker,
    so a left and a right simulated insole form a consistent pair.

    Attributes
    ----------
    profile : GaitProfile
    duration_s : float
    ic_s, to_s : dict of {side: numpy.ndarray}
        True initial-contact and toe-off times (seconds of walk time), including strides that run past the end.
    amplitude : dict of {side: numpy.ndarray}
        Per-step force multiplier (step-to-step variability).
    """

    profile: GaitProfile
    duration_s: float
    seed: int
    ic_s: dict[str, np.ndarray]
    to_s: dict[str, np.ndarray]
    amplitude: dict[str, np.ndarray]

    @property
    def body_weight_n(self) -> float:
        """Body weight in newtons."""
        return self.profile.body_mass_kg * GRAVITY_M_S2

    @property
    def is_walking(self) -> bool:
        """False for the ``standing`` profile."""
        return self.profile.name != "standing"

    def truth(self, side: Side) -> tuple[np.ndarray, np.ndarray]:
        """True (IC, TO) times of ``side`` for stances that start and end within the walk."""
        ic, to = self.ic_s[side], self.to_s[side]
        keep = (ic >= 0.0) & (to <= self.duration_s)
        return ic[keep], to[keep]

    # ------------------------------------------------------------------ force
    def _template(self) -> PchipInterpolator:
        p = self.profile
        if p.name == "running":  # single hump (the heel-strike impact is the transient)
            return PchipInterpolator([0.0, 0.45, 1.0], [0.0, p.first_peak_bw, 0.0])
        dv = p.speed_m_s - _REFERENCE_SPEED_M_S
        p1 = p.first_peak_bw + 0.25 * dv
        valley = p.valley_bw - 0.25 * dv
        p2 = p.second_peak_bw + 0.10 * dv
        u1 = p.first_peak_at
        knots_u = [0.0, 0.35 * u1, u1, 0.5 * (u1 + _SECOND_PEAK_AT), _SECOND_PEAK_AT, 0.90, 1.0]
        knots_f = [0.0, 0.45 * p1, p1, valley, p2, 0.5 * p2, 0.0]
        return PchipInterpolator(knots_u, knots_f)

    def stance_phase(self, side: Side, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stance phase ``u`` in [0, 1) of each time (NaN in swing) and the index of the stance it belongs to."""
        ic, to = self.ic_s[side], self.to_s[side]
        idx = np.searchsorted(ic, t_s, side="right") - 1
        safe = np.clip(idx, 0, len(ic) - 1)
        u = (t_s - ic[safe]) / (to[safe] - ic[safe])
        in_stance = (idx >= 0) & (u >= 0.0) & (u < 1.0)
        return np.where(in_stance, u, np.nan), safe

    def force_n(self, side: Side, t_s: np.ndarray) -> np.ndarray:
        """True vertical force under ``side`` at times ``t_s`` (seconds), in newtons."""
        t_s = np.asarray(t_s, dtype=np.float64)
        p = self.profile
        if not self.is_walking:
            return 0.5 * self.body_weight_n * (1.0 + self._sway(side, t_s))
        u, idx = self.stance_phase(side, t_s)
        in_stance = ~np.isnan(u)
        uu = np.where(in_stance, u, 0.0)
        shape = self._template()(uu)
        s = uu / 0.03
        shape = shape + p.transient_bw * s**2 * np.exp(2.0 * (1.0 - s))
        scale = p.peak_scale_left if side == "left" else p.peak_scale_right
        f = self.body_weight_n * scale * self.amplitude[side][idx] * shape
        return np.where(in_stance, np.maximum(f, 0.0), 0.0)

    def _sway(self, side: Side, t_s: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 7])
        freqs = np.array([0.05, 0.13, 0.31])
        phases = rng.uniform(0, 2 * np.pi, 3)
        sway = (0.06 * np.sin(2 * np.pi * freqs[:, None] * t_s[None, :] + phases[:, None])).sum(axis=0)
        return sway if side == "left" else -sway

    # ------------------------------------------------------------------ pressure
    def region_weights(self, u: np.ndarray) -> np.ndarray:
        """Share of the foot's load carried by each region at stance phase ``u``; shape (n, n_regions)."""
        p = self.profile
        if not self.is_walking:
            w = np.array([0.55, 0.08 * (1 - p.arch_load), 0.08 * p.arch_load, 0.3, 0.04, 0.03])
            return np.broadcast_to(w / w.sum(), (len(u), len(w))).copy()
        u = np.nan_to_num(u, nan=0.0)
        heel = np.clip((0.55 - u) / 0.45, 0.0, 1.0) ** 1.5
        mid = 0.35 * np.exp(-(((u - 0.42) / 0.17) ** 2))
        meta = np.exp(-(((u - 0.74) / 0.20) ** 2))
        toes = 0.7 * np.exp(-(((u - 0.93) / 0.08) ** 2))
        hallux_share = float(np.clip(0.65 + 3.0 * p.medial_shift, 0.2, 0.9))
        w = np.stack(
            [
                heel,
                mid * (1.0 - p.arch_load),
                mid * p.arch_load,
                meta,
                toes * hallux_share,
                toes * (1.0 - hallux_share),
            ],
            axis=1,
        )
        return w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)

    def region_kernel(self, layout: SensorLayout) -> np.ndarray:
        """Share of each region's load taken by each cell; shape (n_regions, n_sensors), rows sum to 1."""
        p = self.profile
        ms = p.medial_shift
        regions = np.array(
            [
                # x/L,  y/L,               sx/L, sy/L
                (0.10, 0.005 + 0.3 * ms, 0.050, 0.045),
                (0.40, -0.080 + 0.3 * ms, 0.070, 0.035),
                (0.40, 0.050 + 0.3 * ms, 0.070, 0.035),
                (0.70, 0.015 + ms, 0.040, 0.090),
                (0.90, 0.080, 0.030, 0.030),
                (0.87, -0.050, 0.030, 0.040),
            ]
        )
        L = layout.foot_length_mm
        x = np.asarray(layout.x_mm)[None, :] / L
        y = np.asarray(layout.y_mm)[None, :] / L
        cx, cy, sx, sy = (regions[:, i : i + 1] for i in range(4))
        # log-space softmax: robust when a footprint falls between sparse cells
        logit = np.log(np.asarray(layout.area_mm2))[None, :] - 0.5 * ((x - cx) / sx) ** 2 - 0.5 * ((y - cy) / sy) ** 2
        logit -= logit.max(axis=1, keepdims=True)
        k = np.exp(logit)
        return k / k.sum(axis=1, keepdims=True)

    def pressure_kpa(self, side: Side, t_s: np.ndarray, layout: SensorLayout) -> np.ndarray:
        """True pressure on each cell of ``layout`` under ``side`` at times ``t_s``; shape (n, n_sensors), kPa."""
        t_s = np.asarray(t_s, dtype=np.float64)
        force = self.force_n(side, t_s)
        u, _ = self.stance_phase(side, t_s) if self.is_walking else (np.zeros_like(t_s), None)
        cell_force_n = force[:, None] * (self.region_weights(u) @ self.region_kernel(layout))
        return cell_force_n / np.asarray(layout.area_mm2)[None, :] * 1000.0  # N/mm2 = MPa -> kPa


def simulate_walk(profile: GaitProfile, duration_s: float, seed: int = 0) -> SimulatedWalk:
    """Draw the true gait events of a walk.

    Parameters
    ----------
    profile : GaitProfile
    duration_s : float
        Length of the walk in seconds.
    seed : int
        Seed of the random generator; the same seed gives the same walk.

    Returns
    -------
    SimulatedWalk
    """
    rng = np.random.default_rng([seed, 1])
    p = profile
    running = p.name == "running"
    stride_s = 120.0 / (RUNNING_CADENCE_STEPS_PER_MIN if running else cadence_steps_per_min(p.speed_m_s))
    n = int(np.ceil((duration_s + 3.0) / (stride_s * 0.8))) + 2
    # AR(1) stride-time fluctuation with unit variance, scaled to the requested CV.
    phi = 0.5
    e = rng.standard_normal(n) * np.sqrt(1.0 - phi**2)
    e[0] = rng.standard_normal()  # start in the stationary distribution
    z = lfilter([1.0], [1.0, -phi], e)
    strides = stride_s * (1.0 + p.stride_cv_pct / 100.0 * z)
    ic_left = rng.uniform(0.05, 0.4) + np.concatenate([[0.0], np.cumsum(strides[:-1])])
    if p.turn_every_s > 0:
        turning = (np.floor(ic_left / p.turn_every_s) != np.floor((ic_left + 2.5 * stride_s) / p.turn_every_s))
        strides = np.where(turning & (ic_left > p.turn_every_s / 2), strides * 1.25, strides)
        ic_left = ic_left[0] + np.concatenate([[0.0], np.cumsum(strides[:-1])])
    share = RUNNING_STANCE_SHARE if running else stance_share(p.speed_m_s)
    ic_right = ic_left + strides * p.step_phase + rng.normal(0.0, 0.004 * stride_s, n)
    ic = {"left": ic_left, "right": ic_right}
    to: dict[str, np.ndarray] = {}
    amp: dict[str, np.ndarray] = {}
    for side in SIDES:
        scale = p.stance_scale_left if side == "left" else p.stance_scale_right
        stance = share * strides * scale * (1.0 + 0.01 * rng.standard_normal(n))
        to[side] = ic[side] + stance
        amp[side] = 1.0 + 0.03 * rng.standard_normal(n)
    if p.name == "standing":
        ic = {s: np.array([]) for s in SIDES}
        to = {s: np.array([]) for s in SIDES}
        amp = {s: np.array([]) for s in SIDES}
    return SimulatedWalk(p, float(duration_s), int(seed), ic, to, amp)
