"""Both feet together: symmetry of every metric, the leg-length-difference pattern, the clock check."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from pipeline.analysis.metric_catalogue import PLANTAR_METRICS, SIDE_METRIC_NAMES, SIDE_METRICS
from pipeline.analysis.result.records import Metric, MetricStatus, Symmetry, _Record, added_later


class _SymmetryBase(_Record):
    def items(self) -> Iterator[Symmetry]:
        """Every symmetry record, in report order."""
        for name in SIDE_METRIC_NAMES:
            yield getattr(self, name)


#: Symmetry of every per-side metric (``result.metrics.bilateral.symmetry.stance_time_s.si_pct``).
_ADDED = {m.name for m in PLANTAR_METRICS}  # added within schema version 2: older files decode without them
SymmetryTable = msgspec.defstruct(
    "SymmetryTable", [(m.name, Symmetry, added_later(Symmetry, m.name, m.label, m.unit)) if m.name in _ADDED
                      else (m.name, Symmetry) for m in SIDE_METRICS], bases=(_SymmetryBase,), module=__name__,
    frozen=True, kw_only=True, namespace={"__doc__": "Left-right symmetry of every per-side metric."},
)


class LldCriteria(_Record):
    """The criteria of the leg-length-difference asymmetry pattern and what was found.

    ``healthy_*_si_pct``: the cohort's ``quantile`` of healthy |SI| (the subject left out), over ``n_cohort``
    recordings; a criterion is met when the session's |SI| exceeds it.
    """

    quantile: float
    min_steps: int
    enough_steps: bool = False
    stance_si_pct: float | None = None
    peak_si_pct: float | None = None
    healthy_stance_si_pct: float | None = None
    healthy_peak_si_pct: float | None = None
    n_cohort: int = 0
    longer_stance_side: str | None = None
    stance_criterion: bool | None = None
    peak_criterion: bool | None = None


class LldPattern(_Record):
    """Whether the left-right pattern associated with a leg-length difference is present (never a diagnosis).

    ``consistent`` is None when the pattern was not assessed (one foot, too few steps, force not comparable);
    ``reason`` says why.
    """

    consistent: bool | None
    wording: str
    criteria: LldCriteria | None = None
    reason: str = ""

    @property
    def assessed(self) -> bool:
        """True when the pattern was assessed (``consistent`` is True or False)."""
        return self.consistent is not None


class SyncCheck(_Record):
    """Whether the two insoles' clocks look aligned (walking always shows double support).

    ``flight_phase``: the feet are in step but stance is under half the stride (running): the clocks are fine,
    the gait is not walking (a quality failure of its own).
    """

    ok: bool
    paired_share: float
    median_double_support_s: float | None
    reason: str = ""
    flight_phase: bool = False


class ForceScaleCheck(_Record):
    """Is the force in body weights right? Both feet's vertical impulse per stride over body weight x stride time.

    Over a stride of steady walking the body neither rises nor falls, so the mean vertical force of both feet
    equals body weight (impulse-momentum). ``ratio`` is the median over paired steady-state left strides of (left
    stance impulse + the right stance impulse starting in that stride) / (body weight x stride time). Outside
    ``expected_low``-``expected_high`` every body-weight figure is rescaled by ``rescale_factor`` (= 1 / ratio: a
    walk calibration, as vendors' body-weight step calibrations do) and the quality warns; pressures are not
    rescaled (a force error may come from assumed cell areas, not from the pressure reading).
    """

    status: MetricStatus
    reason: str = ""
    ratio: float | None = None
    n_strides: int = 0
    expected_low: float = 0.9
    expected_high: float = 1.1
    rescale_factor: float = 1.0
    method: str = ""


class ImuConsistency(_Record):
    """Whether the IMU figures of the two feet agree with each other and with the pressure's cadence.

    Walking straight, both feet travel the same distance: ``stride_length_si_pct`` is the symmetry index of the
    two feet's median stride lengths (``limit_pct`` at most). ``speed_from_cadence_m_s`` = cadence x mean stride
    length / 120 (two steps per stride) against ``gait_speed_m_s``, the median of the per-stride speeds of both
    feet; ``agree`` when both are within ``limit_pct``.
    """

    status: MetricStatus
    reason: str = ""
    stride_length_si_pct: float | None = None
    gait_speed_m_s: float | None = None
    speed_from_cadence_m_s: float | None = None
    limit_pct: float = 5.0
    agree: bool | None = None


class Bilateral(_Record):
    """Measures of both feet together. With one foot, every entry says so (status ``not_applicable``)."""

    cadence_steps_per_min: Metric
    double_support_s: Metric
    double_support_pct: Metric
    symmetry: SymmetryTable  # type: ignore[valid-type]
    lld_pattern: LldPattern
    force_scale: ForceScaleCheck
    sync: SyncCheck | None = None
    imu_consistency: ImuConsistency | None = None
