"""Implausible numbers and duplicated columns are refused at import time (issue 14, items 4 and 10), by the real
``insole import`` program: one line naming the file, the value, the range and where the range comes from; no
output file is left behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from insole.plausibility import BODY_MASS_RANGE_KG, FOOT_LENGTH_RANGE_MM

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_recordings" / "csv" / "diy_example.csv"
INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def _import(src: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*INSOLE, "import", "csv", str(src), "-o", str(out), *extra], capture_output=True,
                          text=True, timeout=120)


def _scaled_rows(text: str, factor: float) -> str:
    lines = text.splitlines()
    k = next(i for i, ln in enumerate(lines) if ln.startswith("time_s"))
    cells = lines[k + 3].split(",")
    lines[k + 3] = ",".join([cells[0], *(f"{float(c) * factor + factor:g}" for c in cells[1:])])
    return "\n".join(lines) + "\n"


def _duplicated_column(text: str) -> str:
    lines = text.splitlines()
    k = next(i for i, ln in enumerate(lines) if ln.startswith("time_s"))
    lines[k] = lines[k].replace("left_s3", "left_s2", 1)
    return "\n".join(lines) + "\n"


def _custom_sensors(text: str, foot_length_mm: float) -> str:
    """The same file with its 16 cells described by ``# sensor:`` lines instead of ``# layout: generic-16``."""
    from insole.layouts import builtin_layout

    layout = builtin_layout(16)
    sensors = "".join(f"# sensor: s{i + 1} x_mm={x:.1f} y_mm={y:.1f} area_mm2={a:.1f}\n"
                      for i, (x, y, a) in enumerate(zip(layout.x_mm, layout.y_mm, layout.area_mm2, strict=True)))
    return text.replace("# layout: generic-16\n", sensors).replace("# foot_length_mm: 260",
                                                                  f"# foot_length_mm: {foot_length_mm:g}")


CASES = {
    "body mass -70": (lambda t: t.replace("# body_mass_kg: 70", "# body_mass_kg: -70"),
                      "body_mass_kg -70 kg is outside the plausible range 15-300 kg (WHO Child Growth Standards"),
    "foot length -260, built-in layout": (lambda t: t.replace("# foot_length_mm: 260", "# foot_length_mm: -260"),
                                          "foot_length_mm must be between 150 and 350 mm (EU size 24 child to "
                                          "beyond ANSUR II 2012), got -260"),
    "foot length -260, sensor lines": (lambda t: _custom_sensors(t, -260),
                                       "foot_length_mm -260 mm is outside the plausible range 150-350 mm"),
    "pressure x 1e30": (lambda t: _scaled_rows(t, 1e30),
                        "left frame 3, cell 1: 1.07e+30 kPa is outside the plausible range -101.325 to 10000 kPa"),
    "sampling rate 1e9": (lambda t: t.replace("# sampling_rate_hz: 100", "# sampling_rate_hz: 1e9"),
                          "sampling_rate_hz 1e+09 Hz is outside the plausible range 1-10000 Hz"),
    "duplicated column": (_duplicated_column,
                          "column 'left_s2' appears twice in the column line (columns 3 and 4); each column may "
                          "appear only once"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_import_csv_refuses_in_one_line(tmp_path, name):
    change, expected = CASES[name]
    src = tmp_path / "in.csv"
    src.write_text(change(SAMPLE.read_text()))
    out = tmp_path / "out.h5"
    r = _import(src, out)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 1 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith(f"error: {src}: ") and expected in lines[0], lines[0]
    assert not out.exists() and not out.with_name("out.h5.partial").exists()


def test_a_plausible_user_value_replaces_an_implausible_one_of_the_source(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(SAMPLE.read_text().replace("# body_mass_kg: 70", "# body_mass_kg: -70"))
    r = _import(src, tmp_path / "out.h5", "--body-mass-kg", "71")
    assert r.returncode == 0, r.stderr


def test_ranges_are_plain_tuples_for_the_analysis():
    assert BODY_MASS_RANGE_KG == (15.0, 300.0) and FOOT_LENGTH_RANGE_MM == (150.0, 350.0)


def test_every_sample_layout_is_inside_the_foot_length_range():
    """The layouts of every committed sample (imports of real gaitndd, gaitpdb, Moticon, pedar, F-Scan, XSENSOR and
    stappone files, and simulations) lie inside FOOT_LENGTH_RANGE_MM: the range refuses no real foot. (All 64
    gaitndd, 18 gaitpdb, 4 Moticon and 4 vendor files of ../shared/datasets import to 220-324 mm.)"""
    from insole.session import open_session

    lo, hi = FOOT_LENGTH_RANGE_MM
    files = sorted((ROOT / "sample_recordings").rglob("*.h5"))
    assert len(files) >= 16
    for path in files:
        with open_session(path) as sf:
            for side in sf.sides:
                assert lo <= sf.foot_info(side).layout.foot_length_mm <= hi, (path, side)
