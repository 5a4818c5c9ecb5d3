"""C3D export: per-foot total force and centre of pressure as analog channels, gait events in the EVENT group.

Written with **ezc3d** (``pip install 'open-insole[c3d]'``). Why ezc3d rather than the pure-Python ``c3d``
package: both install from wheels here, but ezc3d writes the standard ``EVENT`` group itself (``add_event``:
``USED``, ``CONTEXTS``, ``LABELS``, ``DESCRIPTIONS``, ``SUBJECTS``, ``TIMES`` as minutes + seconds, ``ICON_IDS``,
``GENERIC_FLAGS``) and float analog data with ``UNITS``, and it is the reader/writer of the biomechanics tools
(OpenSim, Biorbd, MATLAB); the ``c3d`` package writes events only through hand-packed parameter arrays. The tests
read every file back with both: ezc3d itself, and ``c3d`` as an independent implementation.

Layout of the file:

* one analog frame per point frame, at the session's sampling rate (the highest of the two feet); frame ``k`` is
  session time ``k / rate`` s, so an event's C3D time equals its session time;
* channels ``L_Force``, ``L_CoP_AP``, ``L_CoP_ML`` (and ``R_...``), units ``N`` and ``mm`` (foot frame: AP from the
  back of the heel, ML medial positive); a raw (uncalibrated) foot gives ``L_Sum`` in ``raw`` and no CoP; a foot
  whose geometry is unknown gives no CoP. Each foot is interpolated linearly onto the common grid; where it has no
  data (before its first frame, in gaps) and where the CoP is undefined (unloaded foot) the channel holds 0, as
  force-plate channels do;
* events ``Foot Strike`` (initial contact) and ``Foot Off`` (toe off) with contexts ``Left`` / ``Right`` from the
  analysis' step table (every detected stance; the description says whether the step is in the summaries);
* ``SUBJECTS:NAMES`` and a group ``INSOLE`` with the subject metadata, the units, the source file and its hash.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from insole.session import open_session
from pipeline.errors import ExportError
from pipeline.export.signals import FootSignals, foot_signals, on_grid

#: The standard labels of gait events (Vicon Nexus, Visual3D, Mokka): (initial contact, toe off).
C3D_EVENT_LABELS = ("Foot Strike", "Foot Off")
_CONTEXT = {"left": "Left", "right": "Right"}


def _ezc3d():  # type: ignore[no-untyped-def]
    try:
        import ezc3d
    except ImportError:
        raise ExportError("C3D export needs ezc3d: pip install 'open-insole[c3d]'") from None
    return ezc3d


def c3d_channels(signals: dict[str, FootSignals]) -> tuple[float, np.ndarray, list[tuple[str, str, str, np.ndarray]]]:
    """The common grid and the analog channels ``(label, units, description, values)`` of the feet.

    Returns
    -------
    rate_hz, grid_s, channels
    """
    rate = max(s.sampling_rate_hz for s in signals.values())
    end = max(float(s.time_s[-1]) for s in signals.values() if s.time_s.size)
    grid = np.arange(int(math.floor(end * rate + 1e-6)) + 1) / rate
    channels = []
    for side in ("left", "right"):
        if side not in signals:
            continue
        s = signals[side]
        prefix = side[0].upper()
        max_step = 1.5 / s.sampling_rate_hz
        name = "Force" if s.load_units == "N" else "Sum"
        what = "total force" if s.load_units == "N" else "sum of the raw counts (uncalibrated)"
        channels.append((f"{prefix}_{name}", s.load_units, f"{side} insole {what}",
                         on_grid(s.load, s.time_s, grid, max_step)))
        if s.cop_x_mm is not None and s.cop_y_mm is not None:
            channels.append((f"{prefix}_CoP_AP", "mm", f"{side} CoP, anterior from the back of the heel",
                             on_grid(s.cop_x_mm, s.time_s, grid, max_step)))
            channels.append((f"{prefix}_CoP_ML", "mm", f"{side} CoP, medial positive from the insole axis",
                             on_grid(s.cop_y_mm, s.time_s, grid, max_step)))
    return rate, grid, [(lab, u, d, np.nan_to_num(v, nan=0.0)) for lab, u, d, v in channels]


def write_c3d(session: str | os.PathLike[str], output: str | os.PathLike[str], steps: pd.DataFrame | None = None,
              *, overwrite: bool = False) -> Path:
    """Write ``session`` as a C3D file.

    Parameters
    ----------
    session : path
        Session file (HDF5, :mod:`insole.session`).
    output : path
        The ``.c3d`` file (written under a temporary name, then renamed).
    steps : pandas.DataFrame or None
        The analysis' step table (``AnalysisResult.steps``: ``side``, ``step``, ``ic_s``, ``to_s``, ``valid``,
        ``exclusion``); None writes no events.
    overwrite : bool

    Raises
    ------
    ExportError
        ezc3d missing, the output exists, or the session has no frames.
    """
    ezc3d = _ezc3d()
    out = Path(output)
    if out.exists() and not overwrite:
        raise ExportError(f"{out} already exists; choose another name or pass --overwrite")
    with open_session(session) as reader:
        signals = {side: foot_signals(reader, side) for side in reader.sides}
        md, attrs = reader.metadata, reader.attrs
    if not any(s.time_s.size for s in signals.values()):
        raise ExportError(f"{session}: no frames to export")
    rate, grid, channels = c3d_channels({k: v for k, v in signals.items() if v.time_s.size})
    subject = md.subject_id or ""
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [rate]
    c["parameters"]["ANALOG"]["RATE"]["value"] = [rate]
    c["parameters"]["ANALOG"]["LABELS"]["value"] = [ch[0] for ch in channels]
    c["parameters"]["ANALOG"]["UNITS"]["value"] = [ch[1] for ch in channels]
    c["parameters"]["ANALOG"]["DESCRIPTIONS"]["value"] = [ch[2] for ch in channels]
    c["data"]["points"] = np.zeros((4, 0, grid.size))
    c["data"]["analogs"] = np.array([ch[3] for ch in channels])[None, :, :]
    if steps is not None:
        for ev in c3d_events(steps):
            c.add_event(time=[ev["minutes"], ev["seconds"]], context=ev["context"], label=ev["label"],
                        description=ev["description"], subject=subject)
    c.add_parameter("SUBJECTS", "NAMES", [subject])
    c.add_parameter("SUBJECTS", "USES_PREFIXES", [0])
    for key, value in {
        "SUBJECT_ID": subject, "CONDITION": md.condition or "", "NOTES": (md.notes or "")[:255],
        "SOURCE_FILE": Path(session).name, "SOURCE": str(attrs.get("source", "")),
        "SOURCE_FORMAT": str(attrs.get("source_format", "")), "SOURCE_SHA256": str(attrs.get("source_sha256", "")),
        "SOFTWARE": str(attrs.get("software", "")),
    }.items():
        c.add_parameter("INSOLE", key, [value or "-"])
    for key, value in (("BODY_MASS_KG", md.body_mass_kg), ("FOOT_LENGTH_MM", md.foot_length_mm),
                       ("SHOE_SIZE_EU", md.shoe_size_eu)):
        c.add_parameter("INSOLE", key, [float(value) if value is not None else -1.0])
    partial = out.with_name(out.stem + ".partial.c3d")  # ezc3d insists on the .c3d suffix
    try:
        c.write(str(partial))
        os.replace(partial, out)
    except (OSError, RuntimeError) as exc:
        partial.unlink(missing_ok=True)
        raise ExportError(f"{out}: cannot be written ({exc})") from None
    return out


def c3d_events(steps: pd.DataFrame) -> list[dict]:
    """Foot Strike / Foot Off events of every stance in ``steps``, in time order (time split into min + s)."""
    events = []
    for row in steps.itertuples(index=False):
        state = "valid" if bool(row.valid) else f"excluded: {row.exclusion}"
        for label, t in zip(C3D_EVENT_LABELS, (row.ic_s, row.to_s), strict=True):
            if not np.isfinite(t):
                continue
            minutes = math.floor(t / 60.0)
            events.append({"time_s": float(t), "minutes": float(minutes), "seconds": float(t - 60.0 * minutes),
                           "context": _CONTEXT[row.side], "label": label,
                           "description": f"insole {row.side} step {int(row.step)} ({state})"})
    return sorted(events, key=lambda e: e["time_s"])
