"""Terminal live view of a recording (rich): per insole state, rate, lost frames, battery, load and steps."""

from __future__ import annotations

import time

import numpy as np
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from insole.recorder.stats import DeviceStats

_BARS = " ▁▂▃▄▅▆▇█"


def pressure_bars(pressure: np.ndarray | None, full_scale: float) -> str:
    """One block character per cell, scaled to ``full_scale``."""
    if pressure is None or full_scale <= 0:
        return ""
    levels = np.clip(np.nan_to_num(pressure) / full_scale, 0, 1) * (len(_BARS) - 1)
    return "".join(_BARS[int(v)] for v in levels)


class LiveView:
    """A rich ``Live`` table refreshed at most ``refresh_hz`` times a second.

    Use as a context manager and pass :meth:`update` as the recorder's ``on_update``.
    """

    def __init__(self, console: Console | None = None, refresh_hz: float = 4.0, duration_s: float | None = None):
        self.console = console or Console(stderr=True)
        self.refresh_s = 1.0 / refresh_hz
        self.duration_s = duration_s
        self._live = Live(console=self.console, auto_refresh=False, transient=False)
        self._last = 0.0
        self._full_scale: dict[str, float] = {}

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(*exc)  # type: ignore[arg-type]

    def update(self, stats: list[DeviceStats], force: bool = False) -> None:
        """Redraw (rate-limited unless ``force``)."""
        now = time.monotonic()
        if not force and now - self._last < self.refresh_s:
            return
        self._last = now
        self._live.update(self.render(stats), refresh=True)

    def render(self, stats: list[DeviceStats]) -> Group:
        """The table for ``stats``."""
        table = Table(title="insole recording (Ctrl-C to stop and save)", expand=False)
        for col in ("foot", "state", "rate Hz", "frames", "lost", "battery", "force N", "steps", "cells"):
            table.add_column(col, justify="right" if col not in ("foot", "state", "cells") else "left")
        for st in stats:
            style = {"streaming": "green", "reconnecting": "yellow", "lost": "red", "disconnected": "red"}.get(
                st.state, ""
            )
            if st.latest_pressure is not None:
                peak = float(np.nanmax(st.latest_pressure)) if st.latest_pressure.size else 0.0
                self._full_scale[st.url] = max(self._full_scale.get(st.url, 1.0), peak)
            lost = st.lost_frames
            table.add_row(
                st.side,
                Text(st.state, style=style),
                f"{st.rate_hz:.0f}" if np.isfinite(st.rate_hz) else "-",
                str(st.frames),
                Text(str(lost), style="red" if lost else ""),
                f"{st.battery_pct:.0f}%" if st.battery_pct is not None else "-",
                f"{st.latest_force:.0f}",
                str(st.steps),
                pressure_bars(st.latest_pressure, self._full_scale.get(st.url, 1.0)),
            )
        recorded = max((s.last_time_s for s in stats if np.isfinite(s.last_time_s)), default=0.0)
        footer = f"recorded {recorded:.1f} s" + (f" of {self.duration_s:g} s" if self.duration_s else "")
        errors = [Text(f"{s.side}: {s.error}", style="red") for s in stats if s.error]
        return Group(table, Text(footer), *errors)
