"""Exports to the tools labs already use: C3D for motion-capture software, tidy CSV / Parquet for R and pandas.

The exports live in ``pipeline/`` because they carry the analysis' gait events and step table beside the frames.

Modules
-------
``signals``   per-frame total force and centre of pressure of a foot, from the session (streamed)
``c3d_file``  :func:`write_c3d` (ezc3d): force and CoP as analog channels, events in the EVENT group
``tables``    :func:`write_tables`: long-format frames, cells and steps as CSV or Parquet
``command``   the ``insole export`` command group
"""

from pipeline.export.c3d_file import C3D_EVENT_LABELS, write_c3d
from pipeline.export.signals import FootSignals, foot_signals
from pipeline.export.tables import write_tables

__all__ = ["C3D_EVENT_LABELS", "FootSignals", "foot_signals", "write_c3d", "write_tables"]
