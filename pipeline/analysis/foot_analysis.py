"""One foot from frames to a per-step table and stance curves (passes 1 and 2 of the analysis).

1. pass 1 (:mod:`.force`): stream the file in blocks, keep per-frame time and total force only;
2. walking check: the foot must unload between contacts (else "no walking": standing or sitting);
3. events (:mod:`.events`), strides and timing validity (:mod:`.strides`);
4. force curves and landmarks (:mod:`.force_curve`) from the force trace;
5. pass 2 (:mod:`.step_frames`): CoP, regions, LMFI from the frames of each step.

The per-step stance curves (force, CoP AP and ML) are handed to :class:`~.spill.SpilledCurves` as soon as this
foot is done with them (the force curves once their landmarks and phase means are taken, before the loading-rate
filter and pass 2; the CoP curves at the end): on long recordings they wait for :mod:`.assemble` in a temporary
file, not in memory.

What the layout can measure is decided here once (:func:`layout_limits`): a centre of pressure needs known cell
positions spread along and across the foot; medio-lateral indices need cells on both sides of the foot axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from insole.layouts import SensorLayout
from pipeline.analysis import cop
from pipeline.analysis.foot_function import (
    CPE_AT,
    LMFI_PHASES,
    hull_width_at,
    lmfi,
)
from pipeline.analysis.foot_source import FootSource
from pipeline.analysis.force import ForceTrace, total_force_trace
from pipeline.analysis.force_curve import (
    N_POINTS,
    curve_landmarks,
    instantaneous_loading_rate,
    resample_stance,
    step_force_stats,
)
from pipeline.analysis.imu_gait import ImuStatus, imu_columns, limit_reason
from pipeline.analysis.metric_catalogue import SIDE_METRICS, Needs
from pipeline.analysis.plausibility import MIN_RATE_HZ, check_cell_values, check_foot_length, check_rate
from pipeline.analysis.spill import SpilledCurves
from pipeline.analysis.step_frames import step_frame_features
from pipeline.analysis.step_table import StepTable
from pipeline.analysis.strides import MIN_STANCE_S, MIN_SWING_S, SideSteps, max_gap_between, side_table
from pipeline.errors import AnalysisError

GRAVITY_M_S2 = 9.80665
#: Walking check: the 5th percentile of total force must be below this share of the 95th (calibrated units) ...
UNLOADING_RATIO_CALIBRATED = 0.25
#: ... or of the counts above the ADC's zero (raw units, whose offset is unknown).
UNLOADING_RATIO_RAW = 0.5
#: Fewer timing-valid strides than this on a foot means it did not walk.
MIN_WALKING_STRIDES = 3


def layout_limits(layout: SensorLayout) -> dict[Needs, str]:
    """Why each kind of measure does not apply to ``layout`` (absent key: it applies)."""
    out: dict[Needs, str] = {}
    x, y = np.asarray(layout.x_mm, float), np.asarray(layout.y_mm, float)
    if layout.n_sensors == 1:
        why = "the insole has one sensor: there is no centre-of-pressure path or medio-lateral distribution"
        out[Needs.COP] = out[Needs.MEDIAL_LATERAL] = why
        out[Needs.REGIONS] = "the insole has one sensor: there is no regional distribution"
        return out
    if layout.geometry == "unknown":
        why = (f"the cell positions are not known (layout {layout.layout_id}); give the device's layout to measure "
               "the centre of pressure and regional loading")
        out[Needs.COP] = out[Needs.MEDIAL_LATERAL] = out[Needs.REGIONS] = why
        return out
    if np.ptp(x) <= 0 or np.ptp(y) <= 0:
        out[Needs.COP] = "the cells lie on one line: the centre-of-pressure path is not defined in two dimensions"
    if not ((y > 0).any() and (y < 0).any()):
        out[Needs.MEDIAL_LATERAL] = "the insole has no cells on both the medial and the lateral side"
    return out


def walking_check(side: str, trace: ForceTrace, units: str) -> None:
    """Refuse a foot that is never unloaded (standing, sitting) or carries no signal.

    Raises
    ------
    AnalysisError
    """
    f = trace.force[np.isfinite(trace.force)]
    n = len(trace.force)
    if f.size == 0:
        raise AnalysisError(f"{side} foot: no valid frames: every cell of all {n} frames is NaN")
    if f.size < 10:
        held = "one frame" if n == 1 else f"{n} frames" + (f", {f.size} with values" if f.size < n else "")
        raise AnalysisError(f"{side} foot: the recording holds {held}; far too short to analyse (a stride takes "
                            "about one second)")
    lo, hi = (float(v) for v in np.percentile(f, [5, 95]))
    if hi - lo <= 0:
        raise AnalysisError(f"{side} foot: the force signal is constant ({hi:g} {trace.force_units}); "
                            "nothing was loaded and unloaded, so there is no walking to analyse")
    zero = 0.0 if units != "raw" or f.min() >= 0 else float(f.min())
    limit = UNLOADING_RATIO_RAW if units == "raw" else UNLOADING_RATIO_CALIBRATED
    ratio = (lo - zero) / (hi - zero) if hi > zero else 1.0
    if ratio > limit:
        raise AnalysisError(
            f"{side} foot never unloads: its lowest load (5th percentile) is {100 * ratio:.0f} % of its loaded "
            f"level (95th percentile), above the {100 * limit:.0f} % a swing phase allows; this looks like "
            "standing or sitting, not walking, so no strides are reported"
        )


def _no_walking(side: str, table: StepTable) -> str:
    """Why a foot with contacts gave no plausible strides, in the words of the gait it looks like."""
    n, ok = len(table), int(table["timing_ok"].sum())
    base = (f"{side} foot: no walking detected ({n} contacts, {ok} plausible strides; at least "
            f"{MIN_WALKING_STRIDES} needed with stance 0.25-2 s and swing >= 0.15 s)")
    swing = np.asarray(table["swing_time_s"], float)
    stance = np.asarray(table["stance_time_s"], float)
    known = np.isfinite(swing) & np.isfinite(stance)
    if known.sum() >= MIN_WALKING_STRIDES:
        if np.mean(swing[known] < MIN_SWING_S) >= 0.5:
            return (f"{base}: the foot leaves the ground for less than {MIN_SWING_S:g} s in most strides (median "
                    f"swing {np.median(swing[known]):.2f} s), as in shuffling; these are not walking strides")
        if np.mean(stance[known] < MIN_STANCE_S) >= 0.5:
            return (f"{base}: most contacts last less than {MIN_STANCE_S:g} s (median {np.median(stance[known]):.2f} "
                    "s), as in running or hopping; this analysis is for walking")
    return base


def _dead_cells(layout: SensorLayout, loaded_steps: np.ndarray, n_steps: int) -> str:
    """A sentence naming the cells that carried no load in any step (empty when every cell worked)."""
    if n_steps < MIN_WALKING_STRIDES or layout.n_sensors < 2 or layout.geometry == "unknown":
        return ""
    dead = np.flatnonzero(loaded_steps == 0)
    if dead.size == 0:
        return ""
    x = np.asarray(layout.x_mm)[dead] / layout.foot_length_mm
    toes = int((x >= 0.82).sum())
    where = f", {toes} of them under the toes, so toe off may be found early" if toes else ""
    return (f"{dead.size} of {layout.n_sensors} cells (numbers {', '.join(str(int(i) + 1) for i in dead[:10])}) "
            f"never carried load in {n_steps} steps{where}: check for broken or covered cells")


@dataclass
class FootAnalysis:
    """One analysed foot before both feet are combined.

    ``table`` has the per-step columns of :mod:`.metric_catalogue` (timing, force, CoP, regions); ``curves``
    holds ``force``, ``cop_ap`` and ``cop_ml``, ``(n_steps, 101)`` float32 for every detected step (taken once, by
    :func:`~.assemble.assemble`), and, while the next foot is analysed, the table and the cell values too
    (:meth:`set_aside`).
    """

    side: str
    table: StepTable
    curves: SpilledCurves
    levels: dict[str, float]
    event_definition: str
    force_unit: str
    detector_force_unit: str
    pressure_unit: str
    layout: SensorLayout
    limits: dict[Needs, str]
    region_names: list[str]
    saturation_pct: float
    dropout_pct: float
    n_frames: int
    sampling_rate_hz: float
    dead_cells: str = ""
    imu: ImuStatus | None = None
    cell_peak: np.ndarray | None = None  # (n_steps, n_sensors): per step, each cell's peak value in stance
    cell_pti: np.ndarray | None = None  # (n_steps, n_sensors): per step, each cell's pressure-time integral

    def set_aside(self) -> None:
        """Move the step table and the per-step cell values into :attr:`curves` (the temporary file when the
        curves went there: a long recording) while another foot is analysed; :meth:`take_back` restores them."""
        held = self.curves
        long_recording = held.spilled != []
        held.put_table("table", self.table)
        self.table = None  # type: ignore[assignment]
        for name in ("cell_peak", "cell_pti"):
            if getattr(self, name) is not None:
                held.put(name, getattr(self, name), to_file=long_recording)
                setattr(self, name, None)

    def take_back(self) -> None:
        """Undo :meth:`set_aside`: the same table and arrays (nothing to do for a foot that was not set aside)."""
        if self.table is not None:
            return
        held = self.curves
        self.table = held.take_table("table")
        for name in ("cell_peak", "cell_pti"):
            if held.holds(name):
                setattr(self, name, held.take(name))


def pressure_unit(units: str) -> str:
    """Unit of the regional values for stored ``units``: kPa, cell force in N (no cell areas), or counts."""
    return {"kPa": "kPa", "N": "N"}.get(units, "counts")


def analyse_foot(src: FootSource, params, body_mass_kg: float | None) -> FootAnalysis:
    """Events, strides, force curves and per-step cell features of one foot (see the module description).

    Raises
    ------
    AnalysisError
        The foot cannot be analysed (bad sampling rate, never unloads, no walking).
    """
    fs = src.sampling_rate_hz
    if not (np.isfinite(fs) and fs > 0):
        raise AnalysisError(f"{src.side} foot: sampling rate {fs!r} is not a positive number")
    if fs < MIN_RATE_HZ:  # before reading: nothing is reported below it
        check_rate(src.side, fs, np.zeros(0))
    check_foot_length(src.side, float(src.layout.foot_length_mm))
    trace = total_force_trace(src, params.block_frames, int(params.cache_mb * 1e6))
    check_rate(src.side, fs, trace.time_s)
    check_cell_values(src.side, src.units, trace.max_cell_value)
    walking_check(src.side, trace, src.units)
    bw = body_mass_kg * GRAVITY_M_S2 if (body_mass_kg and trace.force_units == "N") else None
    det = params.detector(src.n_sensors).detect(trace.time_s, trace.force, fs, body_weight=bw)
    ic_idx, to_idx = det.ic_idx_, det.to_idx_
    n = len(trace.time_s)
    nxt = np.append(ic_idx[1:], to_idx[-1] if len(to_idx) else 0)
    gaps = max_gap_between(trace.time_s, det.contiguous_, ic_idx, np.maximum(nxt, to_idx))
    table = side_table(SideSteps(src.side, ic_idx, to_idx, det.ic_s_, det.to_s_, gaps))
    for k, (column, values) in enumerate((("ic_onset_s", det.ic_onset_s_), ("to_onset_s", det.to_onset_s_),
                                          ("ic_threshold_s", det.ic_threshold_s_),
                                          ("to_threshold_s", det.to_threshold_s_))):
        table.insert(4 + k, column, values)
    if int(table["timing_ok"].sum()) < MIN_WALKING_STRIDES:
        raise AnalysisError(_no_walking(src.side, table))
    start_s = np.where(np.isfinite(det.ic_s_), det.ic_s_, trace.time_s[ic_idx])
    stop_s = np.where(np.isfinite(det.to_s_), det.to_s_, trace.time_s[np.minimum(to_idx, n - 1)])
    trace.force = np.zeros(0, np.float32)  # pass 2 needs the time and cells only: free the raw force
    fb = det.force_
    if bw:
        scale, force_unit = 1.0 / bw, "BW"
    else:
        scale, force_unit = 1.0, "N" if trace.force_units == "N" else "counts"
    curves = resample_stance(trace.time_s, fb, start_s, stop_s, N_POINTS)
    curves *= np.float32(scale)  # in place: no second copy of the curves
    stance = stop_s - start_s
    lm = curve_landmarks(curves, stance)
    phases = [phase_mean(curves, lo, hi) for lo, hi in list(LMFI_PHASES.values())[:3]]
    store = SpilledCurves()  # the force curves are done with until assembly: out of memory on long recordings
    store.put("force", curves)
    del curves
    try:
        stats = {k: v * scale for k, v in
                 step_force_stats(trace.time_s, fb, ic_idx + 1, np.maximum(to_idx, ic_idx + 1), fs).items()}
        point_s = stance / (N_POINTS - 1)
        inst = scale * instantaneous_loading_rate(trace.time_s, fb, fs, start_s + lm["x20"] * point_s,
                                                  start_s + lm["x80"] * point_s)
        levels = det.levels()
        definition = det.definition
        del det, fb  # free the per-frame arrays of the detector before pass 2
        for column, values in (
            ("peak1_force", lm["peak1"]), ("peak1_pct_stance", lm["peak1_pct"]), ("valley_force", lm["valley"]),
            ("valley_pct_stance", lm["valley_pct"]), ("peak2_force", lm["peak2"]),
            ("peak2_pct_stance", lm["peak2_pct"]), ("max_force", stats["max"]), ("mean_force", stats["mean"]),
            ("impulse", stats["impulse"]), ("loading_rate", lm["loading_rate"]), ("loading_rate_inst", inst),
        ):
            table[column] = values
        for column, values in zip(("loading_response_force", "midstance_force", "terminal_stance_force"), phases,
                                  strict=True):
            table[column] = values
        return _finish_foot(src, trace, table, store, ic_idx, to_idx, start_s, stop_s, stance, params, levels,
                            definition, force_unit, n, fs)
    except BaseException:
        store.close()
        raise


def _finish_foot(src: FootSource, trace: ForceTrace, table: StepTable, store: SpilledCurves, ic_idx: np.ndarray,
                 to_idx: np.ndarray, start_s: np.ndarray, stop_s: np.ndarray, stance: np.ndarray, params,
                 levels: dict[str, float], definition: str, force_unit: str, n: int, fs: float) -> FootAnalysis:
    """IMU columns, pass 2 and the layout's limits: the rest of :func:`analyse_foot` (``store`` holds the force
    curves; the CoP curves are added to it)."""

    layout = src.layout
    limits = layout_limits(layout)
    imu_values, imu_status = imu_columns(src, table)
    for column, values in imu_values.items():
        table[column] = values
    if why := limit_reason(imu_status):
        limits[Needs.IMU] = why
    hull_mm = hull_width_at(layout.x_mm, layout.y_mm, CPE_AT * layout.foot_length_mm)
    duration = float(trace.time_s[-1] - trace.time_s[0]) + 1.0 / fs
    if trace.pressure_cache is None:  # streamed: pass 2 reads each group's time with its frames (69 MB in a day)
        trace.time_s = np.zeros(0)
    feats, cop_curves = step_frame_features(src, trace, ic_idx, np.maximum(to_idx, ic_idx + 1), start_s, stop_s,
                                            params.block_frames, with_regions=Needs.REGIONS not in limits,
                                            hull_width_mm=hull_mm)
    gl = cop.gait_line_measures(cop_curves["cop_ap"], cop_curves["cop_ml"], layout.foot_length_mm,
                                layout.forefoot_width_mm, stance)
    for k, v in gl.items():
        table[k] = v
    for k, v in gait_line_ends(cop_curves["cop_ap"], cop_curves["cop_ml"]).items():
        table[k] = v
    table["cpei_pct"] = feats["cpei_pct"]
    table["strike_index_pct"] = feats["strike_index_pct"]

    if "lat_phase" in feats:
        idx = lmfi(feats["lat_phase"], feats["med_phase"])
        for j, ph in enumerate(LMFI_PHASES):
            table[f"lmfi_{ph}"] = idx[:, j]
    table["saturated"] = feats["saturated"].astype(bool)
    dead = _dead_cells(layout, feats["cell_loaded_steps"], len(table))
    table["peak_pressure"] = feats["peak_pressure"]
    table["rearfoot_loading_s"] = feats["rearfoot_loading_s"]
    table["forefoot_loading_s"] = feats["forefoot_loading_s"]
    names = list(feats["region_names"])
    for name in names:
        table[f"{name}_peak_pressure"] = feats[f"{name}_peak"]
        table[f"{name}_pti"] = feats[f"{name}_pti"]
        table[f"{name}_contact_pct"] = feats[f"{name}_contact"]
        table[f"{name}_load_pct"] = feats[f"{name}_load"]
    if Needs.COP in limits:
        cop_curves["cop_ap"][:] = np.nan
        cop_curves["cop_ml"][:] = np.nan
    for spec in SIDE_METRICS:  # a measure the layout cannot give is NaN in the table, never a misleading 0
        if spec.needs in limits and spec.name in table:
            table[spec.name] = np.nan
    store.put("cop_ap", cop_curves.pop("cop_ap"))
    store.put("cop_ml", cop_curves.pop("cop_ml"))
    valid_frames = n - trace.n_nan_frames
    dropout = max(0.0, 100.0 * (1.0 - valid_frames / max(duration * fs, 1.0)))
    return FootAnalysis(
        side=src.side, table=table, curves=store,
        levels=levels, event_definition=definition, force_unit=force_unit, detector_force_unit=trace.force_units,
        pressure_unit=pressure_unit(src.units), layout=layout, limits=limits, region_names=names,
        saturation_pct=100.0 * trace.n_saturated_frames / n, dropout_pct=dropout, n_frames=n, sampling_rate_hz=fs,
        dead_cells=dead, imu=imu_status, cell_peak=feats["cell_peak"], cell_pti=feats["cell_pti"],
    )


def phase_mean(curves: np.ndarray, lo_pct: float, hi_pct: float) -> np.ndarray:
    """Mean of each step's stance-normalised curve ``(n_steps, n_points)`` over ``lo_pct <= % stance < hi_pct``
    (NaN points ignored; NaN for a step without a defined point there)."""
    pct = np.linspace(0.0, 100.0, curves.shape[1])
    cols = (pct >= lo_pct) & (pct < hi_pct)
    window = curves[:, cols].astype(np.float64)
    ok = np.isfinite(window)
    count = ok.sum(axis=1)
    total = np.where(ok, window, 0.0).sum(axis=1)
    return np.divide(total, count, out=np.full(len(curves), np.nan), where=count > 0)


def gait_line_ends(cop_ap: np.ndarray, cop_ml: np.ndarray) -> dict[str, np.ndarray]:
    """First and last defined point of each step's gait line: AP in % foot length, ML in % forefoot width."""
    ok = np.isfinite(cop_ap) & np.isfinite(cop_ml)
    n_steps, n = cop_ap.shape
    rows = np.arange(n_steps)
    first = np.argmax(ok, axis=1)
    last = n - 1 - np.argmax(ok[:, ::-1], axis=1)
    has = ok.any(axis=1)

    def pick(a: np.ndarray, k: np.ndarray) -> np.ndarray:
        return np.where(has, 100.0 * a[rows, k].astype(np.float64), np.nan)

    return {"cop_start_ap_pct": pick(cop_ap, first), "cop_start_ml_pct": pick(cop_ml, first),
            "cop_end_ap_pct": pick(cop_ap, last), "cop_end_ml_pct": pick(cop_ml, last)}
