"""``insole simulate``: a simulated walk through the real recorder into a session file."""

from __future__ import annotations

from pathlib import Path

import click

from insole.cli.options import metadata_from_options, metadata_options
from insole.simulator.profiles import PROFILES


@click.command("simulate")
@click.option(
    "--profile", type=click.Choice(list(PROFILES)), default="neutral", show_default=True, help="Walking pattern."
)
@click.option("--duration-s", type=float, default=60.0, show_default=True, help="Seconds of walking to record.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=1, show_default=True, help="Random seed.")
@click.option("--sensors", type=click.Choice(["8", "16", "99"]), default="16", show_default=True)
@click.option("--rate-hz", type=click.FloatRange(10, 1000), default=100.0, show_default=True)
@click.option(
    "--device-params",
    default="",
    help="Extra sim:// parameters for both insoles, e.g. 'noise_kpa=3&dropout_rate=0.01&speed_m_s=1.1'.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Session file.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@metadata_options
def simulate_command(profile: str, duration_s: float, seed: int, sensors: str, rate_hz: float, device_params: str,
                     output: Path, overwrite: bool, **meta: object) -> None:
    """Simulate a walk on two insoles and record it into a session file (with its ground truth)."""
    from insole.simulator.session import simulate_session

    md = metadata_from_options(meta)
    summary = simulate_session(
        output,
        profile=profile,
        duration_s=duration_s,
        seed=seed,
        sensors=int(sensors),
        rate_hz=rate_hz,
        device_params=device_params,
        overwrite=overwrite,
        metadata=md.__dict__,
    )
    frames = sum(d.frames for d in summary.devices)
    lost = sum(d.lost_frames for d in summary.devices)
    click.echo(f"wrote {summary.path} ({summary.duration_s:.1f} s, {frames} frames, {lost} lost, profile {profile})")

