"""Live Moticon OpenGo insoles through the vendor's desktop software: ``moticon-udp://127.0.0.1:8888?side=left``.

The OpenGo desktop software re-transmits the insoles' live data (received from its mobile app) as UDP datagrams,
one per sample, each a line of whitespace-separated ASCII numbers. The field order is the one the
``pysio-hermes-moticon`` package (KU Leuven, MIT) documents for that stream, 51 numbers:

====  ==========================================================================================
0     time stamp (s, the vendor's clock)
1-25  left insole: acceleration X/Y/Z (g), angular rate X/Y/Z (deg/s), centre of pressure X/Y
      (normalised, -0.5..0.5), pressure of cells 1-16 (N/cm², as in the text export), total force (N)
26-50 right insole, the same 25 fields
====  ==========================================================================================

A foot whose fields are not numbers (``nan``: that insole sent nothing) gives no sample. Pressures are converted
to kPa (x 10, exact for the export's 0.25 N/cm² steps). The time stamp becomes the device clock
(``device_time_us``) and, at the nominal ``rate_hz``, the sample number (``sequence``), so the recorder counts lost
datagrams as sequence gaps with exact frame counts and aligns the vendor clock to the host clock like any insole.
The layout is the Moticon 16-cell layout derived from the vendor's exports (:mod:`insole.importers.moticon`).

Both feet come in one stream; the two devices of a recording (``side=left`` and ``side=right`` on the same
address) share one socket (:class:`_Listener`). The driver uses asyncio's datagram endpoints and listens only on
the address it is given.

**Tested against the replay emulator** (:mod:`insole.emulation.moticon_udp`, which sends a real Moticon export at
real pace), **not against the vendor software**: the field order follows pysio-hermes-moticon's documentation;
the units of the time stamp and pressures are assumed to be those of the vendor's text export.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator

import numpy as np

from insole.devices import DeviceEvent, DeviceEventKind, DeviceInfo, InsoleDevice
from insole.errors import DeviceError
from insole.frames import FrameBatch
from insole.importers.moticon import CELL_AREA_CM2_SIZE7, CELL_XY, KPA_PER_N_CM2
from insole.layouts import FOREFOOT_WIDTH_RATIO, SensorLayout
from insole.transports.moticon_udp_url import MoticonUdpSettings

#: Numbers in one datagram: time + 25 per foot.
FIELDS_PER_DATAGRAM = 51
#: Offset of each foot's 25 fields and, within them, of the 16 pressures.
FOOT_OFFSET = {"left": 1, "right": 26}
PRESSURE_OFFSET = 8
#: Samples handed on per batch at most (a batch is flushed at least every ``_FLUSH_S``).
_BATCH = 32
_FLUSH_S = 0.05


def moticon_layout(foot_length_mm: float) -> SensorLayout:
    """The Moticon OpenGo 16-cell layout (size-7 areas) scaled to ``foot_length_mm``."""
    L = float(foot_length_mm)
    return SensorLayout("moticon-opengo-16", (CELL_XY[:, 0] + 0.5) * L, CELL_XY[:, 1] * FOREFOOT_WIDTH_RATIO * L,
                        CELL_AREA_CM2_SIZE7 * 100.0, L)


def parse_datagram(payload: bytes) -> np.ndarray | None:
    """The 51 numbers of a datagram (NaN where a field is not a number), or None if it has another count."""
    words = payload.split()
    if len(words) != FIELDS_PER_DATAGRAM:
        return None
    out = np.empty(FIELDS_PER_DATAGRAM)
    for k, w in enumerate(words):
        try:
            out[k] = float(w)
        except ValueError:
            out[k] = math.nan
    return out


class _Listener(asyncio.DatagramProtocol):
    """One socket on HOST:PORT; every datagram goes to the devices (one per foot) that listen on it."""

    _open: dict[tuple[int, str, int], _Listener] = {}

    def __init__(self, key: tuple[int, str, int]) -> None:
        self.key = key
        self.subscribers: set[MoticonUdpInsole] = set()
        self.transport: asyncio.DatagramTransport | None = None
        self.malformed = 0
        self.ready: asyncio.Future[None] | None = None

    @classmethod
    async def join(cls, device: MoticonUdpInsole) -> _Listener:
        """The listener of the device's address (created, and the socket bound, by the first device to ask)."""
        loop = asyncio.get_running_loop()
        cfg = device.settings
        key = (id(loop), cfg.host, cfg.port)
        listener = cls._open.get(key)
        if listener is None:
            listener = cls(key)
            cls._open[key] = listener  # before any await: the other foot's device finds it and waits for it
            listener.ready = loop.create_future()
            try:
                await loop.create_datagram_endpoint(lambda: listener, local_addr=(cfg.host, cfg.port))
            except OSError as exc:
                cls._open.pop(key, None)
                error = DeviceError(f"{cfg.url}: cannot listen on {cfg.host}:{cfg.port} ({exc.strerror or exc}); is "
                                    "another program using the port, or is the address not this computer's?")
                listener.ready.set_exception(error)
                listener.ready.exception()  # retrieved: no "never retrieved" warning when nobody else waits
                raise error from None
            listener.ready.set_result(None)
        else:
            await asyncio.shield(listener.ready)
        listener.subscribers.add(device)
        return listener

    def leave(self, device: MoticonUdpInsole) -> None:
        self.subscribers.discard(device)
        if not self.subscribers:
            self._open.pop(self.key, None)
            if self.transport is not None:
                self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        host_s = time.monotonic()
        values = parse_datagram(data)
        if values is None:
            self.malformed += 1
            return
        for device in self.subscribers:
            device._receive(values, host_s)


class MoticonUdpInsole(InsoleDevice):
    """One foot of the Moticon OpenGo UDP stream (URL: :mod:`insole.transports.moticon_udp_url`)."""

    def __init__(self, url: str) -> None:
        self.settings = MoticonUdpSettings.from_url(url)
        self.url = url
        cfg = self.settings
        self._info = DeviceInfo(url, cfg.side, 16, cfg.rate_hz, "kPa", moticon_layout(cfg.foot_length_mm),
                                model="Moticon OpenGo (desktop UDP stream)",
                                extra={"transport": "moticon-udp", "listen": f"{cfg.host}:{cfg.port}",
                                       "layout_note": "Moticon cell layout derived from the vendor's exports "
                                                      "(insole.importers.moticon), size-7 areas"})
        self._listener: _Listener | None = None
        self._queue: asyncio.Queue[tuple[float, float, np.ndarray]] | None = None
        self._t0: float | None = None
        self._seq_base = 0
        self._last_seq = -1
        self.samples = 0
        self.restarts = 0

    @property
    def info(self) -> DeviceInfo:
        return self._info

    async def open(self) -> None:
        self._queue = asyncio.Queue(maxsize=100_000)
        self._listener = await _Listener.join(self)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.leave(self)
            self._listener = None

    @property
    def malformed_datagrams(self) -> int:
        """Datagrams on the socket that did not hold 51 numbers."""
        return self._listener.malformed if self._listener is not None else 0

    def _receive(self, values: np.ndarray, host_s: float) -> None:
        first = FOOT_OFFSET[self.settings.side]
        pressure = values[first + PRESSURE_OFFSET: first + PRESSURE_OFFSET + 16]
        if not np.all(np.isfinite(pressure)) or not math.isfinite(values[0]) or self._queue is None:
            return  # this insole sent nothing in this sample
        with contextlib.suppress(asyncio.QueueFull):  # a consumer this far behind has lost the datagrams anyway
            self._queue.put_nowait((host_s, float(values[0]), pressure * KPA_PER_N_CM2))

    def _sequence(self, t_s: float) -> int:
        """Sample number of a vendor time stamp; a clock that went back starts a new numbering (a restart)."""
        rate = self.settings.rate_hz
        if self._t0 is None:
            self._t0 = t_s
        seq = int(round((t_s - self._t0) * rate))
        if seq <= self._last_seq - 1 and (self._last_seq - seq) > rate:  # the software restarted its clock
            self.restarts += 1
            self._t0, seq = t_s, 0
        self._last_seq = seq
        return seq

    @property
    def silence_timeout_s(self) -> float:
        """The URL's ``timeout_s`` (the driver itself reports the silence as a disconnection)."""
        return self.settings.timeout_s

    async def stream(self) -> AsyncIterator[FrameBatch | DeviceEvent]:
        if self._queue is None:
            raise DeviceError(f"{self.url}: open() the device before streaming")
        cfg = self.settings
        yield DeviceEvent(DeviceEventKind.CONNECTED, time.monotonic(), f"{self.url} listening")
        lost_at: float | None = None
        last_data = time.monotonic()
        while True:
            items = []
            try:
                async with asyncio.timeout(cfg.timeout_s):
                    items.append(await self._queue.get())
                deadline = time.monotonic() + _FLUSH_S
                while len(items) < _BATCH and time.monotonic() < deadline:
                    try:
                        items.append(self._queue.get_nowait())
                    except asyncio.QueueEmpty:
                        await asyncio.sleep(0.005)
            except TimeoutError:
                now = time.monotonic()
                if lost_at is None:
                    lost_at = last_data
                    yield DeviceEvent(DeviceEventKind.DISCONNECTED, now, f"no datagram for {cfg.timeout_s:g} s",
                                      reconnecting=cfg.reconnect_s > 0)
                if now - lost_at >= cfg.reconnect_s:
                    yield DeviceEvent(DeviceEventKind.OUTAGE, now, "stream ended (no datagram)",
                                      start_host_s=lost_at, end_host_s=now, recovered=False)
                    return
                continue
            if lost_at is not None:
                yield DeviceEvent(DeviceEventKind.OUTAGE, items[0][0], "UDP stream silent", start_host_s=lost_at,
                                  end_host_s=items[0][0])
                yield DeviceEvent(DeviceEventKind.CONNECTED, items[0][0], f"{self.url} streaming again")
                lost_at = None
            last_data = items[-1][0]
            self.samples += len(items)
            host = np.array([h for h, _, _ in items])
            stamps = np.array([t for _, t, _ in items])
            seq = np.array([self._sequence(t) for t in stamps], np.int64)
            yield FrameBatch(cfg.side, (seq & 0xFFFFFFFF).astype(np.uint32),
                             np.round(np.maximum(stamps - (self._t0 or 0.0), 0) * 1e6).astype(np.uint64), host,
                             np.array([p for _, _, p in items], np.float32))
