"""Checks of the analysis parameters given to the batch (``--param NAME=VALUE``), before any file is touched.

An out-of-range value would otherwise reach every worker and quarantine every upload of the night as a software
defect (``block_frames=0``, ``cache_mb=nan``) or, worse, report every walk as "no walking" (``block_frames=-5``).
:func:`check_params` checks names, types and ranges once, with a message that names the parameter, shows the
value given and states the allowed range.

The rules live here until :class:`pipeline.analysis.AnalysisParams` checks itself (a ``validate()`` method with the
same rules); :data:`RULES` is written so that it can move there unchanged.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.analysis import AnalysisParams
from pipeline.errors import PipelineError

#: Smallest read block: one HDF5 chunk of the session format (``insole.session.format.CHUNK_FRAMES``); smaller
#: blocks only slow the analysis down.
MIN_BLOCK_FRAMES = 1024
#: Largest read block (16 Mi frames: a whole 24-hour 100 Hz foot), so one block stays within a worker's memory.
MAX_BLOCK_FRAMES = 1 << 24


class ParameterError(PipelineError, ValueError):
    """An analysis parameter is unknown, of the wrong type or out of its allowed range."""


@dataclass(frozen=True)
class Rule:
    """Allowed values of one parameter: ``ok(value, all_params)`` and the range in words."""

    ok: Callable[[Any, dict[str, Any]], bool]
    allowed: str


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _share(x: Any, _p: dict[str, Any]) -> bool:
    return _finite(x) and 0 < x < 1


def _non_negative(x: Any, _p: dict[str, Any]) -> bool:
    return _finite(x) and x >= 0


#: Allowed range of every :class:`~pipeline.analysis.AnalysisParams` field.
RULES: dict[str, Rule] = {
    "on_share": Rule(_share, "a finite share with 0 < on_share < 1"),
    "off_share": Rule(lambda x, p: _share(x, p) and x <= p["on_share"],
                      "a finite share with 0 < off_share <= on_share (the contact ends below where it starts)"),
    "noise_sd_on": Rule(_non_negative, "a finite number of SDs >= 0"),
    "noise_sd_off": Rule(_non_negative, "a finite number of SDs >= 0"),
    "noise_sd_onset": Rule(_non_negative, "a finite number of SDs >= 0"),
    "onset_share": Rule(_share, "a finite share with 0 < onset_share < 1"),
    "baseline_window_s": Rule(lambda x, _p: _finite(x) and x > 0, "a finite duration > 0 s"),
    "merge_gap_s": Rule(_non_negative, "a finite duration >= 0 s"),
    "min_blip_s": Rule(_non_negative, "a finite duration >= 0 s"),
    "max_refine_s": Rule(_non_negative, "a finite duration >= 0 s"),
    "block_frames": Rule(lambda x, _p: isinstance(x, int) and not isinstance(x, bool)
                         and MIN_BLOCK_FRAMES <= x <= MAX_BLOCK_FRAMES,
                         f"a whole number of frames from {MIN_BLOCK_FRAMES} to {MAX_BLOCK_FRAMES}"),
    "cache_mb": Rule(_non_negative, "a finite size in MB >= 0 (0: never keep a foot in memory)"),
    "event_definition": Rule(lambda x, _p: x in ("auto", "threshold", "onset"),
                             "one of 'auto', 'threshold', 'onset'"),
}


def _type_ok(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    return True


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    """Every analysis parameter, defaults filled in, after checking the given ones.

    Parameters
    ----------
    params : dict
        Field names of :class:`~pipeline.analysis.AnalysisParams` and their values.

    Returns
    -------
    dict
        All fields (``dataclasses.asdict`` of the parameters), floats given as whole numbers converted to float.

    Raises
    ------
    ParameterError
        Unknown name, wrong type or value out of range; the message names the parameter, shows the value and
        states the allowed range.
    """
    fields = {f.name: f for f in dataclasses.fields(AnalysisParams)}
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise ParameterError(f"unknown analysis parameter {', '.join(unknown)}; known: {', '.join(fields)}")
    full = dataclasses.asdict(AnalysisParams())
    for name, value in params.items():
        default = full[name]
        if not _type_ok(value, default):
            raise ParameterError(f"analysis parameter {name}={value!r}: needs a {type(default).__name__}"
                                 + (f" ({RULES[name].allowed})" if name in RULES else ""))
        full[name] = float(value) if isinstance(default, float) else value
    for name in params:  # checked after all values are known (off_share depends on on_share)
        rule = RULES.get(name)
        if rule is not None and not rule.ok(full[name], full):
            raise ParameterError(f"analysis parameter {name}={params[name]!r} is out of range: allowed is "
                                 f"{rule.allowed}")
    if "on_share" in params and "off_share" not in params and not RULES["off_share"].ok(full["off_share"], full):
        raise ParameterError(f"analysis parameter on_share={params['on_share']!r} is below off_share="
                             f"{full['off_share']!r}: {RULES['off_share'].allowed}")
    return full


__all__ = ["MAX_BLOCK_FRAMES", "MIN_BLOCK_FRAMES", "RULES", "ParameterError", "Rule", "check_params"]
