"""Map a device's clock onto the host's monotonic clock.

Each insole stamps samples with its own crystal clock, which is offset from the host and runs tens of ppm fast or
slow. Transmission only ever *adds* delay, so the smallest ``host - device`` differences are the samples that
crossed the link fastest. :class:`ClockAligner` keeps the minimum of each window of device time and fits
``host_s = a * device_s + b`` through those minima (the lower envelope), dropping windows that sit well above the
line (a robust re-fit). This is the method of the one-way clock-synchronisation literature (e.g. Moon, Skelly &
Towsley 1999, "Estimation and removal of clock skew from network delay measurements", IEEE INFOCOM).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClockFit:
    """``host_s = slope * device_s + offset_s``, with the residual spread of the envelope points.

    Attributes
    ----------
    slope : float
        1 + relative rate error of the device clock (e.g. 1.00003 for a clock 30 ppm slow).
    offset_s : float
    residual_s : float
        Root-mean-square distance of the kept envelope points from the line: the timing uncertainty.
    n_windows : int
        Envelope points behind the fit.
    """

    slope: float
    offset_s: float
    residual_s: float
    n_windows: int

    @property
    def drift_ppm(self) -> float:
        """Device clock rate error in parts per million (host seconds per device second minus one)."""
        return (self.slope - 1.0) * 1e6


class ClockAligner:
    """Running lower-envelope fit of host time against device time.

    Parameters
    ----------
    window_s : float
        Length of device-time windows whose fastest sample forms one envelope point.
    max_windows : int
        Envelope points kept (oldest are thinned by half when exceeded), so memory stays bounded for
        unlimited sessions.
    """

    def __init__(self, window_s: float = 2.0, max_windows: int = 4096) -> None:
        self.window_s = window_s
        self.max_windows = max_windows
        self._dev: list[float] = []
        self._delta: list[float] = []
        self._cur_window: int | None = None
        self._cur_dev = 0.0
        self._cur_delta = np.inf
        self._fit: ClockFit | None = None
        self._t_ref: float | None = None  # device-seconds reference for numerical conditioning

    def update(self, device_time_us: np.ndarray, host_time_s: np.ndarray) -> None:
        """Add samples (device clock in microseconds, host receive time in seconds)."""
        dev_s = np.asarray(device_time_us, np.float64) * 1e-6
        host = np.asarray(host_time_s, np.float64)
        ok = np.isfinite(host)
        dev_s, host = dev_s[ok], host[ok]
        if dev_s.size == 0:
            return
        if self._t_ref is None:
            self._t_ref = float(dev_s[0])
        delta = host - dev_s
        win = np.floor((dev_s - self._t_ref) / self.window_s).astype(np.int64)
        for w in np.unique(win):
            sel = win == w
            i = int(np.argmin(delta[sel]))
            d, t = float(delta[sel][i]), float(dev_s[sel][i])
            if self._cur_window is None or w != self._cur_window:
                if self._cur_window is not None and w < self._cur_window:
                    continue  # out-of-order data for a closed window: ignore
                self._close_window()
                self._cur_window, self._cur_delta, self._cur_dev = int(w), d, t
            elif d < self._cur_delta:
                self._cur_delta, self._cur_dev = d, t
                if len(self._dev) < 3:
                    self._fit = None  # early on, every faster sample matters


    def _close_window(self) -> None:
        if self._cur_window is None:
            return
        self._fit = None  # refit once per window, not per batch
        self._dev.append(self._cur_dev)
        self._delta.append(self._cur_delta)
        if len(self._dev) > self.max_windows:
            # thin the older half so that the span stays covered
            half = len(self._dev) // 2
            self._dev = self._dev[:half:2] + self._dev[half:]
            self._delta = self._delta[:half:2] + self._delta[half:]

    def fit(self) -> ClockFit:
        """Current fit: through the closed windows (and the open one while fewer than three are closed).

        Refitted when a window closes, so its cost does not grow with the batch rate.
        """
        if self._fit is not None:
            return self._fit
        dev = np.array(self._dev + ([self._cur_dev] if self._cur_window is not None else []))
        delta = np.array(self._delta + ([self._cur_delta] if self._cur_window is not None else []))
        if dev.size == 0:
            raise ValueError("no samples yet")
        if dev.size < 3:
            fit = ClockFit(1.0, float(delta.min()), 0.0, int(dev.size))
        else:
            x = dev - dev.mean()
            keep = np.ones(dev.size, bool)
            for _ in range(3):
                k, c = np.polyfit(x[keep], delta[keep], 1)
                resid = delta - (k * x + c)
                mad = np.median(np.abs(resid[keep] - np.median(resid[keep]))) * 1.4826
                new_keep = resid <= max(3.0 * mad, 1e-4)
                if new_keep.sum() < 3 or np.array_equal(new_keep, keep):
                    break
                keep = new_keep
            # shift the line down onto the envelope: no kept point may lie below it
            resid = delta - (k * x + c)
            c += float(resid[keep].min())
            resid = delta - (k * x + c)
            rms = float(np.sqrt(np.mean(resid[keep] ** 2)))
            offset = c - k * dev.mean()
            fit = ClockFit(1.0 + k, float(offset), rms, int(keep.sum()))
        self._fit = fit
        return fit

    def host_time_s(self, device_time_us: np.ndarray) -> np.ndarray:
        """Host monotonic time of device timestamps under the current fit."""
        f = self.fit()
        return f.slope * (np.asarray(device_time_us, np.float64) * 1e-6) + f.offset_s
