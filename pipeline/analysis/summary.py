"""Summary statistics of per-step values: median, mean, SD, CV, 95 % CI of the mean, and n.

Variability is reported as SD and CV (= SD / mean x 100, only for ratio-scale quantities with a positive mean);
for reference, stride-time CV of healthy young adults is 1.3 +- 0.1 % (Hausdorff et al. 1999). The CI is the
Student-t interval of the mean. Every summary carries its n and the method text.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import t as student_t


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def summarize(values: np.ndarray, units: str, method: str, ratio_scale: bool = True) -> dict[str, object]:
    """Summary object of the finite entries of ``values`` (the analysis contract's per-metric object)."""
    x = np.asarray(values, float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    out: dict[str, object] = {"median": None, "mean": None, "sd": None, "n": n, "cv_pct": None,
                              "ci95": [None, None], "units": units, "method": method}
    if n == 0:
        return out
    mean = float(x.mean())
    out["median"] = float(np.median(x))
    out["mean"] = mean
    if n > 1:
        sd = float(x.std(ddof=1))
        out["sd"] = sd
        half = float(student_t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
        out["ci95"] = [_num(mean - half), _num(mean + half)]
        if ratio_scale and mean > 0:
            out["cv_pct"] = 100.0 * sd / mean
    return out
