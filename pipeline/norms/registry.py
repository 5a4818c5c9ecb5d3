"""The reference cohorts shipped with the software, and how a session finds the one for its insoles.

Shipped cohorts are built from the real healthy controls in ``../shared/datasets`` by ``tools/build_cohorts.py``
(which calls :func:`pipeline.norms.build.build_cohort`); a test rebuilds them and compares. A session uses the
cohort whose device family covers its insoles (layout id, cell count, stored units); there is none for most
devices, and then every cohort-based label and flag is "not assessed", with that reason.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from pipeline.norms.cohort import Cohort, load_cohort

#: File names of the shipped cohorts (package data in ``pipeline/norms/cohorts/``).
SHIPPED = ("gaitndd-controls.json", "gaitpdb-controls.json")


@cache
def shipped_cohorts() -> tuple[Cohort, ...]:
    """Every shipped cohort (read once)."""
    folder = resources.files("pipeline.norms") / "cohorts"
    out = []
    for name in SHIPPED:
        ref = folder / name
        if ref.is_file():
            with resources.as_file(ref) as path:
                out.append(load_cohort(path))
    return tuple(out)


def cohort_for(layout_id: str, n_sensors: int, units: str) -> Cohort | None:
    """The shipped cohort covering insoles with this layout, cell count and units (None when there is none)."""
    return next((c for c in shipped_cohorts() if c.device.covers(layout_id, n_sensors, units)), None)
