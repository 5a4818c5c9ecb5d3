"""The ``insole`` command line: device-side commands (simulate, record, info, ...).

The installed ``insole`` program is :func:`pipeline.cli.main`, which adds the analysis commands to this group;
``insole`` itself never imports ``pipeline``. Every command has ``--help``; a command exits 0 on success and
non-zero with a one-line ``error:`` reason on failure (2 for wrong usage).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from insole import __version__
from insole.cli.lazy import LazyGroup
from insole.errors import InsoleError


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="insole")
def cli() -> None:
    """Record, simulate, analyse and report plantar-pressure insole sessions."""


#: The device-side commands: name, where it lives, its one-line summary (imported only when it runs).
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("calibrate", "insole.cli.calibrate:calibrate_group",
     "Calibrate raw insole counts to kPa (procedure: see `insole calibrate fit --help`)."),
    ("emulate", "insole.cli.emulate:emulate_command",
     "Emulate an insole's firmware on serial port PORT, driven by the simulated walker."),
    ("emulate-ble", "insole.cli.emulate_ble:emulate_ble_command",
     "Run BLE insole emulators (bumble GATT peripherals) on a simulated link and serve its HCI to a host."),
    ("emulate-moticon", "insole.cli.emulate_moticon:emulate_moticon_command",
     "Send the rows of a Moticon OpenGo EXPORT (.txt) to HOST:PORT over UDP at real pace."),
    ("import", "insole.cli.import_cmd:import_command", "Import SRC (a FORMAT recording) into a session file."),
    ("info", "insole.cli.info:info_command", "Show what is in a session FILE (and check that it is valid)."),
    ("record", "insole.cli.record:record_command",
     "Record insoles into a session file; Ctrl-C ends the session cleanly and saves it."),
    ("repair", "insole.cli.repair:repair_command",
     "Rewrite an interrupted recording FILE (killed, power lost) so that HDFView, MATLAB and R open it."),
    ("scan", "insole.cli.scan:scan_command",
     "List candidate insoles with the URL to record them (transports: serial, plus any registered)."),
    ("simulate", "insole.cli.simulate:simulate_command",
     "Simulate a walk on two insoles and record it into a session file (with its ground truth)."),
)
cli.add_lazy_commands(COMMANDS)

#: Exceptions whose message is shown as a one-line error (extended by pipeline.cli).
USER_ERRORS: list[type[BaseException]] = [InsoleError]


def run(group: click.Group, argv: Sequence[str] | None = None) -> int:
    """Run ``group`` and turn known errors into a one-line message and an exit code."""
    try:
        group.main(args=list(argv) if argv is not None else None, prog_name="insole", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        return 130
    except tuple(USER_ERRORS) as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the device-only command line."""
    sys.exit(run(cli, argv))
