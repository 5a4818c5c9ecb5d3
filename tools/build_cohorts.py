#!/usr/bin/env python3
"""Rebuild the reference cohorts shipped in pipeline/norms/cohorts/ from the real healthy controls in
../shared/datasets (PhysioNet gaitndd control1-16, PhysioNet gaitpdb control walks).

Usage: python tools/build_cohorts.py [--datasets ../shared/datasets] [--out pipeline/norms/cohorts]
tests/test_norms.py rebuilds them the same way and compares the values.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: name -> (file name, importer, glob of the healthy controls in the dataset folder, description)
COHORTS = {
    "gaitndd": ("gaitndd-controls.json", "gaitndd", "control*.hea",
                "PhysioNet gaitndd healthy controls (Hausdorff et al. 2000; 16 adults aged 20-74, 5 min of "
                "overground walking at their own pace in a hallway, one force-sensitive resistor per foot in the "
                "shoe, 300 Hz, uncalibrated counts)"),
    "gaitpdb": ("gaitpdb-controls.json", "gaitpdb", "*Co*_*.txt",
                "PhysioNet gaitpdb healthy control walks (Yogev 2005, Hausdorff 2007, Frenkel-Toledo 2005: older "
                "adults, 8 Ultraflex force cells per foot, 100 Hz, newtons; overground usual walking, one "
                "dual-task walk and one treadmill walk)"),
}


def build(datasets: Path, out: Path, which: tuple[str, ...] = tuple(COHORTS)) -> dict[str, Path]:
    """Import each dataset's controls into a temporary folder, build and write its cohort; return the files."""
    sys.path.insert(0, str(ROOT))
    from insole.importers import import_recording
    from pipeline.norms.build import build_cohort

    written = {}
    for key in which:
        file_name, fmt, pattern, description = COHORTS[key]
        sources = sorted((datasets / key).glob(pattern))
        with tempfile.TemporaryDirectory() as tmp:
            files = [import_recording(fmt, src, Path(tmp) / f"{src.stem}.h5") for src in sources]
            cohort = build_cohort(files, name=f"{key} healthy controls", description=description,
                                  dataset=f"PhysioNet {key} (../shared/datasets/{key})")
        written[key] = cohort.save(out / file_name)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--out", type=Path, default=ROOT / "pipeline" / "norms" / "cohorts")
    args = parser.parse_args()
    for key, path in build(args.datasets, args.out).items():
        print(f"wrote {path} ({key})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
