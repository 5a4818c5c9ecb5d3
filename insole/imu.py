"""Inertial samples of an insole and what is known about its sensor: units, axes, ranges.

Every source that has an inertial measurement unit (IMU) hands its samples on in one convention, the **foot sensor
frame**, the same for both feet (the frame of gaitmap's "foot sensor frame"):

* ``x`` anterior: along the insole, from the heel towards the toes;
* ``y`` to the walker's **left** (so lateral on the left foot, medial on the right foot);
* ``z`` up, normal to the insole: a foot standing flat measures ``+9.81 m/s²`` on ``z``;
* right-handed, and the gyroscope follows the right-hand rule about each axis: a foot pitching toe-up (dorsiflexion)
  turns negatively about ``y``.

Accelerations are specific force in m/s² (what an accelerometer measures: gravity reaction included), angular rates
in rad/s. The left foot is **not** mirrored: mirroring (``y -> -y``) makes a left-handed frame, in which rotations
cannot be computed; anatomical (medial/lateral) naming is left to the analysis (see ``docs/imu.md``). A source that
cannot say how its sensor sits in the insole marks its samples ``frame = "sensor"`` (device axes): they are kept,
but no gait figure is computed from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Standard gravity (m/s²), for unit conversion only (the analysis measures local gravity at rest).
STANDARD_GRAVITY_M_S2 = 9.80665
#: Degrees per second to radians per second.
RAD_S_PER_DPS = math.pi / 180.0
#: What the axes of :data:`FRAME_FOOT` samples are, as stored in session files.
FOOT_AXES = "x anterior (heel to toes), y left, z up; right-handed; same frame for both feet"
#: Frames an IMU block may be in.
FRAME_FOOT = "foot"
FRAME_SENSOR = "sensor"
FRAMES = (FRAME_FOOT, FRAME_SENSOR)


@dataclass(frozen=True)
class ImuInfo:
    """What is known about one insole's IMU.

    Attributes
    ----------
    sampling_rate_hz : float
        Nominal rate of the IMU samples.
    acc_range_m_s2 : float
        Full scale of the accelerometer (it saturates at ``±acc_range_m_s2``); NaN when not known.
    gyr_range_rad_s : float
        Full scale of the gyroscope; NaN when not known.
    frame : {"foot", "sensor"}
        ``"foot"``: samples are in the foot sensor frame (module docstring); ``"sensor"``: in the device's own axes,
        mounting unknown.
    calibrated : bool or None
        The source says biases and scale factors were corrected (True), were not (False), or does not say (None).
    description : str
        Sensor, mounting and how the axes were established (free text, stored in the session file).
    """

    sampling_rate_hz: float
    acc_range_m_s2: float = math.nan
    gyr_range_rad_s: float = math.nan
    frame: str = FRAME_FOOT
    calibrated: bool | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.frame not in FRAMES:
            raise ValueError(f"ImuInfo.frame must be one of {FRAMES}, got {self.frame!r}")
        if not self.sampling_rate_hz > 0:
            raise ValueError(f"ImuInfo.sampling_rate_hz must be positive, got {self.sampling_rate_hz}")


@dataclass(slots=True)
class ImuSamples:
    """IMU values of consecutive samples, time on axis 0 (one row per frame of a :class:`~insole.frames.FrameBatch`).

    Attributes
    ----------
    acc_m_s2 : numpy.ndarray of float32, shape (n, 3)
        Specific force; NaN rows where a frame carried no IMU values.
    gyr_rad_s : numpy.ndarray of float32, shape (n, 3)
        Angular rate.
    """

    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray

    def __post_init__(self) -> None:
        self.acc_m_s2 = np.asarray(self.acc_m_s2, np.float32)
        self.gyr_rad_s = np.asarray(self.gyr_rad_s, np.float32)
        n = len(self.acc_m_s2)
        if self.acc_m_s2.shape != (n, 3) or self.gyr_rad_s.shape != (n, 3):
            raise ValueError(f"ImuSamples needs acc_m_s2 and gyr_rad_s of shape (n, 3), got {self.acc_m_s2.shape} "
                             f"and {self.gyr_rad_s.shape}")

    def __len__(self) -> int:
        return len(self.acc_m_s2)

    @classmethod
    def missing(cls, n: int) -> ImuSamples:
        """``n`` rows of NaN (frames that arrived without IMU values)."""
        return cls(np.full((n, 3), np.nan, np.float32), np.full((n, 3), np.nan, np.float32))

    def select(self, keep: np.ndarray) -> ImuSamples:
        """The rows where ``keep`` is True (or the rows indexed by ``keep``)."""
        return ImuSamples(self.acc_m_s2[keep], self.gyr_rad_s[keep])

    @classmethod
    def concatenate(cls, parts: list[ImuSamples | None], lengths: list[int]) -> ImuSamples | None:
        """Join the IMU blocks of consecutive batches of ``lengths`` rows; a batch without one gives NaN rows.

        Returns None when no part has IMU values.
        """
        if all(p is None for p in parts):
            return None
        filled = [p if p is not None else cls.missing(n) for p, n in zip(parts, lengths, strict=True)]
        return cls(np.concatenate([p.acc_m_s2 for p in filled]), np.concatenate([p.gyr_rad_s for p in filled]))


def axes_matrix(axes: tuple[int, int, int]) -> np.ndarray:
    """Matrix taking sensor-axis vectors to the foot sensor frame, from signed axis codes.

    ``axes[k]`` names the sensor axis that points along foot axis ``k`` (x, y, z): ``+1``/``-1`` = sensor ``+x``/
    ``-x``, ``±2`` = ``y``, ``±3`` = ``z``. ``(1, 2, 3)`` is a sensor mounted in the foot frame; ``(1, -2, -3)`` one
    mounted upside down.

    Raises
    ------
    ValueError
        Not a signed permutation of the three axes, or a reflection (a sensor's frame is right-handed, so the
        mapping must be a rotation: an odd number of sign flips or an odd permutation alone is impossible).
    """
    codes = [int(a) for a in axes]
    if sorted(abs(a) for a in codes) != [1, 2, 3]:
        raise ValueError(f"IMU axes {tuple(codes)} must name each sensor axis once (±1, ±2, ±3)")
    m = np.zeros((3, 3))
    for k, a in enumerate(codes):
        m[k, abs(a) - 1] = 1.0 if a > 0 else -1.0
    if np.linalg.det(m) < 0:
        raise ValueError(f"IMU axes {tuple(codes)} describe a mirror image, not a rotation of the sensor: a "
                         "right-handed sensor cannot be mounted that way (check the signs)")
    return m
