"""``insole scan``: list the BLE insoles in range."""

from __future__ import annotations

import asyncio

import click


@click.command("scan")
@click.option("--timeout-s", type=click.FloatRange(0.1, 120), default=5.0, show_default=True,
              help="How long to listen for advertisements.")
@click.option("--transport", default="", help="bumble HCI transport instead of the system's Bluetooth, e.g. "
              "tcp-client:127.0.0.1:19001 for `insole emulate-ble` (default: $INSOLE_BLE_TRANSPORT).")
@click.option("--all", "include_all", is_flag=True, help="List every BLE device, not only insoles.")
def scan_command(timeout_s: float, transport: str, include_all: bool) -> None:
    """Scan for insoles advertising the insole or Nordic UART service, with the URL to record each."""
    from insole.transports.ble_device import scan_insoles

    results = asyncio.run(scan_insoles(timeout_s, transport=transport, include_all=include_all))
    if not results:
        click.echo(f"no insole found in {timeout_s:g} s (is it on, charged, and not connected to another host?)")
        return
    query = f"?transport={transport}" if transport else ""
    for r in results:
        target = r.name or r.address
        click.echo(f"{target:<20} {r.address}  side={r.side or '?':<5} service={r.service:<6} rssi={r.rssi_dbm} dBm"
                   + (f"  ble://{target}{query}" if r.service != "none" else ""))
