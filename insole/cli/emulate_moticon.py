"""``insole emulate-moticon``: replay a Moticon OpenGo export over UDP as the vendor's desktop software streams it.

The emulator (:mod:`insole.emulation.moticon_udp`) is imported only when the command runs. Loopback only.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click


@click.command("emulate-moticon")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Destination (a loopback address).")
@click.option("--port", type=click.IntRange(1, 65535), default=8888, show_default=True)
@click.option("--start-s", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option("--duration-s", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds of the export to send (default: to its end).")
@click.option("--speed", type=click.FloatRange(0.1, 100), default=1.0, show_default=True, help="1 = real pace.")
@click.option("--drop-every", type=click.IntRange(min=0), default=0, show_default=True,
              help="Drop every n-th datagram (0: none), to try the gap accounting.")
def emulate_moticon_command(export: Path, host: str, port: int, start_s: float, duration_s: float | None,
                            speed: float, drop_every: int) -> None:
    """Send the rows of a Moticon OpenGo EXPORT (.txt) to HOST:PORT over UDP at real pace.

    \b
    Record it with:  insole record --device moticon-udp://127.0.0.1:8888?side=left \\
                                   --device moticon-udp://127.0.0.1:8888?side=right -o walk.h5
    """
    from insole.emulation.moticon_udp import MoticonReplay

    replay = MoticonReplay(export, host, port, start_s=start_s, duration_s=duration_s, speed=speed,
                           drop_every=drop_every, lead_s=0.0)
    sent = asyncio.run(replay.run())
    click.echo(f"sent {sent} datagrams to {host}:{port} ({len(replay.sent) - sent} dropped on purpose)")
