"""csv-text-v1: the common DIY text protocol, one CSV line per sample (spec: ``firmware_protocols/csv-text-v1.md``).

A line is ``FIELDS\\n`` where the leading fields are named by a header line (or by the ``fields`` parameter) and the
remaining ones are pressures. Canonical form: ``seq,t_us,p0,...,pN-1``; an optional ``*HH`` suffix carries the
XOR of all bytes before the ``*`` (the NMEA 0183 checksum), and is verified when present.

:class:`CsvDecoder` is a :class:`~insole.protocols.codec.Codec` like the binary decoder: ``feed(data, host_time_s)``
returns a :class:`~insole.protocols.codec.Decoded` whose ``samples`` hold :class:`~insole.frames.FrameBatch` objects.
The device side (:func:`~insole.emulation.sample_encoders.encode_line`) is in :mod:`insole.emulation`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from insole.errors import ConfigurationError
from insole.frames import FrameBatch, check_side
from insole.protocols.codec import Decoded

PROTOCOL_NAME = "csv"
MAX_LINE = 1024
_SPLIT = re.compile(rb"[ \t]*[,;\t][ \t]*| +")
_SEQ_NAMES = {"seq", "sequence", "n", "count"}
_US_NAMES = {"t_us", "time_us", "us", "micros"}
_MS_NAMES = {"t_ms", "time_ms", "ms", "millis"}


def parse_fields(spec: str) -> tuple[str, ...]:
    """Leading non-pressure columns from ``"seq,t_us"``-style text (``""`` = pressures only)."""
    names = tuple(f.strip().lower() for f in spec.split(",") if f.strip())
    for name in names:
        if name not in _SEQ_NAMES | _US_NAMES | _MS_NAMES:
            raise ConfigurationError(
                f"csv field {name!r} is not one of seq, t_us, t_ms; the fields after these are the pressures"
            )
    return names


def nmea_checksum(body: bytes) -> int:
    """XOR of all bytes of ``body`` (NMEA 0183 sentence checksum)."""
    x = 0
    for b in body:
        x ^= b
    return x


@dataclass
class CsvCounters:
    """What a :class:`CsvDecoder` has seen."""

    frames_ok: int = 0
    crc_failures: int = 0  # checksum suffix present and wrong
    framing_errors: int = 0  # unparsable line (non-numeric, too long)
    bad_size: int = 0  # wrong number of fields
    bytes_discarded: int = 0
    comments: int = 0
    sequence_gaps: int = 0
    frames_missing: int = 0
    sequence_repeats: int = 0


class CsvDecoder:
    """Sans-IO decoder of csv-text-v1 (a :class:`~insole.protocols.codec.Codec`).

    Parameters
    ----------
    side : {"left", "right"}
        The text protocol does not say which foot; the URL does.
    fields : str
        Leading columns before the pressures when no header line is sent: ``"seq,t_us"`` (canonical),
        ``"t_ms"``, ``""`` (pressures only), ... A header line (first field not a number) overrides it.
    n_sensors : int or None
        Expected pressures per line; None: taken from the first good line.
    rate_hz : float
        Nominal rate; without a time column the device time is ``line number / rate_hz``.
    pressure_scale : float
        Factor from the numbers on the line to the output units.
    synced : bool
        False: discard bytes up to the first newline (the host may join mid-line).

    Notes
    -----
    Without a ``seq`` column, lines are numbered by the decoder, counting damaged lines too, so a damaged line
    still shows as a one-frame gap.
    """

    protocol = PROTOCOL_NAME

    def __init__(self, *, side: str = "left", fields: str = "seq,t_us", n_sensors: int | None = None,
                 rate_hz: float = 100.0, pressure_scale: float = 1.0, synced: bool = False) -> None:
        self.side = check_side(side)
        self.fields = parse_fields(fields)
        self.n_sensors = n_sensors
        self.rate_hz = float(rate_hz)
        self.pressure_scale = float(pressure_scale)
        self.count = CsvCounters()
        self.header: tuple[str, ...] | None = None
        self._synced = synced
        self._tail = b""
        self._line_no = 0  # lines seen since sync (for decoder-side numbering)
        self._last_seq: int | None = None
        self.bytes_in = 0

    @property
    def has_device_clock(self) -> bool:
        """The lines carry a device time column (``t_us``, ``t_ms``, ...), named by the header or ``fields``."""
        lead = self.header if self.header is not None else self.fields
        return any(name in _US_NAMES | _MS_NAMES for name in lead)

    def counters(self) -> dict[str, int]:
        """Counters as a plain dict."""
        d = dict(self.count.__dict__)
        d["bytes_in"] = self.bytes_in
        return d

    def resync(self) -> None:
        """Drop the partial line and wait for the next newline."""
        self.count.bytes_discarded += len(self._tail)
        self._tail = b""
        self._synced = False

    def feed(self, data: bytes, host_time_s: float | None = None) -> Decoded:
        """Decode the complete lines in ``data``; ``samples`` holds at most one :class:`FrameBatch`."""
        self.bytes_in += len(data)
        buf = self._tail + bytes(data)
        lines = buf.split(b"\n")
        self._tail = lines.pop()
        if len(self._tail) > MAX_LINE:
            self.count.framing_errors += 1
            self.count.bytes_discarded += len(self._tail)
            self._tail = b""
            self._synced = False
        if not self._synced and lines:
            self.count.bytes_discarded += len(lines[0]) + 1
            del lines[0]
            self._synced = True
        cnt = self.count
        rows: list[list[bytes]] = []
        seqs: list[int] = []
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            if line.startswith(b"#"):
                cnt.comments += 1
                continue
            self._line_no += 1
            if b"*" in line:
                body, _, ck = line.rpartition(b"*")
                try:
                    ok = int(ck, 16) == nmea_checksum(body)
                except ValueError:
                    ok = False
                if not ok:
                    cnt.crc_failures += 1
                    cnt.bytes_discarded += len(raw) + 1
                    continue
                line = body
            parts = _SPLIT.split(line.strip(b" "))
            if parts and not _is_number(parts[0]):
                if all(_is_name(p) for p in parts):
                    self._set_header(parts)
                    self._line_no -= 1
                    cnt.comments += 1
                else:
                    cnt.framing_errors += 1
                    cnt.bytes_discarded += len(raw) + 1
                continue
            lead = self.header if self.header is not None else self.fields
            if parts[-1] == b"" and (self.n_sensors is None or len(parts) - len(lead) == self.n_sensors + 1):
                parts.pop()  # a trailing separator ("1,2,3,"), common in DIY firmware
            n_p = len(parts) - len(lead)
            if n_p < 1 or (self.n_sensors is not None and n_p != self.n_sensors):
                cnt.bad_size += 1
                cnt.bytes_discarded += len(raw) + 1
                continue
            rows.append(parts)
            seqs.append(self._line_no - 1)
        out = Decoded()
        if rows:
            self._emit(rows, seqs, host_time_s, out)
        return out

    def _set_header(self, parts: list[bytes]) -> None:
        names = [p.decode("ascii").lower() for p in parts]
        lead = []
        for name in names:
            if name in _SEQ_NAMES | _US_NAMES | _MS_NAMES:
                lead.append(name)
            else:
                break
        self.header = tuple(lead)
        self.n_sensors = len(names) - len(lead)

    def _emit(self, rows: list[list[bytes]], line_numbers: list[int], host_time_s: float | None, out: Decoded) -> None:
        cnt = self.count
        lead = self.header if self.header is not None else self.fields
        if self.n_sensors is None:
            self.n_sensors = len(rows[0]) - len(lead)
            rows_ok = [r for r in rows if len(r) - len(lead) == self.n_sensors]
            cnt.bad_size += len(rows) - len(rows_ok)
            line_numbers = [k for r, k in zip(rows, line_numbers, strict=True) if len(r) - len(lead) == self.n_sensors]
            rows = rows_ok
        values = np.full((len(rows), len(lead) + self.n_sensors), np.nan)
        good = np.ones(len(rows), bool)
        for i, r in enumerate(rows):
            try:
                values[i] = [float(x) if x else np.nan for x in r]
            except ValueError:
                good[i] = False
        if not good.all():
            cnt.framing_errors += int((~good).sum())
            values = values[good]
            line_numbers = [k for k, g in zip(line_numbers, good, strict=True) if g]
        if len(values) == 0:
            return
        seq = np.asarray(line_numbers, np.int64)
        time_us = seq * (1e6 / self.rate_hz)
        for j, name in enumerate(lead):
            col = values[:, j]
            if name in _SEQ_NAMES:
                seq = col.astype(np.int64)
            elif name in _US_NAMES:
                time_us = col
            else:
                time_us = col * 1000.0
        pressure = values[:, len(lead):].astype(np.float32)
        pressure[pressure < 0] = np.nan
        if self.pressure_scale != 1.0:
            pressure *= np.float32(self.pressure_scale)
        prev = np.concatenate([[seq[0] - 1 if self._last_seq is None else self._last_seq], seq[:-1]])
        step = (seq - prev) % 2**32
        fwd = (step > 1) & (step < 2**31)
        cnt.sequence_gaps += int(fwd.sum())
        cnt.frames_missing += int((step[fwd] - 1).sum())
        cnt.sequence_repeats += int(((step == 0) | (step >= 2**31)).sum())
        self._last_seq = int(seq[-1])
        cnt.frames_ok += len(seq)
        out.samples.append(FrameBatch(
            side=self.side,
            sequence=(seq % 2**32).astype(np.uint32),
            device_time_us=np.maximum(np.round(time_us), 0).astype(np.uint64),
            host_time_s=np.full(len(seq), np.nan if host_time_s is None else host_time_s),
            pressure=pressure,
            saturated=np.zeros(len(seq), bool),
        ))


def _is_number(field: bytes) -> bool:
    try:
        float(field)
    except ValueError:
        return field in (b"", b"nan")
    return True


def _is_name(field: bytes) -> bool:
    return re.fullmatch(rb"[A-Za-z_][A-Za-z0-9_\-]*", field) is not None
