"""The validation at a glance: one figure of four panels (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from validation import references as ref

GROUP_COLOURS = {"control": "tab:blue", "als": "tab:red", "hunt": "tab:purple", "park": "tab:green"}


def _gaitndd(ax, ndd: pd.DataFrame) -> None:
    for g, sub in ndd.groupby("group"):
        for side, marker in (("left", "o"), ("right", "s")):
            if f"{side}_stride_s" in sub:
                ax.scatter(sub.index, sub[f"{side}_stride_s"], marker=marker, s=16,
                           color=GROUP_COLOURS.get(g, "grey"), label=f"{g} {side}")
    ax.axhspan(*ref.STRIDE_RANGE_S, color="0.92", zorder=0)
    ax.set(title=f"gaitndd: median stride per record (n={len(ndd)})", xlabel="record", ylabel="stride time (s)")
    ax.legend(fontsize=6, ncol=2)


def _stance_speed(ax, pdb: pd.DataFrame) -> None:
    v = np.linspace(0.5, 1.5, 11)
    expected = ref.expected_stance_pct(v)
    ax.plot(v, expected, color="k", lw=1, label="Kirtley et al. 1985")
    ax.fill_between(v, expected - ref.STANCE_SPEED_TOLERANCE_PCT, expected + ref.STANCE_SPEED_TOLERANCE_PCT,
                    color="0.9", label=f"± {ref.STANCE_SPEED_TOLERANCE_PCT:g} points")
    if "stance_pct" in pdb:
        for group, colour, name in (("Co", "tab:blue", "controls"), ("Pt", "tab:red", "Parkinson's")):
            sub = pdb[pdb["group"] == group]
            ax.scatter(sub["speed_m_s"], sub["stance_pct"], color=colour, s=22, label=f"{name}, primary events")
            ax.scatter(sub["speed_m_s"], sub["onset_stance_pct"], facecolors="none", edgecolors=colour, s=22,
                       label=f"{name}, onset events")
    ax.set(title="gaitpdb: median stance vs walking speed", xlabel="speed (m/s, demographics.txt)",
           ylabel="stance (% of stride)")
    ax.legend(fontsize=6)


def _moticon(ax, steps: pd.DataFrame) -> None:
    names = [("ic_err_s", "IC"), ("to_err_s", "TO"), ("stance_err_s", "stance"), ("swing_err_s", "swing"),
             ("double_support_err_s", "double\nsupport"), ("onset_stance_err_s", "stance\n(onset)")]
    data = [steps[c].dropna().to_numpy() * 1000 if c in steps else np.array([]) for c, _ in names]
    ax.boxplot(data)
    ax.set_xticks(range(1, len(names) + 1), [f"{label}\nn={d.size}" for (_, label), d in zip(names, data, strict=True)],
                  fontsize=7)
    for k, d in enumerate(data, start=1):
        ax.scatter(k + np.linspace(-0.15, 0.15, max(d.size, 1))[: d.size], d, s=6, color="k", alpha=0.5)
    tol = ref.MOTICON_INTERVAL_TOLERANCE_S * 1000
    ax.axhspan(-tol, tol, color="0.92", zorder=0, label=f"± {tol:g} ms")
    ax.set(title="Moticon: detected - vendor, per vendor step", ylabel="difference (ms)")
    ax.legend(fontsize=7)


def _impulse(ax, pdb: pd.DataFrame) -> None:
    if "impulse_ratio" in pdb:
        x = np.arange(len(pdb))
        colours = ["tab:blue" if g == "Co" else "tab:red" for g in pdb["group"]]
        ax.bar(x, pdb["impulse_ratio"].fillna(0), color=colours)
        ax.set_xticks(x, pdb["walk"], rotation=90, fontsize=6)
    ax.axhspan(*ref.IMPULSE_BALANCE_RANGE, color="0.9", zorder=0)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set(title="gaitpdb: impulse per stride / (body weight x stride time)", ylabel="ratio")


def plot(ndd: pd.DataFrame, pdb: pd.DataFrame, steps: pd.DataFrame, path: Path) -> None:
    """Write the four-panel PNG to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    _gaitndd(axes[0, 0], ndd)
    _stance_speed(axes[0, 1], pdb)
    _moticon(axes[1, 0], steps)
    _impulse(axes[1, 1], pdb)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
