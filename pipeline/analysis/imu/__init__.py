"""Stride length and gait speed per stride from the insole's IMU, between the zero-velocity phases of the stances.

Self-contained: pure numpy/scipy over the IMU arrays of one foot and the stance intervals (initial contact and
toe-off times) that the pressure analysis provides. Methods, requirements on the sensor and measured accuracy:
``docs/imu.md``.

Modules
-------
``stride_speed``    :class:`ImuStrideSpeed`, the algorithm (gaitmap-style: parameters in ``__init__``, results in
                    attributes ending in ``_``)
``results``         :class:`ImuReason`, :class:`SensorCheck`, :class:`ImuStrides`, :class:`ImuGaitSummary`
``sensor_checks``   sampling rate, axis convention, gravity, saturation
``still_phases``    the still (zero-velocity) window of each stance
``strapdown``       integration of one stride with tilt and velocity de-drifting
``quaternions``     vectorised unit-quaternion maths
``errors``          :class:`ImuAnalysisError`
"""

from pipeline.analysis.imu.errors import ImuAnalysisError
from pipeline.analysis.imu.results import ImuGaitSummary, ImuReason, ImuStrides, SensorCheck
from pipeline.analysis.imu.strapdown import StrideTrajectory, integrate_stride
from pipeline.analysis.imu.stride_speed import ImuStrideSpeed

__all__ = [
    "ImuAnalysisError",
    "ImuGaitSummary",
    "ImuReason",
    "ImuStrideSpeed",
    "ImuStrides",
    "SensorCheck",
    "StrideTrajectory",
    "integrate_stride",
]
