"""The names, units and methods of everything the analysis reports: per-side metrics and per-step columns.

One vocabulary (in the spirit of gaitmap's ``utils/consts.py``): a per-side metric and the per-step column it
summarises have the same name, and **no name changes with the units of the data**. Where a quantity's unit
depends on the session (force in body weights, newtons or raw counts; pressure in kPa or counts), the name has no
unit suffix and the unit is carried beside the value: in every :class:`~pipeline.analysis.result.Metric`, and in
the ``step_columns`` list of the result for the per-step table. Fixed-unit quantities keep their unit in the name
(``stride_time_s``, ``stance_pct``, ``cop_velocity_mm_s``).

Unit templates: ``{force}`` is the session's force unit (``BW`` with a body mass, ``N`` without, ``counts`` for
uncalibrated insoles); ``{pressure}`` is ``kPa``, ``N`` (insoles that report force per cell: no cell areas, so no
pressure) or ``counts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pipeline.analysis.plausibility import LOADING_RATE_MIN_RATE_HZ


class Needs(StrEnum):
    """What a metric needs from the recording to apply at all (otherwise it is reported as not applicable)."""

    NOTHING = "nothing"
    BOTH_FEET = "both_feet"
    COP = "cop"  # cell positions known, spread along and across the foot
    MEDIAL_LATERAL = "medial_lateral"  # cells on both sides of the foot axis, positions known
    REGIONS = "regions"  # several cells at known positions
    IMU = "imu"  # an inertial sensor in the insole that passes the sensor checks (pipeline.analysis.imu_gait)


@dataclass(frozen=True)
class MetricSpec:
    """One per-side metric.

    Attributes
    ----------
    name : str
        Metric name, also the per-step column it summarises.
    label : str
        Human name, as shown in reports.
    unit : str
        Unit, or a template with ``{force}`` / ``{pressure}``.
    method : str
        How the per-step value is computed.
    group : str
        ``temporal``, ``spatial``, ``force``, ``cop``, ``medial_lateral`` or ``pressure`` (report sections).
    needs : Needs
    ratio_scale : bool
        A ratio-scale quantity (positive, true zero): CV and symmetry index are meaningful. False for signed
        indices (CPEI, LMFI), whose CV and SI are not reported.
    min_rate_hz : float
        Lowest sampling rate at which the metric is reported (above the analysis-wide minimum of
        :data:`pipeline.analysis.plausibility.MIN_RATE_HZ`); below it the metric is not applicable, with the reason.
    """

    name: str
    label: str
    unit: str
    method: str
    group: str
    needs: Needs = Needs.NOTHING
    ratio_scale: bool = True
    min_rate_hz: float = 0.0


_LMFI = "(F_lat - F_med) / (F_lat + F_med) of the force-time integrals (Buldt et al. 2018)"

_PHASES = "Perry & Burnfield 2010 phases rescaled to a 60 % stance, as for the LMFI"
_GAIT_LINE = "the gait line (CoP at >= 10 % of peak force)"
_LOADED = ("time its force exceeds 2 % of the step's peak total force (the regional contact threshold; our choice, "
           "no published threshold)")

#: The per-step measures that vendors' reports show (Moticon, F-Scan, pedar): loading in the stance phases, where
#: the gait line starts and ends, how long rearfoot and forefoot carry load.
PLANTAR_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("loading_response_force", "Mean force, loading response (0-17 % stance)", "{force}",
               f"mean of the 101-point force curve over 0-17 % stance; {_PHASES}", "force"),
    MetricSpec("midstance_force", "Mean force, mid-stance (17-50 % stance)", "{force}",
               f"mean of the 101-point force curve over 17-50 % stance; {_PHASES}", "force"),
    MetricSpec("terminal_stance_force", "Mean force, terminal stance (50-83 % stance)", "{force}",
               f"mean of the 101-point force curve over 50-83 % stance; {_PHASES}", "force"),
    MetricSpec("cop_start_ap_pct", "Gait-line start, along the foot", "% foot length",
               f"first point of {_GAIT_LINE}, from the heel", "cop", Needs.COP, ratio_scale=False),
    MetricSpec("cop_start_ml_pct", "Gait-line start, across the foot", "% forefoot width",
               f"first point of {_GAIT_LINE}, medial positive", "cop", Needs.COP, ratio_scale=False),
    MetricSpec("cop_end_ap_pct", "Gait-line end, along the foot", "% foot length",
               f"last point of {_GAIT_LINE}, from the heel", "cop", Needs.COP, ratio_scale=False),
    MetricSpec("cop_end_ml_pct", "Gait-line end, across the foot", "% forefoot width",
               f"last point of {_GAIT_LINE}, medial positive", "cop", Needs.COP, ratio_scale=False),
    MetricSpec("rearfoot_loading_s", "Rearfoot loading time", "s",
               f"heel region (< 30 % of foot length): {_LOADED}", "pressure", Needs.REGIONS),
    MetricSpec("forefoot_loading_s", "Forefoot loading time", "s",
               f"metatarsal and toe regions (>= 55 % of foot length) together: {_LOADED}", "pressure",
               Needs.REGIONS),
)

#: Per-side metrics, in report order.
SIDE_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("stride_time_s", "Stride time", "s", "IC to next ipsilateral IC", "temporal"),
    MetricSpec("stance_time_s", "Stance time", "s", "IC to TO", "temporal"),
    MetricSpec("swing_time_s", "Swing time", "s", "TO to next IC", "temporal"),
    MetricSpec("stance_pct", "Stance", "% stride", "stance / stride x 100", "temporal"),
    MetricSpec("swing_pct", "Swing", "% stride", "swing / stride x 100", "temporal"),
    MetricSpec("step_time_s", "Step time", "s", "previous contralateral IC to IC", "temporal", Needs.BOTH_FEET),
    MetricSpec("double_support_s", "Double support", "s", "initial + terminal double support of the stride",
               "temporal", Needs.BOTH_FEET),
    MetricSpec("single_support_s", "Single support", "s", "stance - double support", "temporal", Needs.BOTH_FEET),
    MetricSpec("cadence_steps_per_min", "Cadence", "steps/min", "120 / stride time", "temporal"),
    MetricSpec("stride_length_m", "Stride length", "m",
               "horizontal displacement of the foot from one still moment of stance to the next, from the insole "
               "IMU (strapdown integration with tilt and velocity de-drifting; strides passing the IMU gates)",
               "spatial", Needs.IMU),
    MetricSpec("gait_speed_m_s", "Gait speed", "m/s", "stride length / stride time, per stride", "spatial",
               Needs.IMU),
    MetricSpec("peak1_force", "First force peak", "{force}",
               "maximum force over 0-50 % stance, when the curve has a double hump", "force"),
    MetricSpec("peak1_pct_stance", "First peak timing", "% stance", "timing of the first peak", "force"),
    MetricSpec("valley_force", "Mid-stance valley", "{force}",
               "minimum force between the peaks (valley >= 5 % of the higher peak below the lower one)", "force"),
    MetricSpec("valley_pct_stance", "Valley timing", "% stance", "timing of the valley", "force"),
    MetricSpec("peak2_force", "Second force peak", "{force}",
               "maximum force over 50-100 % stance, when the curve has a double hump", "force"),
    MetricSpec("peak2_pct_stance", "Second peak timing", "% stance", "timing of the second peak", "force"),
    MetricSpec("max_force", "Maximum force", "{force}", "maximum force over stance frames", "force"),
    MetricSpec("mean_force", "Mean force", "{force}", "mean force over stance frames", "force"),
    MetricSpec("impulse", "Impulse", "{force} s", "force-time integral over stance", "force"),
    MetricSpec("loading_rate", "Loading rate (20-80 % of first peak)", "{force}/s",
               "average slope 20-80 % of the first peak (Woodard et al. 1999); sampling-rate dependent proxy",
               "force", min_rate_hz=LOADING_RATE_MIN_RATE_HZ),
    MetricSpec("loading_rate_inst", "Instantaneous loading rate", "{force}/s",
               "maximum dF/dt of the zero-phase 20 Hz low-passed force between 20 % and 80 % of the first peak",
               "force", min_rate_hz=LOADING_RATE_MIN_RATE_HZ),
    MetricSpec("peak_pressure", "Peak cell pressure", "{pressure}",
               "highest cell value over stance: pressure, or cell force for insoles that report newtons per cell",
               "pressure"),
    MetricSpec("cop_path_length_pct", "CoP path length", "% foot length", "length of the 101-point gait line",
               "cop", Needs.COP),
    MetricSpec("cop_width_pct", "CoP width", "% forefoot width", "medio-lateral range of the gait line", "cop",
               Needs.COP),
    MetricSpec("cop_ap_excursion_pct", "CoP AP excursion", "% foot length", "AP range of the gait line", "cop",
               Needs.COP),
    MetricSpec("cop_velocity_mm_s", "CoP velocity", "mm/s", "gait-line length / time with defined CoP", "cop",
               Needs.COP),
    MetricSpec("strike_index_pct", "Strike index", "% foot length",
               "first point of the CoP path from the heel (Cavanagh & Lafortune 1980: < 33 % rearfoot strike)",
               "cop", Needs.COP, ratio_scale=False),
    MetricSpec("cpei_pct", "Insole CPEI", "% hull width",
               "CPE at the distal third of the foot / sensor-hull width x 100 (Song et al. 1996 construction); "
               "a same-device measure", "medial_lateral", Needs.COP, ratio_scale=False),
    MetricSpec("lmfi_loading", "Lateral-medial force index, loading response", "ratio",
               f"{_LMFI}, 0-17 % stance", "medial_lateral", Needs.MEDIAL_LATERAL, ratio_scale=False),
    MetricSpec("lmfi_midstance", "Lateral-medial force index, mid-stance", "ratio",
               f"{_LMFI}, 17-50 % stance", "medial_lateral", Needs.MEDIAL_LATERAL, ratio_scale=False),
    MetricSpec("lmfi_terminal", "Lateral-medial force index, terminal stance", "ratio",
               f"{_LMFI}, 50-83 % stance", "medial_lateral", Needs.MEDIAL_LATERAL, ratio_scale=False),
    MetricSpec("lmfi_preswing", "Lateral-medial force index, pre-swing", "ratio",
               f"{_LMFI}, 83-100 % stance", "medial_lateral", Needs.MEDIAL_LATERAL, ratio_scale=False),
    *PLANTAR_METRICS,
)
SIDE_METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in SIDE_METRICS)
METRIC_SPECS: dict[str, MetricSpec] = {m.name: m for m in SIDE_METRICS}

#: Force measures: summarised over steps without saturated frames.
FORCE_GROUP = "force"

#: Bilateral metrics (both feet together).
BILATERAL_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("cadence_steps_per_min", "Cadence", "steps/min",
               "120 / stride time, steady-state strides of both feet pooled", "temporal"),
    MetricSpec("double_support_s", "Double support", "s",
               "initial + terminal double support per left stride (paired steady-state strides)", "temporal",
               Needs.BOTH_FEET),
    MetricSpec("double_support_pct", "Double support", "% stride", "double support / stride x 100 (left strides)",
               "temporal", Needs.BOTH_FEET),
)


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the per-step table: name, unit (or template) and meaning."""

    name: str
    unit: str
    description: str


#: Per-step columns that are not metrics (events, bookkeeping, pairing), in table order.
EVENT_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("side", "", "left or right"),
    ColumnSpec("step", "", "index of the stance on its side, from 0"),
    ColumnSpec("ic_s", "s", "initial contact (session clock), by the side's event definition (event_levels)"),
    ColumnSpec("to_s", "s", "toe off (session clock), by the side's event definition (event_levels)"),
    ColumnSpec("ic_onset_s", "s", "initial contact by the onset definition: loading onset at the swing floor"),
    ColumnSpec("to_onset_s", "s", "toe off by the onset definition: unloading end at the swing floor"),
    ColumnSpec("ic_threshold_s", "s", "initial contact by the threshold definition: force rising through 5 % of the "
               "stance level"),
    ColumnSpec("to_threshold_s", "s", "toe off by the threshold definition: force falling through 15 % of the "
               "stance level"),
    ColumnSpec("max_gap_s", "s", "longest data gap inside the stance and the following swing"),
    ColumnSpec("timing_ok", "", "stride timing plausible (stance 0.25-2 s, swing >= 0.15 s, no gap > 0.15 s)"),
    ColumnSpec("exclusion", "", "why the step is not in the summaries (empty when valid)"),
    ColumnSpec("bout", "", "walking bout number (0: not in a bout)"),
    ColumnSpec("steady", "", "steady-state stride (first/last of a bout and outlier strides excluded)"),
    ColumnSpec("valid", "", "used in the summaries"),
    ColumnSpec("contra_ic_pct", "% stride", "contralateral initial contact as a share of this stride"),
    ColumnSpec("paired", "", "contralateral initial contact at 35-65 % of the stride"),
    ColumnSpec("double_support_initial_s", "s", "this IC to the contralateral TO"),
    ColumnSpec("double_support_terminal_s", "s", "contralateral IC to this TO"),
    ColumnSpec("saturated", "", "a cell was saturated during the stance (force measures excluded)"),
    ColumnSpec("imu_velocity_residual_m_s", "m/s", "integrated foot velocity at the end of the stride, before "
               "de-drifting (ideally 0; strides above 0.5 m/s are not used)"),
    ColumnSpec("imu_reason", "", "why the stride has (ok) or has no IMU figures (pipeline.analysis.imu.ImuReason; "
               "no_imu when the foot has no IMU)"),
)

#: Per-step columns of each plantar region ``REGION_<suffix>`` (regions depend on the layout).
REGION_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("peak_pressure", "{pressure}", "highest cell pressure of the region over stance"),
    ColumnSpec("pti", "{pressure} s", "highest per-cell pressure-time integral of the region over stance"),
    ColumnSpec("contact_pct", "% stance", "share of stance with the region loaded (> 2 % of peak force)"),
    ColumnSpec("load_pct", "% impulse", "share of the step's force-time integral carried by the region"),
)
#: How each regional column reads in tables, after the region's name.
REGION_COLUMN_LABELS = {"peak_pressure": "peak pressure", "pti": "pressure-time integral",
                        "contact_pct": "contact time", "load_pct": "share of load"}


def region_column_label(column: str) -> str | None:
    """``heel medial: pressure-time integral`` for the per-step column ``heel_medial_pti`` (None when ``column`` is
    not a regional column). Region names are the layout's identifiers; their underscores separate words."""
    for c in REGION_COLUMNS:
        if column.endswith(f"_{c.name}") and len(column) > len(c.name) + 1:
            region = column[: -len(c.name) - 1].replace("_", " ")
            return f"{region}: {REGION_COLUMN_LABELS[c.name]}"
    return None


def resolve_unit(template: str, force_unit: str, pressure_unit: str) -> str:
    """A unit template with the session's force and pressure units filled in."""
    return template.format(force=force_unit, pressure=pressure_unit)
