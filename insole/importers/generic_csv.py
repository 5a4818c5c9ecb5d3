"""Importer for the generic insole CSV layout (for DIY insoles and other systems); spec in docs/import-csv.md.

A file is ``#`` header lines (``# key: value``) followed by a comma-separated table whose first line names the
columns. Header keys: ``insole-csv`` (layout version, ``1``, required), ``sampling_rate_hz`` (required), ``units``
(``kPa``, ``N`` or ``raw``, required), ``foot_length_mm`` (default 260), then either ``layout`` (a built-in layout:
``generic-8``, ``generic-16``, ``grid-99``; sensors are then named ``s1..sN``) or one ``sensor`` line per cell
(``# sensor: NAME x_mm=.. y_mm=.. area_mm2=..``, foot frame). Optional metadata keys: ``subject_id``,
``body_mass_kg``, ``shoe_size_eu``, ``condition``, ``notes``; ``device_model``.

Columns, wide form: ``time_s``, then ``left_NAME`` and/or ``right_NAME`` for every sensor NAME. Long form:
``time_s``, ``side`` (``left``/``right``), then ``NAME`` for every sensor. In the wide form, a row whose cells of
one foot are all empty means that foot had no data then (frames absent, gap recorded).

The table is read in blocks of lines, twice (a first pass checks every row and finds the feet and their gaps before
anything is written): memory does not grow with the file (a 95 MiB file: peak RSS 2.5 GB before, 105 MB now).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from insole.errors import ConfigurationError, ImportSourceError
from insole.importers.recording import ImportedFoot, ImportedRecording, check_file, is_number, runs_of
from insole.importers.text_lines import LineReader
from insole.layouts import SensorLayout, builtin_layout
from insole.session import UNITS, Gap, GapCause, SessionMetadata

CSV_VERSION = "1"
_BUILTIN = {"generic-8": 8, "generic-16": 16, "grid-99": 99}
#: Lines parsed at a time: each cell is a Python string until converted, so a block costs ~6 MB at 33 columns.
BLOCK_LINES = 1024
_SENSOR = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)\s+x_mm=(?P<x>\S+)\s+y_mm=(?P<y>\S+)\s+area_mm2=(?P<a>\S+)\s*$")


def sniff(path: Path) -> bool:
    """True when the file starts with the ``# insole-csv:`` line."""
    try:
        return path.read_bytes()[:200].decode("utf-8-sig", errors="replace").lstrip().startswith("# insole-csv:")
    except OSError:
        return False


def _float(path: Path, key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ImportSourceError(str(path), f"header '{key}' must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ImportSourceError(str(path), f"header '{key}' must be finite, got {text!r}")
    return value


def read(src: str | Path, *, foot_length_mm: float | None = None) -> ImportedRecording:
    """Read a generic insole CSV file.

    The geometry comes from the file. ``foot_length_mm`` (the user's value) rescales a built-in ``layout`` only;
    explicit ``sensor`` coordinates are kept as written.
    """
    path = check_file(Path(src), "CSV file")
    header: dict[str, str] = {}
    sensor_lines: list[str] = []
    with LineReader(path) as lines:  # utf-8-sig: a byte-order mark is dropped
        line = lines.next_line()
        while line is not None and line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep:
                if key.strip() == "sensor":
                    sensor_lines.append(value.strip())
                else:
                    header[key.strip()] = value.strip()
            line = lines.next_line()
        if "insole-csv" not in header:
            raise ImportSourceError(str(path), "first line must be '# insole-csv: 1' (see docs/import-csv.md); "
                                    "is this file in another format?")
        if header["insole-csv"] != CSV_VERSION:
            raise ImportSourceError(str(path), f"insole-csv version {header['insole-csv']!r} not supported (reads 1)")
        for key in ("sampling_rate_hz", "units"):
            if key not in header:
                raise ImportSourceError(str(path), f"header line '# {key}: ...' is missing (required)")
        rate = _float(path, "sampling_rate_hz", header["sampling_rate_hz"])
        if rate <= 0:
            raise ImportSourceError(str(path), "sampling_rate_hz must be positive")
        units = header["units"]
        if units not in UNITS:
            raise ImportSourceError(str(path), f"units {units!r} unknown; use one of {', '.join(UNITS)}")
        L = _float(path, "foot_length_mm", header.get("foot_length_mm", "260"))
        if foot_length_mm is not None and "layout" in header:
            L = float(foot_length_mm)
        if "layout" in header and sensor_lines:
            raise ImportSourceError(str(path), "give either '# layout:' or '# sensor:' lines, not both")
        if "layout" in header:
            if header["layout"] not in _BUILTIN:
                raise ImportSourceError(str(path), f"layout {header['layout']!r} unknown; built-in: "
                                        f"{', '.join(_BUILTIN)} (or describe each cell with '# sensor:' lines)")
            try:
                layout = builtin_layout(_BUILTIN[header["layout"]], L)
            except ConfigurationError as exc:
                raise ImportSourceError(str(path), str(exc)) from None
            sensor_names = [f"s{i + 1}" for i in range(layout.n_sensors)]
        elif sensor_lines:
            parsed = []
            for ln in sensor_lines:
                m = _SENSOR.match(ln)
                if not m:
                    raise ImportSourceError(str(path), f"sensor line {ln!r} must read 'NAME x_mm=.. y_mm=.. "
                                            "area_mm2=..'")
                parsed.append((m["name"], _float(path, "x_mm", m["x"]), _float(path, "y_mm", m["y"]),
                               _float(path, "area_mm2", m["a"])))
            sensor_names = [p[0] for p in parsed]
            if len(set(sensor_names)) != len(sensor_names):
                raise ImportSourceError(str(path), "sensor names must be unique")
            try:
                layout = SensorLayout(header.get("layout_id", "csv-custom"), np.array([p[1] for p in parsed]),
                                      np.array([p[2] for p in parsed]), np.array([p[3] for p in parsed]), L)
            except ConfigurationError as exc:
                raise ImportSourceError(str(path), str(exc)) from None
        else:
            raise ImportSourceError(str(path), "sensor geometry is missing: add '# layout: generic-16' (or 8, grid-99) "
                                    "or one '# sensor: NAME x_mm=.. y_mm=.. area_mm2=..' line per cell")
        while line == "":
            line = lines.next_line()
        if line is None:
            raise ImportSourceError(str(path), "has no column line after the header")
        columns = [c.strip() for c in next(csv.reader([line]))]
        data_start = lines.line_no + 1
    for j, name in enumerate(columns):
        if name in columns[:j]:
            raise ImportSourceError(str(path), f"column {name!r} appears twice in the column line (columns "
                                    f"{columns.index(name) + 1} and {j + 1}); each column may appear only once")
    if columns[0] != "time_s":
        raise ImportSourceError(str(path), f"first column must be 'time_s', is {columns[0]!r}")
    long_form = "side" in columns
    if long_form:
        expected = ["time_s", "side", *sensor_names]
    else:
        expected = ["time_s"] + [f"{s}_{n}" for s in ("left", "right") for n in sensor_names]
    unknown = [c for c in columns if c not in expected]
    if unknown:
        raise ImportSourceError(str(path), f"unknown column(s) {', '.join(map(repr, unknown[:5]))}; expected "
                                f"time_s, {'side, ' if long_form else ''}and sensor columns named from "
                                f"{', '.join(sensor_names[:3])}...")
    if long_form:
        missing = [n for n in sensor_names if n not in columns]
    else:
        present = [s for s in ("left", "right") if any(c.startswith(s + "_") for c in columns)]
        missing = [f"{s}_{n}" for s in present for n in sensor_names if f"{s}_{n}" not in columns]
    if missing:
        raise ImportSourceError(str(path), f"missing sensor column(s) {', '.join(missing[:5])}")
    if long_form:
        layout_of = {s: [columns.index(n) for n in sensor_names] for s in ("left", "right")}
    else:
        layout_of = {s: [columns.index(f"{s}_{n}") for n in sensor_names] for s in present}
    table = _Table(path, data_start, columns, layout_of, long_form)
    for _ in table.blocks():  # a first pass checks every row and finds the feet and gaps before anything is written
        pass
    if table.n_rows == 0:
        raise ImportSourceError(str(path), "has no data rows")
    feet = {}
    for side in layout_of:
        if table.n_frames[side] == 0:
            continue
        attrs = {"device_model": header.get("device_model", "")}
        feet[side] = ImportedFoot(side, np.zeros(0), np.zeros((0, len(sensor_names)), np.float32), units, rate, layout,
                                  table.gaps[side], attrs)
    if not feet:
        raise ImportSourceError(str(path), "no row has sensor values for either foot")

    def chunks() -> Iterator[dict[str, tuple[np.ndarray, np.ndarray]]]:
        for block in _Table(path, data_start, columns, layout_of, long_form).blocks():
            yield {side: block[side] for side in feet if len(block[side][0])}

    md = SessionMetadata(
        subject_id=header.get("subject_id") or None,
        body_mass_kg=_float(path, "body_mass_kg", header["body_mass_kg"]) if header.get("body_mass_kg") else None,
        foot_length_mm=L if "foot_length_mm" in header else None,
        shoe_size_eu=_float(path, "shoe_size_eu", header["shoe_size_eu"]) if header.get("shoe_size_eu") else None,
        condition=header.get("condition") or None,
        notes=header.get("notes") or None,
    )
    geometry = (f"built-in layout {header['layout']}" if "layout" in header else "sensor lines of the file")
    return ImportedRecording("csv", path, [], feet, md, [f"geometry from the {geometry}, foot length {L:g} mm"],
                             {"source_csv_version": CSV_VERSION}, {}, chunks)


class _Table:
    """The data rows of a CSV file in blocks of lines (bounded memory), checked as they come.

    :meth:`blocks` yields ``{side: (time_s, values)}`` for the rows of each block where the foot has data; runs of
    rows where it has none become :attr:`gaps`. Messages number the data lines as before: 1 is the first non-empty
    line after the column line.
    """

    def __init__(self, path: Path, data_start: int, columns: list[str], layout_of: dict[str, list[int]],
                 long_form: bool) -> None:
        self.path, self.data_start, self.columns = path, data_start, columns
        self.layout_of, self.long_form = layout_of, long_form
        self.n_rows = 0
        self.n_frames = dict.fromkeys(layout_of, 0)
        self.gaps: dict[str, list[Gap]] = {side: [] for side in layout_of}
        self._last_t = dict.fromkeys(layout_of, -math.inf)
        self._run: dict[str, list[float] | None] = dict.fromkeys(layout_of)  # open run of empty rows: start, end, n

    def blocks(self, n_lines: int = BLOCK_LINES) -> Iterator[dict[str, tuple[np.ndarray, np.ndarray]]]:
        path, columns, width = self.path, self.columns, len(self.columns)
        with LineReader(path) as reader:
            while reader.next_line() is not None and reader.line_no < self.data_start - 1:
                pass
            for _, lines in reader.chunks(n_lines):
                rows = [r for r in csv.reader(lines) if r]
                if not rows:
                    continue
                first = self.n_rows  # 0-based data line of rows[0]
                self.n_rows += len(rows)
                short = next((i for i, r in enumerate(rows) if len(r) != width), None)
                if short is not None:
                    hint = " (truncated file?)" if short == len(rows) - 1 and reader.at_last_line() else ""
                    raise ImportSourceError(str(path), f"data line {first + short + 1} has {len(rows[short])} cells, "
                                            f"the column line names {width}{hint}")
                table = np.array(rows, dtype=object).reshape(len(rows), width)
                t_all = _numbers(path, table[:, 0], "time_s", first=first)
                out = {}
                for side, idx in self.layout_of.items():
                    if self.long_form:
                        sides = table[:, columns.index("side")]
                        bad = set(sides) - {"left", "right"}
                        if bad:
                            raise ImportSourceError(str(path), f"column 'side' has value(s) {sorted(bad)[:3]}; use "
                                                    "left/right")
                        rows_of = np.flatnonzero(sides == side)
                        block = table[np.ix_(rows_of, idx)]
                    else:
                        block = table[:, idx]
                        rows_of = np.arange(len(table))
                    blank = block == ""
                    has = ~blank.all(axis=1)
                    if np.any(blank[has].any(axis=1)):
                        i = int(rows_of[has][np.argmax(blank[has].any(axis=1))])
                        raise ImportSourceError(str(path), f"data line {first + i + 1}: some {side} cells are empty "
                                                "and some are not")
                    t = t_all[rows_of]
                    values = np.column_stack([_numbers(path, block[has, j], columns[idx[j]], first=first,
                                                       rows=rows_of[has]) for j in range(len(idx))])
                    steps = np.diff(np.concatenate(([self._last_t[side]], t[has])))
                    if np.any(steps <= 0):
                        i = int(rows_of[has][np.argmax(steps <= 0)])
                        raise ImportSourceError(str(path), f"time_s of {side} does not increase at data line "
                                                f"{first + i + 1}")
                    if has.any():
                        self._last_t[side] = float(t[has][-1])
                    self._track_gaps(side, t, has)
                    self.n_frames[side] += int(has.sum())
                    out[side] = (t[has], values.astype(np.float32))
                yield out
        for side in self.layout_of:
            self._close_run(side)

    def _track_gaps(self, side: str, t: np.ndarray, has: np.ndarray) -> None:
        """Runs of rows without data of ``side``, continued across blocks."""
        if has.size and has[0]:
            self._close_run(side)
        for a, b in runs_of(~has):
            run = self._run[side]
            if run is not None:  # only when a == 0: the run of the previous block goes on
                run[1], run[2] = float(t[b]), run[2] + int(b - a + 1)
            else:
                self._run[side] = [float(t[a]), float(t[b]), int(b - a + 1)]
            if b != len(t) - 1:
                self._close_run(side)

    def _close_run(self, side: str) -> None:
        run = self._run[side]
        if run is not None:
            self.gaps[side].append(Gap(run[0], run[1], int(run[2]), GapCause.NO_DATA, f"csv: {side} cells empty"))
            self._run[side] = None


def _numbers(path: Path, cells: np.ndarray, name: str, allow_empty: bool = False, *, first: int = 0,
             rows: np.ndarray | None = None) -> np.ndarray:
    try:
        out = np.array(cells, dtype=np.float64)
    except ValueError:
        k = next(i for i, c in enumerate(cells) if not is_number(c))
        line = first + (int(rows[k]) if rows is not None else k) + 1
        raise ImportSourceError(
            str(path), f"column {name!r}, data line {line}: {cells[k]!r} is not a number"
        ) from None
    if not np.all(np.isfinite(out)) and not allow_empty:
        k = int(np.argmax(~np.isfinite(out)))
        line = first + (int(rows[k]) if rows is not None else k) + 1
        raise ImportSourceError(str(path), f"column {name!r}, data line {line}: value is not finite")
    return out

