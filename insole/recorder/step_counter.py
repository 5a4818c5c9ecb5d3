"""The live step counter of the recording view: rising crossings of 30 % of the running peak load."""

from __future__ import annotations

import numpy as np

from insole.recorder.stats import DeviceStats

#: A step starts when the load rises above this share of the running peak, and ends below the lower share.
STEP_ON_SHARE = 0.3
STEP_OFF_SHARE = 0.1
#: Decay of the running peak per batch, so that a single spike does not mask the steps after it.
PEAK_DECAY = 0.999


class LiveStepCounter:
    """Counts steps of one insole with hysteresis, batch by batch (for the live view, not for analysis)."""

    def __init__(self) -> None:
        self._loaded = False
        self._force_max = 0.0

    def update(self, st: DeviceStats, pressure: np.ndarray, area_mm2: np.ndarray | None) -> None:
        """Count the steps in ``pressure`` (n, n_sensors) into ``st.steps``; set ``latest_force/pressure``.

        ``area_mm2`` turns kPa into newtons; None sums the values as they are (raw counts).
        """
        force = (
            np.nansum(pressure * area_mm2[None, :], axis=1) / 1000.0
            if area_mm2 is not None
            else np.nansum(pressure, axis=1)
        )
        st.latest_pressure = pressure[-1]
        st.latest_force = float(force[-1])
        self._force_max = max(self._force_max * PEAK_DECAY, float(np.max(force)))
        hi, lo = STEP_ON_SHARE * self._force_max, STEP_OFF_SHARE * self._force_max
        loaded = self._loaded
        for f in force[(force > hi) | (force < lo)]:  # only samples outside the hysteresis band matter
            if not loaded and f > hi:
                loaded = True
                st.steps += 1
            elif loaded and f < lo:
                loaded = False
        self._loaded = loaded
