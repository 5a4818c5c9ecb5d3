"""The still moment of each stance: where the foot-mounted IMU may assume zero velocity.

The pressure tells when the foot is on the ground (initial contact to toe-off), but a foot on the ground still
rolls over the heel and the toes; it is truly still only around mid-stance. Within each stance the window of
``window_samples`` samples with the least angular-rate energy (mean squared rate) is taken as its zero-velocity
phase; this is the angular-rate energy detector of Skog et al. (2010), searched only inside the stances the
pressure gives instead of thresholded over the whole signal. A stance whose quietest window still turns faster
than a limit has no usable still phase.

References
----------
Skog I, Händel P, Nilsson J-O, Rantakokko J (2010). Zero-velocity detection: an algorithm evaluation. IEEE Trans
Biomed Eng 57(11):2657-2666.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StillPhases:
    """The still window of each stance (index ``-1`` and NaN values where a stance has none).

    Attributes
    ----------
    start, stop : numpy.ndarray of int, shape (n_stances,)
        Sample range ``[start, stop)`` of the window.
    centre : numpy.ndarray of int
        The zero-velocity sample (middle of the window).
    gyr_mean_rad_s, acc_mean_m_s2 : numpy.ndarray, shape (n_stances, 3)
        Mean angular rate and specific force over the window.
    rate_rad_s : numpy.ndarray, shape (n_stances,)
        Root-mean-square angular rate in the window (after removing ``bias``).
    """

    start: np.ndarray
    stop: np.ndarray
    centre: np.ndarray
    gyr_mean_rad_s: np.ndarray
    acc_mean_m_s2: np.ndarray
    rate_rad_s: np.ndarray

    @property
    def found(self) -> np.ndarray:
        """Stances with a window."""
        return self.start >= 0

    @classmethod
    def none(cls, n_stances: int) -> StillPhases:
        """No window for any of ``n_stances`` stances (a foot without IMU)."""
        idx = np.full(n_stances, -1, np.int64)
        nan3 = np.full((n_stances, 3), np.nan)
        return cls(idx, idx.copy(), idx.copy(), nan3, nan3.copy(), np.full(n_stances, np.nan))


def stance_index_ranges(time_s: np.ndarray, ic_s: np.ndarray, to_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First sample at or after each initial contact and one past the last sample at or before each toe-off."""
    return np.searchsorted(time_s, ic_s, side="left"), np.searchsorted(time_s, to_s, side="right")


def find_still_phases(gyr_rad_s: np.ndarray, acc_m_s2: np.ndarray, first: np.ndarray, stop: np.ndarray,
                      window_samples: int, bias_rad_s: np.ndarray | None = None) -> StillPhases:
    """The quietest window of ``window_samples`` samples inside each stance ``[first[k], stop[k])``.

    Parameters
    ----------
    gyr_rad_s, acc_m_s2 : numpy.ndarray, shape (n, 3)
        Angular rate and specific force; rows with NaN are never part of a window.
    first, stop : numpy.ndarray of int, shape (n_stances,)
        Sample range of each stance.
    window_samples : int
        Length of the window (at least 2).
    bias_rad_s : numpy.ndarray, shape (3,), optional
        Gyroscope bias removed before measuring the energy.
    """
    n = len(gyr_rad_s)
    w = max(2, int(window_samples))
    rate = gyr_rad_s - (0.0 if bias_rad_s is None else bias_rad_s)
    energy = np.sum(rate.astype(np.float64) ** 2, axis=1)
    bad = ~np.isfinite(energy) | ~np.all(np.isfinite(acc_m_s2), axis=1)
    energy = np.where(bad, 0.0, energy)
    c_e = np.concatenate([[0.0], np.cumsum(energy)])
    c_bad = np.concatenate([[0], np.cumsum(bad)])
    n_win = max(n - w + 1, 0)
    mean_e = (c_e[w:] - c_e[:-w]) / w if n_win else np.zeros(0)
    mean_e = np.where((c_bad[w:] - c_bad[:-w]) > 0, np.inf, mean_e) if n_win else mean_e
    k = len(first)
    start = np.full(k, -1, np.int64)
    for i, (a, b) in enumerate(zip(first, stop, strict=True)):  # one small search per stance
        b_last = min(int(b), n) - w  # last window start inside the stance
        if b_last < a:
            continue
        j = int(a) + int(np.argmin(mean_e[int(a) : b_last + 1]))
        if np.isfinite(mean_e[j]):
            start[i] = j
    found = start >= 0
    stop_w = np.where(found, start + w, -1)
    centre = np.where(found, start + w // 2, -1)
    gyr_mean = np.full((k, 3), np.nan)
    acc_mean = np.full((k, 3), np.nan)
    rms = np.full(k, np.nan)
    if found.any():
        idx = start[found][:, None] + np.arange(w)[None, :]
        gyr_mean[found] = gyr_rad_s[idx].mean(axis=1)
        acc_mean[found] = acc_m_s2[idx].mean(axis=1)
        rms[found] = np.sqrt(mean_e[start[found]])
    return StillPhases(start, stop_w, centre, gyr_mean, acc_mean, rms)
