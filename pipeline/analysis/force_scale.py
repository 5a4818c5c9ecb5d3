"""The check that force in body weights is right: impulse balance over each stride, and the walk calibration.

Over a stride of steady walking the body's centre of mass ends where it began vertically, so the vertical
impulse of both feet equals body weight x stride time (impulse-momentum; the mean vertical ground reaction over a
stride is body weight). For each paired steady-state left stride the ratio

    (left stance impulse + impulse of the right stance that begins in the stride) / (body weight x stride time)

is computed from the per-step impulses (body weights x s); its median over at least :data:`MIN_STRIDES` strides
is the session's force-scale ratio. An insole reading true force gives about 1; turns and speed changes inside a
stride average out in the median. Outside 0.9-1.1 (:data:`EXPECTED`, our tolerance for a steady walk) the force
scale is wrong by that factor (cell areas, calibration, fit in the shoe: on PhysioNet gaitpdb controls 1.11-1.50),
and every body-weight figure is rescaled by 1 / ratio, the walk calibration that vendors' body-weight step
calibrations perform, with a quality warning naming the ratio. Beyond :data:`PLAUSIBLE` (0.5-2, our choice) the
force is not usable at all (wrong body mass, wrong units): a quality failure, and nothing is rescaled.
"""

from __future__ import annotations

import numpy as np

from pipeline.analysis.metric_catalogue import FORCE_GROUP, SIDE_METRICS
from pipeline.analysis.result import ForceScaleCheck, MetricStatus
from pipeline.analysis.step_table import StepTable

#: The ratio a steady walk should give, and the range in which rescaling is still meaningful.
EXPECTED = (0.9, 1.1)
PLAUSIBLE = (0.5, 2.0)
MIN_STRIDES = 5
METHOD = ("median over paired steady-state left strides of (left + right stance impulse) / (body weight x stride "
          "time); 1 for steady walking (impulse-momentum)")
FORCE_COLUMNS = tuple(m.name for m in SIDE_METRICS if m.group == FORCE_GROUP and not m.name.endswith("_pct_stance"))


def stride_ratios(left: StepTable, right: StepTable) -> np.ndarray:
    """Per paired steady-state left stride: both feet's stance impulse over stride time (body weights)."""
    sel = np.asarray(left["valid"], bool) & np.asarray(left["paired"], bool)
    ic = np.asarray(left["ic_s"], float)[sel]
    stride = np.asarray(left["stride_time_s"], float)[sel]
    imp_l = np.asarray(left["impulse"], float)[sel]
    r_ic = np.asarray(right["ic_s"], float)
    r_imp = np.asarray(right["impulse"], float)
    r_ok = np.asarray(right["timing_ok"], bool) & ~np.asarray(right["saturated"], bool) & np.isfinite(r_ic)
    r_ic, r_imp = r_ic[r_ok], r_imp[r_ok]
    if r_ic.size == 0:
        return np.zeros(0)
    j = np.searchsorted(r_ic, ic, side="left")
    jj = np.minimum(j, r_ic.size - 1)
    inside = (j < r_ic.size) & (r_ic[jj] < ic + stride)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (imp_l + np.where(inside, r_imp[jj], np.nan)) / stride
    return ratio[np.isfinite(ratio)]


def check_force_scale(tables: dict[str, StepTable], force_units: dict[str, str]) -> ForceScaleCheck:
    """The :class:`ForceScaleCheck` of a session (``force_units``: each analysed foot's force unit)."""
    if set(tables) != {"left", "right"}:
        return ForceScaleCheck(status=MetricStatus.NOT_APPLICABLE, method=METHOD,
                               reason="needs both feet: the impulse balance is over both feet's stances")
    units = set(force_units.values())
    if units != {"BW"}:
        why = ("the force is in raw counts of uncalibrated sensors" if "counts" in units
               else "no body mass is known, so the force stays in newtons")
        return ForceScaleCheck(status=MetricStatus.NOT_APPLICABLE, method=METHOD,
                               reason=f"{why}: there is no body-weight figure to check")
    ratios = stride_ratios(tables["left"], tables["right"])
    if ratios.size < MIN_STRIDES:
        return ForceScaleCheck(status=MetricStatus.NOT_COMPUTED, method=METHOD, n_strides=int(ratios.size),
                               reason=f"fewer than {MIN_STRIDES} paired steady-state strides")
    ratio = float(np.median(ratios))
    factor = 1.0
    if PLAUSIBLE[0] <= ratio <= PLAUSIBLE[1] and not EXPECTED[0] <= ratio <= EXPECTED[1]:
        factor = 1.0 / ratio
    return ForceScaleCheck(status=MetricStatus.COMPUTED, ratio=ratio, n_strides=int(ratios.size),
                           expected_low=EXPECTED[0], expected_high=EXPECTED[1], rescale_factor=factor, method=METHOD)


def rescale(tables: dict[str, StepTable], factor: float) -> None:
    """Multiply every per-step body-weight figure by ``factor``, in place (the curves are scaled by the caller)."""
    for t in tables.values():
        for col in FORCE_COLUMNS:
            t[col] = np.asarray(t[col], float) * factor


def describe(check: ForceScaleCheck) -> str:
    """The sentence every rescaled body-weight metric carries in its method."""
    return (f"rescaled by {check.rescale_factor:.3f}: both feet's impulse per stride was {check.ratio:.2f} x body "
            f"weight x stride time over {check.n_strides} strides (expected {check.expected_low:g}-"
            f"{check.expected_high:g}; walk calibration)")
