"""Replay a Moticon OpenGo text export over UDP at real pace, as the vendor's desktop software streams it.

For tests and demos of ``moticon-udp://`` without the vendor software (loopback only: the destination must be a
loopback address). Each row of the export becomes one datagram of 51 ASCII numbers in the order of
:mod:`insole.transports.moticon_udp` (time, then per foot acceleration, angular rate, CoP, 16 pressures in N/cm²,
total force); a foot without data in a row is sent as ``nan`` fields. Rows are sent at their export time stamps
(``speed`` times real pace); chosen rows can be dropped to emulate lost datagrams. The replay keeps a log of
what it sent (:attr:`MoticonReplay.sent`), the truth a test compares the recording with.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from insole.errors import ConfigurationError
from insole.importers import moticon
from insole.imu import RAD_S_PER_DPS, STANDARD_GRAVITY_M_S2


@dataclass
class SentRow:
    """One export row: its time stamp, the feet with data, and whether its datagram was dropped."""

    time_s: float
    feet: tuple[str, ...]
    dropped: bool


@dataclass
class MoticonReplay:
    """Send the rows of a Moticon export to ``host:port`` over UDP.

    Parameters
    ----------
    export : path
        Moticon OpenGo text export (``.txt``).
    host, port : str, int
        Destination; must be a loopback address.
    start_s, duration_s : float
        Export time window to send (None: to the end).
    speed : float
        1 = real pace.
    drop_every : int
        Drop every n-th datagram (0: none), counting from the first sent.
    lead_s : float
        Wait this long before the first datagram (the receiver is listening by then).
    """

    export: Path
    host: str = "127.0.0.1"
    port: int = 8888
    start_s: float = 0.0
    duration_s: float | None = None
    speed: float = 1.0
    drop_every: int = 0
    lead_s: float = 0.2
    sent: list[SentRow] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not ipaddress.ip_address(self.host).is_loopback:
            raise ConfigurationError(f"the Moticon replay sends to loopback addresses only, not {self.host}")
        self.export = Path(self.export)

    def rows(self) -> tuple[list[tuple[float, str]], list[tuple[str, ...]]]:
        """``(time_s, datagram text)`` of every row in the window (read by the Moticon importer), and the feet with
        data in each row."""
        rec = moticon.read(self.export)
        times = np.union1d(*[f.time_s for f in rec.feet.values()]) if len(rec.feet) == 2 else \
            next(iter(rec.feet.values())).time_s
        end = np.inf if self.duration_s is None else self.start_s + self.duration_s
        times = times[(times >= self.start_s) & (times < end)]
        per_foot = {}
        for side in ("left", "right"):
            if side not in rec.feet:
                per_foot[side] = ({}, None)
                continue
            foot = rec.feet[side]
            # the export's own units (g, deg/s), back from the importer's IMU block (m/s2, rad/s, same axes)
            imu = np.column_stack([foot.imu.acc_m_s2 / STANDARD_GRAVITY_M_S2, foot.imu.gyr_rad_s / RAD_S_PER_DPS])
            vendor = rec.groups[f"vendor_signals/{side}"]["datasets"]["samples"][0]  # time, force, cop x, cop y
            index = {float(t): k for k, t in enumerate(foot.time_s)}
            per_foot[side] = (index, (imu, vendor, foot.values / moticon.KPA_PER_N_CM2))
        out = []
        for t in times:
            words = [f"{t:.3f}"]
            feet = []
            for side in ("left", "right"):
                index, data = per_foot[side]
                k = index.get(float(t))
                if k is None or data is None:
                    words += ["nan"] * 25
                    continue
                imu, vendor, n_cm2 = data
                feet.append(side)
                words += [f"{v:.6g}" for v in (*imu[k], vendor[k, 2], vendor[k, 3])]
                words += [f"{v:g}" for v in n_cm2[k]]
                words.append(f"{vendor[k, 1]:.6g}")
            out.append((float(t), " ".join(words), tuple(feet)))
        return [(t, text) for t, text, _ in out], [feet for _, _, feet in out]

    async def run(self) -> int:
        """Send the window at pace; returns the number of datagrams sent (dropped ones not counted)."""
        rows, feet = self.rows()
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol,
                                                           remote_addr=(self.host, self.port))
        sent = 0
        try:
            await asyncio.sleep(self.lead_s)
            if not rows:
                return 0
            t0, start = rows[0][0], time.monotonic()
            for k, ((t, text), row_feet) in enumerate(zip(rows, feet, strict=True)):
                delay = start + (t - t0) / self.speed - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                dropped = bool(self.drop_every) and (k + 1) % self.drop_every == 0
                self.sent.append(SentRow(t, row_feet, dropped))
                if not dropped:
                    transport.sendto(text.encode("ascii"))
                    sent += 1
        finally:
            transport.close()
        return sent
