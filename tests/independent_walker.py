"""A walking model written independently of insole/simulator, for checking the event detector against a second truth.

It shares no code with the simulator: strides jitter uniformly around a cadence, each stance's vertical force is
the sum of two raised-cosine humps (loading and push-off) over a base, the in-shoe residual load of a multi-cell
insole is a plateau reached at toe off that then decays linearly-exponentially, and each cell takes a fixed share
of the load by region. Truth is the physical foot contact. Files are written through the session package.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from insole.layouts import builtin_layout
from insole.session import SessionMetadata, SessionWriter


def _force(u: np.ndarray) -> np.ndarray:
    """Shape of the vertical force over stance phase u in [0, 1], peak about 1.1 (body weights), 0 at both ends."""
    hump = lambda c, w: np.where(np.abs(u - c) < w, 0.5 * (1 + np.cos(np.pi * (u - c) / w)), 0.0)  # noqa: E731
    base = np.sin(np.pi * np.clip(u, 0, 1)) ** 0.6
    return 0.75 * base + 0.38 * hump(0.22, 0.2) + 0.33 * hump(0.78, 0.2)


def write_walk(path: Path, *, n_sensors: int = 16, rate_hz: float = 100.0, duration_s: float = 60.0,
               residual_share: float = 0.12, residual_tau_s: float = 0.035, noise_kpa: float = 1.0,
               seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Write a two-foot walk; return the true contact events per side (``ic_s``, ``to_s``)."""
    rng = np.random.default_rng(seed)
    layout = builtin_layout(n_sensors, 255.0)
    bw = 68.0 * 9.80665
    t = np.arange(0.0, duration_s, 1.0 / rate_hz)
    stride, stance_share = 1.06, 0.605
    truth = {}
    with SessionWriter(path, SessionMetadata(subject_id=f"indep-{seed}", body_mass_kg=68.0), source="simulated") as w:
        for k, side in enumerate(("left", "right")):
            n = int(duration_s / stride) + 3
            ic = 0.3 + k * stride / 2 + np.arange(n) * stride + rng.uniform(-0.02, 0.02, n)
            to = ic + stance_share * stride * (1 + rng.uniform(-0.02, 0.02, n))
            force = np.zeros_like(t)
            residual = np.zeros_like(t)
            for a, b in zip(ic, to, strict=True):
                inside = (t >= a) & (t < b)
                force[inside] += bw * _force((t[inside] - a) / (b - a))
                if residual_share > 0:
                    ramp = inside & (t > b - 0.08)
                    residual[ramp] = np.maximum(residual[ramp], residual_share * bw * (t[ramp] - (b - 0.08)) / 0.08)
                    after = (t >= b) & (t < b + 0.4)
                    residual[after] = np.maximum(residual[after],
                                                 residual_share * bw * np.exp(-(t[after] - b) / residual_tau_s))
            x = np.asarray(layout.x_mm) / layout.foot_length_mm
            heel_share = np.clip(1.3 - 2 * ((t - ic[np.clip(np.searchsorted(ic, t) - 1, 0, n - 1)]) /
                                            (stance_share * stride)), 0, 1)
            w_heel = np.where(x < 0.3, 1.0, 0.0)
            w_fore = np.where(x >= 0.3, 1.0, 0.0)
            if n_sensors == 1:
                cells = force[:, None]
            else:
                cells = (force * heel_share)[:, None] * (w_heel / w_heel.sum())[None, :] \
                    + (force * (1 - heel_share))[:, None] * (w_fore / w_fore.sum())[None, :] \
                    + residual[:, None] * (w_fore / w_fore.sum())[None, :]
            kpa = cells / np.asarray(layout.area_mm2)[None, :] * 1000.0 + rng.normal(0, noise_kpa, (len(t), n_sensors))
            w.add_foot(side, layout, units="kPa", sampling_rate_hz=rate_hz, with_sequence=False,
                       with_device_time=False)
            w.append(side, t, np.maximum(kpa, 0.0).astype(np.float32))
            keep = (ic > 0.5) & (to < duration_s - 0.5)
            truth[side] = {"ic_s": ic[keep], "to_s": to[keep]}
    return truth
