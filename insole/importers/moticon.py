"""Importer for Moticon OpenGo text exports (16 pressure cells + IMU per foot, 100 Hz).

Format (Moticon ``moticon-opengo`` sample exports): ``# key: value`` header lines, the last of which lists the
column names with units in brackets; tab-separated rows, first column time (s). Per foot, in order: ``pressure
1..16 [N/cm²]``, ``acceleration X/Y/Z [g]``, ``angular X/Y/Z [dps]``, ``total force [N]``, ``center of pressure X/Y
[-0.5...+0.5]``. Optional trailing columns: ``right steps[]`` / ``left steps[]`` (vendor step events: 11/15 = left
initial contact / toe off, 21/25 = right), or ``Right/Left Events label[]`` + ``Right/Left Events[]`` (markers set
by hand in the vendor software) and ``left/right COP velocity[1]``.

What is stored:

* pressure in kPa (1 N/cm² = 10 kPa, exact for the 0.25 N/cm² steps of the export);
* rows where a foot's cells are empty (insole not streaming) are left out of that foot and every run of them is
  recorded as a gap; rows missing from the export altogether (a time step of 2+ sampling periods) are gaps too;
* the IMU as the session's IMU block ``/<side>/imu`` (one sample per frame): acceleration X/Y/Z from g to m/s²
  (x 9.80665), angular rate X/Y/Z from deg/s to rad/s. Moticon's axes are the foot sensor frame of
  :mod:`insole.imu` on both insoles (read from the exports: at rest gravity is on +Z, 0.96-0.99 g, with an 11-degree
  toe-down tilt of the insole in the shoe; from toe-off to contact both feet turn 50-100 degrees negatively about Y,
  i.e. Y points left; Z up and Y left make X anterior). Ranges from the exports' resolution: 1/2048 g steps are a
  16-bit ±16 g accelerometer, 0.07 deg/s steps the 70 mdeg/s-per-count ±2000 deg/s setting of common MEMS
  gyroscopes (full scale 32768 x 0.07 = 2294 deg/s);
* the vendor's own total force and COP as ``/vendor_signals/<side>/...``, and vendor events as
  ``/vendor_events/<side>/ic_s`` and ``to_s`` (or ``marker_s`` + ``marker_code`` for hand-set markers).
  Both groups carry ``vendor_computed = True`` and a note that analysis must not use them.

Geometry. Moticon publishes no cell coordinates. The cell centres below were derived from the exports themselves:
the vendor's total force is, to rounding, a fixed weighted sum of the 16 pressures (force = sum(p_i * a_i),
correlation 1.0000), and its COP is the force-weighted mean of fixed cell positions; least-squares fits over the
three 2023 walks (both feet, ~5,000 frames) give the same areas a_i (±0.1 cm²) and normalised positions (±0.003)
for every file and both feet, so the layout is mirrored left/right and size-independent in COP units, as the
dataset README says. Cells 1-4 come out at the heel, 5-8 midfoot, 9-16 forefoot and toes (14 = hallux), agreeing
with the README. COP Y is positive medially (the hallux cell and the first-metatarsal cell have the largest Y).
Positions are mapped into the foot frame as x = (X + 0.5) L, y = Y x 0.38 L (insole width taken as the generic
forefoot width, 0.38 L); L is the user's ``--foot-length-mm`` or 260 mm. Areas are taken from the fit of the file
itself when its total-force column allows (else the size-7 values below, scaled by nothing).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from insole.errors import ImportSourceError
from insole.importers.recording import (
    ImportedFoot,
    ImportedImu,
    ImportedRecording,
    check_file,
    choose_foot_length,
    is_number,
    runs_of,
)
from insole.imu import FOOT_AXES, RAD_S_PER_DPS, STANDARD_GRAVITY_M_S2, ImuInfo
from insole.layouts import FOREFOOT_WIDTH_RATIO, SensorLayout
from insole.session import Gap, GapCause, SessionMetadata

SAMPLING_RATE_HZ = 100.0
KPA_PER_N_CM2 = 10.0
#: Full scales of the OpenGo IMU, from the resolution of the exports (1/2048 g and 0.07 deg/s per count, 16 bits).
ACC_RANGE_G = 16.0
GYR_RANGE_DPS = 32768 * 0.07
#: Normalised cell centres (X along the foot, Y medial positive, both in [-0.5, 0.5]) fitted from the 2023 exports.
CELL_XY = np.array([
    (-0.403, 0.109), (-0.417, -0.166), (-0.266, 0.089), (-0.287, -0.225),
    (-0.125, 0.061), (-0.152, -0.273), (0.080, 0.242), (-0.012, -0.392),
    (0.256, 0.274), (0.241, 0.064), (0.226, -0.116), (0.207, -0.295),
    (0.170, -0.462), (0.413, 0.178), (0.408, -0.082), (0.360, -0.313),
])
#: Cell areas (cm²) of insole size 7 from the same fit.
CELL_AREA_CM2_SIZE7 = np.array([12.37, 11.05, 13.36, 13.12, 13.13, 13.03, 17.93, 18.22,
                                15.66, 12.42, 12.51, 12.67, 10.23, 10.13, 12.50, 6.48])
LEFT_IC, LEFT_TO, RIGHT_IC, RIGHT_TO = 11, 15, 21, 25
_PER_FOOT = (
    [f"pressure {i}" for i in range(1, 17)]
    + ["acceleration X", "acceleration Y", "acceleration Z", "angular X", "angular Y", "angular Z",
       "total force", "center of pressure X", "center of pressure Y"]
)
_OPTIONAL = {"right steps", "left steps", "Right Events label", "Right Events", "Left Events label", "Left Events",
             "left COP velocity", "right COP velocity"}
_UNIT = re.compile(r"^(?P<name>.*?)\s*\[(?P<unit>[^\]]*)\]\s*$")


def sniff(path: Path) -> bool:
    """True when the file has ``#`` header lines ending with a ``# time`` column line naming pressure cells."""
    try:
        head = path.read_bytes()[:20000].decode("utf-8", errors="replace")
    except OSError:
        return False
    return "# time\t" in head and "pressure 1[" in head


def _split_columns(path: Path, line: str) -> list[tuple[str, str]]:
    cols = []
    for cell in line[1:].strip().split("\t"):
        m = _UNIT.match(cell.strip())
        cols.append((m.group("name"), m.group("unit")) if m else (cell.strip(), ""))
    return cols


def read(src: str | Path, *, foot_length_mm: float | None = None) -> ImportedRecording:
    """Read a Moticon OpenGo text export; ``foot_length_mm`` (the user's value) scales the layout, else 260 mm."""
    path = check_file(Path(src), "Moticon export")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (Windows editors) is not part of the first line
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = text.replace("\r\n", "\n").split("\n")
    header = [ln for ln in lines[:50] if ln.startswith("#")]
    col_line = next((ln for ln in header if ln[1:].strip().startswith("time")), None)
    if col_line is None:
        raise ImportSourceError(
            str(path), "has no '# time ...' column line: not a Moticon OpenGo text export "
            "(gaitpdb walks are 'insole import gaitpdb', WFDB records 'insole import gaitndd')"
        )
    info = {}
    for ln in header:
        if ln is not col_line and ":" in ln:
            key, _, value = ln[1:].partition(":")
            info[key.strip()] = value.strip()
    cols = _split_columns(path, col_line)
    names = [n for n, _ in cols]
    index = {n: i for i, n in enumerate(names)}
    expected = {f"{s} {c}" for s in ("left", "right") for c in _PER_FOOT}
    unknown = [n for n in names[1:] if n not in expected and n not in _OPTIONAL]
    if unknown:
        raise ImportSourceError(str(path), f"unknown column(s) {', '.join(map(repr, unknown[:5]))}; "
                                "this importer knows the OpenGo export columns (pressure 1..16, IMU, force, COP, "
                                "steps/events)")
    missing = [n for n in sorted(expected) if n not in index]
    sides_present = [s for s in ("left", "right") if f"{s} pressure 1" in index]
    missing = [n for n in missing if n.split()[0] in sides_present]
    if missing or not sides_present:
        raise ImportSourceError(str(path), f"missing column(s) {', '.join(missing[:5]) or 'pressure 1..16'}")
    for s in sides_present:
        unit = cols[index[f"{s} pressure 1"]][1]
        if unit.replace("²", "2") != "N/cm2":
            raise ImportSourceError(str(path), f"'{s} pressure' is in {unit!r}; expected N/cm²")
    body = [ln for ln in lines if ln and not ln.startswith("#")]
    if not body:
        raise ImportSourceError(str(path), "has a header but no data rows")
    width = len(names)
    counts = np.array([ln.count("\t") + 1 for ln in body])
    bad = np.flatnonzero(counts != width)
    if bad.size:
        i = int(bad[0])
        hint = " (truncated file?)" if i == len(body) - 1 else ""
        raise ImportSourceError(str(path), f"data row {i + 1} has {counts[i]} columns, the header names {width}{hint}")
    cells = np.array([ln.split("\t") for ln in body], dtype=object)
    empty = cells == ""

    def numbers(col: int, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        try:
            return np.array(cells[rows, col], dtype=np.float64)
        except ValueError:
            sub = cells[rows, col]
            k = next(i for i, c in enumerate(sub) if not is_number(c))
            row = int(np.arange(len(cells))[rows][k]) + 1
            raise ImportSourceError(
                str(path), f"data row {row}, column {names[col]!r}: {str(sub[k])[:40]!r} is not a number"
            ) from None

    if empty[:, 0].any():
        raise ImportSourceError(str(path), f"data row {int(np.argmax(empty[:, 0])) + 1} has no time")
    t = numbers(0)
    dt = np.diff(t)
    if not np.all(dt > 0):
        raise ImportSourceError(str(path), f"time does not increase at data row {int(np.argmax(dt <= 0)) + 2}")
    period = 1.0 / SAMPLING_RATE_HZ
    skipped = np.flatnonzero(dt > 1.5 * period)
    L, length_note, _ = choose_foot_length(foot_length_mm)
    size = info.get("Size", "")
    feet: dict[str, ImportedFoot] = {}
    vendor_signals: dict[str, tuple[np.ndarray, dict]] = {}
    fits = []
    for side in sides_present:
        first = index[f"{side} pressure 1"]
        block = slice(first, first + len(_PER_FOOT))
        blank = empty[:, block]
        partial = blank.any(axis=1) & ~blank.all(axis=1)
        if partial.any():
            i = int(np.argmax(partial))
            raise ImportSourceError(str(path), f"data row {i + 1}: some {side} cells are empty and some are not")
        has = ~blank.all(axis=1)
        if not has.any():
            continue
        rows = np.flatnonzero(has)
        p_ncm2 = np.column_stack([numbers(first + k, rows) for k in range(16)])
        imu = np.column_stack([numbers(first + 16 + k, rows) for k in range(6)])
        force = numbers(first + 22, rows)
        cop = np.column_stack([numbers(first + 23, rows), numbers(first + 24, rows)])
        area_cm2, r, fitted = _fit_areas(p_ncm2, force)
        fits.append(f"{side}: r={r:.5f}" + ("" if fitted else " (fit rejected, size-7 areas used)"))
        layout = SensorLayout("moticon-opengo-16", (CELL_XY[:, 0] + 0.5) * L, CELL_XY[:, 1] * FOREFOOT_WIDTH_RATIO * L,
                              area_cm2 * 100.0, float(L))
        gaps = [Gap(float(t[a]), float(t[b]), int(b - a + 1), GapCause.NO_DATA,
                    f"vendor export: {side} insole had no data") for a, b in runs_of(~has)]
        # like the recorder's gaps: times of the first and the last missing frame
        gaps += [Gap(float(t[i] + period), float(t[i + 1] - period), int(round(dt[i] / period)) - 1,
                     GapCause.MISSING_ROWS, "vendor export: rows missing") for i in skipped]
        gaps.sort(key=lambda g: (g.start_s, g.end_s))
        serial = re.search(rf"{side.capitalize()}\s+(SN\w+)", info.get("Sensor insoles", ""))
        attrs = {
            "device_model": "Moticon OpenGo",
            "device_serial_number": serial.group(1) if serial else "",
            "device_insole_size": size,
            "layout_assumption": "Moticon publishes no cell geometry: centres and areas derived by least squares from "
                                 "the vendor's total force and COP columns (see insole/importers/moticon.py); insole "
                                 f"width 0.38 L; {length_note}",
            "source_pressure_units": "N/cm2 (x10 -> kPa)",
        }
        imu_info = ImuInfo(
            sampling_rate_hz=SAMPLING_RATE_HZ, acc_range_m_s2=ACC_RANGE_G * STANDARD_GRAVITY_M_S2,
            gyr_range_rad_s=GYR_RANGE_DPS * RAD_S_PER_DPS, frame="foot", calibrated=None,
            description=f"Moticon OpenGo insole IMU; {FOOT_AXES}: Moticon's own axes (gravity on +Z at rest, toe-up "
                        "swing about -Y on both insoles); ranges from the export resolution (1/2048 g, 0.07 deg/s)",
        )
        feet[side] = ImportedFoot(
            side, t[rows], (p_ncm2 * KPA_PER_N_CM2).astype(np.float32), "kPa", SAMPLING_RATE_HZ, layout, gaps, attrs,
            imu=ImportedImu(imu_info, t[rows], imu[:, :3] * STANDARD_GRAVITY_M_S2, imu[:, 3:] * RAD_S_PER_DPS,
                            frame_aligned=True),
        )
        vendor_signals[side] = (np.column_stack([t[rows], force, cop]), {
            "columns": "time_s,total_force_n,cop_x_norm,cop_y_norm",
            "note": "computed by the vendor software; kept for reference, not used by analysis",
        })
    if not feet:
        raise ImportSourceError(str(path), "no row has pressure data for either insole")
    groups: dict[str, dict] = {}
    note = "vendor-computed, kept for comparison only; the analysis never reads this group"
    groups["vendor_signals"] = {"attrs": {"vendor_computed": True, "note": note}, "datasets": {}}
    for side, (arr, attrs) in vendor_signals.items():
        groups[f"vendor_signals/{side}"] = {"datasets": {"samples": (arr, attrs)}}
    events = _vendor_events(path, names, index, cells, empty, t, numbers)
    if events:
        groups["vendor_events"] = {"attrs": {"vendor_computed": True, "note": note, "kind": events.pop("_kind")}}
        for side, ds in events.items():
            groups[f"vendor_events/{side}"] = {"datasets": ds}
    # the export names the recording, not the person: subject_id stays unknown unless the user gives it
    md = SessionMetadata(notes="Moticon OpenGo export; " + "; ".join(f"{k}: {v}" for k, v in info.items() if v))
    root = {f"source_header_{re.sub(r'[^a-z0-9]+', '_', k.lower()).strip('_')}": v for k, v in info.items()}
    root["source_area_fit"] = "; ".join(fits)
    assumptions = [feet[s].attrs["layout_assumption"] for s in feet][:1] + [
        "pressure: N/cm2 x 10 = kPa; empty cells = no data from that insole (frames absent, gap recorded)",
        "IMU: g x 9.80665 = m/s2, deg/s -> rad/s; Moticon's X/Y/Z taken as the foot sensor frame (x anterior, y left, "
        "z up) on both insoles, as the exports show (gravity on +Z at rest, toe-up swing about -Y); ranges +-16 g and "
        "+-2294 deg/s inferred from the export resolution"]
    return ImportedRecording("moticon", path, [], feet, md, assumptions, root, groups)


def _fit_areas(p_ncm2: np.ndarray, force_n: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """Cell areas (cm²) from force = p @ a by least squares; fall back to the size-7 table if the fit is poor."""
    loaded = p_ncm2.sum(axis=1) > 0
    if loaded.sum() >= 100:
        a, *_ = np.linalg.lstsq(p_ncm2[loaded], force_n[loaded], rcond=None)
        r = float(np.corrcoef(p_ncm2[loaded] @ a, force_n[loaded])[0, 1])
        if r > 0.999 and np.all(a > 0.5):
            return np.round(a, 2), r, True
        return CELL_AREA_CM2_SIZE7, r, False
    return CELL_AREA_CM2_SIZE7, float("nan"), False


def _vendor_events(path, names, index, cells, empty, t, numbers) -> dict:
    out: dict = {}
    if "left steps" in index or "right steps" in index:
        out["_kind"] = ("vendor step events from the 'left/right steps' columns: 11/15 = left initial contact/toe "
                        "off, 21/25 = right initial contact/toe off")
        for side, col, ic_code, to_code in (("left", "left steps", LEFT_IC, LEFT_TO),
                                            ("right", "right steps", RIGHT_IC, RIGHT_TO)):
            if col not in index:
                continue
            j = index[col]
            rows = np.flatnonzero(~empty[:, j])
            codes = numbers(j, rows)
            given = ~np.isnan(codes)  # an empty or NaN cell: the vendor has no event for that frame
            rows, codes = rows[given], codes[given]
            unknown = sorted(set(codes.tolist()) - {ic_code, to_code})
            if unknown:
                shown = ", ".join(f"{c:g}" for c in unknown[:5])
                raise ImportSourceError(str(path), f"column {col!r} has event code(s) {shown}; expected "
                                        f"{ic_code} (initial contact) and {to_code} (toe off)")
            out[side] = {
                "ic_s": (t[rows[codes == ic_code]], {"units": "s", "event": "initial contact", "code": ic_code}),
                "to_s": (t[rows[codes == to_code]], {"units": "s", "event": "toe off", "code": to_code}),
            }
    elif "Left Events" in index or "Right Events" in index:
        out["_kind"] = ("markers set by hand in the vendor software ('Left/Right Events' columns); their codes are "
                        "not documented (in the sample capture code 1 falls at load onset, code 2 near mid-stance)")
        for side, col in (("left", "Left Events"), ("right", "Right Events")):
            if col not in index:
                continue
            j = index[col]
            rows = np.flatnonzero(~empty[:, j])
            codes = numbers(j, rows)
            given = ~np.isnan(codes)  # an empty or NaN cell: no marker at that frame
            out[side] = {
                "marker_s": (t[rows[given]], {"units": "s"}),
                "marker_code": (codes[given].astype(np.int32), {"note": "code from the export"}),
            }
    return out
