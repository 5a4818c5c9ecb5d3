"""Importer for PhysioNet *Gait in Parkinson's Disease* (gaitpdb) walks.

Each walk is a tab-separated text file without header: time (s), eight vertical forces (N) under the left foot
(L1..L8), eight under the right (R1..R8), total left, total right (PhysioNet gaitpdb 1.0.0 ``format.txt``;
Ultraflex Computer Dyno Graphy insoles, 100 Hz). Forces are stored as ``units="N"``; the two totals are checked
(they must equal the sensor sums within 0.05 N) and not stored. The file is read in blocks of lines
(:mod:`insole.importers.text_lines`): memory does not grow with its size.

Geometry. ``format.txt`` gives sensor positions in arbitrary units: origin between the feet, +Y forward, +X to the
right; sensor 1 (Y = -800) is the heel and sensor 8 (Y = +800) the toe; |X| = 300 is the medial and |X| = 700 the
lateral edge. We map them into the foot frame (x anterior from the heel, y medial positive), the same for both feet:

    x_mm = (0.10 + 0.80 * (Y + 800) / 1600) * L
    y_mm = (500 - |X|) * (0.80 / 1600) * L

i.e. heel sensor at 10 % and toe sensor at 90 % of foot length L, with the same scale across the foot. L is
0.152 x body height (Drillis & Contini 1964) when ``demographics.txt`` next to the file gives the height, else
260 mm. This is an assumption and is written into the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from insole.errors import ImportSourceError
from insole.importers.recording import (
    ImportedFoot,
    ImportedRecording,
    check_file,
    choose_foot_length,
    is_number,
    parse_number,
)
from insole.importers.text_lines import CHUNK_LINES, LineReader, numeric_rows
from insole.layouts import SensorLayout
from insole.session import SessionMetadata

SAMPLING_RATE_HZ = 100.0
N_COLUMNS = 19
#: Published sensor coordinates (format.txt), (X, Y) for sensor 1..8 of the right foot; left has X negated.
SENSOR_XY = np.array([(500, -800), (700, -400), (300, -400), (700, 0), (300, 0), (700, 400), (300, 400), (500, 800)],
                     dtype=np.float64)
#: Ultraflex cell area is not published in the dataset; nominal 3 cm2 (not used for forces in N).
NOMINAL_AREA_MM2 = 300.0
#: Decimals printed in the source files (forces are written with at most 2 decimals).
SOURCE_DECIMALS = 2
TOTAL_TOLERANCE_N = 0.05
#: Each foot: side, its 8 sensor columns, its total column (0-based).
_FEET = (("left", slice(1, 9), 17), ("right", slice(9, 17), 18))
_NAME = re.compile(r"^(?P<subject>(Ga|Ju|Si)(Co|Pt)\d+)_(?P<walk>\d+)$")


def layout_for(foot_length_mm: float) -> SensorLayout:
    """The gaitpdb 8-sensor layout in the foot frame, scaled to ``foot_length_mm``."""
    L = foot_length_mm
    x = (0.10 + 0.80 * (SENSOR_XY[:, 1] + 800.0) / 1600.0) * L
    y = (500.0 - SENSOR_XY[:, 0]) * (0.80 / 1600.0) * L
    return SensorLayout("gaitpdb-8", x, y, np.full(8, NOMINAL_AREA_MM2), float(L))


def sniff(path: Path) -> bool:
    """True when the first line has 19 numeric tab-separated columns."""
    try:
        first = path.read_bytes()[:2000].removeprefix(b"\xef\xbb\xbf").decode("latin-1").splitlines()[0]
        cells = first.strip().split("\t")
        return len(cells) == N_COLUMNS and all(is_number(c) for c in cells)
    except (OSError, IndexError):
        return False


def _demographics(folder: Path, subject: str) -> tuple[dict[str, str] | None, Path | None]:
    table = folder / "demographics.txt"
    if not table.is_file():
        return None, None
    lines = table.read_text(encoding="latin-1").replace("\r\n", "\n").split("\n")
    header = [h.strip() for h in lines[0].split("\t")]
    for ln in lines[1:]:
        cells = ln.split("\t")
        if cells and cells[0].strip() == subject:
            return {h: cells[i].strip() for i, h in enumerate(header) if h and i < len(cells)}, table
    return None, table


def iter_table(path: Path, n_lines: int = CHUNK_LINES) -> Iterator[tuple[int, np.ndarray]]:
    """Blocks of a gaitpdb text file as ``(line number of the first row, float64 array (rows, 19))``.

    Memory is bounded by one block of ``n_lines`` lines, whatever the file size; a malformed row is reported with
    its line number (wrong column count, a non-numeric cell, a truncated last line).
    """
    with LineReader(path) as reader:  # utf-8-sig: a byte-order mark is not part of the first time
        for first, lines in reader.chunks(n_lines):
            last_chunk = reader.at_last_line()
            if last_chunk and lines and lines[-1] == "":
                lines.pop()
            if not lines:
                continue
            counts = [ln.count("\t") + 1 for ln in lines]
            bad = next((k for k, c in enumerate(counts) if c != N_COLUMNS), None)
            if bad is not None:
                line_no = first + bad
                hint = " (truncated file?)" if last_chunk and bad == len(lines) - 1 else ""
                if line_no == 1 and lines[0].startswith("#"):
                    hint = "; it has '#' header lines: is it a Moticon export (insole import moticon)?"
                raise ImportSourceError(str(path), f"line {line_no} has {counts[bad]} tab-separated columns, gaitpdb "
                                        f"files have {N_COLUMNS}{hint}")
            try:
                yield first, numeric_rows(path, lines, first, N_COLUMNS, sep="\t", last_chunk=last_chunk)
            except ImportSourceError:
                for k, ln in enumerate(lines):
                    if not all(is_number(c) for c in ln.split("\t")):
                        raise ImportSourceError(str(path), f"line {first + k} has a non-numeric cell: "
                                                f"{ln[:80]!r}") from None
                raise


def read_table(path: Path) -> np.ndarray:
    """A whole gaitpdb text file as a float64 array (n_rows, 19) (small files; :func:`read` streams)."""
    blocks = [block for _, block in iter_table(path)]
    if not blocks:
        raise ImportSourceError(str(path), "has no rows")
    return np.concatenate(blocks)


def _check_block(path: Path, first: int, data: np.ndarray, last_t: float) -> None:
    """Time increases (also across blocks) and each total equals its 8 sensors."""
    t = data[:, 0]
    steps = np.diff(np.concatenate(([last_t], t)))
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0])
        raise ImportSourceError(str(path), f"time (column 1) does not increase at line {first + i}")
    for side, cols, total_col in _FEET:
        diff = np.abs(data[:, cols].sum(axis=1) - data[:, total_col])
        if np.any(diff > TOTAL_TOLERANCE_N):
            i = int(np.argmax(diff))
            raise ImportSourceError(
                str(path), f"line {first + i}: total {side} force (column {total_col + 1}) differs from the sum of "
                f"its 8 sensors by {diff[i]:.2f} N; columns out of order or not a gaitpdb file?"
            )


def read(src: str | Path, *, foot_length_mm: float | None = None) -> ImportedRecording:
    """Read one gaitpdb walk file (e.g. ``GaCo01_01.txt``).

    ``foot_length_mm`` (the user's value) scales the layout; else 0.152 x height from demographics.txt, else 260 mm.
    """
    path = check_file(Path(src), "gaitpdb walk file")
    first_block = next(iter_table(path, 64), None)  # format errors of the first lines before anything is written
    if first_block is None:
        raise ImportSourceError(str(path), "has no rows")
    _check_block(path, *first_block, -np.inf)
    m = _NAME.match(path.stem)
    subject = m.group("subject") if m else path.stem
    row, table = _demographics(path.parent, subject)
    height_m = parse_number(row.get("Height")) if row else None
    weight = parse_number(row.get("Weight")) if row else None
    L, length_note, known = choose_foot_length(foot_length_mm, height_m)
    layout = layout_for(L)
    assumption = ("gaitpdb sensor coordinates (format.txt, arbitrary units) mapped to the foot frame: heel sensor at "
                  "0.10 L, toe sensor at 0.90 L, medial-lateral with the same scale (|X| = 300 medial, 700 lateral); "
                  f"{length_note}; cell area nominal {NOMINAL_AREA_MM2:g} mm2 (not published)")
    feet = {}
    for side, cols, _ in _FEET:
        attrs = {
            "layout_assumption": assumption,
            "source_columns": f"{cols.start + 1}-{cols.stop}",
            "source_decimals": SOURCE_DECIMALS,
            "device_model": "Ultraflex Computer Dyno Graphy (Infotronic), PhysioNet gaitpdb",
        }
        feet[side] = ImportedFoot(side, np.zeros(0), np.zeros((0, 8), np.float32), "N", SAMPLING_RATE_HZ, layout, [],
                                  attrs)

    def chunks() -> Iterator[dict[str, tuple[np.ndarray, np.ndarray]]]:
        last_t = -np.inf
        for first, data in iter_table(path):
            _check_block(path, first, data, last_t)
            last_t = float(data[-1, 0])
            yield {side: (data[:, 0].copy(), data[:, cols].astype(np.float32)) for side, cols, _ in _FEET}

    md = SessionMetadata(subject_id=subject, body_mass_kg=weight if weight and 15 <= weight <= 300 else None,
                         foot_length_mm=L if known else None,
                         condition="treadmill" if subject.startswith("Si") else "shoes")
    notes = [f"PhysioNet gaitpdb walk {path.stem}"]
    if m and m.group("walk") == "10" and subject.startswith("Ga"):
        notes.append("dual-task walking (serial-7 subtraction)")
    if row:
        notes.append("demographics: " + ", ".join(f"{k}={v}" for k, v in row.items() if k and v))
    md.notes = "; ".join(notes)
    companions = [table] if row and table else []
    root = {"source_record": path.stem}
    if row:
        root.update({f"subject_{k.lower()}": v for k, v in row.items() if k and v})
    return ImportedRecording("gaitpdb", path, companions, feet, md, [assumption], root, {}, chunks)
