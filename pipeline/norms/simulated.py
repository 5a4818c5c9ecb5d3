"""A reference cohort of simulated healthy walkers: how cohort positions work on an insole with no real reference.

The simulated insole has no real healthy recordings, so no real cohort covers it. ``insole demo`` and the tests
build this one instead, from ten simulated walkers whose medio-lateral loading, left-right stance and force
balance vary a little around the neutral profile (deterministic: the same cohort in every run). Its name says it
is simulated, and it is never a clinical reference: a position in it shows the mechanism, not where a person
stands among people.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.norms.build import build_cohort
from pipeline.norms.cohort import Cohort

#: The walkers' deviations from the neutral profile (``sim://`` URL parameters); every walker's insoles carry an
#: IMU, so that gait speed and stride length have a reference too.
WALKERS: tuple[dict[str, float], ...] = tuple(
    {"medial_shift": ms, "stance_scale_right": st, "peak_scale_right": pk, "speed_m_s": v, "imu": 1}
    for ms, st, pk, v in zip((-0.016, -0.012, -0.008, -0.004, 0.0, 0.004, 0.008, 0.012, 0.016, 0.002),
                             (1.008, 0.992, 1.004, 0.996, 1.0, 1.006, 0.994, 1.002, 0.998, 1.0),
                             (0.98, 1.02, 0.99, 1.01, 1.0, 0.985, 1.015, 0.995, 1.005, 1.0),
                             (1.22, 1.38, 1.26, 1.34, 1.30, 1.18, 1.42, 1.28, 1.32, 1.30), strict=True)
)
#: Length and first seed of the walkers' recordings.
DURATION_S, FIRST_SEED = 40.0, 100
DESCRIPTION = ("ten simulated healthy walkers (neutral profile with small medio-lateral, stance, force and speed "
               "differences; insoles with an IMU); shows how positions work, not a clinical reference")


def cohort_name(sensors: int) -> str:
    """The name shown beside every position in the simulated cohort."""
    return f"simulated walkers, not a clinical reference ({sensors} cells)"


def walker_params(walker: dict[str, float]) -> str:
    """``sim://`` query text of one walker."""
    return "&".join(f"{key}={value:g}" for key, value in walker.items())


def simulated_cohort(folder: Path, *, sensors: int = 16) -> Cohort:
    """Record the walkers through the real simulator and recorder into ``folder`` and build their cohort."""
    from insole.simulator.session import simulate_session

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for k, walker in enumerate(WALKERS):
        path = folder / f"walker{k + 1:02d}.h5"
        simulate_session(path, profile="neutral", duration_s=DURATION_S, seed=FIRST_SEED + k, sensors=sensors,
                         device_params=walker_params(walker), overwrite=True,
                         metadata={"subject_id": f"SIM-walker-{k + 1:02d}"})
        files.append(path)
    return build_cohort(files, name=cohort_name(sensors), description=DESCRIPTION, dataset="insole simulator")
