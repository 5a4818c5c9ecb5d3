"""Analysis, interpretation, reports, exports and the nightly batch for insole sessions.

``pipeline`` reads session files through :mod:`insole.session`; ``insole`` never imports ``pipeline``.

The entry points of the Python API are available as ``pipeline.NAME`` and load on first use:
:func:`analyze_session` with :class:`AnalysisParams` (returns the typed :class:`AnalysisResult`), :func:`write_report`,
:func:`write_c3d` and :func:`write_tables`. See ``docs/python-api.md``.
"""

from __future__ import annotations

from insole import __version__ as __version__  # re-exported
from insole.lazy_exports import lazy_exports

#: Public names available as ``pipeline.NAME`` -> the module that defines them.
__getattr__, __all__ = lazy_exports(__name__, {
    "analyze_session": "pipeline.analysis",
    "AnalysisParams": "pipeline.analysis",
    "AnalysisResult": "pipeline.analysis",
    "write_report": "pipeline.report",
    "write_c3d": "pipeline.export",
    "write_tables": "pipeline.export",
    "PipelineError": "pipeline.errors",
}, eager=('__version__',))
