"""A simulated walk on two insoles recorded through the real recorder into a session file (``insole simulate``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from insole.devices import open_device
from insole.errors import ConfigurationError
from insole.layouts import foot_length_from_shoe_size_eu
from insole.recorder import Recorder, RecordingSummary
from insole.session import SessionMetadata
from insole.simulator.profiles import PROFILES


def simulate_session(
    path: Path,
    *,
    profile: str = "neutral",
    duration_s: float = 60.0,
    seed: int = 1,
    sensors: int = 16,
    rate_hz: float = 100.0,
    device_params: str = "",
    overwrite: bool = False,
    metadata: dict[str, object] | None = None,
) -> RecordingSummary:
    """Record a simulated left+right walk into ``path`` through :class:`~insole.recorder.Recorder`.

    ``device_params`` is extra URL query text (``noise_kpa=3&dropout_rate=0.01``) applied to both insoles.
    Metadata not given is taken from the profile (body mass, foot length) and marked ``simulated``.
    """
    if duration_s <= 0:
        raise ConfigurationError(f"--duration-s must be positive, got {duration_s:g}")
    if profile not in PROFILES:
        raise ConfigurationError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    extra = f"&{device_params.lstrip('&')}" if device_params else ""
    urls = [
        f"sim://{profile}?side={side}&seed={seed}&sensors={sensors}&rate_hz={rate_hz:g}&realtime=0{extra}"
        for side in ("left", "right")
    ]
    devices = [open_device(u) for u in urls]  # validates every parameter before any file is created
    prof = devices[0].profile  # type: ignore[attr-defined]
    meta = dict(metadata or {})
    if meta.get("shoe_size_eu") is not None and meta.get("foot_length_mm") is None:
        meta["foot_length_mm"] = foot_length_from_shoe_size_eu(float(meta["shoe_size_eu"]))  # type: ignore[arg-type]
    md = SessionMetadata(
        subject_id=meta.get("subject_id") or f"SIM-{profile}-{seed}",  # type: ignore[arg-type]
        body_mass_kg=meta.get("body_mass_kg") or prof.body_mass_kg,  # type: ignore[arg-type]
        foot_length_mm=meta.get("foot_length_mm") or prof.foot_length_mm,  # type: ignore[arg-type]
        shoe_size_eu=meta.get("shoe_size_eu"),  # type: ignore[arg-type]
        condition=meta.get("condition") or "shoes",  # type: ignore[arg-type]
        notes=meta.get("notes") or f"simulated walk, profile {profile}",  # type: ignore[arg-type]
    )
    recorder = Recorder(
        devices, path, md, duration_s=duration_s, overwrite=overwrite, source="simulated", atomic=True
    )
    return asyncio.run(recorder.run())
