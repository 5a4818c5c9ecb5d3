"""Gait analysis of insole sessions: events, strides, phases, force curves, CoP, regions, indices, symmetry."""

from pipeline.analysis.session_analysis import AnalysisParams, AnalysisResult, analyze_session

__all__ = ["AnalysisParams", "AnalysisResult", "analyze_session"]
