"""``insole record``: record one or two insoles into a session file, with a live view."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click

from insole.calibration import Calibration
from insole.cli.options import metadata_from_options, metadata_options
from insole.devices import open_device
from insole.errors import InsoleError
from insole.recorder import Recorder
from insole.recorder.live_view import LiveView


@click.command("record")
@click.option("--device", "devices", multiple=True, required=True,
              help="Device URL, once per insole: sim://neutral?side=left, serial:///dev/ttyUSB0, ble://NAME.")
@click.option("--duration-s", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop after this many seconds of data (default: until Ctrl-C).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Session file.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@click.option("--quiet", is_flag=True, help="No live view; print only the summary (for scripts).")
@click.option("--connect-timeout-s", type=click.FloatRange(min=0.1), default=15.0, show_default=True,
              help="Give up on a device that does not connect and stream within this time.")
@click.option("--calibration", "calibration_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Calibration file for a raw-count insole, once per --device in the same order.")
@click.option("--calibration-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of SERIAL.json / MODEL.json calibrations (default $INSOLE_CALIBRATION_DIR or "
                   "~/.config/insole/calibrations).")
@metadata_options
def record_command(devices: tuple[str, ...], duration_s: float | None, output: Path, overwrite: bool, quiet: bool,
                   connect_timeout_s: float, calibration_files: tuple[Path, ...], calibration_dir: Path | None,
                   **meta: object) -> None:
    """Record insoles into a session FILE; Ctrl-C ends the session cleanly and saves it."""
    md = metadata_from_options(meta)
    opened = [open_device(u) for u in devices]
    if calibration_files and len(calibration_files) != len(devices):
        raise InsoleError(f"give one --calibration per --device ({len(devices)}), got {len(calibration_files)}")
    calibrations = [Calibration.load(p) for p in calibration_files] if calibration_files else None
    view = None if quiet else LiveView(duration_s=duration_s)
    recorder = Recorder(opened, output, md, duration_s=duration_s, overwrite=overwrite,
                        connect_timeout_s=connect_timeout_s, on_update=view.update if view else None,
                        calibrations=calibrations, calibration_dir=calibration_dir)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, recorder.stop, f"stopped by {signal.Signals(sig).name}")
        return await recorder.run()

    if view is not None:
        with view:
            summary = asyncio.run(main())
            view.update(summary.devices, force=True)
    else:
        summary = asyncio.run(main())
    click.echo(f"wrote {summary.path}: {summary.duration_s:.1f} s ({summary.stopped_because})")
    for st in summary.devices:
        lost = st.lost_frames
        click.echo(f"  {st.side}: {st.frames} frames, {lost} lost in {st.gaps} gaps, {st.steps} steps, {st.state}"
                   + (f" ({st.error})" if st.error else ""))
    if summary.error:
        raise InsoleError(summary.error)
