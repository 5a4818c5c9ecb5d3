"""``insole scan``: list candidate insoles on every registered transport (serial ports, BLE)."""

from __future__ import annotations

import dataclasses
import json

import click

from insole.transports.discovery import scan, scanners


@click.command("scan")
@click.option("--transport", "transports", multiple=True, help="Only these transports (default: all registered).")
@click.option("--timeout-s", type=click.FloatRange(min=0), default=5.0, show_default=True,
              help="How long scanners that listen (BLE) may take.")
@click.option("--all", "show_all", is_flag=True, help="Also list ports that do not look like insoles.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def scan_command(transports: tuple[str, ...], timeout_s: float, show_all: bool, as_json: bool) -> None:
    """List candidate insoles with the URL to record them (transports: serial, plus any registered)."""
    results, problems = scan(list(transports) or None, timeout_s)
    shown = results if show_all or not any(r.likely_insole for r in results) else [r for r in results
                                                                                   if r.likely_insole]
    if as_json:
        click.echo(json.dumps({"devices": [dataclasses.asdict(r) for r in shown], "problems": problems,
                               "transports": scanners()}, indent=2))
        return
    if not shown:
        click.echo(f"no candidate devices found (transports scanned: {', '.join(transports or scanners())})")
    for r in shown:
        extra = ", ".join(f"{k} {v}" for k, v in r.summary().items())
        click.echo(f"{r.url}  {r.description}" + (f"  ({extra})" if extra else ""))
    for name, why in problems.items():
        click.echo(f"{name}: not scanned: {why}", err=True)
