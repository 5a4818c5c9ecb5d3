"""The batch's own error: the night cannot run at all (every other problem is one upload's, and is reported)."""

from __future__ import annotations

from pipeline.errors import PipelineError


class BatchError(PipelineError):
    """The night cannot run (bad folders, output folder not writable, another batch running, damaged ledger that
    cannot be moved aside, ...); the message says what and where, in one line."""


__all__ = ["BatchError"]
