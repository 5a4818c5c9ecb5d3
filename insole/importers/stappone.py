"""Importer for stappone insole CSV exports (one sole: 12 raw pressure channels, IMU, epoch-millisecond stamps).

Format (``stappone_example.csv`` of pressuRe): a header line ``sole_id,timestamp,accel_x,accel_y,accel_z,gyro_x,
gyro_y,gyro_z,magn_x,magn_y,magn_z,pressure_01..pressure_12,corrupt`` and one comma-separated row per sample;
``timestamp`` is Unix time in milliseconds, ``corrupt`` is 1 for a sample the device flagged as damaged.

What is stored:

* the 12 pressure channels in ``raw`` units, exactly as exported (integers; the vendor gives no unit or
  calibration, so nothing is converted);
* geometry ``unknown`` (placeholder ``unknown-12``): stappone publishes no cell positions, so centre-of-pressure
  and regional measures do not apply;
* time = (timestamp - first timestamp) / 1000 s; the first stamp as ``source_start_utc``; steps of 1.5 or more
  sample periods (16 ms nominal, from the median step) are gaps (``missing_rows``);
* rows flagged ``corrupt`` as NaN, each run a gap (``invalid_samples``);
* accelerometer, gyroscope and magnetometer as ``/<side>/imu_raw`` (n_frames, 9) in the device's raw units.

The export does not say which foot ``sole_id`` is: give ``--side``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from insole.errors import ImportSourceError
from insole.importers.recording import ImportedFoot, ImportedRecording, check_file, runs_of
from insole.importers.text_lines import LineReader, numeric_rows
from insole.importers.time_steps import TimeChecker
from insole.layouts import placeholder_layout
from insole.session import Gap, GapCause, SessionMetadata

COLUMNS = ["sole_id", "timestamp", "accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z", "magn_x",
           "magn_y", "magn_z", *[f"pressure_{i:02d}" for i in range(1, 13)], "corrupt"]
_IMU = slice(2, 11)
_PRESSURE = slice(11, 23)
#: Rows read to estimate the sampling period.
_PERIOD_ROWS = 200


def sniff(path: Path) -> bool:
    """True when the first line is the stappone column line."""
    try:
        first = path.read_bytes()[:400].decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[0]
    except (OSError, IndexError):
        return False
    return [c.strip() for c in first.split(",")] == COLUMNS


def read(src: str | Path, *, foot_length_mm: float | None = None, side: str | None = None) -> ImportedRecording:
    """Read a stappone CSV export; ``side`` (``left`` / ``right``) says which foot the sole is (required)."""
    path = check_file(Path(src), "stappone export")
    with LineReader(path) as lines:
        head = lines.next_line() or ""
        if [c.strip() for c in head.split(",")] != COLUMNS:
            raise ImportSourceError(str(path), "line 1: not the stappone column line (sole_id,timestamp,accel_x,..."
                                    "pressure_01..pressure_12,corrupt)")
        sample = []
        while len(sample) < _PERIOD_ROWS and (line := lines.next_line()) is not None:
            if line.strip():
                sample.append(line)
    if not sample:
        raise ImportSourceError(str(path), "has a column line but no data rows")
    first_rows = numeric_rows(path, sample, 2, len(COLUMNS), sep=",")
    if side not in ("left", "right"):
        raise ImportSourceError(str(path), f"the stappone export does not say which foot sole_id "
                                f"{first_rows[0, 0]:g} is: give --side left or --side right")
    steps = np.diff(first_rows[:, 1])
    period_s = float(np.median(steps[steps > 0])) / 1000.0 if np.any(steps > 0) else 0.0
    if not 1e-3 <= period_s <= 1.0:
        raise ImportSourceError(str(path), f"time stamps step by {period_s * 1000:g} ms (implausible)")
    t0_ms = float(first_rows[0, 1])
    L = float(foot_length_mm) if foot_length_mm else 260.0
    layout = placeholder_layout(12, L)
    attrs = {"device_model": "stappone", "source_sole_id": f"{first_rows[0, 0]:g}",
             "layout_assumption": "stappone publishes no cell positions: placeholder layout unknown-12 (geometry "
                                  "unknown; no centre of pressure or regions)",
             "source_pressure_units": "raw (not documented by the vendor)"}
    foot = ImportedFoot(side, np.zeros(0), np.zeros((0, 12), np.float32), "raw", round(1.0 / period_s, 3), layout,
                        [], attrs)
    imu_parts: list[np.ndarray] = []

    def chunks() -> Iterator[dict[str, tuple[np.ndarray, np.ndarray]]]:
        times = TimeChecker(path, period_s, [foot], "stappone export")
        with LineReader(path) as reader:
            reader.next_line()
            for first, block in reader.chunks():
                while block and not block[-1].strip() and reader.at_last_line():
                    block.pop()
                rows = numeric_rows(path, block, first, len(COLUMNS), sep=",", last_chunk=reader.at_last_line())
                ids = np.unique(rows[:, 0])
                if ids.size > 1 or ids[0] != first_rows[0, 0]:
                    k = int(np.argmax(rows[:, 0] != first_rows[0, 0]))
                    raise ImportSourceError(str(path), f"line {first + k}: sole_id {rows[k, 0]:g} differs from the "
                                            f"first row's {first_rows[0, 0]:g}: one sole per file")
                t = times.check((rows[:, 1] - t0_ms) / 1000.0, first)
                values = rows[:, _PRESSURE].astype(np.float32)
                corrupt = rows[:, -1] != 0
                values[corrupt] = np.nan
                for a, b in runs_of(corrupt):
                    foot.gaps.append(Gap(t[a], t[b], int(b - a + 1), GapCause.INVALID_SAMPLES,
                                         "stappone 'corrupt' flag: samples stored as NaN"))
                imu_parts.append(rows[:, _IMU])
                yield {side: (t, values)}
        times.finish()
        imu = np.concatenate(imu_parts)
        foot.extras["imu_raw"] = (imu, {"columns": ",".join(COLUMNS[_IMU]), "units": "raw (not documented)",
                                        "source": "stappone insole IMU", "note": f"rows match /{side}/time_s"})
        foot.attrs["invalid_samples"] = int(sum(g.n_frames for g in foot.gaps if g.cause is GapCause.INVALID_SAMPLES))

    start = _dt.datetime.fromtimestamp(t0_ms / 1000.0, _dt.UTC).isoformat(timespec="milliseconds")
    root = {"source_start_utc": start.replace("+00:00", "Z"), "source_timestamp_first_ms": f"{t0_ms:.0f}"}
    md = SessionMetadata(notes=f"stappone export, sole_id {first_rows[0, 0]:g} ({side}, given by the user)")
    assumptions = [attrs["layout_assumption"], f"side {side}: given by the user (the export does not say)",
                   "pressure channels stored raw, as exported"]
    return ImportedRecording("stappone", path, [], {side: foot}, md, assumptions, root, {}, chunks)
