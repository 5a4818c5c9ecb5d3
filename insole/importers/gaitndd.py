"""Importer for PhysioNet *Gait in Neurodegenerative Disease* (gaitndd) records.

Each record is a WFDB header ``<rec>.hea`` plus two format-212 signal files (``<rec>.let``, ``<rec>.rit``): one
force-sensitive resistor under each foot, 300 Hz, 12-bit ADC, arbitrary units (Hausdorff et al., J Appl Physiol
2000;88:2045-2053; PhysioNet gaitndd 1.0.0).

Choices (see the dataset README):

* Samples are read with ``wfdb`` as **digital** values (``physical=False``) and stored unchanged as ``units="raw"``:
  the ADC gain is 3000 in some records and 1000 in others, so physical values are not comparable between records.
  ``adc_gain``, ``baseline``, ``adc_zero``, ``adc_resolution_bits`` and the header's initial value and checksum are
  kept as attributes of each foot group.
* The WFDB invalid-sample code (-2048 in format 212) is stored as NaN, and every run of invalid samples is recorded
  as a gap with its cause.
* The sensor is one whole-foot FSR; its centre is placed at mid-foot (x = 0.5 L, y = 0) with a nominal area of
  0.35 L x 0.38 L. This is an assumption written into the file (``layout_assumption``).
* ``subject-description.txt`` (next to the record, when present) fills body mass and notes. That table does not
  match PhysioNet's checksum, ALS rows have GROUP "subjects" and some cells read "MISSING": its values are marked
  as unverified and "MISSING" is treated as unknown.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from insole.errors import ImportSourceError
from insole.importers.recording import (
    ImportedFoot,
    ImportedRecording,
    check_file,
    choose_foot_length,
    parse_number,
    runs_of,
)
from insole.layouts import FOREFOOT_WIDTH_RATIO, SensorLayout
from insole.session import Gap, GapCause, SessionMetadata

#: WFDB format 212 invalid-sample code (WFDB Applications Guide, "signal(5)": the most negative 12-bit value).
INVALID_212 = -2048
#: Counts above the 12-bit minimum within which a neighbour of an invalid sample counts as "at the ADC floor".
ADC_FLOOR_MARGIN = 10
_SIDE_OF_EXT = {".let": "left", ".rit": "right"}


def record_base(src: Path) -> Path:
    """The record path without extension, from ``rec``, ``rec.hea``, ``rec.let`` or ``rec.rit``."""
    if src.suffix.lower() in (".hea", ".let", ".rit"):
        return src.with_suffix("")
    return src


def sniff(path: Path) -> bool:
    """True when ``path`` looks like a WFDB header (or a record with one)."""
    if path.suffix.lower() not in (".hea", ".let", ".rit", ""):
        return False
    hea = record_base(path).with_suffix(".hea")
    if not hea.is_file():
        return False
    first = hea.read_bytes()[:200].decode("latin-1").strip().splitlines()
    return bool(first) and bool(re.match(r"^\S+ \d+ [\d.]+(/[\d.]+)?( \d+)?", first[0]))


def _wfdb(hea: Path):
    try:
        import wfdb
    except ImportError:  # pragma: no cover - wfdb is in the test extra
        raise ImportSourceError(
            str(hea), "reading WFDB records needs the 'wfdb' package: pip install 'open-insole[physionet]'"
        ) from None
    return wfdb


def _parse_header(hea: Path) -> tuple[int, float, int, list[dict[str, str]]]:
    """Signal count, rate, samples per signal and the signal lines (file, format, description, header line number).

    Raises
    ------
    ImportSourceError
        Not a record line, a rate that is not a positive number, or fewer signal lines than declared.
    """
    text = hea.read_bytes()[:1 << 20].decode("latin-1").replace("\r\n", "\n")
    numbered = [(k + 1, ln) for k, ln in enumerate(text.split("\n")) if ln.strip() and not ln.startswith("#")]
    if not numbered:
        raise ImportSourceError(str(hea), "is empty: not a WFDB header")
    record_no, record_line = numbered[0]
    head = record_line.split()
    try:
        n_sig = int(head[1])
        rate_text = head[2].split("/")[0]
        fs = float(rate_text)
        n_samp = int(head[3]) if len(head) > 3 else 0
    except (IndexError, ValueError):
        shown = record_line[:60] if record_line[:60].isprintable() else "(binary data)"
        raise ImportSourceError(
            str(hea), f"first line {shown!r} is not a WFDB record line (name, signals, rate, samples); "
            "is this a gaitndd .hea file?"
        ) from None
    if not (math.isfinite(fs) and fs > 0):
        raise ImportSourceError(str(hea), f"line {record_no}: the sampling rate {rate_text[:20]!r} is not a valid "
                                "rate (it must be a positive number of samples per second; gaitndd records are "
                                "300 Hz)")
    if len(numbered) < 1 + n_sig:
        raise ImportSourceError(str(hea), f"declares {n_sig} signals but describes only {len(numbered) - 1}")
    sigs = []
    for line_no, ln in numbered[1 : 1 + n_sig]:
        parts = ln.split()
        if len(parts) < 2:
            raise ImportSourceError(str(hea), f"line {line_no}: signal line {ln[:60]!r} has no file name and format")
        sigs.append({"file": parts[0], "fmt": parts[1], "description": " ".join(parts[8:]) if len(parts) > 8 else "",
                     "line": str(line_no)})
    return n_sig, fs, n_samp, sigs


def _signal_path(hea: Path, name: str, line_no: str) -> Path:
    """The signal file ``name`` of the header, refused (without looking at it) unless it is in the record's folder.

    The header is data from outside: a name that is absolute, climbs with ``..`` or is a symbolic link leading out
    of the folder could otherwise make the size or existence of any file appear in an error message.
    """
    named = Path(name)
    folder = hea.parent
    if named.is_absolute():
        why = "is an absolute path (WFDB names signal files relative to the header)"
    elif ".." in named.parts:
        why = "climbs out of the record's folder with '..'"
    elif not (folder / named).resolve().is_relative_to(folder.resolve()):
        why = "is a symbolic link leading out of the record's folder"
    else:
        return folder / named
    raise ImportSourceError(str(hea), f"line {line_no}: signal file {name[:80]!r} {why}; gaitndd signal files must "
                            "sit next to their header (e.g. control1.let)")


def _subject_table(folder: Path) -> dict[str, dict[str, str]]:
    table = folder / "subject-description.txt"
    if not table.is_file():
        return {}
    rows = [ln.split("\t") for ln in table.read_text(encoding="latin-1").replace("\r\n", "\n").split("\n") if ln]
    if not rows:
        return {}
    header = [h.strip() for h in rows[0]]
    out = {}
    for r in rows[1:]:
        if r and r[0].strip():
            out[r[0].strip()] = {h: (r[i].strip() if i < len(r) else "") for i, h in enumerate(header) if h}
    return out


def read(src: str | Path, *, foot_length_mm: float | None = None) -> ImportedRecording:
    """Read one gaitndd record (``src`` is the ``.hea`` file, a signal file or the record name).

    ``foot_length_mm`` (the user's value) scales the layout; else 0.152 x height from the subject table, else 260 mm.
    """
    base = record_base(Path(src))
    hea = base.with_suffix(".hea")
    if not hea.exists():
        raise ImportSourceError(str(hea), "WFDB header not found; give the record's .hea file (e.g. control1.hea)")
    check_file(hea, "WFDB header")
    n_sig, fs, n_samp, sigs = _parse_header(hea)
    companions = []
    for s in sigs:
        if s["fmt"].split("x")[0].split(":")[0] != "212":
            raise ImportSourceError(str(hea), f"signal {s['file']} has WFDB format {s['fmt']}; gaitndd uses 212")
        sig_path = _signal_path(hea, s["file"], s["line"])
        if not sig_path.exists():
            raise ImportSourceError(
                str(hea), f"its signal file {s['file']} is missing (expected next to the header in {hea.parent})"
            )
        check_file(sig_path, "signal file")
        per_file = sum(1 for t in sigs if t["file"] == s["file"])
        expected = math.ceil(n_samp * per_file * 3 / 2)
        size = sig_path.stat().st_size
        if n_samp and size < expected:
            raise ImportSourceError(
                str(sig_path), f"is truncated: {size} bytes, the header declares {n_samp} samples ({expected} bytes)"
            )
        if sig_path not in companions:
            companions.append(sig_path)
    wfdb = _wfdb(hea)
    try:
        rec = wfdb.rdrecord(str(base), physical=False)
    except Exception as exc:  # wfdb raises bare ValueError/IndexError/... on malformed input
        raise ImportSourceError(str(hea), f"wfdb cannot read this record: {exc}") from None
    digital = np.asarray(rec.d_signal)
    table = _subject_table(hea.parent)
    row = table.get(base.name)
    height_m = parse_number(row.get("HEIGHT(meters)")) if row else None
    L, length_note, known = choose_foot_length(foot_length_mm, height_m)
    layout = SensorLayout("gaitndd-fsr-1", np.array([0.5 * L]), np.array([0.0]),
                          np.array([0.35 * L * FOREFOOT_WIDTH_RATIO * L]), float(L))
    assumption = ("single whole-foot FSR: centre placed at mid-foot (x = 0.5 L, y = 0), nominal area "
                  f"0.35 L x 0.38 L; {length_note}")
    t = np.arange(digital.shape[0], dtype=np.float64) / fs
    feet = {}
    for j, s in enumerate(sigs):
        side = _SIDE_OF_EXT.get(Path(s["file"]).suffix.lower())
        if side is None:
            desc = (rec.sig_name[j] or "").lower()
            side = "left" if "left" in desc else "right" if "right" in desc else None
        if side is None or side in feet:
            raise ImportSourceError(str(hea), f"cannot tell which foot signal {s['file']} ({rec.sig_name[j]}) is")
        x = digital[:, j]
        invalid = x == INVALID_212
        values = np.where(invalid, np.nan, x.astype(np.float64)).astype(np.float32)[:, None]
        runs = runs_of(invalid)
        near = np.clip(np.r_[runs[:, 0] - 1, runs[:, 1] + 1], 0, len(x) - 1)
        neighbours = x[near][x[near] != INVALID_212]
        at_floor = neighbours.size > 0 and float(np.median(neighbours)) <= INVALID_212 + ADC_FLOOR_MARGIN
        why = " next to ADC-floor values (probably clipping while unloaded)" if at_floor else ""
        gaps = [
            Gap(float(t[a]), float(t[b]), int(b - a + 1), GapCause.INVALID_SAMPLES,
                f"WFDB invalid-sample code {INVALID_212}{why}")
            for a, b in runs
        ]
        attrs = {
            "adc_gain": float(rec.adc_gain[j]),
            "baseline": int(rec.baseline[j]),
            "adc_zero": int(rec.adc_zero[j]),
            "adc_resolution_bits": int(rec.adc_res[j]),
            "wfdb_format": str(rec.fmt[j]),
            "wfdb_initial_value": int(rec.init_value[j]),
            "wfdb_checksum": int(rec.checksum[j]),
            "source_signal_file": s["file"],
            "source_signal_description": str(rec.sig_name[j]),
            "invalid_samples": int(invalid.sum()),
            "invalid_samples_note": (
                f"the {INVALID_212} code occurs next to values within {ADC_FLOOR_MARGIN} counts of the ADC minimum: "
                "most likely the unloaded signal clipping at the floor rather than lost data; stored as NaN + gaps"
                if at_floor else "stored as NaN + gaps"),
            "units_note": "raw 12-bit ADC counts of an uncalibrated FSR (higher = more load); the ADC gain differs "
                          "between records, so compare shapes and timing, not levels, across records",
            "layout_assumption": assumption,
            "device_model": "FSR insole (Hausdorff et al. 2000), PhysioNet gaitndd",
        }
        feet[side] = ImportedFoot(side, t, values, "raw", fs, layout, gaps, attrs)
    notes = [f"PhysioNet gaitndd record {base.name}"]
    md = SessionMetadata(subject_id=base.name, foot_length_mm=L if known else None, condition="shoes")
    root = {"source_record": base.name}
    if row:
        companions.append(hea.parent / "subject-description.txt")
        md.body_mass_kg = parse_number(row.get("Weight(kg)"))
        if md.body_mass_kg is not None and not 15 <= md.body_mass_kg <= 300:
            md.body_mass_kg = None
        cells = {k: v for k, v in row.items() if k}
        notes.append("subject table (unverified: does not match PhysioNet's checksum; 'MISSING' = unknown): "
                     + ", ".join(f"{k}={v}" for k, v in cells.items()))
        root.update({f"subject_{re.sub(r'[^a-z0-9]+', '_', k.lower()).strip('_')}": v for k, v in cells.items()})
    md.notes = "; ".join(notes)
    return ImportedRecording(
        "gaitndd", hea, companions, feet, md,
        assumptions=[assumption, "samples: WFDB digital values (physical=False), units raw; -2048 -> NaN + gap"],
        root_attrs=root,
    )
