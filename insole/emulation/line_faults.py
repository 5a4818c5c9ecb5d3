"""Line faults a firmware emulator injects into its byte stream: byte errors, noise bursts, a UART at the wrong rate.

Faults are drawn from a seeded random generator, so a run is reproducible:

* byte errors at ``byte_error_rate`` per byte, each one a bit flip, a dropped byte or a duplicated byte;
* bursts of line noise (``burst_rate_hz`` per second, ``burst_bytes`` random bytes over a frame and its end);
* pauses (the link stalls ``pause_s`` every ``pause_every_s``; the emulator's send loop applies them);
* a receiver at the wrong baud rate (``receiver_baud``): the bytes written are what a UART set to that rate
  would decode from the true signal, bit by bit (start bit, 8 data bits LSB first, stop bit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from insole.errors import ConfigurationError

FAULT_KINDS = ("flip", "drop", "dup")


@dataclass
class FaultConfig:
    """Line faults to inject (all off by default).

    Attributes
    ----------
    byte_error_rate : float
        Probability that a byte is hit (0..0.5).
    kinds : tuple of str
        What a hit does, chosen uniformly: ``flip`` (one random bit), ``drop`` (byte lost), ``dup`` (byte sent twice).
    burst_rate_hz : float
        Mean bursts of line noise per second (Poisson).
    burst_bytes : int
        Random bytes per burst; they overwrite the end of a frame and run on into the gap after it.
    pause_every_s, pause_s : float
        Every ``pause_every_s`` seconds the link stalls for ``pause_s`` seconds (0 = never).
    receiver_baud : int or None
        Simulate a host UART at this rate while the device sends at ``baud``.
    baud : int
        The device's line rate (only used with ``receiver_baud``).
    """

    byte_error_rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    burst_rate_hz: float = 0.0
    burst_bytes: int = 32
    pause_every_s: float = 0.0
    pause_s: float = 0.0
    receiver_baud: int | None = None
    baud: int = 921600

    def __post_init__(self) -> None:
        if not 0 <= self.byte_error_rate <= 0.5:
            raise ConfigurationError(f"byte error rate must be within 0..0.5, got {self.byte_error_rate}")
        bad = [k for k in self.kinds if k not in FAULT_KINDS]
        if bad or not self.kinds:
            raise ConfigurationError(f"fault kinds must be among {', '.join(FAULT_KINDS)}, got {self.kinds}")
        if self.burst_bytes < 1 or self.burst_rate_hz < 0 or self.pause_s < 0 or self.pause_every_s < 0:
            raise ConfigurationError("burst and pause settings must be positive")


def uart_resample(data: bytes, tx_baud: int, rx_baud: int) -> bytes:
    """What a UART receiving at ``rx_baud`` decodes from ``data`` sent back to back at ``tx_baud`` (8N1).

    The receiver waits for a falling edge, samples the start bit and 8 data bits at the middle of its own bit
    periods and drops bytes whose stop bit reads 0 (a framing error, as Linux does with IGNPAR).
    """
    if not data:
        return b""
    bits = np.unpackbits(np.frombuffer(data, np.uint8)[:, None], axis=1, bitorder="little")
    frames = np.concatenate([np.zeros((len(data), 1), np.uint8), bits, np.ones((len(data), 1), np.uint8)], axis=1)
    line = np.concatenate([frames.ravel(), np.ones(12, np.uint8)])  # idle high after the last byte
    t_tx = 1.0 / tx_baud
    t_rx = 1.0 / rx_baud
    n = len(line)

    def level(t_s: float) -> int:
        return int(line[min(int(t_s / t_tx + 1e-6), n - 1)])

    out = bytearray()
    t = 0.0
    end = n * t_tx
    while t < end:
        if level(t) == 1:  # idle or data high: look for the next falling edge at the next transmitted bit
            t = (int(t / t_tx + 1e-6) + 1) * t_tx
            continue
        if level(t + 0.5 * t_rx) != 0:  # a glitch, not a start bit
            t += t_rx / 2
            continue
        value = sum(level(t + (1.5 + b) * t_rx) << b for b in range(8))
        if level(t + 9.5 * t_rx) == 1:
            out.append(value)
        t += 9.5 * t_rx
        j = int(t / t_tx)
        while j < n and line[j] == 0:  # stop bit low (framing error): wait for the line to go high
            j += 1
        t = max(t, j * t_tx)
    return bytes(out)


class FaultInjector:
    """Apply :class:`FaultConfig` to frames, reporting which faults touched each frame's bytes."""

    def __init__(self, config: FaultConfig, rng: np.random.Generator, rate_hz: float) -> None:
        self.config = config
        self.rng = rng
        self.burst_p = config.burst_rate_hz / rate_hz if rate_hz > 0 else 0.0

    def apply(self, wire: bytes) -> tuple[bytes, list[str]]:
        """Return the damaged bytes of one encoded frame (with its delimiter) and the fault names applied."""
        cfg, rng = self.config, self.rng
        faults: list[str] = []
        if cfg.byte_error_rate > 0:
            hit = np.flatnonzero(rng.random(len(wire)) < cfg.byte_error_rate)
            if len(hit):
                buf = bytearray()
                prev = 0
                for i in hit:
                    buf += wire[prev:i]
                    kind = cfg.kinds[int(rng.integers(len(cfg.kinds)))]
                    faults.append(kind)
                    if kind == "flip":
                        buf.append(wire[i] ^ (1 << int(rng.integers(8))))
                    elif kind == "dup":
                        buf += wire[i : i + 1] * 2
                    prev = i + 1
                buf += wire[prev:]
                wire = bytes(buf)
        if self.burst_p > 0 and rng.random() < self.burst_p:
            start = int(rng.integers(len(wire)))
            noise = rng.integers(0, 256, cfg.burst_bytes, dtype=np.uint8).tobytes()
            wire = wire[:start] + noise
            faults.append("burst")
        return wire, faults
