#!/usr/bin/env python3
"""Regenerate every file in sample_recordings/ from ../shared/datasets and the simulator.

Usage (from the repository root)::

    python sample_recordings/make_samples.py [--datasets ../shared/datasets]

Real excerpts are cut from the third-party sources *in their own format* (so the importers are exercised on them),
then converted with ``insole.importers``; simulated sessions come from ``insole simulate`` (60 s, seed 1). The
script is deterministic apart from the ``created_utc`` attribute of each session file.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from insole.importers import import_recording  # noqa: E402
from insole.importers.gaitndd import INVALID_212  # noqa: E402
from insole.simulator.profiles import PROFILES  # noqa: E402
from insole.simulator.session import simulate_session  # noqa: E402

#: (record, start_s, duration_s): control1 is clean (ADC gain 3000); hunt13 (gain 1000) has invalid-sample codes.
GAITNDD_EXCERPTS = [("control1", 0.0, 60.0), ("hunt13", 15.0, 60.0)]
#: gaitpdb walks: one control, one person with Parkinson's disease; first 60 s.
GAITPDB_EXCERPTS = [("GaCo01_01", 60.0), ("GaPt03_01", 60.0)]
#: Moticon export with vendor step events (whole file, 17.5 s).
MOTICON_FILES = ["230927_102114.txt"]
#: Vendor exports of pressuRe 0.2.7 (MIT): (file, frames kept, import format, import options).
VENDOR_EXCERPTS = [("pedar_example.asc", 200, "pedar", {}), ("fscan_testL.asf", 80, "fscan", {}),
                   ("xsensor_data.csv", 15, "xsensor", {}), ("stappone_example.csv", 2000, "stappone",
                                                                {"side": "left"})]


def encode_212(a: np.ndarray, b: np.ndarray | None = None) -> bytes:
    """Pack one signal (or two interleaved) of 12-bit two's-complement samples in WFDB format 212."""
    s = a.astype(np.int64) if b is None else np.column_stack([a, b]).ravel().astype(np.int64)
    if s.size % 2:
        s = np.append(s, 0)
    u = s & 0xFFF
    first, second = u[0::2], u[1::2]
    out = np.empty((first.size, 3), np.uint8)
    out[:, 0] = first & 0xFF
    out[:, 1] = ((first >> 8) & 0x0F) | (((second >> 8) & 0x0F) << 4)
    out[:, 2] = second & 0xFF
    return out.tobytes()


def _checksum(x: np.ndarray) -> int:
    c = int(np.sum(x.astype(np.int64))) & 0xFFFF
    return c - 0x10000 if c >= 0x8000 else c


def gaitndd_excerpt(src_dir: Path, out_dir: Path, record: str, start_s: float, duration_s: float) -> Path:
    """Write a WFDB excerpt of a gaitndd record (same header fields, new length/initial value/checksum)."""
    import wfdb

    rec = wfdb.rdrecord(str(src_dir / record), physical=False)
    a = int(round(start_s * rec.fs))
    n = int(round(duration_s * rec.fs))
    lines = [f"{record} {rec.n_sig} {rec.fs:g} {n}"]
    for j, fname in enumerate(rec.file_name):
        x = rec.d_signal[a : a + n, j]
        (out_dir / fname).write_bytes(encode_212(x))
        init = -32768 if x[0] == INVALID_212 else int(x[0])
        lines.append(f"{fname} 212 {rec.adc_gain[j]:g} {rec.adc_res[j]} {rec.adc_zero[j]} {init} {_checksum(x)} 0 "
                     f"{rec.sig_name[j]}")
    lines.append(f"# excerpt {start_s:g}-{start_s + duration_s:g} s of PhysioNet gaitndd 1.0.0 record {record} "
                 "(ODC-By 1.0), made by sample_recordings/make_samples.py")
    hea = out_dir / f"{record}.hea"
    hea.write_text("\n".join(lines) + "\n")
    back = wfdb.rdrecord(str(out_dir / record), physical=False)
    assert np.array_equal(back.d_signal, rec.d_signal[a : a + n]), f"format-212 excerpt of {record} does not round trip"
    return hea


def make(datasets: Path) -> None:
    """Regenerate all sample recordings."""
    # gaitndd
    out = HERE / "gaitndd"
    out.mkdir(exist_ok=True)
    table = (datasets / "gaitndd" / "subject-description.txt").read_text().splitlines()
    keep = [table[0]] + [ln for ln in table[1:] if ln.split("\t")[0] in {r for r, *_ in GAITNDD_EXCERPTS}]
    (out / "subject-description.txt").write_text("\n".join(keep) + "\n")
    for record, start, dur in GAITNDD_EXCERPTS:
        hea = gaitndd_excerpt(datasets / "gaitndd", out, record, start, dur)
        import_recording("gaitndd", hea, out / f"{record}.h5", overwrite=True)
    # gaitpdb
    out = HERE / "gaitpdb"
    out.mkdir(exist_ok=True)
    demo = (datasets / "gaitpdb" / "demographics.txt").read_text().splitlines()
    subjects = {w.split("_")[0] for w, _ in GAITPDB_EXCERPTS}
    (out / "demographics.txt").write_text(
        "\n".join([demo[0]] + [ln for ln in demo[1:] if ln.split("\t")[0] in subjects]) + "\n"
    )
    shutil.copyfile(datasets / "gaitpdb" / "format.txt", out / "format.txt")
    for walk, dur in GAITPDB_EXCERPTS:
        rows = (datasets / "gaitpdb" / f"{walk}.txt").read_text().splitlines()
        (out / f"{walk}.txt").write_text("\n".join(rows[: int(dur * 100)]) + "\n")
        import_recording("gaitpdb", out / f"{walk}.txt", out / f"{walk}.h5", overwrite=True)
    # moticon
    out = HERE / "moticon"
    out.mkdir(exist_ok=True)
    shutil.copyfile(datasets / "moticon_opengo" / "LICENSE", out / "LICENSE")
    for name in MOTICON_FILES:
        shutil.copyfile(datasets / "moticon_opengo" / name, out / name)
        import_recording("moticon", out / name, out / name.replace(".txt", ".h5"), overwrite=True)
    simulated()


def simulated() -> None:
    """The simulated sessions (one per profile) and the generic CSV example made from the neutral one."""
    out = HERE / "simulated"
    out.mkdir(exist_ok=True)
    for profile in PROFILES:
        simulate_session(out / f"{profile}.h5", profile=profile, duration_s=60.0, seed=1, overwrite=True)
    # generic CSV example: 10 s of the simulated neutral walk, written in the documented layout
    write_csv_example(out / "neutral.h5", HERE / "csv" / "diy_example.csv", seconds=10.0)
    import_recording("csv", HERE / "csv" / "diy_example.csv", HERE / "csv" / "diy_example.h5", overwrite=True)


def vendor_excerpts(datasets: Path) -> None:
    """The first frames of every pressuRe vendor export, in the vendor's own format, and their imports."""
    src_dir, out = datasets / "vendor_exports", HERE / "vendor_exports"
    out.mkdir(exist_ok=True)
    shutil.copyfile(src_dir / "LICENSE.md", out / "LICENSE.md")
    for name, frames, fmt, options in VENDOR_EXCERPTS:
        raw = (src_dir / name).read_bytes()
        lines = raw.split(b"\n")
        if fmt == "pedar":
            start = next(i for i, ln in enumerate(lines) if ln.startswith(b"time[secs]")) + 1
            keep = lines[: start + frames]
        elif fmt == "fscan":
            marks = [i for i, ln in enumerate(lines) if ln.startswith(b"Frame ")]
            keep = [*lines[: marks[frames]], b"@@"]
        elif fmt == "xsensor":
            marks = [i for i, ln in enumerate(lines) if ln.startswith(b"FRAME,")]
            keep = lines[: marks[frames]]
        else:
            keep = lines[: 1 + frames]
        (out / name).write_bytes(b"\n".join(keep).rstrip(b"\r\n") + b"\n")
        import_recording(fmt, out / name, out / (Path(name).stem + ".h5"), overwrite=True, **options)


def write_csv_example(session_path: Path, csv_path: Path, seconds: float) -> None:
    """Write the first ``seconds`` of a session as a generic insole CSV (wide form, built-in layout)."""
    from insole.session import read_session

    s = read_session(session_path)
    csv_path.parent.mkdir(exist_ok=True)
    left, right = s.feet["left"], s.feet["right"]
    n = int(np.searchsorted(left.time_s, left.time_s[0] + seconds))
    # one shared clock: the right foot's samples are matched to the left foot's frame times (same device rate)
    m = min(n, right.n_frames)
    lines = [
        "# insole-csv: 1",
        f"# sampling_rate_hz: {left.sampling_rate_hz:g}",
        f"# units: {left.units}",
        f"# layout: {left.layout.layout_id}",
        f"# foot_length_mm: {left.layout.foot_length_mm:g}",
        f"# subject_id: {s.metadata.subject_id}",
        f"# body_mass_kg: {s.metadata.body_mass_kg:g}",
        "# device_model: simulated 16-cell insole (example of a DIY export)",
        "# notes: first 10 s of sample_recordings/simulated/neutral.h5 (right foot on the left foot's clock)",
        ",".join(["time_s"] + [f"{side}_s{i + 1}" for side in ("left", "right") for i in range(16)]),
    ]
    for k in range(m):
        row = [f"{left.time_s[k]:.4f}"] + [f"{v:.2f}" for v in (*left.pressure[k], *right.pressure[k])]
        lines.append(",".join(row))
    csv_path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=Path, default=HERE.parent.parent / "shared" / "datasets")
    ap.add_argument("--only", choices=["vendor", "simulated"], default=None,
                    help="Regenerate only the vendor-export excerpts, or only the simulated sessions and CSV example.")
    args = ap.parse_args()
    if args.only == "simulated":
        simulated()
    else:
        if args.only != "vendor":
            make(args.datasets)
        vendor_excerpts(args.datasets)
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    print(f"sample_recordings: {total / 1e6:.1f} MB")
