"""Summarised stance curves of one foot: what the report's curve figures draw, computed once by the analysis.

A day's session has about 80,000 steps per foot. The result used to keep every valid step's 101-point force and
CoP curves (three float32 arrays, about 100 MB per foot at that length) only for four figures, which show a mean,
an SD and at most :data:`~pipeline.analysis.curve_summary.MAX_STEPS_DRAWN` single curves each. It now keeps those:
per curve and per set of steps a :class:`CurveSummary` (built by :mod:`pipeline.analysis.curve_summary`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CurveSummary:
    """One stance-normalised curve (101 points, 0-100 % stance) summarised over a set of steps.

    Attributes
    ----------
    n_steps : int
        Steps in the set.
    mean : numpy.ndarray, shape (101,), float64
        Mean across the steps at each point, NaN ignored; NaN where no step is finite.
    sd : numpy.ndarray, shape (101,), float64
        Sample SD (ddof = 1) across the steps at each point, NaN ignored; NaN where fewer than two steps are finite.
    drawn : numpy.ndarray, shape (n_drawn, 101), float32
        The curves of the steps a figure draws: rows
        :func:`drawn_rows(n_steps) <pipeline.analysis.curve_summary.drawn_rows>` of the set, i.e. at most
        ``MAX_STEPS_DRAWN`` steps evenly spaced over the session, first and last included, in step order.
    """

    n_steps: int
    mean: np.ndarray
    sd: np.ndarray
    drawn: np.ndarray

    @property
    def n_drawn(self) -> int:
        """Number of drawn steps (rows of :attr:`drawn`)."""
        return int(self.drawn.shape[0])


@dataclass(frozen=True)
class StanceCurves:
    """Stance-normalised curves of one foot's valid steps, summarised for the report's figures.

    Each field is a :class:`CurveSummary` of one curve over one set of the valid steps. A step's curve is
    *defined* when it is finite at more than half of its 101 points (the rule the figures always used).

    Attributes
    ----------
    n_steps : int
        Valid steps of the foot.
    force_unit : str
        Unit of the force curves (``BW``, ``N`` or ``counts``).
    force : CurveSummary
        Vertical force over every valid step (the per-step force figure: mean and drawn curves).
    force_defined : CurveSummary
        Vertical force over the valid steps whose force curve is defined (the mean +- SD force-curve figure).
    cop_ap, cop_ml : CurveSummary
        Centre of pressure over the valid steps whose AP gait line is defined (both: the CoP-against-stance
        figure; ``cop_ap`` also the gait-line figure). AP as a share of foot length from the heel, ML as a share of
        forefoot width (medial positive); NaN where undefined (everywhere when the layout cannot give a CoP).
    cop_ml_defined : CurveSummary
        CoP ML over the valid steps whose ML gait line is defined (the gait-line figure). The same object as
        ``cop_ml`` when the two sets of steps are the same, which they are whenever both coordinates come from the
        same loaded frames (always, for the layouts of this package).
    """

    n_steps: int
    force_unit: str
    force: CurveSummary
    force_defined: CurveSummary
    cop_ap: CurveSummary
    cop_ml: CurveSummary
    cop_ml_defined: CurveSummary

    @property
    def stance_pct(self) -> np.ndarray:
        """The stance percentages of the curves' points (101, from 0 to 100)."""
        return np.linspace(0.0, 100.0, self.force.mean.shape[0])
