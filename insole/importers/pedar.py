"""Importer for novel pedar ASCII exports (``.asc``: 99 cells per insole, both feet in one table, kPa).

Format (novel pedar-x "ASCII" export, e.g. ``pedar_example.asc`` of pressuRe): header lines ``key: value``
separated by tabs (``File name``, ``date/time``, ``sensor type``, ``total time [secs]``, ``time per frame [secs]``,
``scanning rate [Hz]``), a line ``pressure values in  kPa``, a ``mask definition:`` block listing the cells of the
``left insole:`` and ``right insole:``, then the column line ``time[secs]  1 2 ... 99  1 2 ... 99`` and one
whitespace-separated row per frame (time, left cells, right cells).

What is stored:

* pressure in kPa as exported (``N/cm2`` exports are converted x 10, exactly); 3-decimal source values are
  reproduced by the float32 store to well within their precision;
* geometry from the insole size named by ``sensor type`` (its first part: ``y`` in ``y-1865l-1870r-pxf306``),
  using the layout published in pressuRe (:mod:`insole.importers.pedar_layout`, geometry ``specified``). Sizes
  without a published layout are refused, never guessed;
* time from the first column; steps of 1.5 or more frame periods are gaps (``missing_rows``).

The file is read in chunks of lines (:mod:`insole.importers.text_lines`): memory does not grow with its size.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from insole.errors import ImportSourceError
from insole.importers.pedar_layout import pedar_layout, supported_sizes
from insole.importers.recording import ImportedFoot, ImportedRecording, check_file, choose_foot_length
from insole.importers.text_lines import LineReader, numeric_rows
from insole.importers.time_steps import TimeChecker
from insole.session import SessionMetadata

KPA_PER_N_CM2 = 10.0
_UNITS = {"kpa": 1.0, "n/cm2": KPA_PER_N_CM2, "n/cm²": KPA_PER_N_CM2}
_MAX_HEADER_LINES = 60


def sniff(path: Path) -> bool:
    """True for a text file whose first lines name a pedar ``sensor type`` and a ``time[secs]`` column."""
    try:
        head = path.read_bytes()[:8000].decode("latin-1")
    except OSError:
        return False
    return head.lstrip().lower().startswith("file name:") and "sensor type:" in head and "time[secs]" in head


def _cells(text: str) -> list[int]:
    return [int(c) for c in re.findall(r"\d+", text)]


def read(src: str | Path, *, foot_length_mm: float | None = None) -> ImportedRecording:
    """Read a pedar ASCII export.

    ``foot_length_mm`` is metadata only here: the geometry follows the insole size named in the file.
    """
    path = check_file(Path(src), "pedar export")
    info: dict[str, str] = {}
    masks: dict[str, list[int]] = {}
    units_line = ""
    with LineReader(path, encoding="latin-1") as lines:
        while (line := lines.next_line()) is not None:
            if line.strip().lower().startswith("time[secs]"):
                columns_line, columns_no = line, lines.line_no
                break
            if lines.line_no > _MAX_HEADER_LINES:
                raise ImportSourceError(str(path), f"no 'time[secs]' column line in the first {_MAX_HEADER_LINES} "
                                        "lines: not a pedar ASCII export")
            low = line.strip().lower()
            if low.startswith("pressure values in"):
                units_line = line.strip()[len("pressure values in"):].strip()
            elif low.startswith(("left insole:", "right insole:")):
                side = "left" if low.startswith("left") else "right"
                masks[side] = _cells(line.partition(":")[2])
            else:
                for part in line.split("\t"):
                    key, sep, value = part.partition(":")
                    if sep and key.strip():
                        info[key.strip()] = value.strip()
        else:
            raise ImportSourceError(str(path), "has no 'time[secs]' column line: not a pedar ASCII export")
    factor = _UNITS.get(units_line.replace(" ", "").lower())
    if factor is None:
        raise ImportSourceError(str(path), f"pressure values in {units_line!r}: this importer reads kPa and N/cm2 "
                                "exports (choose one of those units when exporting from novel)")
    columns = columns_line.split()[1:]
    if not masks:
        raise ImportSourceError(str(path), "has no 'mask definition' (left insole: / right insole: lines)")
    expected = [str(c) for side in ("left", "right") for c in masks.get(side, [])]
    if columns != expected:
        raise ImportSourceError(str(path), f"line {columns_no}: the columns ({len(columns)} cells) do not match the "
                                f"mask definition ({len(expected)} cells: left then right)")
    sensor = info.get("sensor type", "")
    size = sensor.split("-")[0].strip().lower()
    try:
        full, size_info = pedar_layout(size)
    except KeyError:
        raise ImportSourceError(str(path), f"sensor type {sensor!r}: pedar insole size {size!r} has no published "
                                f"cell layout here (sizes with one: {', '.join(supported_sizes())}); "
                                "its cell positions would be a guess") from None
    period = _period(path, info)
    L, length_note, _ = choose_foot_length(foot_length_mm)
    assumption = (f"pedar insole size {size!r}: cell corners and per-size areas published in pressuRe 0.2.7 "
                  f"(Telfer & Li 2023), drawing scaled isotropically to the published areas ({size_info.scale_mm:.1f} "
                  f"mm per unit, spread {100 * size_info.area_spread:.1f} %, insole length "
                  f"{size_info.insole_length_mm:.0f} mm); long axis = area-weighted mean of the cell centres")
    feet: dict[str, ImportedFoot] = {}
    offsets: dict[str, slice] = {}
    start = 0
    for side in ("left", "right"):
        if side not in masks:
            continue
        cells = masks[side]
        bad = [c for c in cells if not 1 <= c <= 99]
        if bad:
            raise ImportSourceError(str(path), f"{side} insole mask names cell {bad[0]}; pedar cells are 1-99")
        idx = np.array(cells) - 1
        layout = type(full)(full.layout_id if len(cells) == 99 else f"{full.layout_id}-masked", full.x_mm[idx],
                            full.y_mm[idx], full.area_mm2[idx], full.foot_length_mm, full.geometry)
        attrs = {"device_model": "novel pedar", "device_sensor_type": sensor, "device_insole_size": size,
                 "layout_assumption": assumption, "source_pressure_units": units_line,
                 "source_cells": ",".join(map(str, cells))}
        feet[side] = ImportedFoot(side, np.zeros(0), np.zeros((0, len(cells)), np.float32), "kPa", 1.0 / period,
                                  layout, [], attrs)
        offsets[side] = slice(1 + start, 1 + start + len(cells))
        start += len(cells)
    n_cells = 1 + start

    def chunks() -> Iterator[dict[str, tuple[np.ndarray, np.ndarray]]]:
        times = TimeChecker(path, period, list(feet.values()), "pedar export")
        with LineReader(path, encoding="latin-1") as reader:
            while reader.line_no < columns_no:
                reader.next_line()
            for first, block in reader.chunks():
                block, first = _strip_blank_tail(block, first, reader)
                if not block:
                    continue
                rows = numeric_rows(path, block, first, n_cells, last_chunk=reader.at_last_line())
                t = times.check(rows[:, 0], first)
                yield {side: (t, (rows[:, sl] * factor).astype(np.float32)) for side, sl in offsets.items()}
        times.finish()

    root = {f"source_header_{re.sub(r'[^a-z0-9]+', '_', k.lower()).strip('_')}": v for k, v in info.items()}
    md = SessionMetadata(notes=f"novel pedar export; sensor type {sensor}")
    assumptions = [assumption, f"{length_note} (metadata only: the geometry follows the insole size)",
                   f"pressure: {units_line} x {factor:g} = kPa"]
    return ImportedRecording("pedar", path, [], feet, md, assumptions, root, {}, chunks)


def _period(path: Path, info: dict[str, str]) -> float:
    for key, convert in (("time per frame [secs]", float), ("scanning rate [Hz]", lambda v: 1.0 / float(v))):
        if key in info:
            try:
                value = convert(info[key])
            except (ValueError, ZeroDivisionError):
                raise ImportSourceError(str(path), f"header '{key}' is {info[key]!r}, not a number") from None
            if 1e-4 <= value <= 1.0:
                return value
            raise ImportSourceError(str(path), f"header '{key}' gives a frame period of {value:g} s (implausible)")
    raise ImportSourceError(str(path), "header has neither 'time per frame [secs]' nor 'scanning rate [Hz]'")


def _strip_blank_tail(block: list[str], first: int, reader: LineReader) -> tuple[list[str], int]:
    """Drop trailing empty lines at the end of the file; an empty line with data after it is an error."""
    blank = [k for k, ln in enumerate(block) if not ln.strip()]
    if not blank:
        return block, first
    k = blank[0]
    if any(ln.strip() for ln in block[k:]) or not reader.at_last_line():
        raise ImportSourceError(str(reader.path), f"line {first + k}: empty line inside the data")
    return block[:k], first
