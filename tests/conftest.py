"""Shared fixtures: real session files made by the real simulator and recorder."""

from __future__ import annotations

from pathlib import Path

import pytest

from insole.simulator.session import simulate_session

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATASETS = SHARED / "datasets"


@pytest.fixture(scope="session")
def neutral_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 s of neutral walking, 2 x 16 cells at 100 Hz, seed 1."""
    path = tmp_path_factory.mktemp("sessions") / "neutral.h5"
    simulate_session(path, profile="neutral", duration_s=60, seed=1)
    return path


@pytest.fixture(scope="session")
def session_factory(tmp_path_factory: pytest.TempPathFactory):
    """Make (and cache) simulated sessions: ``session_factory(profile, duration_s=60, seed=1, **kw)``."""
    cache: dict[tuple, Path] = {}
    root = tmp_path_factory.mktemp("profiles")

    def make(profile: str, duration_s: float = 60.0, seed: int = 1, **kwargs) -> Path:
        key = (profile, duration_s, seed, tuple(sorted(kwargs.items())))
        if key not in cache:
            path = root / f"{profile}-{len(cache)}.h5"
            simulate_session(path, profile=profile, duration_s=duration_s, seed=seed, **kwargs)
            cache[key] = path
        return cache[key]

    return make


@pytest.fixture(scope="session")
def result_factory(session_factory, simulated_cohort):
    """Real analysis results of simulated sessions, optionally altered before the analysis (cached).

    ``result_factory(profile, duration_s=60, seed=1, *, left_only_s=None, right_shift_s=None, metadata=None,
    mirrored=None, cohort="simulated", **simulate_kwargs)``: ``left_only_s`` keeps only the first seconds of the
    left foot (a one-sided quality failure), ``right_shift_s`` shifts the right foot's clock (unaligned insoles),
    ``metadata`` replaces metadata fields, ``mirrored`` names a foot whose insole reads mirrored medio-laterally.
    The alterations act on the recorded file's frames; the analysis is the real one.
    ``cohort="simulated"`` positions the metrics in the simulated test cohort of the same cell count
    (:func:`simulated_cohort`); ``"auto"`` or None are passed on to :func:`~pipeline.analysis.analyze_session`.
    """
    from session_alterations import altered

    from pipeline.analysis import analyze_session

    cache: dict[tuple, object] = {}

    def make(profile: str = "neutral", duration_s: float = 60.0, seed: int = 1, *, left_only_s: float | None = None,
             right_shift_s: float | None = None, metadata: dict | None = None, mirrored: str | None = None,
             cohort: str | None = "simulated", **kwargs):
        key = (profile, duration_s, seed, left_only_s, right_shift_s, tuple(sorted((metadata or {}).items())),
               mirrored, cohort, tuple(sorted(kwargs.items())))
        if key not in cache:
            path = session_factory(profile, duration_s, seed, **kwargs)
            chosen = simulated_cohort(kwargs.get("sensors", 16)) if cohort == "simulated" else cohort
            if left_only_s is None and right_shift_s is None and not metadata and mirrored is None:
                cache[key] = analyze_session(path, cohort=chosen)
            else:
                cache[key] = analyze_session(altered(path, left_only_s=left_only_s, right_shift_s=right_shift_s,
                                                     metadata=metadata, mirrored=mirrored), cohort=chosen)
        return cache[key]

    return make


#: The healthy spread of the simulated reference walkers (deterministic, so a cohort is the same in every run):
#: medio-lateral loading, left-right stance and force balance vary a little around the neutral profile.
COHORT_WALKERS = [
    {"medial_shift": ms, "stance_scale_right": st, "peak_scale_right": pk}
    for ms, st, pk in zip((-0.016, -0.012, -0.008, -0.004, 0.0, 0.004, 0.008, 0.012, 0.016, 0.002),
                          (1.008, 0.992, 1.004, 0.996, 1.0, 1.006, 0.994, 1.002, 0.998, 1.0),
                          (0.98, 1.02, 0.99, 1.01, 1.0, 0.985, 1.015, 0.995, 1.005, 1.0), strict=True)
]


@pytest.fixture(scope="session")
def simulated_cohort(session_factory):
    """``simulated_cohort(sensors)``: a reference cohort of 10 simulated healthy walkers (a test cohort only: the
    mechanism of cohort positions on a device without real reference data, never a clinical reference)."""
    from pipeline.norms.build import build_cohort

    cache: dict[int, object] = {}

    def make(sensors: int = 16):
        if sensors not in cache:
            files = []
            for k, walker in enumerate(COHORT_WALKERS):
                params = "&".join(f"{key}={value:g}" for key, value in walker.items())
                files.append(session_factory("neutral", 40.0, 100 + k, sensors=sensors, device_params=params))
            cache[sensors] = build_cohort(files, name=f"simulated walkers ({sensors} cells)",
                                          description="test cohort of simulated healthy walkers")
        return cache[sensors]

    return make
