"""The live view shows what a clinician needs during the walk."""

from __future__ import annotations

import io

import numpy as np
from rich.console import Console

from insole.recorder import DeviceStats
from insole.recorder.live_view import LiveView, pressure_bars


def test_live_view_shows_state_rate_losses_battery_force_and_steps():
    console = Console(file=io.StringIO(), width=140, record=True, color_system=None)
    view = LiveView(console=console, duration_s=30)
    left = DeviceStats("sim://neutral?side=left", side="left", state="streaming", frames=1200, lost_frames=3,
                       battery_pct=81.0, rate_hz=100.0, latest_force=652.0, steps=11, last_time_s=12.0,
                       latest_pressure=np.linspace(0, 300, 16))
    right = DeviceStats("ble://R", side="right", state="reconnecting", frames=1100, rate_hz=float("nan"),
                        error="right insole went silent")
    console.print(view.render([left, right]))
    text = console.export_text()
    for expected in ("left", "streaming", "100", "1200", "81%", "652", "11", "right", "reconnecting",
                     "recorded 12.0 s of 30 s", "right insole went silent"):
        assert expected in text, expected


def test_pressure_bars_scale_and_handle_nan():
    assert pressure_bars(np.array([0.0, 50.0, 100.0, np.nan]), 100.0) == " ▄█ "
    assert pressure_bars(None, 100.0) == ""
