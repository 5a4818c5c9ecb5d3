"""Both feet together: pairing, steady-state summaries, symmetry, quality, provenance -> the typed result.

Takes the per-foot analyses of :mod:`.foot_analysis` and builds :class:`~pipeline.analysis.result.SessionMetrics`
(every metric present, with its status), the per-step table and the stance curves of valid steps. Each foot's
per-step curves are taken back from its :class:`~.spill.SpilledCurves` (a temporary file on long recordings) one
foot at a time, summarised, and dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from insole.provenance import file_sha256, utc_now_iso
from insole.session import SessionMetadata
from insole.threads import worker_threads
from pipeline import __version__
from pipeline.analysis import cop, events, foot_function, force, imu_gait, regions, strides, symmetry
from pipeline.analysis.curve_summary import stance_curves
from pipeline.analysis.events import (
    DEFINITION_SOURCES,
    RAW_COUNTS_NOTE,
    THRESHOLD_IC_SHARE,
    THRESHOLD_TO_SHARE,
)
from pipeline.analysis.foot_analysis import FootAnalysis
from pipeline.analysis.foot_function import foot_function_label, foot_function_not_applicable
from pipeline.analysis.foot_source import FootSource
from pipeline.analysis.force_scale import FORCE_COLUMNS, check_force_scale, describe, rescale
from pipeline.analysis.metric_catalogue import (
    BILATERAL_METRICS,
    EVENT_COLUMNS,
    FORCE_GROUP,
    REGION_COLUMNS,
    SIDE_METRICS,
    MetricSpec,
    Needs,
    resolve_unit,
)
from pipeline.analysis.plantar import plantar_pictures
from pipeline.analysis.quality import quality_report
from pipeline.analysis.references import LLD_PEAK_METRIC, healthy_asymmetry, symmetry_with_reference, with_reference
from pipeline.analysis.result import (
    SCHEMA,
    SCHEMA_VERSION,
    AnalysisResult,
    Bilateral,
    EventLevels,
    FootSummary,
    ForceScaleCheck,
    ImuCheck,
    Metric,
    MetricStatus,
    Plantar,
    Provenance,
    RegionSummary,
    SessionMetrics,
    SessionSummary,
    SideQuality,
    SideResult,
    StanceCurves,
    StepColumn,
    Symmetry,
    SymmetryTable,
    SyncCheck,
    finite,
)
from pipeline.analysis.step_table import StepTable, concat
from pipeline.analysis.strides import STEADY_STATE_RULE, pair_sides
from pipeline.analysis.summary import summarize, unavailable
from pipeline.norms.cohort import Cohort

_BILATERAL_COLUMNS = ("step_time_s", "contra_ic_pct", "double_support_initial_s", "double_support_terminal_s",
                      "double_support_s", "single_support_s")
#: Minimum share of paired left strides for the clocks to count as aligned.
MIN_PAIRED_SHARE = 0.5
#: Median stance below this share of the stride (with the feet in step) means flight phases: running, not walking
#: (walking stance is about 58-65 % of the stride, running stance under 50 %: Novacheck 1998).
RUNNING_STANCE_PCT = 50.0


def _method(spec: MetricSpec, force_note: str) -> str:
    if spec.name == "stride_time_s":
        return f"{spec.method}; {STEADY_STATE_RULE}"
    if spec.group != FORCE_GROUP:
        return f"{spec.method}; steady-state steps"
    note = f"; {force_note}" if force_note and spec.name in FORCE_COLUMNS else ""
    return f"{spec.method}; steady-state steps, saturated steps excluded{note}"


def _side_metrics(fa: FootAnalysis, t: StepTable, both_feet: bool, force_note: str
                  ) -> tuple[dict[str, Metric], dict[str, np.ndarray]]:
    """Every per-side metric of one foot, and the per-step values behind each (for symmetry)."""
    valid = np.asarray(t["valid"], bool)
    force_ok = valid & ~np.asarray(t["saturated"], bool)
    metrics: dict[str, Metric] = {}
    values: dict[str, np.ndarray] = {}
    for spec in SIDE_METRICS:
        unit = resolve_unit(spec.unit, fa.force_unit, fa.pressure_unit)
        method = _method(spec, force_note)
        sel = force_ok if spec.group == FORCE_GROUP else valid
        vals = np.asarray(t[spec.name], float)[sel] if spec.name in t else np.zeros(0)
        values[spec.name] = vals
        if spec.needs in fa.limits:
            metrics[spec.name] = unavailable(spec, unit, method, MetricStatus.NOT_APPLICABLE, fa.limits[spec.needs])
        elif fa.sampling_rate_hz < spec.min_rate_hz:
            metrics[spec.name] = unavailable(
                spec, unit, method, MetricStatus.NOT_APPLICABLE,
                f"sampled at {fa.sampling_rate_hz:g} Hz; this measure needs at least {spec.min_rate_hz:g} Hz")
        elif spec.needs is Needs.BOTH_FEET and not both_feet:
            metrics[spec.name] = unavailable(spec, unit, method, MetricStatus.NOT_APPLICABLE,
                                             "needs both feet: only one foot was analysed")
        else:
            empty = ("every steady-state step is saturated" if spec.group == FORCE_GROUP and valid.any()
                     else "no steady-state steps")
            metrics[spec.name] = summarize(spec, unit, method, vals, empty_reason=empty)
    return metrics, values


def _regions(fa: FootAnalysis, t: StepTable) -> list[RegionSummary]:
    force_ok = np.asarray(t["valid"], bool) & ~np.asarray(t["saturated"], bool)
    out = []
    for name in fa.region_names:
        def med(col: str) -> float | None:
            v = np.asarray(t[col], float)[force_ok]
            v = v[np.isfinite(v)]
            return float(np.median(v)) if v.size else None
        out.append(RegionSummary(
            name=name, peak_pressure=med(f"{name}_peak_pressure"), pti=med(f"{name}_pti"),
            contact_time_pct=med(f"{name}_contact_pct"), load_share_pct=med(f"{name}_load_pct"),
            n=int(force_ok.sum()), pressure_unit=fa.pressure_unit))
    return out


def _imu_check(fa: FootAnalysis) -> ImuCheck | None:
    st = fa.imu
    if st is None:
        return None
    return ImuCheck(reason=st.reason.value, message=st.message, n_strides=st.n_strides, n_valid=st.n_valid,
                    rejected=st.rejected, sampling_rate_hz=finite(st.sampling_rate_hz),
                    gravity_m_s2=finite(st.gravity_m_s2))


def _plantar(fa: FootAnalysis, t: StepTable) -> Plantar:
    """The cell maps, clinical masks and strike pattern of one foot (over its valid steps)."""
    valid = np.asarray(t["valid"], bool)
    if fa.cell_peak is None or len(fa.cell_peak) != len(t):
        raise AssertionError("per-step cell values do not match the step table")  # pragma: no cover
    plantar = plantar_pictures(fa.layout, fa.cell_peak, fa.cell_pti, valid & ~np.asarray(t["saturated"], bool),
                               np.asarray(t["cop_start_ap_pct"], float), valid, fa.pressure_unit,
                               not_applicable=fa.limits.get(Needs.REGIONS, ""),
                               cop_not_applicable=fa.limits.get(Needs.COP, ""))
    fa.cell_peak = fa.cell_pti = None  # the record holds the means
    return plantar


def _side_result(fa: FootAnalysis, t: StepTable, metrics: dict[str, Metric]) -> Any:
    """The SideResult of one analysed foot (metrics already positioned against the cohort)."""
    if Needs.COP in fa.limits:
        ff = foot_function_not_applicable(fa.limits[Needs.COP])
    else:
        ff = foot_function_label(metrics["cpei_pct"])
    lv = fa.levels
    return SideResult(
        side=fa.side, analysed=True, force_unit=fa.force_unit, pressure_unit=fa.pressure_unit,
        n_steps_detected=int(len(t)), n_steps_valid=int(t["valid"].sum()), foot_function=ff,
        regions=_regions(fa, t), region_rule=fa.limits.get(Needs.REGIONS, regions.REGION_RULE),
        imu=_imu_check(fa), plantar=_plantar(fa, t),
        event_levels=EventLevels(
            definition=fa.event_definition,
            definition_source=DEFINITION_SOURCES[fa.event_definition] + (
                RAW_COUNTS_NOTE if fa.event_definition == "threshold" and fa.detector_force_unit == "counts" else ""),
            ic_share=THRESHOLD_IC_SHARE, to_share=THRESHOLD_TO_SHARE, stance_level=finite(lv["stance_level"]),
            measured_level=finite(lv["measured_level"]), noise_sd=finite(lv["noise_sd"]),
            threshold_on=finite(lv["threshold_on"]), threshold_off=finite(lv["threshold_off"]),
            onset_level=finite(lv["onset_level"]), force_unit=fa.detector_force_unit),
        **metrics,
    )


def _not_analysed(side: str, reason: str) -> Any:
    """The SideResult of a recorded foot that could not be analysed: every metric says why."""
    metrics = {spec.name: unavailable(spec, spec.unit, spec.method, MetricStatus.NOT_COMPUTED, reason)
               for spec in SIDE_METRICS}
    return SideResult(side=side, analysed=False, reason=reason, **metrics)


def _sync(tables: dict[str, StepTable]) -> tuple[SyncCheck, np.ndarray, np.ndarray]:
    """The clock / gait check of two feet, and the double support (s, % stride) of paired left strides."""
    ref = tables["left"]
    sel = np.asarray(ref["valid"], bool) & np.asarray(ref["paired"], bool)
    ds = np.asarray(ref["double_support_s"], float)[sel]
    ds_pct = 100.0 * ds / np.asarray(ref["stride_time_s"], float)[sel]
    paired_share = float(sel.sum()) / max(int(ref["valid"].sum()), 1)
    finite_ds = ds[np.isfinite(ds)]  # a missed contralateral step leaves one stride without double support
    ds_med = float(np.median(finite_ds)) if finite_ds.size else float("nan")
    stance_pct = np.concatenate([np.asarray(t["stance_pct"], float)[np.asarray(t["valid"], bool)]
                                 for t in tables.values()])
    stance_pct = stance_pct[np.isfinite(stance_pct)]
    running = bool(stance_pct.size and np.median(stance_pct) < RUNNING_STANCE_PCT and paired_share >= 0.5)
    ok = bool(running or (finite_ds.size and ds_med > 0 and paired_share >= MIN_PAIRED_SHARE))
    reason = "" if ok else (
        f"left/right sync check failed: {100 * paired_share:.0f} % of left strides pair with a right contact "
        f"at 35-65 % of the stride and median double support is {ds_med:.3f} s; walking always shows double "
        "support, so the two insoles' clocks are probably not aligned")
    return (SyncCheck(ok=ok, paired_share=paired_share, median_double_support_s=finite(ds_med), reason=reason,
                      flight_phase=running), ds, ds_pct)


def _bilateral(tables: dict[str, StepTable], feet: dict[str, FootAnalysis], table: dict[str, Symmetry],
               scale: ForceScaleCheck, cohort: Cohort | None, subject: str | None) -> Bilateral:
    both = "left" in feet and "right" in feet
    specs = {m.name: m for m in BILATERAL_METRICS}
    pooled = np.concatenate([np.asarray(t["stride_time_s"], float)[np.asarray(t["valid"], bool)]
                             for t in tables.values()])
    cad = specs["cadence_steps_per_min"]
    cadence = summarize(cad, cad.unit, cad.method, 120.0 / pooled)
    sync = None
    if both:
        sync, ds, ds_pct = _sync(tables)
        dss, dsp = specs["double_support_s"], specs["double_support_pct"]
        double_support = summarize(dss, dss.unit, dss.method, ds)
        double_support_pct = summarize(dsp, dsp.unit, dsp.method, ds_pct)
        units = {fa.force_unit for fa in feet.values()}
        q = symmetry.LLD_COHORT_QUANTILE
        lld = symmetry.lld_pattern(
            table["stance_time_s"], table[LLD_PEAK_METRIC], units.pop() if len(units) == 1 else "counts",
            healthy_asymmetry(cohort, "stance_time_s", q, subject),
            healthy_asymmetry(cohort, LLD_PEAK_METRIC, q, subject))
    else:
        why = "one foot only: no bilateral measures"
        double_support, double_support_pct = (
            unavailable(specs[n], specs[n].unit, specs[n].method, MetricStatus.NOT_APPLICABLE, why)
            for n in ("double_support_s", "double_support_pct"))
        lld = symmetry.lld_not_assessed("one foot only")
    imu = imu_gait.consistency(tables, table["stride_length_m"].si_pct, cadence.median if cadence.available
                               else None)
    return Bilateral(cadence_steps_per_min=cadence, double_support_s=double_support,
                     double_support_pct=double_support_pct, symmetry=SymmetryTable(**table), lld_pattern=lld,
                     force_scale=scale, sync=sync, imu_consistency=imu)


def _foot_summary(src: FootSource) -> FootSummary:
    device = {k[7:]: v for k, v in src.attrs.items() if k.startswith("device_") and isinstance(v, str | int | float)}
    return FootSummary(
        sampling_rate_hz=float(src.sampling_rate_hz), units=src.units, layout_id=src.layout.layout_id,
        layout_geometry=src.layout.geometry, n_sensors=src.n_sensors, n_frames=src.n_frames,
        foot_length_mm=float(src.layout.foot_length_mm), device_model=str(device.get("model", "unknown")),
        device_serial_number=str(device.get("serial_number", "unknown")),
        device_firmware_version=str(device.get("firmware_version", "unknown")), device=device,
    )


def _step_columns(table: StepTable, feet: dict[str, FootAnalysis]) -> list[StepColumn]:
    fa = next(iter(feet.values()))
    units = {fa.force_unit for fa in feet.values()}
    force_unit = units.pop() if len(units) == 1 else " / ".join(f"{s}: {f.force_unit}" for s, f in feet.items())
    specs = {c.name: (c.unit, c.description) for c in EVENT_COLUMNS}
    specs.update({m.name: (m.unit, f"{m.label}: {m.method}") for m in SIDE_METRICS})
    for name in sorted({r for f in feet.values() for r in f.region_names}):
        specs.update({f"{name}_{c.name}": (c.unit, f"{name} region: {c.description}") for c in REGION_COLUMNS})
    return [StepColumn(name=c, unit=resolve_unit(specs[c][0], force_unit, fa.pressure_unit) if c in specs else "",
                       description=specs[c][1] if c in specs else "")
            for c in table.columns]


def assemble(path: Path, attrs: dict[str, Any], metadata: SessionMetadata, sources: dict[str, FootSource],
             feet: dict[str, FootAnalysis], errors: dict[str, str], params: Any, cohort: Cohort | None,
             input_warnings: list[tuple[str, str]] = (), input_sha256: Callable[[], str] | None = None,
             in_parallel: bool = False) -> AnalysisResult:
    """The :class:`AnalysisResult` of the analysed feet ``feet`` (``errors``: recorded feet not analysed), with
    every metric positioned in ``cohort`` when there is one; ``input_warnings`` are (quality code, message) pairs
    about the inputs (an implausible body mass, an interrupted recording); ``input_sha256`` gives the input
    file's hash (by default :func:`~insole.provenance.file_sha256` of ``path``, empty when it is not a file);
    ``in_parallel``: compute the symmetry table in a thread while the curves are summarised, its bootstrap's
    draws counted in :func:`~insole.threads.worker_threads` threads (the same table)."""
    for fa in feet.values():
        fa.take_back()  # a foot set aside while the next one was analysed
    tables = {s: strides.steady_state(fa.table) for s, fa in feet.items()}
    for t in tables.values():  # every documented metric column exists (NaN where the layout cannot give it)
        for spec in SIDE_METRICS:
            if spec.name not in t:
                t[spec.name] = np.nan
    both = "left" in tables and "right" in tables
    if both:
        tables["left"], tables["right"] = pair_sides(tables["left"], tables["right"])
    else:
        for t in tables.values():
            for col in _BILATERAL_COLUMNS:
                t[col] = np.nan
            t["paired"] = False
    scale = check_force_scale(tables, {s: fa.force_unit for s, fa in feet.items()})
    force_note = ""
    if scale.rescale_factor != 1.0:
        rescale(tables, scale.rescale_factor)  # the force curves: when each foot's are taken back, below
        force_note = describe(scale)
    subject = metadata.subject_id
    side_metrics: dict[str, dict[str, Metric]] = {}
    values: dict[str, dict[str, np.ndarray]] = {}
    curves: dict[str, StanceCurves] = {}
    for side, fa in feet.items():
        found, values[side] = _side_metrics(fa, tables[side], both, force_note)
        side_metrics[side] = {k: with_reference(m, cohort, subject) for k, m in found.items()}
    # the symmetry table (its bootstrap is most of assembling) in a thread while the curves are summarised
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="insole-symmetry") if in_parallel else None
    sym_args = (side_metrics.get("left"), side_metrics.get("right"), values.get("left"), values.get("right"),
                worker_threads() if in_parallel else 1)
    try:
        sym_task = pool.submit(symmetry.symmetry_table, *sym_args) if pool is not None else None
        for side, fa in feet.items():
            valid = np.asarray(tables[side]["valid"], bool)
            force_curves = fa.curves.take("force")  # one foot's curves at a time (from the spill file on long walks)
            if scale.rescale_factor != 1.0:
                force_curves *= np.float32(scale.rescale_factor)  # in place: no second copy of the curves
            curves[side] = stance_curves(force_curves, fa.curves.take("cop_ap"), fa.curves.take("cop_ml"), valid,
                                         fa.force_unit)
            fa.curves.close()  # the summaries only
            del force_curves
        # also while the bootstrap runs: the side results read what it reads and change nothing
        side_results: dict[str, Any] = {s: _side_result(fa, tables[s], side_metrics[s]) for s, fa in feet.items()}
        # numpy work that ends (no wait of its own); the same table as computed here
        sym = sym_task.result() if sym_task is not None else symmetry.symmetry_table(*sym_args)
    finally:
        if pool is not None:
            pool.shutdown()
    sym = {k: symmetry_with_reference(v, cohort, subject) for k, v in sym.items()}
    for side, why in errors.items():
        side_results[side] = _not_analysed(side, why)
    bilateral = _bilateral(tables, feet, sym, scale, cohort, subject)
    quality = quality_report(
        {s: SideQuality(strides=int(tables[s]["valid"].sum()), saturation_pct=round(fa.saturation_pct, 3),
                        dropout_pct=round(fa.dropout_pct, 3), dead_cells=fa.dead_cells) for s, fa in feet.items()},
        bilateral.sync, errors, [s for s in ("left", "right") if s in sources], bilateral.force_scale,
        {s: fa.force_unit for s, fa in feet.items()}, input_warnings,
        imu={s: fa.imu for s, fa in feet.items() if fa.imu is not None}, imu_consistency=bilateral.imu_consistency)
    provenance = Provenance(
        software=f"insole {__version__}", analysed_utc=utc_now_iso(), input_path=str(path),
        input_sha256=input_sha256() if input_sha256 is not None else file_sha256(path) if path.is_file() else "",
        parameters={k: v for k, v in asdict(params).items() if isinstance(v, int | float | str)},
        steady_state_rule=STEADY_STATE_RULE,
        events_method=events.__doc__.split("\n\n")[0] if events.__doc__ else "",
        cop_min_force_share=cop.COP_MIN_FORCE_SHARE, foot_function_rule=foot_function.LABEL_RULE,
        force_units_rule=force.FORCE_UNITS_RULE, region_rule=regions.REGION_RULE,
        reference_cohort=cohort.label() if cohort is not None else None,
        reference_cohort_sha256=hashlib.sha256(cohort.to_json()).hexdigest() if cohort is not None else None,
    )
    session = SessionSummary(
        file=path.name, source=str(attrs.get("source") or ""),
        created_utc=str(attrs["created_utc"]) if attrs.get("created_utc") else None,
        duration_s=max(fa.n_frames / fa.sampling_rate_hz for fa in feet.values()),
        **asdict(metadata), **{s: _foot_summary(src) for s, src in sources.items()},
    )
    steps = concat([tables.pop(s) for s in ("left", "right") if s in tables])
    steps["valid"] = steps["valid"].astype(bool)
    metrics = SessionMetrics(
        schema=SCHEMA, schema_version=SCHEMA_VERSION, session=session, bilateral=bilateral, quality=quality,
        provenance=provenance, step_columns=_step_columns(steps, feet), **side_results,
    )
    return AnalysisResult(metrics=metrics, steps=steps, curves=curves, layouts={s: fa.layout for s, fa in feet.items()},
                          path=path, cohort=cohort)
