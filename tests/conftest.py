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
