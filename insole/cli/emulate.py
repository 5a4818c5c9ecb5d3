"""``insole emulate``: a firmware emulator on a serial port (a pty, for tests and demos without hardware).

The emulator (:mod:`insole.emulation.firmware`) is imported only when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from insole.protocols import PROTOCOLS
from insole.simulator.profiles import PROFILES


@click.command("emulate")
@click.option("--port", required=True, help="Existing serial device to write to, e.g. one end of a pty pair.")
@click.option("--protocol", type=click.Choice(PROTOCOLS), default="openinsole-v1", show_default=True)
@click.option("--profile", type=click.Choice(list(PROFILES)), default="neutral", show_default=True)
@click.option("--side", type=click.Choice(["left", "right"]), default="left", show_default=True)
@click.option("--rate-hz", type=click.FloatRange(10, 1000), default=100.0, show_default=True)
@click.option("--sensors", type=click.Choice(["8", "16", "99"]), default="16", show_default=True)
@click.option("--units", type=click.Choice(["kPa", "raw"]), default="kPa", show_default=True,
              help="kPa: 0.1 kPa counts on the wire; raw: 12-bit ADC counts.")
@click.option("--duration-s", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
              help="Seconds of samples to stream after the host's start command.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=1, show_default=True)
@click.option("--baud", type=click.IntRange(300), default=921600, show_default=True)
@click.option("--autostart", is_flag=True, help="Stream at once instead of waiting for the host's START.")
@click.option("--start-timeout-s", type=click.FloatRange(min=0.1), default=60.0, show_default=True)
@click.option("--byte-error-rate", type=click.FloatRange(0, 0.5), default=0.0, show_default=True,
              help="Probability per byte of a fault.")
@click.option("--fault-kinds", default=None,
              help="What a byte fault does: flip, drop, dup (comma-separated, chosen uniformly; default: all).")
@click.option("--burst-rate-hz", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Mean bursts of line noise per second.")
@click.option("--burst-bytes", type=click.IntRange(1, 4096), default=32, show_default=True)
@click.option("--pause-every-s", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Stall the link every this many seconds (0: never).")
@click.option("--pause-s", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option("--receiver-baud", type=click.IntRange(300), default=None,
              help="Simulate a host UART set to this (wrong) baud rate.")
@click.option("--csv-checksum", is_flag=True, help="csv: append the *HH checksum to every line.")
@click.option("--imu", is_flag=True, help="openinsole-v1: the insole has a foot-mounted IMU (IMU_INFO + IMU blocks).")
@click.option("--imu-axes", default="1,2,3", show_default=True,
              help="IMU mounting: the sensor axes along the foot's x, y, z (e.g. 2,-1,3 = turned 90 degrees).")
@click.option("--silent-after-s", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Hang after this many seconds of streaming: send nothing more, keep the port open (0: never).")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSON-lines log of every frame sent and the faults it got.")
def emulate_command(port: str, protocol: str, profile: str, side: str, rate_hz: float, sensors: str, units: str,
                    duration_s: float, seed: int, baud: int, autostart: bool, start_timeout_s: float,
                    byte_error_rate: float, fault_kinds: str | None, burst_rate_hz: float, burst_bytes: int,
                    pause_every_s: float, pause_s: float, receiver_baud: int | None, csv_checksum: bool,
                    imu: bool, imu_axes: str, silent_after_s: float, log_path: Path | None) -> None:
    """Emulate an insole's firmware on serial port PORT, driven by the simulated walker."""
    from insole.emulation.firmware import FirmwareEmulator
    from insole.emulation.line_faults import FAULT_KINDS, FaultConfig

    kinds = tuple(k.strip() for k in fault_kinds.split(",")) if fault_kinds else FAULT_KINDS
    try:
        axes = tuple(int(a) for a in imu_axes.split(","))
    except ValueError:
        raise click.BadParameter(f"--imu-axes must be three signed axis codes (1,2,3), got {imu_axes!r}") from None
    if len(axes) != 3:
        raise click.BadParameter(f"--imu-axes must name three axes, got {imu_axes!r}")
    faults = FaultConfig(byte_error_rate=byte_error_rate, kinds=kinds,
                         burst_rate_hz=burst_rate_hz, burst_bytes=burst_bytes, pause_every_s=pause_every_s,
                         pause_s=pause_s, receiver_baud=receiver_baud, baud=baud)
    log = open(log_path, "w", encoding="utf-8") if log_path else None  # noqa: SIM115
    try:
        emu = FirmwareEmulator(port, protocol=protocol, profile=profile, side=side, rate_hz=rate_hz,
                               duration_s=duration_s, seed=seed, sensors=int(sensors), units=units, faults=faults,
                               log=log, autostart=autostart, start_timeout_s=start_timeout_s, baud=baud,
                               csv_checksum=csv_checksum, imu=imu, imu_axes=axes,
                               silent_after_s=silent_after_s)  # type: ignore[arg-type]
        summary = emu.run()
    finally:
        if log is not None:
            log.close()
    click.echo(f"sent {summary['frames_sent']} frames ({summary['frames_damaged']} damaged by injected faults)")
