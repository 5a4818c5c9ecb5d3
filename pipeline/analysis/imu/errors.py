"""The exception of the IMU stride analysis (a :class:`~pipeline.errors.PipelineError`).

A sensor or stride that cannot give figures is not an error: it is a result with a reason
(:class:`~pipeline.analysis.imu.results.ImuReason`). Errors are for arguments a caller got wrong.
"""

from __future__ import annotations

from pipeline.errors import PipelineError


class ImuAnalysisError(PipelineError, ValueError):
    """IMU arrays or stances that cannot be analysed as given (shapes, time order); the message says which."""
