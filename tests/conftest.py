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


@pytest.fixture(scope="session")
def simulated_cohort(session_factory):
    """``simulated_cohort(sensors)``: the cohort of simulated healthy walkers of :mod:`pipeline.norms.simulated`
    (the mechanism of cohort positions on a device without real reference data, never a clinical reference),
    built from sessions cached by ``session_factory``."""
    from pipeline.norms import simulated
    from pipeline.norms.build import build_cohort

    cache: dict[int, object] = {}

    def make(sensors: int = 16):
        if sensors not in cache:
            files = [session_factory("neutral", simulated.DURATION_S, simulated.FIRST_SEED + k, sensors=sensors,
                                     device_params=simulated.walker_params(walker))
                     for k, walker in enumerate(simulated.WALKERS)]
            cache[sensors] = build_cohort(files, name=simulated.cohort_name(sensors),
                                          description=simulated.DESCRIPTION, dataset="insole simulator")
        return cache[sensors]

    return make


@pytest.fixture(scope="session")
def batch_bases(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The base sessions of the small batch inboxes (``tests/batch_inbox.make_bases``, 10 s each), simulated once.

    Inboxes are made of copies of these (:func:`batch_inbox.variant`); the bases themselves are only read.
    """
    from batch_inbox import make_bases

    return make_bases(tmp_path_factory.mktemp("batch-bases"), duration_s=10)
