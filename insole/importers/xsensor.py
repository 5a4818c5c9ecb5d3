"""Importer for XSENSOR Foot CSV exports (both insoles, a sensel matrix per foot per frame, mmHg).

Format (XSENSOR Pro Foot & Gait "CSV" export, e.g. ``xsensor_data.csv`` of pressuRe; UTF-8 with a byte-order
mark, every other line empty commas): file header ``File:``, ``Units:``, ``Threshold:``; then per frame
``FRAME,<number>``, ``Date,...``, ``Time,hh:mm:ss.mmm`` and per insole a block ``SENSOR,<name>-LF|RF <serial>``,
``Rows``, ``Columns``, ``Sensel Width (cm)``, ``Sensel Height (cm)``, per-frame statistics (average/peak pressure,
contact area, estimated load) and the vendor's gait fields (stance/swing/stride/support time in ms, stance loads,
impulse), ``SENSELS`` and ``Rows`` lines of ``Columns`` values; then ``GROUP`` blocks (the vendor's regions with
their own statistics and sensel lists).

What is stored:

* every sensel of the matrix (``Rows`` x ``Columns``, row-major) as a cell, positions from the sensel size
  (:mod:`insole.importers.sensel_grid`, geometry ``specified``); the export does not mark the outline, so cells
  outside the insole simply stay 0;
* pressure in kPa: mmHg x 101.325 / 760 (exact: 1 mmHg = 133.322387... Pa), kPa as is, PSI x 6.894757293168361,
  N/cm2 x 10;
* time from the ``Date``/``Time`` stamps (ms resolution) relative to the first frame; missing frame numbers are
  gaps (``missing_rows``);
* the vendor's per-frame statistics as ``/vendor_signals/<side>/samples`` and its gait fields (which describe the
  whole recording, not the excerpt) as attributes of ``/vendor_signals/<side>``, plus the region names and cell
  counts: ``vendor_computed = True``, provenance only, never read by the analysis.
"""

from __future__ import annotations

import csv
import datetime as _dt
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from insole.errors import ImportSourceError
from insole.importers.recording import ImportedFoot, ImportedRecording, check_file
from insole.importers.sensel_grid import ORIENTATION_NOTE, grid_layout
from insole.importers.text_lines import LineReader, numeric_rows
from insole.importers.time_steps import TimeChecker
from insole.session import Gap, GapCause, SessionMetadata

KPA_PER_MMHG = 101.325 / 760.0
_UNITS = {"mmhg": KPA_PER_MMHG, "kpa": 1.0, "psi": 6.894757293168361, "n/cm2": 10.0, "n/cm²": 10.0}
#: The vendor's gait fields (one value per recording, repeated in every frame).
GAIT_FIELDS = ("Stance Avg Pressure", "Stance Peak Pressure", "Stance Avg Load (N)", "Stance Peak Load (N)",
               "Impulse (N-S)", "Stride Time", "Swing Time", "Stance Time", "Support Time")
FRAMES_PER_BLOCK = 128
_GRID_KEYS = ("Rows", "Columns", "Sensel Width (cm)", "Sensel Height (cm)")
_SIDE = re.compile(r"-(LF|RF)\b")


def sniff(path: Path) -> bool:
    """True for a CSV whose header has ``Units:`` and a ``FRAME`` / ``SENSOR`` structure."""
    try:
        head = path.read_bytes()[:12000].decode("utf-8", errors="replace").lstrip("\ufeff")
    except OSError:
        return False
    return head.startswith("File:,") and "\nFRAME," in head and "\nSENSOR," in head and "SENSELS" in head


def _cells(line: str) -> list[str]:
    try:
        return [c.strip() for c in next(csv.reader([line]))]
    except csv.Error:  # stray carriage returns or NUL bytes: not a CSV line, split it plainly
        return [c.strip() for c in line.replace("\x00", "").split(",")]


def _is_blank(line: str) -> bool:
    return not line.replace(",", "").strip()


class _Frame:
    __slots__ = ("number", "line", "stamp", "sensors", "groups", "complete")

    def __init__(self, number: int, line: int) -> None:
        self.number, self.line, self.stamp = number, line, None
        self.sensors: dict[str, dict] = {}
        self.groups = 0
        self.complete = True


def _parse(path: Path) -> Iterator[tuple[dict[str, str], _Frame]]:
    """The file header and every frame, in order (one frame in memory at a time)."""
    header: dict[str, str] = {}
    frame: _Frame | None = None
    sensor: dict | None = None
    date = ""
    with LineReader(path, encoding="utf-8-sig") as reader:
        while (line := reader.next_line()) is not None:
            if _is_blank(line):
                continue
            cells = _cells(line)
            key = cells[0]
            if key == "FRAME":
                if frame is not None:
                    yield header, frame
                try:
                    frame = _Frame(int(cells[1]), reader.line_no)
                except (IndexError, ValueError):
                    raise ImportSourceError(str(path), f"line {reader.line_no}: FRAME needs a frame number") from None
                sensor = None
            elif frame is None:
                header[key.rstrip(":")] = cells[1] if len(cells) > 1 else ""
            elif key == "Date":
                date = cells[1]
            elif key == "Time":
                frame.stamp = _stamp(path, reader.line_no, date, cells[1])
            elif key == "SENSOR":
                m = _SIDE.search(cells[1])
                if m is None:
                    raise ImportSourceError(str(path), f"line {reader.line_no}: sensor {cells[1]!r} is neither -LF "
                                            "nor -RF: cannot tell the foot")
                side = "left" if m[1] == "LF" else "right"
                sensor = {"name": cells[1], "stats": {}, "line": reader.line_no}
                frame.sensors[side] = sensor
            elif key == "GROUP":
                sensor = None
                frame.complete = _skip_group(reader, header, cells)
                frame.groups += 1
            elif key == "SENSELS" and sensor is not None:
                sensor["values"] = _matrix(path, reader, sensor)
            elif sensor is not None and len(cells) > 1:
                sensor["stats"][key] = cells[1]
    if frame is None:
        raise ImportSourceError(str(path), "has no FRAME line: not an XSENSOR CSV export (or empty)")
    if not frame.complete or frame.groups < header.get("_groups", "").count("(") or \
            any("values" not in s for s in frame.sensors.values()):
        raise ImportSourceError(str(path), f"line {reader.line_no}: the file ends inside frame {frame.number} "
                                "(truncated file?)")
    yield header, frame


def _stamp(path: Path, line_no: int, date: str, time: str) -> _dt.datetime:
    text = f"{date.strip()} {time.strip()}"
    for fmt in ("%Y %b %d %H:%M:%S.%f", "%Y %B %d %H:%M:%S.%f", "%Y %b %d %H:%M:%S"):
        try:
            return _dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ImportSourceError(str(path), f"line {line_no}: time stamp {text!r} not understood")


def _matrix(path: Path, reader: LineReader, sensor: dict) -> np.ndarray:
    try:
        rows, cols = int(float(sensor["stats"]["Rows"])), int(float(sensor["stats"]["Columns"]))
    except (KeyError, ValueError):
        raise ImportSourceError(str(path), f"line {reader.line_no}: SENSELS before Rows/Columns of the sensor "
                                "block") from None
    lines, numbers = [], []
    while len(lines) < rows and (line := reader.next_line()) is not None:
        if not _is_blank(line):
            lines.append(",".join(line.split(",")[:cols]))
            numbers.append(reader.line_no)
            extra = line.split(",")[cols:]
            if any(c.strip() for c in extra):
                raise ImportSourceError(str(path), f"line {reader.line_no}: matrix row has more than {cols} values")
    if len(lines) < rows:
        raise ImportSourceError(str(path), f"line {reader.line_no}: sensor block has {len(lines)} of {rows} matrix "
                                "rows (truncated file?)")
    values = np.empty((rows, cols))
    for k, (text, line_no) in enumerate(zip(lines, numbers, strict=True)):
        values[k] = numeric_rows(path, [text], line_no, cols, sep=",", what="matrix row")[0]
    return values


def _skip_group(reader: LineReader, header: dict[str, str], cells: list[str]) -> bool:
    """Skip a GROUP block (the vendor's region), remembering its name and cell count once; False if cut short."""
    name, count = "", 0
    while (line := reader.next_line()) is not None:
        if _is_blank(line):
            continue
        c = _cells(line)
        if c[0] == "Name":
            name = c[1]
        elif c[0] == "Cells":
            count = int(float(c[1] or 0))
        elif c[0] == "SENSELS":
            seen = 0
            while seen < count and (row := reader.next_line()) is not None:
                seen += sum(1 for v in row.split(",") if v.strip())
            if seen < count:
                return False
            break
    else:
        return False
    header.setdefault("_groups", "")
    entry = f"{name} ({count} cells)"
    if entry not in header["_groups"]:
        header["_groups"] = (header["_groups"] + "; " + entry).strip("; ")
    return True


def read(src: str | Path, *, foot_length_mm: float | None = None) -> ImportedRecording:
    """Read an XSENSOR Foot CSV export (``foot_length_mm`` is metadata only: the grid comes from the file)."""
    path = check_file(Path(src), "XSENSOR export")
    header, first = next(_parse(path))
    units = header.get("Units", "")
    factor = _UNITS.get(units.replace(" ", "").lower())
    if factor is None:
        raise ImportSourceError(str(path), f"Units {units!r} not supported (mmHg, kPa, PSI or N/cm2)")
    if not first.sensors or any("values" not in s for s in first.sensors.values()):
        raise ImportSourceError(str(path), f"line {first.line}: frame {first.number} has no complete SENSOR block")
    feet: dict[str, ImportedFoot] = {}
    shapes: dict[str, tuple[int, int]] = {}
    for side, sensor in first.sensors.items():
        st = sensor["stats"]
        rows, cols = sensor["values"].shape
        try:
            w_mm, h_mm = float(st["Sensel Width (cm)"]) * 10.0, float(st["Sensel Height (cm)"]) * 10.0
        except (KeyError, ValueError):
            raise ImportSourceError(str(path), f"line {sensor['line']}: sensor block lacks 'Sensel Width (cm)' / "
                                    "'Sensel Height (cm)'") from None
        keep = np.ones((rows, cols), bool)
        layout = grid_layout(keep, h_mm, w_mm, w_mm * h_mm, side, f"xsensor-{rows}x{cols}")
        name = sensor["name"]
        attrs = {"device_model": "XSENSOR " + name.split()[0], "device_serial_number": name.split()[-1],
                 "source_sensor": name, "source_pressure_units": units,
                 "layout_assumption": f"sensel grid {rows} x {cols}, sensel {w_mm:g} x {h_mm:g} mm (from the file); "
                                      f"every sensel kept (the export marks no outline); {ORIENTATION_NOTE}"}
        feet[side] = ImportedFoot(side, np.zeros(0), np.zeros((0, rows * cols), np.float32), "kPa", 1.0, layout,
                                  [], attrs)
        shapes[side] = (rows, cols)
    t0 = first.stamp
    if t0 is None:
        raise ImportSourceError(str(path), f"line {first.line}: frame {first.number} has no Time line")
    period = _period(path)
    for foot in feet.values():
        foot.sampling_rate_hz = round(1.0 / period, 3)
    stream = _Stream(path, header, feet, shapes, t0, period, factor)
    md = SessionMetadata(notes=f"XSENSOR Foot export {header.get('File', path.name)}")
    root = {f"source_header_{k.lower()}": v for k, v in header.items() if not k.startswith("_")}
    assumptions = [next(iter(feet.values())).attrs["layout_assumption"],
                   f"pressure: {units} x {factor:.10g} = kPa", "time from the per-frame Date/Time stamps (1 ms)"]
    return ImportedRecording("xsensor", path, [], feet, md, assumptions, root, stream.groups, stream.chunks)


def _num(text: str | None) -> float:
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _period(path: Path) -> float:
    """Mean frame period over the first (up to 64) frames' time stamps (1 ms resolution)."""
    stamps = []
    for _, frame in _parse(path):
        if frame.stamp is not None:
            stamps.append(frame.stamp)
        if len(stamps) >= 64:
            break
    if len(stamps) < 2:
        raise ImportSourceError(str(path), "needs at least 2 frames with time stamps")
    return (stamps[-1] - stamps[0]).total_seconds() / (len(stamps) - 1)


class _Stream:
    """The frames of an XSENSOR export in blocks, collecting the vendor's statistics as it goes."""

    def __init__(self, path: Path, header: dict[str, str], feet: dict[str, ImportedFoot],
                 shapes: dict[str, tuple[int, int]], t0: _dt.datetime, period: float, factor: float) -> None:
        self.path, self.header, self.feet, self.shapes = path, header, feet, shapes
        self.t0, self.period, self.factor = t0, period, factor
        self.groups: dict[str, dict] = {}
        self.times: list[float] = []
        self.stats: dict[str, list[list[float]]] = {s: [] for s in feet}
        self.stat_names: dict[str, list[str]] = {}
        self.gait: dict[str, dict[str, set[str]]] = {s: {} for s in feet}

    def chunks(self) -> Iterator[dict[str, tuple[np.ndarray, np.ndarray]]]:
        path = self.path
        checker = TimeChecker(path, np.inf, list(self.feet.values()), "XSENSOR export")
        buf: list[_Frame] = []
        last: _Frame | None = None
        for _, frame in _parse(path):
            missing = sorted(set(self.feet) - set(frame.sensors))
            if missing or any("values" not in s for s in frame.sensors.values()):
                raise ImportSourceError(str(path), f"line {frame.line}: frame {frame.number} lacks a complete "
                                        f"sensor block ({', '.join(missing) or 'SENSELS'})")
            if frame.stamp is None:
                raise ImportSourceError(str(path), f"line {frame.line}: frame {frame.number} has no Time line")
            if last is not None and frame.number != last.number + 1:
                if frame.number <= last.number:
                    raise ImportSourceError(str(path), f"line {frame.line}: frame number {frame.number} after "
                                            f"{last.number}")
                start = (last.stamp - self.t0).total_seconds() + self.period
                end = (frame.stamp - self.t0).total_seconds() - self.period
                for foot in self.feet.values():
                    foot.gaps.append(Gap(start, max(start, end), frame.number - last.number - 1,
                                         GapCause.MISSING_ROWS, "XSENSOR export: frame numbers missing"))
            self._collect(frame)
            last = frame
            buf.append(frame)
            if len(buf) == FRAMES_PER_BLOCK:
                yield self._block(checker, buf)
                buf = []
        if buf:
            yield self._block(checker, buf)
        checker.finish()
        self._vendor_groups()

    def _collect(self, frame: _Frame) -> None:
        for side, sensor in frame.sensors.items():
            if sensor["values"].shape != self.shapes[side]:
                raise ImportSourceError(str(self.path), f"line {sensor['line']}: {side} matrix is "
                                        f"{sensor['values'].shape}, frame 1 had {self.shapes[side]}")
            names = self.stat_names.setdefault(side, [k for k in sensor["stats"]
                                                      if k not in _GRID_KEYS and k not in GAIT_FIELDS])
            self.stats[side].append([_num(sensor["stats"].get(k)) for k in names])
            for k in GAIT_FIELDS:
                self.gait[side].setdefault(k, set()).add(sensor["stats"].get(k, ""))

    def _block(self, checker: TimeChecker, buf: list[_Frame]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        step = (buf[1].line - buf[0].line) if len(buf) > 1 else 1
        t = checker.check(np.array([(f.stamp - self.t0).total_seconds() for f in buf]), buf[0].line, step)
        self.times.extend(t.tolist())
        return {side: (t, (np.array([f.sensors[side]["values"].ravel() for f in buf]) * self.factor)
                       .astype(np.float32)) for side in self.feet}

    def _vendor_groups(self) -> None:
        note = "computed by the XSENSOR software; kept as provenance, never read by the analysis"
        self.groups["vendor_signals"] = {"attrs": {"vendor_computed": True, "note": note}}
        t = np.array(self.times)
        for side in self.feet:
            arr = np.array(self.stats[side], np.float64).reshape(len(t), -1)
            fields = {f"gait_{re.sub(r'[^a-z0-9]+', '_', k.lower()).strip('_')}": "; ".join(sorted(v))
                      for k, v in self.gait[side].items()}
            self.groups[f"vendor_signals/{side}"] = {
                "attrs": {**fields, "gait_fields_note": "the vendor's gait fields (times in ms) describe its whole "
                          "recording, not this excerpt; a field with several values lists them all",
                          "regions": self.header.get("_groups", "")},
                "datasets": {"samples": (np.column_stack([t, arr]), {
                    "columns": ",".join(["time_s", *self.stat_names.get(side, [])]), "note": note})}}
