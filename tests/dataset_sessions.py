"""Build in-memory sessions from the real datasets in ``shared/datasets``, for validation tests only.

These readers are deliberately minimal and live in the tests: the official importers are another issue's work.
They read the data as published (``wfdb`` for gaitndd, plain text for gaitpdb and Moticon) and build
:class:`insole.session.Session` objects. The Moticon step columns (vendor events) are returned separately and
never given to the analysis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from insole.layouts import SensorLayout, builtin_layout
from insole.session import FootData, Session, SessionMetadata

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"

FOOT_LENGTH_MM = 260.0


def _session(name: str, feet: dict[str, FootData], body_mass_kg: float | None = None) -> Session:
    md = SessionMetadata(subject_id=name, body_mass_kg=body_mass_kg)
    return Session(path=Path(name), attrs={"source": "imported"}, metadata=md, feet=feet)


def gaitndd_session(record: str) -> Session:
    """One gaitndd record: one FSR per foot, 300 Hz, 12-bit counts (two's complement turned into 0..4095).

    The WFDB invalid-sample code (-2048) becomes NaN.
    """
    import wfdb

    rec = wfdb.rdrecord(str(DATASETS / "gaitndd" / record), physical=False)
    d = rec.d_signal.astype(np.float32)
    fs = float(rec.fs)
    t = np.arange(len(d)) / fs
    feet = {}
    layout = SensorLayout("gaitndd-fsr", np.array([0.5 * FOOT_LENGTH_MM]), np.array([0.0]), np.array([1.0]),
                          FOOT_LENGTH_MM)
    for i, name in enumerate(rec.sig_name):
        side = "left" if "left" in name else "right"
        x = d[:, i : i + 1].copy()
        x[x == -2048] = np.nan
        feet[side] = FootData(side=side, time_s=t, pressure=x + 2048.0, units="raw", sampling_rate_hz=fs,
                              layout=layout)
    return _session(f"gaitndd/{record}", feet)


def gaitndd_records() -> list[str]:
    return (DATASETS / "gaitndd" / "RECORDS").read_text().split()


def _gaitpdb_layout(side: str) -> SensorLayout:
    """The 8 gaitpdb sensors (format.txt coordinates) in the foot frame: Y -800..800 -> 10..90 % of foot length,
    medial positive, 1000 coordinate units = 0.15 x foot length; each cell's area is nominal (forces are in N)."""
    xy = np.array([(-500, -800), (-700, -400), (-300, -400), (-700, 0), (-300, 0), (-700, 400), (-300, 400),
                   (-500, 800)], float)
    x = (xy[:, 1] + 1000.0) / 2000.0 * FOOT_LENGTH_MM
    y = (xy[:, 0] + 500.0) * 0.15 * FOOT_LENGTH_MM / 1000.0  # left foot: X = -300 is medial
    return SensorLayout(f"gaitpdb-8-{side}", x, y, np.full(8, 300.0), FOOT_LENGTH_MM)


def gaitpdb_session(name: str) -> Session:
    """One gaitpdb walk: 8 force sensors per foot in newtons at 100 Hz."""
    data = np.loadtxt(DATASETS / "gaitpdb" / f"{name}.txt")
    t = data[:, 0]
    fs = 100.0
    feet = {
        "left": FootData("left", t, data[:, 1:9].astype(np.float32), "N", fs, _gaitpdb_layout("left")),
        "right": FootData("right", t, data[:, 9:17].astype(np.float32), "N", fs, _gaitpdb_layout("right")),
    }
    return _session(f"gaitpdb/{name}", feet)


def _num(text: str) -> float:
    try:
        return float(text)
    except ValueError:  # empty cells (insole not yet streaming) and event labels
        return np.nan


def moticon_session(path: Path) -> tuple[Session, dict[str, dict[str, np.ndarray]]]:
    """A Moticon OpenGo text export: 16 cells per foot (N/cm^2 -> kPa x 10) at 100 Hz.

    Returns the session (pressure only, on the generic 16-cell layout: Moticon publishes no coordinates, so CoP
    measures of this session are approximate) and the vendor events ``{side: {"ic_s", "to_s"}}`` read from the
    step columns, which the analysis never sees.
    """
    header = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.startswith("# time")][0]
    cols = header[2:].split("\t")
    rows = [ln.split("\t") for ln in path.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    width = len(cols)
    table = np.array([[_num(v) for v in (r + [""] * width)[:width]] for r in rows])
    t = table[:, 0]
    feet: dict[str, FootData] = {}
    events: dict[str, dict[str, np.ndarray]] = {}
    layout = builtin_layout(16, FOOT_LENGTH_MM)
    for side in ("left", "right"):
        idx = [cols.index(f"{side} pressure {i}[N/cm²]") for i in range(1, 17)]
        p = (table[:, idx] * 10.0).astype(np.float32)
        feet[side] = FootData(side, t, p, "kPa", 100.0, layout)
        ev_col = [c for c in cols if c.lower().startswith(f"{side} steps") or c.lower() == f"{side} events[]"]
        codes = table[:, cols.index(ev_col[0])] if ev_col else np.full(len(t), np.nan)
        ic_code, to_code = (11.0, 15.0) if side == "left" else (21.0, 25.0)
        events[side] = {"ic_s": t[codes == ic_code], "to_s": t[codes == to_code]}
    return _session(f"moticon/{path.name}", feet), events
