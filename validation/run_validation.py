#!/usr/bin/env python3
"""Validate the analysis against the third-party reference data in ../shared/datasets.

Usage::

    python validation/run_validation.py --datasets ../shared/datasets --out validation-output

Writes to ``--out``: ``gaitndd.csv`` (per record), ``gaitpdb.csv`` (per walk), ``moticon.csv`` (per export and
foot), ``moticon_steps.csv`` (per vendor step), ``checks.csv`` and ``summary.json`` (each check with its figure,
threshold, result and how it was computed; the group summaries), ``validation.png``. Exits 0 when every check
passes, 1 when one fails, 2 when a dataset is missing. What each table holds: the modules of the ``validation``
package; every threshold and its source: ``validation/references.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from validation import gaitndd, gaitpdb, moticon  # noqa: E402
from validation.checks import Check, checks_of  # noqa: E402
from validation.figure import plot  # noqa: E402

DATASETS = ("gaitndd", "gaitpdb", "moticon_opengo")


def group_summary(ndd: pd.DataFrame, pdb: pd.DataFrame) -> dict[str, Any]:
    """Informational figures per group: foot-function labels, leg-length flags, stance vs speed."""
    out: dict[str, Any] = {}
    for group, name in (("Co", "gaitpdb controls"), ("Pt", "gaitpdb Parkinson's")):
        sub = pdb[pdb.get("group", pd.Series(dtype=str)) == group]
        labels = pd.concat([sub.get(f"{s}_foot_function", pd.Series(dtype=str)) for s in ("left", "right")])
        dev = sub.get("stance_pct", pd.Series(dtype=float)) - sub.get("expected_stance_pct", pd.Series(dtype=float))
        out[name] = {
            "walks": int(len(sub)),
            "foot_function_labels": {str(k): int(v) for k, v in labels.value_counts().items()},
            "leg_length_flagged": int(sub.get("lld_flagged", pd.Series(dtype=bool)).astype(bool).sum()),
            "stance_minus_expected_pct": {"median": float(dev.median()), "min": float(dev.min()),
                                          "max": float(dev.max())} if dev.notna().any() else None,
        }
    for group, sub in ndd.groupby("group") if "group" in ndd else ():
        out[f"gaitndd {group}"] = {
            "records": int(len(sub)),
            "median_stride_s": float(pd.concat([sub["left_stride_s"], sub["right_stride_s"]]).median()),
            "leg_length_assessed": int(sub["lld_assessed"].astype(bool).sum()) if "lld_assessed" in sub else 0,
        }
    return out


def run(datasets: Path, out: Path) -> tuple[bool, list[Check]]:
    """Run the whole validation; returns (all passed, checks)."""
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="insole-validation-") as tmp:
        work = Path(tmp)
        ndd = gaitndd.table(datasets / "gaitndd", work)
        pdb = gaitpdb.table(datasets / "gaitpdb", work)
        mot, steps = moticon.table(datasets / "moticon_opengo", work)
    ndd.to_csv(out / "gaitndd.csv", index=False, float_format="%.5f")
    pdb.to_csv(out / "gaitpdb.csv", index=False, float_format="%.4f")
    mot.to_csv(out / "moticon.csv", index=False)
    steps.to_csv(out / "moticon_steps.csv", index=False, float_format="%.5f")
    checks = checks_of(ndd, pdb, mot, steps)
    pd.DataFrame([asdict(c) for c in checks]).to_csv(out / "checks.csv", index=False)
    plot(ndd, pdb, steps, out / "validation.png")
    passed = all(c.passed for c in checks)
    errors = sum(int((df["error"].fillna("") != "").sum()) for df in (ndd, pdb, mot) if "error" in df)
    summary = {
        "passed": passed,
        "seconds": round(time.perf_counter() - t0, 1),
        "files": {"gaitndd": len(ndd), "gaitpdb": len(pdb), "moticon": int(mot["file"].nunique()) if len(mot) else 0},
        "analysis_errors": errors,
        "checks": [asdict(c) for c in checks],
        "groups": group_summary(ndd, pdb),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    return passed, checks


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Validate the analysis against ../shared/datasets.")
    ap.add_argument("--datasets", type=Path, default=HERE.parent.parent / "shared" / "datasets")
    ap.add_argument("--out", type=Path, default=Path("validation-output"))
    args = ap.parse_args(argv)
    missing = [d for d in DATASETS if not (args.datasets / d).is_dir()]
    if missing:
        print(f"error: {args.datasets} lacks {', '.join(missing)}; pass --datasets with the folder that holds "
              f"{', '.join(DATASETS)}", file=sys.stderr)
        return 2
    passed, checks = run(args.datasets, args.out)
    for c in checks:
        fig = f"{c.figure:.3g}" if isinstance(c.figure, float) else str(c.figure)
        print(f"{'PASS' if c.passed else 'FAIL'}  {c.name}: {fig} (threshold {c.threshold}; {c.how})")
    print(f"wrote {args.out}/gaitndd.csv, gaitpdb.csv, moticon.csv, moticon_steps.csv, checks.csv, summary.json, "
          "validation.png")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
