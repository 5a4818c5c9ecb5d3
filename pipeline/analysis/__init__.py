"""Gait analysis of insole sessions: events, strides, phases, force curves, CoP, regions, indices, symmetry.

:func:`analyze_session` returns an :class:`AnalysisResult`: the typed summary ``result.metrics``
(:class:`SessionMetrics`, the content of ``metrics.json``), the per-step table
``result.table`` (numpy columns, :class:`StepTable`; ``result.steps`` is the same as a pandas DataFrame) and the
curves.
"""

from pipeline.analysis.result import AnalysisResult, Metric, MetricStatus, SessionMetrics
from pipeline.analysis.session_analysis import AnalysisParams, analyze_session
from pipeline.analysis.step_table import StepTable

__all__ = ["AnalysisParams", "AnalysisResult", "Metric", "MetricStatus", "SessionMetrics", "StepTable",
           "analyze_session"]
