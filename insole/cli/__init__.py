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
from insole.cli.calibrate import calibrate_group
from insole.cli.emulate import emulate_command
from insole.cli.emulate_ble import emulate_ble_command
from insole.cli.emulate_moticon import emulate_moticon_command
from insole.cli.import_cmd import import_command
from insole.cli.info import info_command
from insole.cli.record import record_command
from insole.cli.repair import repair_command
from insole.cli.scan import scan_command
from insole.cli.simulate import simulate_command
from insole.errors import InsoleError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="insole")
def cli() -> None:
    """Record, simulate, analyse and report plantar-pressure insole sessions."""


cli.add_command(simulate_command)
cli.add_command(info_command)
cli.add_command(record_command)
cli.add_command(repair_command)
cli.add_command(calibrate_group)
cli.add_command(import_command)
cli.add_command(emulate_command)
cli.add_command(scan_command)
cli.add_command(emulate_ble_command)
cli.add_command(emulate_moticon_command)

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
