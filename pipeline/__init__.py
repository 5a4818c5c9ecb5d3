"""Analysis, interpretation, reports, exports and the nightly batch for insole sessions.

``pipeline`` reads session files through :mod:`insole.session`; ``insole`` never imports ``pipeline``.

The entry points of the Python API are available as ``pipeline.NAME`` and load on first use:
:func:`analyze_session` with :class:`AnalysisParams` (returns the typed :class:`AnalysisResult`), :func:`write_report`,
:func:`write_c3d` and :func:`write_tables`. See ``docs/python-api.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

from insole import __version__

#: Public names available as ``pipeline.NAME`` -> the module that defines them.
_LAZY = {
    "analyze_session": "pipeline.analysis",
    "AnalysisParams": "pipeline.analysis",
    "AnalysisResult": "pipeline.analysis",
    "write_report": "pipeline.report",
    "write_c3d": "pipeline.export",
    "write_tables": "pipeline.export",
    "PipelineError": "pipeline.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    """Load the entry points of :data:`_LAZY` on first use."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
