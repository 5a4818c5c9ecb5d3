"""``insole record``: record one or two insoles into a session file, with a live view."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from insole.cli.options import metadata_from_options, metadata_options
from insole.errors import InsoleError, RecordingWriteError

if TYPE_CHECKING:
    from insole.recorder import RecordingSummary
    from insole.recorder.stats import RecordingOutcome

EXIT_CODES_HELP = (
    "\b\nExit codes:\n"
    "  0  complete: the duration was recorded on every foot (or Ctrl-C / SIGTERM, or, without\n"
    "     --duration-s, every device ended its stream normally)\n"
    "  1  nothing recorded: a device could not be opened, a bad option or file\n"
    "  2  wrong usage\n"
    "  3  a device was lost, fell silent or was still reconnecting at the end (the file keeps\n"
    "     everything before; the gap is recorded)\n"
    "  4  the duration was not reached: every device ended, or the time bound passed, first\n"
    "  5  writing failed or the disk was nearly full (the file keeps what was flushed)"
)


class RecordingEnded(click.ClickException):
    """The recording ended without completing: ``error: MESSAGE`` on stderr, the outcome as the exit code."""

    def __init__(self, message: str, outcome: RecordingOutcome) -> None:
        super().__init__(message)
        self.exit_code = int(outcome)

    def show(self, file: object = None) -> None:
        click.echo(f"error: {self.message}", err=True)


@click.command("record", epilog=EXIT_CODES_HELP)
@click.option("--device", "devices", multiple=True, required=True,
              help="Device URL, once per insole: sim://neutral?side=left, serial:///dev/ttyUSB0, ble://NAME.")
@click.option("--duration-s", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop after this many seconds of data on every foot, and at the latest this many seconds "
                   "(+1 s) of wall clock after the first frame, whatever the devices do (default: until Ctrl-C).")
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
    """Record insoles into a session file; Ctrl-C ends the session cleanly and saves it.

    A device that sends no frame for its silence timeout (serial: the URL's timeout_s, default 5 s) is shown as
    silent at once; the summary names it and the time it fell silent.
    """
    from insole.calibration import Calibration
    from insole.devices import open_device
    from insole.recorder import Recorder
    from insole.recorder.live_view import LiveView
    from insole.recorder.stats import RecordingOutcome

    md = metadata_from_options(meta)
    opened = [open_device(u) for u in devices]
    if calibration_files and len(calibration_files) != len(devices):
        raise InsoleError(f"give one --calibration per --device ({len(devices)}), got {len(calibration_files)}")
    calibrations = [Calibration.load(p) for p in calibration_files] if calibration_files else None
    view = None if quiet else LiveView(duration_s=duration_s)
    recorder = Recorder(opened, output, md, duration_s=duration_s, overwrite=overwrite,
                        connect_timeout_s=connect_timeout_s, on_update=view.update if view else None,
                        calibrations=calibrations, calibration_dir=calibration_dir)

    async def main() -> RecordingSummary:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, recorder.stop, f"stopped by {signal.Signals(sig).name}")
        return await recorder.run()

    try:
        if view is not None:
            with view:
                summary = asyncio.run(main())
                view.update(summary.devices, force=True)
        else:
            summary = asyncio.run(main())
    except RecordingWriteError as exc:
        raise RecordingEnded(f"{exc} (exit code {int(RecordingOutcome.WRITE_FAILED)}: write failed)",
                             RecordingOutcome.WRITE_FAILED) from None
    click.echo(f"wrote {summary.path}: {summary.duration_s:.1f} s ({summary.stopped_because})")
    for st in summary.devices:
        lost = st.lost_frames
        click.echo(f"  {st.side}: {st.frames} frames, {lost} lost in {st.gaps} gaps, {st.steps} steps, {st.state}"
                   + (f" ({st.error})" if st.error else ""))
    if summary.outcome is not RecordingOutcome.COMPLETE:
        raise RecordingEnded(f"{summary.error} (exit code {int(summary.outcome)}: "
                             f"{summary.outcome.name.lower().replace('_', ' ')})", summary.outcome)
