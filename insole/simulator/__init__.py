"""Simulated insoles that walk with configurable patterns and know their own ground truth."""

from insole.simulator.gait_model import SimulatedWalk, simulate_walk
from insole.simulator.profiles import PROFILES, GaitProfile, profile_from_query

__all__ = ["PROFILES", "GaitProfile", "SimulatedWalk", "profile_from_query", "simulate_walk"]
