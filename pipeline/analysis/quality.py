"""Quality gates of an analysis: enough strides, synchronised feet, saturation and dropouts.

- Strides per side: at least 30 steady-state strides for stable means (Melvin et al. 2014, in
  ``shared/design/gait-evidence.md``); 10-29 pass with a warning; fewer than 10 fail (summaries are then shown
  but should not be interpreted).
- Sync: walking always shows double support; with both feet recorded, the median double support of paired
  strides must be positive and at least half of the valid strides must pair (contralateral IC at 35-65 % of
  the stride). Otherwise the feet's clocks are probably not aligned.
- Saturation: frames with a saturated cell; above 1 % a warning (peaks are underestimated), above 10 % a failure
  of the force measures.
- Dropouts: share of the recording's time lost in gaps or invalid frames; above 5 % a warning, above 30 % a
  failure.
These limits (except the 30 strides) are our choices, stated here and in every result.
"""

from __future__ import annotations

MIN_STRIDES_STABLE = 30
MIN_STRIDES = 10
SATURATION_WARN_PCT, SATURATION_FAIL_PCT = 1.0, 10.0
DROPOUT_WARN_PCT, DROPOUT_FAIL_PCT = 5.0, 30.0


def quality_report(strides: dict[str, int], saturation_pct: dict[str, float], dropout_pct: dict[str, float],
                   sync: dict[str, object] | None, extra_warnings: list[str]) -> dict[str, object]:
    """The ``quality`` object of the result."""
    warnings = list(extra_warnings)
    failures: list[str] = []
    for side, n in strides.items():
        if n < MIN_STRIDES:
            failures.append(f"{side}: only {n} steady-state strides (need at least {MIN_STRIDES}; "
                            f"{MIN_STRIDES_STABLE} for stable means)")
        elif n < MIN_STRIDES_STABLE:
            warnings.append(f"{side}: {n} steady-state strides; at least {MIN_STRIDES_STABLE} give stable means "
                            "(Melvin et al. 2014)")
    for side, v in saturation_pct.items():
        if v > SATURATION_FAIL_PCT:
            failures.append(f"{side}: {v:.1f} % of frames saturated; force peaks are not usable")
        elif v > SATURATION_WARN_PCT:
            warnings.append(f"{side}: {v:.1f} % of frames saturated; force peaks are underestimated")
    for side, v in dropout_pct.items():
        if v > DROPOUT_FAIL_PCT:
            failures.append(f"{side}: {v:.1f} % of the recording missing")
        elif v > DROPOUT_WARN_PCT:
            warnings.append(f"{side}: {v:.1f} % of the recording missing (gaps or invalid frames)")
    sync_ok = True
    if sync is not None:
        sync_ok = bool(sync["ok"])
        if not sync_ok:
            failures.append(str(sync["reason"]))
    elif len(strides) == 1:
        warnings.append("only one foot recorded: no double support, cadence from one side, no symmetry")
    return {"passed": not failures, "strides": strides, "warnings": warnings, "failures": failures,
            "saturation_pct": saturation_pct, "dropout_pct": dropout_pct, "sync_ok": sync_ok,
            "limits": {"min_strides": MIN_STRIDES, "min_strides_stable": MIN_STRIDES_STABLE,
                       "saturation_warn_pct": SATURATION_WARN_PCT, "saturation_fail_pct": SATURATION_FAIL_PCT,
                       "dropout_warn_pct": DROPOUT_WARN_PCT, "dropout_fail_pct": DROPOUT_FAIL_PCT}}
