"""One foot's result: foot function, regions, event thresholds and one :class:`Metric` per per-side metric."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from pipeline.analysis.metric_catalogue import PLANTAR_METRICS, SIDE_METRIC_NAMES, SIDE_METRICS
from pipeline.analysis.result.plantar import Plantar
from pipeline.analysis.result.records import CohortPosition, Metric, _Record, added_later


class FootFunction(_Record):
    """Pronation / neutral / supination of one foot: the insole CPEI's quintile in the cohort, or "not assessed".

    ``reference`` is the CPEI's position in the reference cohort (percentile with its interval); ``reason`` says
    why the label is "not assessed".
    """

    label: str
    rule: str
    n: int
    median_cpei_pct: float | None = None
    reference: CohortPosition | None = None
    reason: str = ""

    @property
    def assessed(self) -> bool:
        """True when a label was given."""
        return self.label != "not assessed"


class RegionSummary(_Record):
    """Medians over the force-valid steady-state steps of one plantar region."""

    name: str
    peak_pressure: float | None
    pti: float | None
    contact_time_pct: float | None
    load_share_pct: float | None
    n: int
    pressure_unit: str
    statistic: str = "median over steps"


class EventLevels(_Record):
    """How one foot's events were found: the definition (with its source) and the detector's levels.

    Levels are in the units of the total force (``force_unit``); ``measured_level`` is the 95th percentile of the
    baseline-corrected force, to which the threshold definition's shares apply.
    """

    definition: str
    definition_source: str
    ic_share: float
    to_share: float
    stance_level: float | None
    measured_level: float | None
    noise_sd: float | None
    threshold_on: float | None
    threshold_off: float | None
    onset_level: float | None
    force_unit: str


class ImuCheck(_Record):
    """What the foot's inertial sensor gave: ``reason`` (``ok``, ``no_imu`` or why not: the codes of
    :class:`pipeline.analysis.imu.ImuReason`), a message for people, the strides offered and used, the strides
    rejected per reason, and the figures the sensor check rests on (rate from the time stamps, gravity at rest)."""

    reason: str
    message: str = ""
    n_strides: int = 0
    n_valid: int = 0
    rejected: dict[str, int] = {}
    sampling_rate_hz: float | None = None
    gravity_m_s2: float | None = None


class _SideBase(_Record):
    """Fields of a side's result that are not metrics (the metrics follow, one field per metric name)."""

    side: str
    analysed: bool
    reason: str = ""
    force_unit: str = ""
    pressure_unit: str = ""
    n_steps_detected: int = 0
    n_steps_valid: int = 0
    foot_function: FootFunction | None = None
    regions: list[RegionSummary] = []
    region_rule: str = ""
    event_levels: EventLevels | None = None
    imu: ImuCheck | None = None
    plantar: Plantar | None = None

    def metrics(self) -> Iterator[Metric]:
        """Every per-side metric, in report order."""
        for name in SIDE_METRIC_NAMES:
            yield getattr(self, name)

    def metric(self, name: str) -> Metric:
        """The metric called ``name`` (one of the catalogue's names; KeyError for any other)."""
        if name not in SIDE_METRIC_NAMES:
            raise KeyError(f"no per-side metric {name!r}; known: {', '.join(SIDE_METRIC_NAMES)}")
        return getattr(self, name)


#: One foot's result: the fields of ``_SideBase`` plus one :class:`Metric` per name of ``SIDE_METRICS``
#: (``result.metrics.left.stance_time_s.median``).
_ADDED = {m.name for m in PLANTAR_METRICS}  # added within schema version 2: older files decode without them
SideResult = msgspec.defstruct(
    "SideResult", [(m.name, Metric, added_later(Metric, m.name, m.label, m.unit)) if m.name in _ADDED
                   else (m.name, Metric) for m in SIDE_METRICS], bases=(_SideBase,), module=__name__, frozen=True,
    kw_only=True, namespace={"__doc__": "One foot's result: status, units, step counts, foot function, regions, "
                             "event thresholds, and one Metric per per-side metric name."},
)
