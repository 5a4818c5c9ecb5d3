"""Simulated insoles that walk with configurable patterns and know their own ground truth.

The names below are loaded on first use, so that ``insole.simulator.profiles`` (the profile names the command
line offers) can be imported without the gait model and its numpy/scipy.
"""

from __future__ import annotations

from insole.lazy_exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "SimulatedWalk": "insole.simulator.gait_model",
    "simulate_walk": "insole.simulator.gait_model",
    "PROFILES": "insole.simulator.profiles",
    "GaitProfile": "insole.simulator.profiles",
    "profile_from_query": "insole.simulator.profiles",
})
