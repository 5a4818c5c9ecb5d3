"""Tolerant access to the analysis metrics dict (see notes/analysis-contract.md).

Every field of the contract may be absent (older analysis versions, one foot only, a failed computation): these
helpers return None instead of raising, so the report can say "not available".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

SIDES = ("left", "right")


def dig(obj: Any, *keys: str | int) -> Any:
    """Follow ``keys`` through nested mappings/sequences; None as soon as one is missing."""
    for key in keys:
        if isinstance(obj, Mapping):
            obj = obj.get(key)
        elif isinstance(obj, (list, tuple)) and isinstance(key, int) and -len(obj) <= key < len(obj):
            obj = obj[key]
        else:
            return None
        if obj is None:
            return None
    return obj


def number(value: Any) -> float | None:
    """A finite float, or None (for None, NaN, inf, strings, bools)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def summary(metrics: Mapping[str, Any], side: str, name: str) -> dict[str, Any] | None:
    """The summary object ``metrics[side][name]`` normalised: numbers finite or None, ``ci95`` a pair or None.

    Returns None when the metric is absent or has no central value.
    """
    raw = dig(metrics, side, name)
    if not isinstance(raw, Mapping):
        return None
    ci = raw.get("ci95")
    ci_pair = None
    if isinstance(ci, (list, tuple)) and len(ci) == 2:
        lo, hi = number(ci[0]), number(ci[1])
        if lo is not None and hi is not None:
            ci_pair = (lo, hi)
    out = {
        "median": number(raw.get("median")),
        "mean": number(raw.get("mean")),
        "sd": number(raw.get("sd")),
        "n": int(raw["n"]) if number(raw.get("n")) is not None else None,
        "cv_pct": number(raw.get("cv_pct")),
        "ci95": ci_pair,
        "units": str(raw["units"]) if raw.get("units") is not None else None,
        "method": str(raw["method"]) if raw.get("method") is not None else None,
    }
    if out["median"] is None and out["mean"] is None:
        return None
    return out


def central(s: Mapping[str, Any] | None) -> float | None:
    """The mean of a summary, else its median."""
    if not s:
        return None
    return s["mean"] if s.get("mean") is not None else s.get("median")
