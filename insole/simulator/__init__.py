"""Simulated insoles that walk with configurable patterns and know their own ground truth.

The names below are loaded on first use, so that ``insole.simulator.profiles`` (the profile names the command
line offers) can be imported without the gait model and its numpy/scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "SimulatedWalk": "insole.simulator.gait_model",
    "simulate_walk": "insole.simulator.gait_model",
    "PROFILES": "insole.simulator.profiles",
    "GaitProfile": "insole.simulator.profiles",
    "profile_from_query": "insole.simulator.profiles",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'insole.simulator' has no attribute {name!r}")
