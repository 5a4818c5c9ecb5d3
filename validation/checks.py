"""The acceptance checks over the dataset tables; every threshold is in :mod:`validation.references`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from validation import references as ref

SIDES = ("left", "right")


@dataclass
class Check:
    """One acceptance check: its figure, the threshold it is held to, whether it passed and how it was computed."""

    name: str
    figure: float
    threshold: str
    passed: bool
    how: str


def _col(df: pd.DataFrame, name: str, fill: object = np.nan) -> pd.Series:
    return df[name] if name in df else pd.Series(fill, index=df.index)


def _both_in(df: pd.DataFrame, stem: str, lo: float, hi: float) -> pd.Series:
    return _col(df, f"left_{stem}").between(lo, hi) & _col(df, f"right_{stem}").between(lo, hi)


def _analysed(df: pd.DataFrame) -> pd.Series:
    return _col(df, "error", "").fillna("") == ""


def gaitndd_checks(ndd: pd.DataFrame) -> list[Check]:
    n, need = len(ndd), ref.GAITNDD_MIN_RECORDS
    analysed = _analysed(ndd)
    out = [Check("gaitndd records analysed without error", int(analysed.sum()), f">= {need} of {n}",
                 int(analysed.sum()) >= need, "analyze_session raised no AnalysisError")]
    lo, hi = ref.STRIDE_RANGE_S
    k = int(_both_in(ndd, "stride_s", lo, hi).sum())
    out.append(Check(f"gaitndd records with both median strides in {lo:g}-{hi:g} s", k, f">= {need} of {n}",
                     k >= need, "median of valid strides per side (result.metrics.<side>.stride_time_s.median)"))
    k = int(_col(ndd, "stride_eq_stance_plus_swing", False).astype(bool)[analysed].sum())
    out.append(Check("gaitndd analysed records where stride = stance + swing for every valid step", k,
                     f"all {int(analysed.sum())}", k == int(analysed.sum()) and k > 0,
                     f"|stance_s + swing_s - stride_s| < {ref.CONSISTENCY_S * 1000:g} ms on every valid step"))
    lo, hi = ref.STANCE_PCT_RANGE
    k = int(_both_in(ndd, "stance_pct", lo, hi).sum())
    out.append(Check(f"gaitndd records with stance {lo:g}-{hi:g} % of stride on both sides", k, f">= {need} of {n}",
                     k >= need, "median stance / median stride per side"))
    changes = ndd[[c for c in ndd.columns if c.endswith("_change_s")]]
    worst = float(np.nanmax(np.abs(changes.to_numpy(float)))) if changes.size else float("nan")
    unchanged = int((changes.abs() <= ref.GAITNDD_BASELINE_TOLERANCE_S).all(axis=1).sum()) if changes.size else 0
    out.append(Check("gaitndd records whose median stride, stance and swing are unchanged since before issue 13",
                     unchanged, f"all {n} (within {ref.GAITNDD_BASELINE_TOLERANCE_S * 1000:g} ms)",
                     unchanged == n and n > 0,
                     f"both sides against validation/baseline/ (largest change {worst * 1000:.2f} ms); one-sensor "
                     "insoles keep the onset events"))
    return out


def gaitpdb_checks(pdb: pd.DataFrame) -> list[Check]:
    out = []
    controls = pdb[_col(pdb, "group", "") == "Co"]
    expected = _col(controls, "expected_stance_pct")
    dev = pd.concat([(_col(controls, f"{s}_stance_pct") - expected).abs() for s in SIDES], axis=1).max(axis=1)
    k = int((dev <= ref.STANCE_SPEED_TOLERANCE_PCT).sum())
    no_speed = int(_col(controls, "speed_m_s").isna().sum())
    out.append(Check(f"gaitpdb control walks with median stance within {ref.STANCE_SPEED_TOLERANCE_PCT:g} points "
                     "of the speed-expected value", k, f">= {ref.STANCE_SPEED_MIN_CONTROLS} of {len(controls)}",
                     k >= ref.STANCE_SPEED_MIN_CONTROLS,
                     f"each side's median stance % vs 64.2 - 3.5 x speed (Kirtley et al. 1985), speed "
                     f"from demographics.txt ({no_speed} walk(s) without a recorded speed count as not met); "
                     f"largest |difference| {np.nanmax(dev) if dev.notna().any() else float('nan'):.2f} points"))
    lo, hi = ref.STANCE_PCT_RANGE
    clo, chi = ref.CADENCE_RANGE
    k = int((_col(pdb, "cadence_steps_per_min").between(clo, chi) & _both_in(pdb, "stance_pct", lo, hi)).sum())
    out.append(Check(f"gaitpdb walks with cadence {clo:g}-{chi:g} steps/min and stance {lo:g}-{hi:g} % on both sides "
                     "(Parkinson's walks included)", k, f">= {ref.GAITPDB_MIN_WALKS} of {len(pdb)}",
                     k >= ref.GAITPDB_MIN_WALKS, "cadence = 120 / mean of the two sides' median stride times"))
    ratio = _col(pdb, "impulse_ratio")
    lo, hi = ref.IMPULSE_BALANCE_RANGE
    outside = ratio.notna() & ~ratio.between(lo, hi)
    warned = outside & _col(pdb, "force_scale_warning", False).astype(bool) & np.isclose(
        _col(pdb, "rescale_factor") * ratio, 1.0, rtol=1e-3)
    out.append(Check(f"gaitpdb walks with an impulse ratio outside {lo:g}-{hi:g} that carry the force-scale "
                     "warning and are rescaled by 1 / ratio", int(warned.sum()), f"all {int(outside.sum())}",
                     bool(warned.sum() == outside.sum()),
                     f"ratios {ratio.min():.2f}-{ratio.max():.2f} over {int(ratio.notna().sum())} walks with a body "
                     "mass (median over paired strides of both feet's impulse / (body weight x stride time))"))
    left_out = _col(controls, "cohort_left_out", False).astype(bool)
    out.append(Check("gaitpdb control walks positioned without their own subject's walks", int(left_out.sum()),
                     f"all {len(controls)}", bool(left_out.all()) and len(controls) > 0,
                     "the shipped gaitpdb cohort with the subject's walks left out (leave-one-subject-out)"))
    return out


def controls_lld_check(ndd: pd.DataFrame, pdb: pd.DataFrame) -> Check:
    ndd_c = ndd[_col(ndd, "group", "") == "control"]
    pdb_c = pdb[_col(pdb, "group", "") == "Co"]
    flagged = int(_col(ndd_c, "lld_flagged", False).astype(bool).sum() + _col(pdb_c, "lld_flagged", False)
                  .astype(bool).sum())
    assessed_ndd = int(_col(ndd_c, "lld_assessed", False).astype(bool).sum())
    assessed_pdb = int(_col(pdb_c, "lld_assessed", False).astype(bool).sum())
    return Check("healthy controls flagged by the leg-length pattern (gaitndd control1-16, gaitpdb controls)",
                 flagged, f"<= {ref.LLD_MAX_CONTROLS_FLAGGED}", flagged <= ref.LLD_MAX_CONTROLS_FLAGGED,
                 f"assessed on {assessed_pdb} of {len(pdb_c)} gaitpdb control walks (cohort without the subject) and "
                 f"{assessed_ndd} of {len(ndd_c)} gaitndd controls (uncalibrated counts: not assessed)")


def _share_within(steps: pd.DataFrame, err: str, vendor: str, tol: float) -> tuple[float, int]:
    """Share of the vendor steps with a defined ``vendor`` interval whose detected one is within ``tol`` (a step
    the analysis missed counts as outside)."""
    defined = _col(steps, vendor).notna()
    e = _col(steps, err)[defined].abs()
    return (float((e <= tol).mean()) if len(e) else 0.0), int(defined.sum())


def moticon_checks(mot: pd.DataFrame, steps: pd.DataFrame) -> list[Check]:
    out = []
    tol, need = ref.MOTICON_INTERVAL_TOLERANCE_S, ref.MOTICON_MIN_SHARE
    for err, vendor, label in (("ic_err_s", "vendor_ic_s", "initial contact"), ("to_err_s", "vendor_to_s", "toe off"),
                               ("stance_err_s", "vendor_stance_s", "stance"), ("swing_err_s", "vendor_swing_s",
                                                                               "swing"),
                               ("double_support_err_s", "vendor_double_support_s", "initial double support")):
        share, n = _share_within(steps, err, vendor, tol)
        onset = _col(steps, "onset_" + err)
        extra = (f"; onset events: median {onset.median() * 1000:+.0f} ms" if onset.notna().any() else "")
        out.append(Check(f"Moticon vendor steps with {label} within {tol * 1000:g} ms of the vendor's", round(share, 3),
                         f">= {need:.0%} of {n}", share >= need and n > 0,
                         f"detected minus vendor per vendor step, median {_col(steps, err).median() * 1000:+.1f} ms"
                         + extra))
    ftol = ref.MOTICON_FORCE_TOLERANCE
    for err, label in (("max_force_err", "maximum force"), ("peak1_err", "first force peak"),
                       ("peak2_err", "second force peak")):
        e = _col(steps, err)
        base = e.notna() if err != "max_force_err" else _col(steps, "vendor_max_force_n").notna()
        share = float((e[base].abs() <= ftol).mean()) if base.any() else 0.0
        out.append(Check(f"Moticon vendor steps with the {label} within {ftol:.0%} of the vendor's total force",
                         round(share, 3), f">= {need:.0%} of {int(base.sum())}", share >= need and bool(base.any()),
                         f"relative error, median {e.abs().median() * 100:.2f} %, largest {e.abs().max() * 100:.2f} %"
                         + ("; steps without a double hump have no peaks and are not counted"
                            if err != "max_force_err" else "")))
    labels = _col(mot, "foot_function", "not assessed")
    no_cohort = _col(mot, "reference_cohort", "").fillna("") == ""
    invented = int((no_cohort & labels.notna() & (labels != "not assessed")).sum())
    said = int(_col(mot, "foot_function_reason", "").fillna("").str.contains("no reference cohort")[no_cohort].sum())
    out.append(Check("Moticon feet given a foot-function label although no cohort covers the insole", invented,
                     "0", invented == 0 and int(no_cohort.sum()) > 0,
                     f"{int(no_cohort.sum())} feet without a cohort, {said} of them 'not assessed' with the reason "
                     "'no reference cohort'"))
    return out


def checks_of(ndd: pd.DataFrame, pdb: pd.DataFrame, mot: pd.DataFrame, steps: pd.DataFrame) -> list[Check]:
    """Every acceptance check, in report order."""
    return [*gaitndd_checks(ndd), *gaitpdb_checks(pdb), controls_lld_check(ndd, pdb), *moticon_checks(mot, steps)]
