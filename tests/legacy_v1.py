"""Version-1 session files, written with raw h5py exactly as insole 0.1's writer laid them out (test fixture).

Format version 1 stored the gaps of a foot as ``gaps`` (n, 2) start/end seconds plus prose ``gap_causes``, and had
no ``layout_geometry`` attribute. Readers must still open such files and migrate them in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np

from insole.layouts import SensorLayout, builtin_layout

#: Every prose form the version-1 writers produced (recorder and importers), with what it must migrate to.
V1_CAUSES: list[tuple[str, str, int, str]] = [
    ("sequence gap: 13 frames", "sequence_gap", 13, ""),
    ("outage (link lost): 50 frames", "outage", 50, "link lost"),
    ("buffer overflow: 10 frames", "buffer_overflow", 10, "dropped by the host: writing fell behind"),
    ("device restarted (sequence reset): ~98 frames", "device_restart", 98,
     "sequence and device clock reset; frame count estimated from the time gap"),
    ("outage (port gone); device restarted (sequence reset): ~77 frames", "device_restart", 77,
     "sequence and device clock reset; frame count estimated from the time gap; during outage (port gone)"),
    ("device lost (went silent)", "device_lost", -1, "went silent"),
    ("WFDB invalid-sample code -2048: 4 sample(s)", "invalid_samples", 4, "WFDB invalid-sample code -2048"),
    ("WFDB invalid-sample code -2048: 2 sample(s) next to ADC-floor values (probably clipping while unloaded)",
     "invalid_samples", 2,
     "WFDB invalid-sample code -2048 next to ADC-floor values (probably clipping while unloaded)"),
    ("csv: left cells empty (2 row(s))", "no_data", 2, "csv: left cells empty"),
    ("vendor export: right insole had no data (6 row(s) empty)", "no_data", 6,
     "vendor export: right insole had no data"),
    ("vendor export: 1 row(s) missing", "missing_rows", 1, "vendor export: rows missing"),
    ("the dog ate it: 5 frames", "other", -1, "the dog ate it: 5 frames"),
]


def write_v1_session(
    path: Path,
    *,
    n_frames: int = 300,
    causes: Sequence[str] = tuple(c[0] for c in V1_CAUSES),
    layout: SensorLayout | None = None,
    units: str = "kPa",
    sides: Sequence[str] = ("left", "right"),
) -> dict[str, np.ndarray]:
    """Write a complete version-1 session and return its pressure per side.

    Each side gets one gap per text in ``causes``, at ``(k, k + 0.05)`` seconds.
    """
    layout = layout or builtin_layout(16)
    rng = np.random.default_rng(7)
    out = {}
    with h5py.File(path, "w", libver="earliest") as f:
        f.attrs.update(format="insole-session", format_version=1, created_utc="2026-01-02T03:04:05Z",
                       software="insole 0.1.0", complete=True, source="recorded")
        s = f.create_group("session")
        s.attrs.update(subject_id="V1", body_mass_kg=70.0, foot_length_mm=np.nan, shoe_size_eu=np.nan,
                       condition="shoes", notes="")
        for side in sides:
            g = f.create_group(side)
            m = layout.n_sensors
            p = rng.uniform(0, 300, (n_frames, m)).astype(np.float32)
            g.create_dataset("pressure", data=p, maxshape=(None, m), chunks=(64, m), compression="gzip")
            g["pressure"].attrs["units"] = units
            t = np.arange(n_frames) / 100.0
            g.create_dataset("time_s", data=t, maxshape=(None,), chunks=(256,))
            g.create_dataset("sequence", data=np.arange(n_frames, dtype=np.uint32), maxshape=(None,), chunks=(256,))
            g.create_dataset("device_time_us", data=(t * 1e6).astype(np.uint64), maxshape=(None,), chunks=(256,))
            g.create_dataset("saturated", data=np.zeros(n_frames, np.uint8), maxshape=(None,), chunks=(256,))
            g["sensors/x_mm"] = np.asarray(layout.x_mm, np.float64)
            g["sensors/y_mm"] = np.asarray(layout.y_mm, np.float64)
            g["sensors/area_mm2"] = np.asarray(layout.area_mm2, np.float64)
            k = np.arange(len(causes), dtype=np.float64)
            g.create_dataset("gaps", data=np.c_[k, k + 0.05].reshape(-1, 2), maxshape=(None, 2), chunks=(256, 2))
            g.create_dataset("gap_causes", data=np.array(list(causes), dtype=object), dtype=h5py.string_dtype(),
                             maxshape=(None,), chunks=(256,))
            g.attrs.update(units=units, sampling_rate_hz=100.0, layout_id=layout.layout_id,
                           foot_length_mm=float(layout.foot_length_mm), device_model="v1-model",
                           device_serial_number="SN-V1", frames_lost=13)
            out[side] = p
    return out
