"""Exceptions raised by :mod:`pipeline`; all derive from :class:`PipelineError`."""

from __future__ import annotations


class PipelineError(Exception):
    """Root of every error raised on purpose by the ``pipeline`` package."""


class AnalysisError(PipelineError):
    """A session cannot be analysed (no walking, too little data, unusable units); the message says why."""


class ReportError(PipelineError):
    """A report cannot be written."""


class ExportError(PipelineError):
    """A session cannot be exported (missing optional library, nothing to export, unwritable output)."""
