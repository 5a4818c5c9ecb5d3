"""Session analysis: from a session file (or an in-memory session) to per-step table, summaries and curves.

Orchestration of the modules of :mod:`pipeline.analysis`, per foot:

1. pass 1 (:mod:`.force`): stream the file in blocks, keep per-frame time and total force only;
2. walking check: the foot must unload between contacts (else "no walking": standing or sitting);
3. events (:mod:`.events`), strides and validity (:mod:`.strides`);
4. force curves (:mod:`.force_curve`) from the force trace;
5. pass 2 (:mod:`.step_frames`): CoP, regions, LMFI from the frames of each step;

then both feet: pairing and double support, steady-state selection, summaries (:mod:`.summary`), foot-function
label (:mod:`.foot_function`), symmetry and the LLD pattern (:mod:`.symmetry`), quality gates (:mod:`.quality`) and
provenance. Memory: 12 bytes per frame per foot plus one read block (or the pressure itself when a foot fits in
``AnalysisParams.cache_mb``, to avoid reading it twice).
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insole.layouts import SensorLayout
from insole.provenance import file_sha256, utc_now_iso
from insole.session import Session, SessionMetadata, open_session
from pipeline import __version__
from pipeline.analysis import cop, events, foot_function, force, regions, strides, symmetry
from pipeline.analysis.events import ContactEventDetection
from pipeline.analysis.foot_function import LMFI_PHASES, cpei_pct, foot_function_label, lmfi
from pipeline.analysis.foot_source import FootSource
from pipeline.analysis.force import ForceTrace, total_force_trace
from pipeline.analysis.force_curve import N_POINTS, curve_landmarks, resample_stance, step_force_stats
from pipeline.analysis.quality import quality_report
from pipeline.analysis.step_frames import step_frame_features
from pipeline.analysis.strides import STEADY_STATE_RULE, SideSteps, max_gap_between, pair_sides, side_table
from pipeline.analysis.summary import summarize
from pipeline.errors import AnalysisError

GRAVITY_M_S2 = 9.80665
#: Walking check: the 5th percentile of total force must be below this share of the 95th (calibrated units) ...
UNLOADING_RATIO_CALIBRATED = 0.25
#: ... or of the counts above the ADC's zero (raw units, whose offset is unknown).
UNLOADING_RATIO_RAW = 0.5
#: Fewer timing-valid strides than this on a foot means it did not walk.
MIN_WALKING_STRIDES = 3


@dataclass(frozen=True)
class AnalysisParams:
    """Parameters of the analysis (stored in the provenance of every result).

    Attributes
    ----------
    on_share, off_share : float
        Contact hysteresis thresholds as shares of the stance level (or body weight), see :mod:`.events`.
    noise_sd_on, noise_sd_off, noise_sd_onset : float
        Minimum thresholds in SDs of the swing noise.
    baseline_window_s : float
        Running-minimum baseline window.
    merge_gap_s, min_blip_s, max_refine_s : float
        Merge short off-intervals, drop short contacts, limit of the onset refinement.
    block_frames : int
        Frames per read block.
    cache_mb : float
        A foot whose pressure fits in this many MB is read once and kept for pass 2; larger feet are streamed
        twice, so memory stays bounded for any recording length.
    """

    # the detector's own defaults, so that the two cannot drift apart
    on_share: float = ContactEventDetection.on_share
    off_share: float = ContactEventDetection.off_share
    noise_sd_on: float = ContactEventDetection.noise_sd_on
    noise_sd_off: float = ContactEventDetection.noise_sd_off
    noise_sd_onset: float = ContactEventDetection.noise_sd_onset
    onset_share: float = ContactEventDetection.onset_share
    baseline_window_s: float = ContactEventDetection.baseline_window_s
    merge_gap_s: float = ContactEventDetection.merge_gap_s
    min_blip_s: float = ContactEventDetection.min_blip_s
    max_refine_s: float = ContactEventDetection.max_refine_s
    block_frames: int = 1 << 16
    cache_mb: float = 256.0

    def detector(self) -> ContactEventDetection:
        """The event detector with these parameters."""
        shared = {f.name for f in fields(ContactEventDetection) if f.init} & {f.name for f in fields(self)}
        return ContactEventDetection(**{name: getattr(self, name) for name in shared})


@dataclass
class AnalysisResult:
    """Result of :func:`analyze_session` (see ``notes/analysis-contract.md``).

    Attributes
    ----------
    steps : pandas.DataFrame
        One row per detected stance.
    metrics : dict
        JSON-ready summaries (per side, bilateral, quality, provenance, session).
    session : Session
        The session's path, attributes and metadata (``feet`` is empty: frames are not kept in memory).
    curves : dict
        side -> ``force`` / ``cop_ap`` / ``cop_ml`` arrays (n_valid_steps, 101) and ``force_units``.
    layouts : dict
        side -> :class:`~insole.layouts.SensorLayout`.
    """

    steps: pd.DataFrame
    metrics: dict[str, Any]
    session: Session = field(repr=False)
    curves: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    layouts: dict[str, SensorLayout] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metrics."""
        return self.metrics


def _walking_check(side: str, trace: ForceTrace, units: str) -> None:
    f = trace.force[np.isfinite(trace.force)]
    if f.size < 10:
        raise AnalysisError(f"{side} foot: no valid frames (every cell is NaN)")
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


@dataclass
class _Side:
    table: pd.DataFrame
    force_curves: np.ndarray
    cop_ap: np.ndarray
    cop_ml: np.ndarray
    levels: dict[str, float]
    force_suffix: str
    force_units: str
    pressure_units: str
    layout: SensorLayout
    region_names: list[str]
    saturation_pct: float
    dropout_pct: float
    n_frames: int
    sampling_rate_hz: float


def _analyse_foot(src: FootSource, params: AnalysisParams, body_mass_kg: float | None) -> _Side:
    fs = src.sampling_rate_hz
    if not (np.isfinite(fs) and fs > 0):
        raise AnalysisError(f"{src.side} foot: sampling rate {fs!r} is not a positive number")
    cache = int(params.cache_mb * 1e6)
    trace = total_force_trace(src, params.block_frames, cache)
    _walking_check(src.side, trace, src.units)
    bw = body_mass_kg * GRAVITY_M_S2 if (body_mass_kg and trace.force_units == "N") else None
    det = params.detector().detect(trace.time_s, trace.force, fs, body_weight=bw)
    ic_idx, to_idx = det.ic_idx_, det.to_idx_
    n = len(trace.time_s)
    nxt = np.append(ic_idx[1:], to_idx[-1] if len(to_idx) else 0)
    gaps = max_gap_between(trace.time_s, det.contiguous_, ic_idx, np.maximum(nxt, to_idx))
    ss = SideSteps(src.side, ic_idx, to_idx, det.ic_s_, det.to_s_, gaps)
    table = side_table(ss)
    table.insert(4, "ic_threshold_s", det.ic_threshold_s_)
    table.insert(5, "to_threshold_s", det.to_threshold_s_)
    if int(table["timing_ok"].sum()) < MIN_WALKING_STRIDES:
        raise AnalysisError(
            f"{src.side} foot: no walking detected ({len(table)} contacts, {int(table['timing_ok'].sum())} "
            f"plausible strides; at least {MIN_WALKING_STRIDES} needed with stance 0.25-2 s and swing >= 0.15 s)"
        )
    start_s = np.where(np.isfinite(det.ic_s_), det.ic_s_, trace.time_s[ic_idx])
    stop_s = np.where(np.isfinite(det.to_s_), det.to_s_, trace.time_s[np.minimum(to_idx, n - 1)])
    trace.force = np.zeros(0, np.float32)  # pass 2 needs the time and cells only: free the raw force
    fb = det.force_
    if bw:
        scale, suffix, funits = 1.0 / bw, "bw", "BW"
    elif trace.force_units == "N":
        scale, suffix, funits = 1.0, "n", "N"
    else:
        scale, suffix, funits = 1.0, "au", "counts"
    curves = resample_stance(trace.time_s, fb, start_s, stop_s, N_POINTS) * np.float32(scale)
    stance = stop_s - start_s
    lm = curve_landmarks(curves, stance)
    stats = {k: v * scale for k, v in
             step_force_stats(trace.time_s, fb, ic_idx + 1, np.maximum(to_idx, ic_idx + 1), fs).items()}
    levels = det.levels()
    del det, fb  # free the per-frame arrays of the detector before pass 2
    table[f"peak1_{suffix}"] = lm["peak1"]
    table["peak1_pct"] = lm["peak1_pct"]
    table[f"valley_{suffix}"] = lm["valley"]
    table["valley_pct"] = lm["valley_pct"]
    table[f"peak2_{suffix}"] = lm["peak2"]
    table["peak2_pct"] = lm["peak2_pct"]
    table[f"max_force_{suffix}"] = stats["max"]
    table[f"mean_force_{suffix}"] = stats["mean"]
    table[f"impulse_{suffix}_s"] = stats["impulse"]
    table[f"loading_rate_{suffix}_s"] = lm["loading_rate"]
    table[f"loading_rate_inst_{suffix}_s"] = lm["loading_rate_inst"]

    feats, cop_curves = step_frame_features(src, trace, ic_idx, np.maximum(to_idx, ic_idx + 1), start_s, stop_s,
                                            params.block_frames)
    layout = src.layout
    gl = cop.gait_line_measures(cop_curves["cop_ap"], cop_curves["cop_ml"], layout.foot_length_mm,
                                layout.forefoot_width_mm, stance)
    for k, v in gl.items():
        table[k] = v
    table["cpei_pct"] = cpei_pct(cop_curves["cop_ap"], cop_curves["cop_ml"], layout.foot_length_mm,
                                 layout.forefoot_width_mm)
    if "lat_phase" in feats:
        idx = lmfi(feats["lat_phase"], feats["med_phase"])
        for j, ph in enumerate(LMFI_PHASES):
            table[f"lmfi_{ph}"] = idx[:, j]
    _, punits = _pressure_units(src.units)
    table["saturated"] = feats["saturated"].astype(bool)
    table[f"peak_pressure_{punits}"] = feats["peak_pressure"]
    names = list(feats["region_names"])
    for name in names:
        table[f"{name}_peak_pressure_{punits}"] = feats[f"{name}_peak"]
        table[f"{name}_pti_{punits}_s"] = feats[f"{name}_pti"]
        table[f"{name}_contact_pct"] = feats[f"{name}_contact"]
        table[f"{name}_load_pct"] = feats[f"{name}_load"]
    duration = float(trace.time_s[-1] - trace.time_s[0]) + 1.0 / fs
    valid_frames = n - trace.n_nan_frames
    dropout = max(0.0, 100.0 * (1.0 - valid_frames / max(duration * fs, 1.0)))
    return _Side(
        table=table, force_curves=curves, cop_ap=cop_curves["cop_ap"], cop_ml=cop_curves["cop_ml"],
        levels=levels, force_suffix=suffix, force_units=funits, pressure_units=punits, layout=layout,
        region_names=names, saturation_pct=100.0 * trace.n_saturated_frames / n, dropout_pct=dropout,
        n_frames=n, sampling_rate_hz=fs,
    )


def _pressure_units(units: str) -> tuple[str, str]:
    return ("counts", "counts") if units == "raw" else ("kPa", "kpa")


def _metric_specs(suffix: str, funits: str) -> list[tuple[str, str, str, str, bool]]:
    """(summary name, step column, units, method, force measure?) of the per-side summaries."""
    fu = funits
    return [
        ("stride_time_s", "stride_s", "s", "IC to next ipsilateral IC", False),
        ("stance_time_s", "stance_s", "s", "IC to TO", False),
        ("swing_time_s", "swing_s", "s", "TO to next IC", False),
        ("stance_pct", "stance_pct", "% stride", "stance / stride x 100", False),
        ("swing_pct", "swing_pct", "% stride", "swing / stride x 100", False),
        ("step_time_s", "step_s", "s", "previous contralateral IC to IC", False),
        ("double_support_s", "double_support_s", "s", "initial + terminal double support of the stride", False),
        ("single_support_s", "single_support_s", "s", "stance - double support", False),
        ("cadence_steps_per_min", "cadence_steps_per_min", "steps/min", "120 / stride time", False),
        (f"peak1_{suffix}", f"peak1_{suffix}", fu, "maximum force over 0-50 % stance", True),
        ("peak1_pct_stance", "peak1_pct", "% stance", "timing of the first peak", True),
        (f"valley_{suffix}", f"valley_{suffix}", fu, "minimum force between the peaks", True),
        ("valley_pct_stance", "valley_pct", "% stance", "timing of the valley", True),
        (f"peak2_{suffix}", f"peak2_{suffix}", fu, "maximum force over 50-100 % stance", True),
        ("peak2_pct_stance", "peak2_pct", "% stance", "timing of the second peak", True),
        (f"max_force_{suffix}", f"max_force_{suffix}", fu, "maximum force over stance frames", True),
        (f"mean_force_{suffix}", f"mean_force_{suffix}", fu, "mean force over stance frames", True),
        (f"impulse_{suffix}_s", f"impulse_{suffix}_s", f"{fu} s", "force-time integral over stance", True),
        (f"loading_rate_{suffix}_s", f"loading_rate_{suffix}_s", f"{fu}/s",
         "average slope 20-80 % of the first peak (Woodard et al. 1999); sampling-rate dependent proxy", True),
        (f"loading_rate_inst_{suffix}_s", f"loading_rate_inst_{suffix}_s", f"{fu}/s",
         "maximum slope between 20 % and 80 % of the first peak", True),
        ("cop_path_length_pct", "cop_path_length_pct", "% foot length", "length of the 101-point gait line", False),
        ("cop_width_pct", "cop_width_pct", "% foot width", "medio-lateral range of the gait line", False),
        ("cop_ap_excursion_pct", "cop_ap_excursion_pct", "% foot length", "AP range of the gait line", False),
        ("cop_velocity_mm_s", "cop_velocity_mm_s", "mm/s", "gait-line length / time with defined CoP", False),
        ("cpei_pct", "cpei_pct", "% forefoot width", "insole CPEI (Song et al. 1996 construction)", False),
    ] + [
        (f"lmfi_{ph}", f"lmfi_{ph}", "ratio", f"(F_lat - F_med)/(F_lat + F_med), {lo:g}-{hi:g} % stance", False)
        for ph, (lo, hi) in LMFI_PHASES.items()
    ]


def _ratio_scale(name: str) -> bool:
    return not (name.startswith("lmfi_") or name == "cpei_pct")


def analyze_session(source: str | Path | Session, params: AnalysisParams | None = None) -> AnalysisResult:
    """Analyse a session file (streamed in blocks) or an in-memory :class:`~insole.session_file.Session`.

    Raises
    ------
    AnalysisError
        The session cannot be analysed (no walking on any foot, constant or unloaded signals, unknown units).
    insole.errors.InsoleError
        The file is not a valid session (from :func:`insole.session_file.open_session`).
    """
    params = params or AnalysisParams()
    with contextlib.ExitStack() as stack:
        if isinstance(source, Session):
            path = Path(source.path)
            attrs, metadata = dict(source.attrs), source.metadata
            feet = {s: FootSource.from_foot(f) for s, f in source.feet.items()}
        else:
            path = Path(source)
            sf = stack.enter_context(open_session(path))
            attrs, metadata = dict(sf.attrs), sf.metadata
            feet = {s: FootSource.from_file(sf, s) for s in sf.sides}
        if not feet:
            raise AnalysisError(f"{path}: the session has no foot recorded")
        sides: dict[str, _Side] = {}
        errors: dict[str, str] = {}
        for side, src in feet.items():
            try:
                sides[side] = _analyse_foot(src, params, metadata.body_mass_kg)
            except AnalysisError as exc:
                errors[side] = str(exc)
        if not sides:
            raise AnalysisError(f"{path}: " + "; ".join(errors.values()))
        session_info = _session_info(path, attrs, metadata, feet)
    return _assemble(path, attrs, metadata, sides, errors, session_info, params)


def _session_info(path: Path, attrs: dict, metadata: SessionMetadata, feet: dict[str, FootSource]) -> dict:
    info: dict[str, Any] = {**{k: v for k, v in asdict(metadata).items()}, "source": attrs.get("source")}
    info["feet"] = {
        s: {"sampling_rate_hz": f.sampling_rate_hz, "units": f.units, "layout_id": f.layout.layout_id,
            "n_sensors": f.n_sensors, "n_frames": f.n_frames, "foot_length_mm": f.layout.foot_length_mm,
            "device": {k[7:]: v for k, v in f.attrs.items() if k.startswith("device_")}}
        for s, f in feet.items()
    }
    return info


def _assemble(path: Path, attrs: dict, metadata: SessionMetadata, sides: dict[str, _Side], errors: dict[str, str],
              session_info: dict, params: AnalysisParams) -> AnalysisResult:
    tables = {s: strides.steady_state(v.table) for s, v in sides.items()}
    if "left" in tables and "right" in tables:
        tables["left"], tables["right"] = pair_sides(tables["left"], tables["right"])
    else:
        for t in tables.values():
            for col in ("step_s", "contra_ic_pct", "double_support_initial_s", "double_support_terminal_s",
                        "double_support_s", "single_support_s"):
                t[col] = np.nan
            t["paired"] = False
    metrics: dict[str, Any] = {}
    curves: dict[str, dict[str, Any]] = {}
    sym_inputs: dict[str, dict[str, np.ndarray]] = {}
    for side, sd in sides.items():
        t = tables[side]
        valid = t["valid"].to_numpy()
        force_ok = valid & ~t["saturated"].to_numpy()
        per: dict[str, Any] = {}
        sym_inputs[side] = {}
        for name, col, units, method, is_force in _metric_specs(sd.force_suffix, sd.force_units):
            if col not in t:
                continue
            sel = force_ok if is_force else valid
            vals = t[col].to_numpy(dtype=float)[sel]
            per[name] = summarize(vals, units, f"{method}; {STEADY_STATE_RULE}" if name == "stride_time_s"
                                  else f"{method}; steady-state steps" + ("" if not is_force else
                                                                           ", saturated steps excluded"),
                                  ratio_scale=_ratio_scale(name))
            sym_inputs[side][name] = vals
        per["foot_function"] = foot_function_label(
            t["cpei_pct"].to_numpy(float)[valid],
            t["lmfi_terminal"].to_numpy(float)[valid] if "lmfi_terminal" in t else None,
            sd.layout.layout_id,
        )
        reg: dict[str, Any] = {}
        pu = sd.pressure_units
        for name in sd.region_names:
            def med(col: str, t: pd.DataFrame = t, sel: np.ndarray = force_ok) -> float | None:
                v = t[col].to_numpy(float)[sel]
                v = v[np.isfinite(v)]
                return float(np.median(v)) if v.size else None
            reg[name] = {"peak_pressure_kpa": med(f"{name}_peak_pressure_{pu}"),
                         "pti_kpa_s": med(f"{name}_pti_{pu}_s"), "contact_time_pct": med(f"{name}_contact_pct"),
                         "load_share_pct": med(f"{name}_load_pct"), "n": int(force_ok.sum()),
                         "pressure_units": "kPa" if pu == "kpa" else "counts", "statistic": "median over steps"}
        per["regions"] = reg
        # everything that is not a summary object, foot_function or regions goes under "details"
        per["details"] = {
            "region_rule": regions.REGION_RULE,
            "event_levels": {**sd.levels, "force_units": sd.force_units if sd.force_units != "BW" else "N"},
            "n_steps_detected": int(len(t)),
            "n_steps_valid": int(valid.sum()),
        }
        metrics[side] = per
        curves[side] = {"force_units": "BW" if sd.force_suffix == "bw" else sd.force_units,
                        "stance_pct": np.linspace(0, 100, N_POINTS)}
        for key, attr in (("force", "force_curves"), ("cop_ap", "cop_ap"), ("cop_ml", "cop_ml")):
            curves[side][key] = getattr(sd, attr)[valid]
            setattr(sd, attr, None)  # keep only the valid steps' curves
    # bilateral
    bil: dict[str, Any] = {}
    both = "left" in sides and "right" in sides
    pooled = np.concatenate([tables[s]["stride_s"].to_numpy(float)[tables[s]["valid"].to_numpy()] for s in tables])
    bil["cadence_steps_per_min"] = summarize(120.0 / pooled, "steps/min",
                                             "120 / stride time, steady-state strides of both feet pooled")
    sync = None
    if both:
        ref = tables["left"]
        sel = ref["valid"].to_numpy() & ref["paired"].to_numpy()
        ds = ref["double_support_s"].to_numpy(float)[sel]
        bil["double_support_s"] = summarize(ds, "s", "initial + terminal double support per left stride "
                                            "(paired steady-state strides)")
        bil["double_support_pct"] = summarize(100.0 * ds / ref["stride_s"].to_numpy(float)[sel], "% stride",
                                              "double support / stride x 100 (left strides)")
        n_valid = int(ref["valid"].sum())
        paired_share = float(sel.sum()) / max(n_valid, 1)
        ds_med = float(np.median(ds)) if ds.size else float("nan")
        ok = bool(ds.size and ds_med > 0 and paired_share >= 0.5)
        reason = "" if ok else (
            f"left/right sync check failed: {100 * paired_share:.0f} % of left strides pair with a right contact "
            f"at 35-65 % of the stride and median double support is {ds_med:.3f} s; walking always shows double "
            "support, so the two insoles' clocks are probably not aligned")
        sync = {"ok": ok, "reason": reason, "paired_share": paired_share}
        bil["symmetry"] = symmetry.symmetry_table(sym_inputs["left"], sym_inputs["right"])
        sl, sr = sides["left"], sides["right"]
        pk = {}
        for s, sd in (("left", sl), ("right", sr)):
            t = tables[s]
            sel = t["valid"].to_numpy() & ~t["saturated"].to_numpy()
            pk[s] = (t["stance_s"].to_numpy(float)[sel],
                     t[[f"peak1_{sd.force_suffix}", f"peak2_{sd.force_suffix}"]].to_numpy(float)[sel].max(axis=1))
        bil["lld_pattern"] = symmetry.lld_pattern(pk["left"][0], pk["right"][0], pk["left"][1], pk["right"][1])
    else:
        bil["symmetry"] = {}
        bil["lld_pattern"] = {"consistent": False, "criteria": {}, "wording": "not assessed: one foot only"}
    metrics["bilateral"] = bil
    extra = [f"{s}: not analysed: {msg}" for s, msg in errors.items()]
    q = quality_report(
        {s: int(tables[s]["valid"].sum()) for s in tables},
        {s: round(v.saturation_pct, 3) for s, v in sides.items()},
        {s: round(v.dropout_pct, 3) for s, v in sides.items()},
        sync, extra,
    )
    if errors:
        q["failures"] = list(q["failures"]) + extra
        q["warnings"] = [w for w in q["warnings"] if w not in extra]
        q["passed"] = False
    metrics["quality"] = q
    metrics["provenance"] = {
        "software": f"insole {__version__}",
        "parameters": {**asdict(params), "steady_state_rule": STEADY_STATE_RULE,
                       "events": events.__doc__.split("\n\n")[0] if events.__doc__ else "",
                       "cop_min_force_share": cop.COP_MIN_FORCE_SHARE,
                       "foot_function_rule": foot_function.LABEL_RULE,
                       "force_units_rule": force.__doc__.split("\n\n")[0] if force.__doc__ else ""},
        "input_sha256": file_sha256(path) if path.is_file() else "",
        "input_path": str(path),
        "analysed_utc": utc_now_iso(),
    }
    metrics["session"] = {**session_info,
                          "duration_s": max(v.n_frames / v.sampling_rate_hz for v in sides.values())}
    steps = pd.concat([tables.pop(s) for s in ("left", "right") if s in tables], ignore_index=True)
    session = Session(path=path, attrs=attrs, metadata=metadata, feet={})
    return AnalysisResult(steps=_json_safe_steps(steps), metrics=_json_ready(metrics), session=session,
                          curves=curves, layouts={s: v.layout for s, v in sides.items()})


def _json_safe_steps(steps: pd.DataFrame) -> pd.DataFrame:
    steps["valid"] = steps["valid"].astype(bool)
    return steps


def _json_ready(obj: Any) -> Any:
    """Plain Python values; NaN and infinities become None."""
    if isinstance(obj, dict):
        return {str(k): _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_json_ready(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj
