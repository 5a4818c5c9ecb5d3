"""Importer for Tekscan F-Scan ASCII movies (``.asf``: one foot per file, a sensel matrix per frame).

Format (Tekscan Research software "ASCII movie" export, e.g. ``fscan_testL.asf`` of pressuRe): ``KEY value`` header
lines (``ROWS``, ``COLS``, ``ROW_SPACING 5.08 mm``, ``COL_SPACING``, ``SENSEL_AREA 25.8064 mm2``,
``SECONDS_PER_FRAME``, ``START_FRAME``, ``END_FRAME``, ``UNITS KPa``, ``MIRROR_ROW``, ``MIRROR_COL``, calibration
and saturation lines), ``ASCII_DATA @@``, then for every frame a line ``Frame N`` and ``ROWS`` lines of ``COLS``
comma-separated values, ``B`` marking sensels outside the insole outline; ``@@`` ends the data.

What is stored:

* the sensels inside the outline (not ``B`` in the first frame; the outline must not change) as cells, in row-major
  order, positions from the file's spacing (:mod:`insole.importers.sensel_grid`, geometry ``specified``), area
  ``SENSEL_AREA``;
* pressure in kPa for ``UNITS KPa`` (``PSI`` converted with 1 psi = 6.894757293168361 kPa); ``Raw`` as ``raw``;
* time = (frame number - START_FRAME) x SECONDS_PER_FRAME; missing frame numbers are gaps (``missing_rows``);
* the side from the file name (``...L.asf`` / ``...R.asf``, or the header's ``FILENAME``), else ``--side``.

Pairing: one file holds one foot. The other foot's file is taken from ``pair=`` (``--pair``), else from the sibling
whose name differs only in the final L/R (``walkL.asf`` + ``walkR.asf``). Both must have the same frame period; the
header ``TIME``/``MICRO_SECOND`` stamps align them (equal stamps: the same recording).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from insole.errors import ImportSourceError
from insole.importers.recording import ImportedFoot, ImportedRecording, check_file
from insole.importers.sensel_grid import ORIENTATION_NOTE, cell_names, grid_layout
from insole.importers.text_lines import LineReader, number_after, numeric_rows
from insole.importers.time_steps import TimeChecker
from insole.session import SessionMetadata

KPA_PER_PSI = 6.894757293168361
_UNITS = {"kpa": ("kPa", 1.0), "psi": ("kPa", KPA_PER_PSI), "raw": ("raw", 1.0)}
_LENGTH_MM = {"mm": 1.0, "millimeters": 1.0, "cm": 10.0, "centimeters": 10.0, "in": 25.4, "inches": 25.4}
_AREA_MM2 = {"mm2": 1.0, "cm2": 100.0, "in2": 645.16, "sq-mm": 1.0}
#: Frames handed to the writer at a time.
FRAMES_PER_BLOCK = 256
_FRAME = re.compile(r"^\s*Frame\s+(\d+)\s*$")


def sniff(path: Path) -> bool:
    """True for a Tekscan ASCII movie (``DATA_TYPE MOVIE`` ... ``ASCII_DATA @@``)."""
    try:
        head = path.read_bytes()[:6000].decode("latin-1")
    except OSError:
        return False
    return "ASCII_DATA" in head and ("DATA_TYPE MOVIE" in head or "SENSOR_TYPE FSCAN" in head)


@dataclass
class _Movie:
    path: Path
    header: dict[str, str]
    header_lines: dict[str, int]
    data_line: int
    rows: int
    cols: int
    period_s: float
    start_frame: int
    units: str
    factor: float
    side: str
    start_utc: _dt.datetime | None
    keep: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))


def _side_from_name(name: str) -> str | None:
    stem = Path(name.replace("\\", "/")).stem
    if stem[-1:].upper() == "L":
        return "left"
    if stem[-1:].upper() == "R":
        return "right"
    return None


def _header(path: Path, side: str | None, default_side: str | None = None) -> _Movie:
    header: dict[str, str] = {}
    where: dict[str, int] = {}
    last = ""
    with LineReader(path, encoding="latin-1") as lines:
        while (line := lines.next_line()) is not None:
            if line.startswith("ASCII_DATA"):
                data_line = lines.line_no
                break
            key, _, value = line.strip().partition(" ")
            if key and key.isupper():
                header[key], where[key] = value.strip(), lines.line_no
                last = key
            elif line.strip() and where and last == "COMMENTS:":
                header["COMMENTS"] = (header.get("COMMENTS", "") + " " + line.strip()).strip()
        else:
            raise ImportSourceError(str(path), "has no 'ASCII_DATA' line: not a Tekscan ASCII movie (or truncated)")

    def need(key: str) -> str:
        if key not in header:
            raise ImportSourceError(str(path), f"header line '{key} ...' is missing (required)")
        return header[key]

    rows = int(number_after(path, where.get("ROWS", 0), need("ROWS"), "ROWS"))
    cols = int(number_after(path, where.get("COLS", 0), need("COLS"), "COLS"))
    period = number_after(path, where.get("SECONDS_PER_FRAME", 0), need("SECONDS_PER_FRAME"), "SECONDS_PER_FRAME")
    if not (0 < rows <= 512 and 0 < cols <= 512 and 1e-4 <= period <= 10):
        raise ImportSourceError(str(path), f"implausible ROWS {rows}, COLS {cols} or SECONDS_PER_FRAME {period:g}")
    unit_text = header.get("UNITS", "Raw").strip()
    if unit_text.lower() not in _UNITS:
        raise ImportSourceError(str(path), f"line {where.get('UNITS')}: UNITS {unit_text!r} not supported (KPa, PSI "
                                "or Raw; export in kPa from the Tekscan software)")
    units, factor = _UNITS[unit_text.lower()]
    chosen = side or _side_from_name(header.get("FILENAME", "")) or _side_from_name(path.name) or default_side
    if chosen is None:
        raise ImportSourceError(str(path), "neither the file name nor its FILENAME header ends in L or R: say which "
                                "foot it is with --side left or --side right")
    return _Movie(path, header, where, data_line, rows, cols, period, int(header.get("START_FRAME", "1") or 1),
                  units, factor, chosen, _start_time(header))


def _start_time(header: dict[str, str]) -> _dt.datetime | None:
    """The header's ``TIME`` (e.g. ``Thursday, 16 February 2017 11:26:22 a.m.``) plus ``MICRO_SECOND``, or None."""
    text = re.sub(r"\s+", " ", header.get("TIME", "").replace(".", "")).strip()
    for fmt in ("%A, %d %B %Y %I:%M:%S %p", "%A, %B %d, %Y %I:%M:%S %p", "%A, %d %B %Y %H:%M:%S"):
        try:
            stamp = _dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        try:
            micro = int(float(header.get("MICRO_SECOND", "0").strip() or 0))
        except ValueError:
            micro = 0
        return stamp + _dt.timedelta(microseconds=micro)
    return None


def _geometry(movie: _Movie) -> tuple[float, float, float]:
    def length(key: str) -> float:
        text = movie.header.get(key)
        if text is None:
            raise ImportSourceError(str(movie.path), f"header line '{key} ...' is missing (sensel spacing)")
        value = number_after(movie.path, movie.header_lines[key], text, key)
        unit = (text.split()[1:2] or ["mm"])[0].lower()
        if unit not in _LENGTH_MM:
            raise ImportSourceError(str(movie.path), f"line {movie.header_lines[key]}: {key} unit {unit!r} unknown")
        return value * _LENGTH_MM[unit]

    row_mm, col_mm = length("ROW_SPACING"), length("COL_SPACING")
    area_text = movie.header.get("SENSEL_AREA")
    if area_text is None:
        return row_mm, col_mm, row_mm * col_mm
    area = number_after(movie.path, movie.header_lines["SENSEL_AREA"], area_text, "SENSEL_AREA")
    unit = (area_text.split()[1:2] or ["mm2"])[0].lower()
    if unit not in _AREA_MM2:
        raise ImportSourceError(str(movie.path), f"line {movie.header_lines['SENSEL_AREA']}: SENSEL_AREA unit "
                                f"{unit!r} unknown")
    return row_mm, col_mm, area * _AREA_MM2[unit]


def _frames(movie: _Movie) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(frame number, line of its 'Frame' line, values rows x cols with NaN for B)`` for every frame."""
    path, rows = movie.path, movie.rows
    with LineReader(path, encoding="latin-1") as reader:
        while reader.line_no < movie.data_line:
            reader.next_line()
        while (line := reader.next_line()) is not None:
            text = line.strip()
            if not text:
                continue
            if text.startswith("@@"):
                return
            m = _FRAME.match(line)
            if m is None:
                raise ImportSourceError(str(path), f"line {reader.line_no}: expected 'Frame N', got {text[:40]!r}")
            number, frame_line = int(m[1]), reader.line_no
            block = []
            while len(block) < rows and (row := reader.next_line()) is not None:
                block.append(row.replace("B", "nan"))
            if len(block) < rows:
                raise ImportSourceError(str(path), f"line {reader.line_no}: frame {number} has {len(block)} of "
                                        f"{rows} rows (truncated file?)")
            values = numeric_rows(path, block, frame_line + 1, movie.cols, sep=",",
                                  last_chunk=reader.at_last_line(), what="matrix row")
            yield number, frame_line, values
    raise ImportSourceError(str(path), "ends without the closing '@@' line (truncated file?)")


def _first_outline(movie: _Movie) -> np.ndarray:
    for _, _, values in _frames(movie):
        return ~np.isnan(values)
    raise ImportSourceError(str(movie.path), "has a header but no frame")


def _foot(movie: _Movie) -> ImportedFoot:
    movie.keep = _first_outline(movie)
    row_mm, col_mm, area = _geometry(movie)
    mirror_r = movie.header.get("MIRROR_ROW", "0").strip() == "1"
    mirror_c = movie.header.get("MIRROR_COL", "0").strip() == "1"
    n = int(movie.keep.sum())
    layout = grid_layout(movie.keep, row_mm, col_mm, area, movie.side, f"fscan-{movie.rows}x{movie.cols}-{n}",
                         mirror_rows=mirror_r, mirror_cols=mirror_c)
    h = movie.header
    attrs = {
        "device_model": f"Tekscan {h.get('SENSOR_TYPE', 'F-Scan')}", "device_hardware": h.get("HARDWARE", ""),
        "device_software": h.get("VERSION", ""), "device_map_version": h.get("MAP_VERSION", ""),
        "source_file_of_foot": movie.path.name, "source_filename_header": h.get("FILENAME", ""),
        "source_pressure_units": h.get("UNITS", ""), "source_saturation_pressure": h.get("SATURATION_PRESSURE", ""),
        "source_noise_threshold": h.get("NOISE_THRESHOLD", ""), "source_sensitivity": h.get("SENSITIVITY", ""),
        "source_calibration": "; ".join(f"{k}={v}" for k, v in h.items() if k.startswith("CALIBRATION")),
        "source_cells": cell_names(movie.keep),
        "layout_assumption": f"sensel grid {movie.rows} x {movie.cols}, spacing {row_mm:g} x {col_mm:g} mm, area "
                             f"{area:g} mm2 (from the file); {n} sensels inside the outline (not 'B'); "
                             f"{ORIENTATION_NOTE}",
    }
    return ImportedFoot(movie.side, np.zeros(0), np.zeros((0, n), np.float32), movie.units, 1.0 / movie.period_s,
                        layout, [], attrs)


def _pair_path(path: Path, pair: str | Path | None) -> Path | None:
    if pair is not None:
        return check_file(Path(pair), "F-Scan file of the other foot")
    stem = path.stem
    if stem[-1:] in "LRlr" and stem:
        swap = {"L": "R", "R": "L", "l": "r", "r": "l"}[stem[-1]]
        other = path.with_name(stem[:-1] + swap + path.suffix)
        if other.is_file():
            return other
    return None


def read(src: str | Path, *, foot_length_mm: float | None = None, side: str | None = None,
         pair: str | Path | None = None) -> ImportedRecording:
    """Read an F-Scan ASCII movie, with the other foot's movie when there is one (``pair`` or the L/R sibling).

    ``side`` names the foot of ``src`` when its name does not; ``foot_length_mm`` is metadata only (the grid comes
    from the file).
    """
    path = check_file(Path(src), "F-Scan movie")
    movies = [_header(path, side)]
    other = _pair_path(path, pair)
    if other is not None:
        second = _header(other, None, default_side={"left": "right", "right": "left"}[movies[0].side])
        if second.side == movies[0].side:
            raise ImportSourceError(str(other), f"is also a {second.side} foot; pair a left with a right file")
        if abs(second.period_s - movies[0].period_s) > 1e-9:
            raise ImportSourceError(str(other), f"SECONDS_PER_FRAME {second.period_s:g} differs from "
                                    f"{path.name}'s {movies[0].period_s:g}: not the same recording")
        movies.append(second)
    feet = {m.side: _foot(m) for m in movies}
    offsets = {m.side: _offset(movies[0], m) for m in movies}

    def chunks() -> Iterator[dict[str, tuple[np.ndarray, np.ndarray]]]:
        for movie in movies:
            foot = feet[movie.side]
            times = TimeChecker(movie.path, movie.period_s, [foot], "F-Scan movie")
            stamps, frames = [], []
            for number, line, values in _frames(movie):
                inside = ~np.isnan(values)
                if not np.array_equal(inside, movie.keep):
                    raise ImportSourceError(str(movie.path), f"line {line}: frame {number} has a different outline "
                                            "('B' cells) than frame 1")
                stamps.append(((number - movie.start_frame) * movie.period_s + offsets[movie.side], line))
                frames.append(values[movie.keep])
                if len(frames) == FRAMES_PER_BLOCK:
                    yield {movie.side: _block(times, stamps, frames, movie.factor)}
                    stamps, frames = [], []
            if frames:
                yield {movie.side: _block(times, stamps, frames, movie.factor)}
            times.finish()

    first = movies[0]
    root = {f"source_header_{k.lower()}": v for k, v in first.header.items() if k not in ("ASCII_DATA",)}
    if first.start_utc is not None:
        root["source_start_time"] = first.start_utc.isoformat()
    comments = first.header.get("COMMENTS", "")
    md = SessionMetadata(notes=f"Tekscan F-Scan movie {first.header.get('FILENAME', path.name)}"
                         + (f"; {comments}" if comments else ""))
    assumptions = [feet[m.side].attrs["layout_assumption"] for m in movies][:1] + [
        f"side of {m.path.name}: {m.side} (from {'--side' if side and m is first else 'the file name'})"
        for m in movies] + ([f"feet aligned by the header TIME stamps (offset {offsets[movies[1].side]:+.3f} s)"]
                            if len(movies) == 2 else [])
    return ImportedRecording("fscan", path, [m.path for m in movies[1:]], feet, md, assumptions, root, {}, chunks)


def _offset(first: _Movie, movie: _Movie) -> float:
    if movie is first or first.start_utc is None or movie.start_utc is None:
        return 0.0
    return (movie.start_utc - first.start_utc).total_seconds()


def _block(times: TimeChecker, stamps: list[tuple[float, int]], frames: list[np.ndarray],
           factor: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.array([s for s, _ in stamps])
    lines = [ln for _, ln in stamps]
    step = lines[1] - lines[0] if len(lines) > 1 else 1
    t = times.check(t, lines[0], step)
    return t, (np.array(frames) * factor).astype(np.float32)
