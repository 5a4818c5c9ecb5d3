"""``insole emulate-ble``: BLE insole emulators on a simulated radio link, for recording without hardware.

The emulators (:mod:`insole.emulation.ble_rig`, on the bumble stack) are imported only when the command runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal

import click

from insole.errors import ConfigurationError


def _parse_insole(spec: str, service: str) -> tuple[str, str, str]:
    name, _, side = spec.partition(":")
    if not name or side not in ("left", "right"):
        raise click.BadParameter(f"{spec!r}: use NAME:left or NAME:right, e.g. InsoleL:left")
    return name, side, service


@click.command("emulate-ble")
@click.option("--hci", "hci_transports", multiple=True, default=("tcp-server:127.0.0.1:19001",), show_default=True,
              help="bumble HCI transport a host (`insole record`, `insole scan`) connects to; one host at a time per "
              "transport (a new host takes over); repeatable.")
@click.option("--insole", "insoles", multiple=True, help="Emulated insole NAME:SIDE with the insole service "
              "(openinsole-v1). Default: InsoleL:left and InsoleR:right.")
@click.option("--nus", "nus", multiple=True, help="Emulated DIY insole NAME:SIDE on the Nordic UART service (CSV).")
@click.option("--sensors", type=click.Choice(["8", "16", "99"]), default="16", show_default=True)
@click.option("--rate-hz", type=click.FloatRange(10, 1000), default=100.0, show_default=True)
@click.option("--mtu", type=click.IntRange(23, 517), default=247, show_default=True,
              help="Largest ATT MTU the insoles accept (23 makes every frame span several notifications).")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the simulated walker.")
@click.option("--loss", type=click.FloatRange(0, 0.9), default=0.0, show_default=True,
              help="Share of notifications silently lost.")
@click.option("--drop-every-s", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Force a disconnect of each insole this often (0: never).")
@click.option("--away-s", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="How long an insole stays off the air after a forced disconnect.")
@click.option("--battery-dies-after-s", type=click.FloatRange(min=0), default=0.0,
              help="The first insole's battery dies after this long (0: never).")
@click.option("--duration-s", type=click.FloatRange(min=0), default=0.0, help="Stop after this long (0: Ctrl-C).")
@click.option("--imu", is_flag=True, help="The insole-service insoles have a foot-mounted IMU (described in their "
              "device-info record, IMU block in every sample).")
def emulate_ble_command(hci_transports: tuple[str, ...], insoles: tuple[str, ...], nus: tuple[str, ...],
                        sensors: str, rate_hz: float, mtu: int, seed: int, loss: float, drop_every_s: float,
                        away_s: float, battery_dies_after_s: float, duration_s: float, imu: bool) -> None:
    """Run BLE insole emulators (bumble GATT peripherals) on a simulated link and serve its HCI to a host.

    \b
    Then, in another terminal:
      INSOLE_BLE_TRANSPORT=tcp-client:127.0.0.1:19001 insole scan --transport ble
      insole record --device 'ble://InsoleL?transport=tcp-client:127.0.0.1:19001' \\
                    --device 'ble://InsoleR?transport=tcp-client:127.0.0.1:19001' -o walk.h5 --duration-s 30
    """
    from insole.emulation.ble_rig import EmulatorRig

    specs = [_parse_insole(s, "insole") for s in (insoles or (() if nus else ("InsoleL:left", "InsoleR:right")))]
    specs += [_parse_insole(s, "nus") for s in nus]

    async def main() -> None:
        rig = EmulatorRig()
        for name, side, service in specs:
            emu = rig.add(name, side, service=service, n_sensors=int(sensors), rate_hz=rate_hz, max_mtu=mtu,
                          seed=seed, imu=imu and service == "insole")
            emu.notification_loss = loss
        try:
            for t in hci_transports:
                await rig.serve_hci(t)
        except Exception as exc:
            raise ConfigurationError(f"cannot open HCI transport: {exc}") from None
        await rig.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        host_sides = [t.replace("tcp-server:", "tcp-client:").replace("_:", "127.0.0.1:") for t in hci_transports]
        for t, host_side in zip(hci_transports, host_sides, strict=True):
            click.echo(f"HCI for a host: {t}  (use transport={host_side})")
        for emu in rig.emulators:
            extra = f"&sensors={sensors}&rate_hz={rate_hz:g}" if emu.service == "nus" else ""
            click.echo(f"  {emu.name}: {emu.side}, {emu.service} service, {emu.address}  ->  ble://{emu.name}?"
                       f"transport={host_sides[0]}{extra}")

        async def faults() -> None:
            t0 = loop.time()
            next_drop = drop_every_s if drop_every_s > 0 else math.inf
            dead = battery_dies_after_s if battery_dies_after_s > 0 else math.inf
            while True:
                await asyncio.sleep(0.1)
                now = loop.time() - t0
                if now >= dead and rig.emulators:
                    click.echo(f"  {rig.emulators[0].name}: battery dead")
                    await rig.emulators[0].dead_battery()
                    dead = math.inf
                if now >= next_drop:
                    for emu in rig.emulators:
                        await emu.disconnect(stay_away_s=away_s)
                    click.echo(f"  forced disconnect, away {away_s:g} s")
                    next_drop += drop_every_s

        task = asyncio.create_task(faults())
        try:
            if duration_s > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), duration_s)
            else:
                await stop.wait()
        finally:
            task.cancel()
            await rig.stop()
        for emu in rig.emulators:
            sent = sum(emu.log.delivered)
            click.echo(f"  {emu.name}: {len(emu.log.sequence)} samples produced, {sent} delivered, "
                       f"{emu.connections} connection(s)")

    asyncio.run(main())
