"""Summary statistics of per-step values: median, mean, SD, CV, 95 % CI of the mean, and n, as a typed Metric.

Variability is reported as SD and CV (= SD / mean x 100, only for ratio-scale quantities with a positive mean);
for reference, stride-time CV of healthy young adults is 1.3 +- 0.1 % (Hausdorff et al. 1999). The CI is the
Student-t interval of the mean (:func:`pipeline.statistics.mean_ci95_of`). Every summary carries its n, unit and
method text; a metric without usable values is still returned, with its status and the reason.
"""

from __future__ import annotations

import numpy as np

from pipeline.analysis.metric_catalogue import MetricSpec
from pipeline.analysis.result import Metric, MetricStatus, finite
from pipeline.statistics import mean_ci95_of

NO_STEPS = "no usable steps"


def summarize(spec: MetricSpec, unit: str, method: str, values: np.ndarray, *, empty_reason: str = NO_STEPS) -> Metric:
    """The :class:`Metric` of the finite entries of ``values`` (``not_computed`` with ``empty_reason`` if none)."""
    x = np.asarray(values, float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return unavailable(spec, unit, method, MetricStatus.NOT_COMPUTED, empty_reason)
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else None
    ci = mean_ci95_of(mean, sd, n) if sd is not None else None  # the mean and SD above, not computed again
    return Metric(
        name=spec.name, label=spec.label, unit=unit, method=method, n=n, median=float(np.median(x)), mean=mean,
        sd=finite(sd), cv_pct=finite(100.0 * sd / mean) if sd is not None and spec.ratio_scale and mean > 0 else None,
        ci95=ci if ci is not None and all(np.isfinite(ci)) else None,
    )


def unavailable(spec: MetricSpec, unit: str, method: str, status: MetricStatus, reason: str) -> Metric:
    """A metric that is not applicable or could not be computed, with the reason."""
    return Metric(name=spec.name, label=spec.label, unit=unit, method=method, status=status, reason=reason)
