#!/usr/bin/env python3
"""Validation of the analysis against third-party reference data (../shared/datasets).

Every gaitndd record, every gaitpdb walk and every Moticon export is converted with ``insole.importers`` into a
temporary session and analysed with ``pipeline.analysis.analyze_session`` (only ``result.steps`` and
``result.metrics.left`` / ``.right`` are used, from the typed analysis result). The script writes, to ``--out``:

* ``gaitndd.csv`` — per record and side: median stride, stance, swing and initial double support (s), stance %,
  number of valid strides;
* ``gaitpdb.csv`` — per walk: cadence (steps/min) and stance % per side;
* ``moticon.csv`` — per export and side: detected vs vendor initial contact (IC) and toe off (TO): matched events,
  mean and median absolute difference (ms), misses and extras; ``moticon_events.csv`` — one row per vendor event
  with the signed difference of the matched detected event (NaN = missed);
* ``checks.csv`` / ``summary.json`` — each acceptance check, its figure, its threshold and whether it passed;
* ``validation.png`` — the three datasets at a glance.

It exits 0 when every check passes and 1 otherwise (2 when the datasets are missing). Usage::

    python validation/run_validation.py --datasets ../shared/datasets --out validation-output

Thresholds (each names its source):

* Moticon IC and TO: median |detected - vendor| <= 20 ms, and >= 90 % of vendor events matched within 100 ms.
  The vendor events agree with Moticon's own gait reports within 10 ms (dataset README) and the export is sampled
  at 100 Hz (10 ms), so a correct detector on the same pressures should land within two samples; plantar-pressure
  IC/TO detectors typically agree with force-plate events within ~10-20 ms (Catalfamo P, Moser D, Ghoussayni S,
  Ewins D. Detection of gait events using an F-Scan in-shoe pressure measurement system. Gait Posture
  2008;28:420-426).
* gaitndd: for >= 60 of 64 records both sides have a median stride time in 0.8-2.0 s (Hausdorff et al. 2000 report
  mean stride times of about 1.0-1.4 s in controls, ALS, HD and PD; 0.8-2.0 s leaves room for slow patients) and
  stride = stance + swing holds for every valid step (|difference| < 1 ms: the definitions must be consistent).
* gaitndd: median stance between 50 % and 75 % of the stride for >= 60 of 64 records (normal stance is about 60 %
  of the gait cycle, Perry J, Burnfield JM. Gait Analysis: Normal and Pathological Function, 2nd ed., 2010;
  neurological gait prolongs it).
* gaitpdb: for >= 16 of 18 walks, cadence in 70-140 steps/min and stance in 50-75 % on both sides (healthy adults
  walk at about 100-130 steps/min, Tudor-Locke C et al. Int J Behav Nutr Phys Act 2011;8:79; people with
  Parkinson's disease are often slower). For the Parkinson's walks the stance limit is 80 %: PD prolongs stance and
  double support (Morris ME et al. Brain 1994;117:1169-1181), dual-task walks (``_10``) more so, and the analysis
  times stance from the onset of loading to the end of unloading, which threshold methods shorten by several
  tens of ms (Catalfamo et al. 2008).
* Moticon: the vendor's events are threshold crossings (at about 5 % and 10-15 % of the stance level,
  docs/analysis.md), so they are compared with the analysis's threshold-style events (``ic_threshold_s``,
  ``to_threshold_s``); the median signed difference to the onset events (``ic_s``, ``to_s``) is printed too.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from insole.errors import InsoleError  # noqa: E402
from insole.importers import import_recording  # noqa: E402
from insole.session import open_session  # noqa: E402
from pipeline.analysis import analyze_session  # noqa: E402
from pipeline.errors import PipelineError  # noqa: E402

SIDES = ("left", "right")
#: Largest |detected - vendor| (s) for which a detected event counts as the same event as a vendor event.
MATCH_WINDOW_S = 0.100
MOTICON_MEDIAN_ABS_MS = 20.0
MOTICON_MATCHED_SHARE = 0.90
STRIDE_RANGE_S = (0.8, 2.0)
STANCE_PCT_RANGE = (50.0, 75.0)
STANCE_PCT_RANGE_PD = (50.0, 80.0)
CADENCE_RANGE = (70.0, 140.0)
GAITNDD_MIN_RECORDS = 60
GAITPDB_MIN_WALKS = 16
CONSISTENCY_S = 0.001


@dataclass
class Check:
    """One acceptance check."""

    name: str
    figure: float
    threshold: str
    passed: bool
    how: str


def _median(x: Any) -> float:
    a = np.asarray(x, dtype=np.float64)
    a = a[np.isfinite(a)]
    return float(np.median(a)) if a.size else float("nan")


def _metric_median(result: Any, side: str, name: str) -> float:
    """Median of a per-side metric of the typed result (NaN when the foot or the value is missing)."""
    sr = result.metrics.side(side)
    value = sr.metric(name).median if sr is not None else None
    return float("nan") if value is None else float(value)


def initial_double_support_s(steps: pd.DataFrame, side: str) -> np.ndarray:
    """Per ``side`` IC: time until the other foot's toe off, when the other foot was in stance at that IC.

    This is the initial double-support interval of that side's stance (Perry & Burnfield 2010); summed over both
    sides it gives double support per stride, like column 12 of the PhysioNet gaitndd ``.ts`` tables.
    """
    own = steps[steps["side"] == side]
    other = steps[steps["side"] != side]
    ic = own["ic_s"].to_numpy(float)
    o_ic, o_to = other["ic_s"].to_numpy(float), other["to_s"].to_numpy(float)
    ok = np.isfinite(o_ic) & np.isfinite(o_to)
    o_ic, o_to = o_ic[ok], o_to[ok]
    order = np.argsort(o_ic)
    o_ic, o_to = o_ic[order], o_to[order]
    k = np.searchsorted(o_ic, ic, side="right") - 1
    has = (k >= 0) & np.isfinite(ic)
    out = np.full(ic.shape, np.nan)
    kk = k[has]
    ds = o_to[kk] - ic[has]
    out[has] = np.where((ds > 0) & (ds < 1.0), ds, np.nan)
    return out


def analyse(fmt: str, src: Path, work: Path) -> tuple[Any, str]:
    """Import and analyse one file; returns (result or None, error text)."""
    out = work / f"{fmt}-{src.stem}.h5"
    try:
        import_recording(fmt, src, out, overwrite=True)
        return analyze_session(out), ""
    except (InsoleError, PipelineError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - a crash on one record is reported in its row and fails the checks
        return None, f"unexpected {type(exc).__name__}: {exc}"
    finally:
        out.unlink(missing_ok=True)


def gaitndd_table(folder: Path, work: Path) -> pd.DataFrame:
    rows = []
    groups = {}
    table = folder / "subject-description.txt"
    if table.is_file():
        for ln in table.read_text().splitlines()[1:]:
            cells = ln.split("\t")
            if len(cells) > 1:
                groups[cells[0]] = cells[1].replace("subjects", "als")
    for hea in sorted(folder.glob("*.hea")):
        result, error = analyse("gaitndd", hea, work)
        row: dict[str, Any] = {"record": hea.stem, "group": groups.get(hea.stem, ""), "error": error}
        consistent = True
        for side in SIDES:
            if result is None:
                continue
            v = result.valid_steps(side)
            d = (v["stance_time_s"] + v["swing_time_s"] - v["stride_time_s"]).abs()
            consistent &= bool((d[np.isfinite(d)] < CONSISTENCY_S).all())
            stride = _metric_median(result, side, "stride_time_s")
            stance = _metric_median(result, side, "stance_time_s")
            row.update({
                f"{side}_strides": int(len(v)),
                f"{side}_stride_s": stride,
                f"{side}_stance_s": stance,
                f"{side}_swing_s": _metric_median(result, side, "swing_time_s"),
                f"{side}_double_support_s": _median(
                    initial_double_support_s(result.steps[result.steps["valid"].astype(bool)], side)),
                f"{side}_stance_pct": 100.0 * stance / stride if stride > 0 else float("nan"),
            })
        row["stride_eq_stance_plus_swing"] = consistent if result is not None else False
        rows.append(row)
    return pd.DataFrame(rows)


def gaitpdb_table(folder: Path, work: Path) -> pd.DataFrame:
    rows = []
    for txt in sorted(folder.glob("*_*.txt")):
        result, error = analyse("gaitpdb", txt, work)
        row: dict[str, Any] = {"walk": txt.stem, "study": txt.stem[:2], "group": txt.stem[2:4], "error": error}
        if result is not None:
            strides = []
            for side in SIDES:
                stride = _metric_median(result, side, "stride_time_s")
                stance = _metric_median(result, side, "stance_time_s")
                strides.append(stride)
                row[f"{side}_strides"] = int(len(result.valid_steps(side)))
                row[f"{side}_stance_pct"] = 100.0 * stance / stride if stride > 0 else float("nan")
            # two steps per stride: cadence = 120 / stride time (s), from the mean of the two sides' medians
            row["cadence_steps_per_min"] = 120.0 / float(np.nanmean(strides)) if np.any(np.isfinite(strides)) \
                else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def match_events(detected: np.ndarray, reference: np.ndarray, window_s: float = MATCH_WINDOW_S) -> np.ndarray:
    """Signed difference detected - reference (s) of the nearest detected event for each reference event (NaN if
    none within ``window_s``); each detected event is used at most once (greedy by distance)."""
    det = np.sort(detected[np.isfinite(detected)])
    out = np.full(reference.shape, np.nan)
    if det.size == 0 or reference.size == 0:
        return out
    d = det[None, :] - reference[:, None]
    pairs = np.argwhere(np.abs(d) <= window_s)
    pairs = pairs[np.argsort(np.abs(d[pairs[:, 0], pairs[:, 1]]), kind="stable")]
    used_r, used_d = set(), set()
    for r, k in pairs:
        if r not in used_r and k not in used_d:
            out[r] = d[r, k]
            used_r.add(r)
            used_d.add(k)
    return out


def moticon_table(folder: Path, work: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per file and side agreement with the vendor's events, and one row per vendor event (for pooling)."""
    rows = []
    events = []
    for txt in sorted(folder.rglob("*.txt")):
        out = work / f"moticon-{txt.stem}.h5"
        row_base: dict[str, Any] = {"file": str(txt.relative_to(folder))}
        try:
            import_recording("moticon", txt, out, overwrite=True)
            with open_session(out) as sf:
                extras = set(sf.extras())
                vendor = {s: {k: sf.read_extra(f"vendor_events/{s}/{k}") for k in ("ic_s", "to_s", "marker_s",
                              "marker_code") if f"vendor_events/{s}/{k}" in extras} for s in SIDES}
            result = analyze_session(out)
            error = ""
        except (InsoleError, PipelineError) as exc:
            result, error, vendor = None, f"{type(exc).__name__}: {exc}", {}
        except Exception as exc:  # noqa: BLE001 - reported in the table; the event checks then fail
            result, error, vendor = None, f"unexpected {type(exc).__name__}: {exc}", {}
        finally:
            out.unlink(missing_ok=True)
        for side in SIDES:
            row = {**row_base, "side": side, "error": error}
            ev = vendor.get(side, {})
            if "ic_s" in ev:
                row["reference"] = "vendor step events (11/15, 21/25)"
                refs = {"ic": ev["ic_s"], "to": ev["to_s"]}
            elif "marker_s" in ev:
                row["reference"] = "hand-set marker code 1 (load onset; informational)"
                refs = {"ic": ev["marker_s"][ev["marker_code"] == 1]}
            else:
                row["reference"] = "none"
                refs = {}
            if result is not None:
                st = result.steps[result.steps["side"] == side]
                for name, ref in refs.items():
                    if ref.size == 0:
                        continue
                    lo, hi = ref.min() - 0.5, ref.max() + 0.5
                    # like with like: the vendor reports threshold crossings, so compare the analysis's
                    # threshold-style events; the onset events (ic_s / to_s) are reported beside them
                    onset = st[f"{name}_s"].to_numpy(float)
                    onset_diff = match_events(onset[(onset >= lo) & (onset <= hi)], ref)
                    column = f"{name}_threshold_s" if f"{name}_threshold_s" in st else f"{name}_s"
                    det = st[column].to_numpy(float)
                    det = det[(det >= lo) & (det <= hi)]
                    diff = match_events(det, ref)
                    ok = np.isfinite(diff)
                    events.extend({"file": row["file"], "side": side, "event": name, "reference": row["reference"],
                                   "detected": column, "vendor_s": float(r), "diff_ms": float(d * 1000),
                                   "onset_diff_ms": float(o * 1000)}
                                  for r, d, o in zip(ref, diff, onset_diff, strict=True))
                    row.update({
                        f"{name}_vendor_n": int(ref.size),
                        f"{name}_matched_n": int(ok.sum()),
                        f"{name}_missed_n": int((~ok).sum()),
                        f"{name}_extra_n": int(det.size - ok.sum()),
                        f"{name}_mean_abs_ms": float(np.mean(np.abs(diff[ok])) * 1000) if ok.any() else np.nan,
                        f"{name}_median_abs_ms": float(np.median(np.abs(diff[ok])) * 1000) if ok.any() else np.nan,
                        f"{name}_mean_signed_ms": float(np.mean(diff[ok]) * 1000) if ok.any() else np.nan,
                    })
            rows.append(row)
    return pd.DataFrame(rows), pd.DataFrame(events, columns=["file", "side", "event", "reference", "detected",
                                                              "vendor_s", "diff_ms", "onset_diff_ms"])


def checks_of(ndd: pd.DataFrame, pdb: pd.DataFrame, events: pd.DataFrame) -> list[Check]:
    """The acceptance checks (thresholds and their sources: module docstring)."""
    checks = []
    analysed = ndd["error"].fillna("") == "" if "error" in ndd else pd.Series(True, index=ndd.index)
    checks.append(Check("gaitndd records analysed without error", int(analysed.sum()),
                        f">= {GAITNDD_MIN_RECORDS} of {len(ndd)}", int(analysed.sum()) >= GAITNDD_MIN_RECORDS,
                        "analyze_session raised no AnalysisError"))

    def in_range(df: pd.DataFrame, col: str, lo: float, hi: float) -> pd.Series:
        return df[col].between(lo, hi) if col in df else pd.Series(False, index=df.index)

    n_ok = int((in_range(ndd, "left_stride_s", *STRIDE_RANGE_S) & in_range(ndd, "right_stride_s", *STRIDE_RANGE_S))
               .sum())
    checks.append(Check("gaitndd records with both median strides in 0.8-2.0 s", n_ok,
                        f">= {GAITNDD_MIN_RECORDS} of {len(ndd)}", n_ok >= GAITNDD_MIN_RECORDS,
                        "median of valid strides per side (result.metrics.<side>.stride_time_s.median)"))
    n_cons = int(ndd.loc[analysed, "stride_eq_stance_plus_swing"].astype(bool).sum())
    checks.append(Check("gaitndd analysed records where stride = stance + swing for every valid step", n_cons,
                        f"all {int(analysed.sum())}", n_cons == int(analysed.sum()) and n_cons > 0,
                        f"|stance_s + swing_s - stride_s| < {CONSISTENCY_S * 1000:g} ms on every valid step"))
    n_st = int((in_range(ndd, "left_stance_pct", *STANCE_PCT_RANGE)
                & in_range(ndd, "right_stance_pct", *STANCE_PCT_RANGE)).sum())
    checks.append(Check("gaitndd records with stance 50-75 % of stride on both sides", n_st,
                        f">= {GAITNDD_MIN_RECORDS} of {len(ndd)}", n_st >= GAITNDD_MIN_RECORDS,
                        "median stance / median stride per side"))
    patients = pdb["group"].astype(str) == "Pt" if "group" in pdb else pd.Series(False, index=pdb.index)
    stance_hi = np.where(patients, STANCE_PCT_RANGE_PD[1], STANCE_PCT_RANGE[1])
    stance_ok = pd.Series(True, index=pdb.index)
    for side in SIDES:
        col = pdb[f"{side}_stance_pct"] if f"{side}_stance_pct" in pdb else pd.Series(np.nan, index=pdb.index)
        stance_ok &= (col >= STANCE_PCT_RANGE[0]) & (col <= stance_hi)
    n_pdb = int((in_range(pdb, "cadence_steps_per_min", *CADENCE_RANGE) & stance_ok).sum())
    checks.append(Check("gaitpdb walks with cadence 70-140 steps/min and stance 50-75 % (PD 50-80 %) on both sides",
                        n_pdb,
                        f">= {GAITPDB_MIN_WALKS} of {len(pdb)}", n_pdb >= GAITPDB_MIN_WALKS,
                        "cadence = 120 / mean of the two sides' median stride times"))
    vendor = events[events["reference"].astype(str).str.startswith("vendor")]
    for name, label in (("ic", "initial contact"), ("to", "toe off")):
        ev = vendor[vendor["event"] == name]
        err = ev["diff_ms"].abs().to_numpy(float)
        ok = np.isfinite(err)
        med = float(np.median(err[ok])) if ok.any() else float("nan")
        checks.append(Check(f"Moticon {label}: median |detected - vendor| (ms)", round(med, 2),
                            f"<= {MOTICON_MEDIAN_ABS_MS:g} ms", bool(med <= MOTICON_MEDIAN_ABS_MS),
                            f"median over the {int(ok.sum())} matched vendor events of all files and both feet "
                            f"(mean {np.mean(err[ok]) if ok.any() else float('nan'):.1f} ms)"))
        onset = ev["onset_diff_ms"].to_numpy(float) if "onset_diff_ms" in ev else np.array([])
        onset_ok = np.isfinite(onset)
        if onset_ok.any():
            print(f"info  Moticon {label}: onset events vs vendor, median signed difference "
                  f"{np.median(onset[onset_ok]):+.1f} ms")
        share = float(ok.mean()) if len(ok) else 0.0
        checks.append(Check(f"Moticon {label}: vendor events matched within 100 ms", round(share, 3),
                            f">= {MOTICON_MATCHED_SHARE:.0%} of {len(ok)}", share >= MOTICON_MATCHED_SHARE,
                            "greedy nearest matching, each detected event used once"))
    return checks


def plot(ndd: pd.DataFrame, pdb: pd.DataFrame, events: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    ax = axes[0]
    colours = {"control": "tab:blue", "als": "tab:red", "hunt": "tab:purple", "park": "tab:green"}
    for g, sub in ndd.groupby("group"):
        for side, marker in (("left", "o"), ("right", "s")):
            if f"{side}_stride_s" in sub:
                ax.scatter(sub.index, sub[f"{side}_stride_s"], marker=marker, s=18, color=colours.get(g, "grey"),
                           label=f"{g} {side}")
    ax.axhspan(*STRIDE_RANGE_S, color="0.9", zorder=0)
    ax.set(title=f"gaitndd: median stride per record (n={len(ndd)})", xlabel="record", ylabel="stride time (s)")
    ax.legend(fontsize=6, ncol=2)
    ax = axes[1]
    if "cadence_steps_per_min" in pdb:
        x = np.arange(len(pdb))
        ax.bar(x, pdb["cadence_steps_per_min"], color="tab:blue", alpha=0.7, label="cadence (steps/min)")
        for side, marker in (("left", "o"), ("right", "s")):
            ax.plot(x, pdb[f"{side}_stance_pct"], marker, color="k", ms=4, label=f"stance % {side}")
        ax.set_xticks(x, pdb["walk"], rotation=90, fontsize=6)
    ax.axhspan(*CADENCE_RANGE, color="0.93", zorder=0)
    ax.set(title=f"gaitpdb: cadence and stance % (n={len(pdb)})")
    ax.legend(fontsize=7)
    ax = axes[2]
    vendor = events[events["reference"].astype(str).str.startswith("vendor")]
    data = [vendor.loc[vendor["event"] == n, "diff_ms"].dropna().to_numpy() for n in ("ic", "to")]
    ax.boxplot(data)
    ax.set_xticks([1, 2], [f"IC (n={data[0].size})", f"TO (n={data[1].size})"])
    for k, d in enumerate(data, start=1):
        ax.scatter(k + np.linspace(-0.15, 0.15, max(d.size, 1))[: d.size], d, s=10, color="k", alpha=0.6)
    ax.axhline(0, color="0.5", lw=0.8)
    for sign in (1, -1):
        ax.axhline(sign * MOTICON_MEDIAN_ABS_MS, color="tab:red", ls="--",
                   label=f"±{MOTICON_MEDIAN_ABS_MS:g} ms (median |error| threshold)" if sign > 0 else None)
    ax.set(title="Moticon: detected - vendor event time", ylabel="difference (ms)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(datasets: Path, out: Path) -> tuple[bool, list[Check]]:
    """Run the whole validation; returns (all passed, checks)."""
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="insole-validation-") as tmp:
        work = Path(tmp)
        ndd = gaitndd_table(datasets / "gaitndd", work)
        pdb = gaitpdb_table(datasets / "gaitpdb", work)
        mot, events = moticon_table(datasets / "moticon_opengo", work)
    ndd.to_csv(out / "gaitndd.csv", index=False, float_format="%.4f")
    pdb.to_csv(out / "gaitpdb.csv", index=False, float_format="%.4f")
    mot.to_csv(out / "moticon.csv", index=False, float_format="%.2f")
    events.to_csv(out / "moticon_events.csv", index=False, float_format="%.3f")
    checks = checks_of(ndd, pdb, events)
    pd.DataFrame([asdict(c) for c in checks]).to_csv(out / "checks.csv", index=False)
    plot(ndd, pdb, events, out / "validation.png")
    passed = all(c.passed for c in checks)
    summary = {
        "passed": passed,
        "seconds": round(time.perf_counter() - t0, 1),
        "files": {"gaitndd": len(ndd), "gaitpdb": len(pdb), "moticon": int(mot["file"].nunique()) if len(mot) else 0},
        "analysis_errors": int((ndd["error"] != "").sum() + (pdb["error"] != "").sum()
                               + (mot["error"] != "").sum()),
        "checks": [asdict(c) for c in checks],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    return passed, checks


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Validate the analysis against ../shared/datasets.")
    ap.add_argument("--datasets", type=Path, default=HERE.parent.parent / "shared" / "datasets")
    ap.add_argument("--out", type=Path, default=Path("validation-output"))
    args = ap.parse_args(argv)
    missing = [d for d in ("gaitndd", "gaitpdb", "moticon_opengo") if not (args.datasets / d).is_dir()]
    if missing:
        print(f"error: {args.datasets} lacks {', '.join(missing)}", file=sys.stderr)
        return 2
    passed, checks = run(args.datasets, args.out)
    for c in checks:
        fig = f"{c.figure:.3g}" if isinstance(c.figure, float) else str(c.figure)
        print(f"{'PASS' if c.passed else 'FAIL'}  {c.name}: {fig} (threshold {c.threshold})")
    print(f"wrote {args.out}/gaitndd.csv, gaitpdb.csv, moticon.csv, moticon_events.csv, checks.csv, summary.json, "
          "validation.png")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
