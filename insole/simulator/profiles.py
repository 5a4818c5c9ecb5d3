"""Walking profiles of the simulated insole.

A profile is a set of gait parameters. The named profiles set the parameters that give each pattern its
signature; every parameter can be overridden (``sim://neutral?speed_m_s=1.0&body_mass_kg=90``).

Sources for the signatures (see ``shared/design/gait-evidence.md``):

- stance share of the stride 64.2 - 3.5 x speed (m/s) % (Kirtley, Whittle & Jefferson 1985);
- stride-time CV of healthy adults ~1.3-2 % (Hausdorff et al. 1999);
- over-pronation: medial CoP path through the midfoot and forefoot, low CPEI (Song et al. 1996);
- over-supination: lateral CoP path, sharper loading with a larger heel-strike transient (Woodard et al. 1999;
  Verdini et al. 2006 for the transient);
- leg-length difference: long-leg stance +3.5 %, long-leg peak pressure -12 % (Pereiro-Buceta et al. 2021);
  asymmetry in contact time and force peaks beyond normal for LLD > 2 cm (Kaufman et al. 1996).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from insole.errors import ConfigurationError


@dataclass(frozen=True)
class GaitProfile:
    """Parameters of a simulated walker and its insoles.

    Attributes
    ----------
    name : str
        Profile name.
    speed_m_s : float
        Walking speed; sets cadence, stance share and force peaks (running: 1.8-6 m/s, a fixed running cadence and
        stance share).
    body_mass_kg : float
    foot_length_mm : float
    stride_cv_pct : float
        Coefficient of variation of stride time.
    medial_shift : float
        Medio-lateral shift of midfoot and forefoot loading, in units of foot length (medial positive).
    arch_load : float
        Share of midfoot load carried by the medial arch (0 = rigid high arch, 0.5 = collapsed arch).
    first_peak_bw, valley_bw, second_peak_bw : float
        Force-curve landmarks at the profile's reference speed of 1.3 m/s, in body weights.
    first_peak_at : float
        Position of the first peak in the stance phase (0-1); earlier = higher loading rate.
    transient_bw : float
        Amplitude of the heel-strike transient, in body weights.
    stance_scale_left, stance_scale_right : float
        Multipliers of each side's stance duration.
    peak_scale_left, peak_scale_right : float
        Multipliers of each side's force.
    step_phase : float
        Right initial contact as a share of the left stride (0.5 = symmetric steps).
    turn_every_s : float
        Seconds between turns (0 = no turns); each turn slows two strides by 25 %.
    """

    name: str = "neutral"
    speed_m_s: float = 1.3
    body_mass_kg: float = 70.0
    foot_length_mm: float = 260.0
    stride_cv_pct: float = 1.5
    medial_shift: float = 0.0
    arch_load: float = 0.15
    first_peak_bw: float = 1.12
    valley_bw: float = 0.78
    second_peak_bw: float = 1.10
    first_peak_at: float = 0.24
    transient_bw: float = 0.10
    stance_scale_left: float = 1.0
    stance_scale_right: float = 1.0
    peak_scale_left: float = 1.0
    peak_scale_right: float = 1.0
    step_phase: float = 0.5
    turn_every_s: float = 0.0

    def __post_init__(self) -> None:
        checks = {
            "speed_m_s": (1.8, 6.0) if self.name == "running" else (0.3, 2.5),
            "body_mass_kg": (15.0, 250.0),
            "foot_length_mm": (150.0, 350.0),
            "stride_cv_pct": (0.0, 15.0),
            "medial_shift": (-0.1, 0.1),
            "arch_load": (0.0, 0.8),
            "first_peak_at": (0.12, 0.4),
            "transient_bw": (0.0, 1.0),
            "stance_scale_left": (0.8, 1.2),
            "stance_scale_right": (0.8, 1.2),
            "peak_scale_left": (0.5, 1.5),
            "peak_scale_right": (0.5, 1.5),
            "step_phase": (0.4, 0.6),
            "turn_every_s": (0.0, 3600.0),
        }
        for name, (lo, hi) in checks.items():
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise ConfigurationError(f"profile parameter {name} must be between {lo} and {hi}, got {value}")


#: Named profiles. ``standing`` is quiet standing (no steps) and ``running`` is running with flight phases (a single
#: force hump of ``first_peak_bw``), for testing that the walking analysis refuses both instead of inventing strides.
PROFILES: dict[str, GaitProfile] = {
    "neutral": GaitProfile(name="neutral"),
    "overpronation": GaitProfile(
        name="overpronation", medial_shift=0.06, arch_load=0.55, first_peak_at=0.27, transient_bw=0.06
    ),
    "oversupination": GaitProfile(
        name="oversupination",
        medial_shift=-0.06,
        arch_load=0.0,
        first_peak_bw=1.25,
        first_peak_at=0.16,
        transient_bw=0.35,
    ),
    "leg-length-discrepancy": GaitProfile(
        name="leg-length-discrepancy", stance_scale_right=1.035, peak_scale_right=0.88, step_phase=0.48
    ),
    "asymmetric": GaitProfile(
        name="asymmetric", stance_scale_left=0.94, peak_scale_left=0.90, step_phase=0.53
    ),
    "standing": GaitProfile(name="standing"),
    "running": GaitProfile(name="running", speed_m_s=3.0, first_peak_bw=2.5, transient_bw=0.6, stride_cv_pct=2.0),
}


def profile_from_query(name: str, overrides: dict[str, str] | None = None) -> GaitProfile:
    """Build a profile from its name and string overrides (as found in a ``sim://`` URL query).

    Raises
    ------
    ConfigurationError
        Unknown profile or parameter, or a value that is not a number or is out of range.
    """
    if name not in PROFILES:
        raise ConfigurationError(f"unknown profile {name!r}; choose one of: {', '.join(PROFILES)}")
    base = PROFILES[name]
    fields = {f.name for f in dataclasses.fields(GaitProfile)} - {"name"}
    changes: dict[str, float] = {}
    for key, raw in (overrides or {}).items():
        if key not in fields:
            raise ConfigurationError(
                f"unknown profile parameter {key!r}; known parameters: {', '.join(sorted(fields))}"
            )
        try:
            changes[key] = float(raw)
        except ValueError:
            raise ConfigurationError(f"profile parameter {key} must be a number, got {raw!r}") from None
    return dataclasses.replace(base, **changes)
