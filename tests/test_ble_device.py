"""The real ble:// driver (bleak + bleak-retry-connector) against insole emulators on the bumble Bluetooth stack.

Nothing is mocked: the emulator is a bumble GATT peripheral on a virtual controller, the driver talks to a second
virtual controller on the same simulated link through bleak's public ``backend=`` parameter (our bumble backend).
Radio faults the simulated link does not have (lost notifications, disconnects, a dead battery) are injected by
the emulator, which logs the truth of every sample it produced.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from insole.devices import DeviceEvent, DeviceEventKind, open_device
from insole.emulation.ble_rig import EmulatorRig
from insole.errors import ConfigurationError, DeviceError
from insole.frames import FrameBatch
from insole.transports.ble_device import BleInsole
from insole.transports.ble_scan import scan_insoles

pytestmark = pytest.mark.timeout(60)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 45))


async def collect(dev: BleInsole, seconds: float, during=None) -> tuple[list[FrameBatch], list[DeviceEvent]]:
    """Stream from an open device for ``seconds``; ``during`` is an optional coroutine run alongside."""
    batches: list[FrameBatch] = []
    events: list[DeviceEvent] = []

    async def pump() -> None:
        async for item in dev.stream():
            (batches if isinstance(item, FrameBatch) else events).append(item)

    task = asyncio.create_task(pump())
    side = asyncio.create_task(during) if during is not None else None
    await asyncio.sleep(seconds)
    if side is not None:
        await side
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    return batches, events


def concat(batches: list[FrameBatch]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    seq = np.concatenate([b.sequence for b in batches]).astype(np.int64)
    pressure = np.concatenate([b.pressure for b in batches])
    host = np.concatenate([b.host_time_s for b in batches])
    return seq, pressure, host


def check_payloads(emu, seq: np.ndarray, pressure: np.ndarray) -> None:
    """Every received sample is byte-for-byte what the emulator sent under that sequence number."""
    for s, p in zip(seq, pressure, strict=True):
        np.testing.assert_array_equal(p, emu.log.pressure_of(int(s)).astype(np.float32))


@pytest.mark.parametrize("max_mtu", [23, 247])
def test_frames_arrive_in_order_and_intact_across_notifications(max_mtu: int) -> None:
    """A 16-cell v1 frame is 52+ bytes: with ATT MTU 23 every frame spans three or more notifications."""

    async def main() -> None:
        async with EmulatorRig() as rig:
            emu = rig.add("InsoleL", "left", n_sensors=16, rate_hz=100, max_mtu=max_mtu)
            await emu.start()
            dev = open_device(rig.url("InsoleL"))
            await dev.open()
            try:
                assert dev.info.side == "left" and dev.info.n_sensors == 16 and dev.info.sampling_rate_hz == 100
                assert dev.info.extra["protocol"] == "openinsole-v1"
                assert dev.info.serial_number == "EMU-InsoleL"
                batches, events = await collect(dev, 1.5)
            finally:
                await dev.close()
            seq, pressure, host = concat(batches)
            assert len(seq) >= 80
            assert np.all(np.diff(seq) == 1), "samples must arrive in order without gaps"
            check_payloads(emu, seq, pressure)
            assert np.all(np.isfinite(host)) and np.all(np.diff(host) >= 0)
            counters = dev.decoder_counters
            assert counters["crc_failures"] == 0 and counters["framing_errors"] == 0
            frame_len = len(emu.encoder.encode_samples("left", seq[:1], np.zeros(1, np.int64), pressure[:1])[0])
            if max_mtu == 23:
                assert frame_len > 20  # a frame does not fit into one notification
                assert emu.notifications_sent >= (frame_len / 20) * len(seq)
            else:
                assert emu.notifications_sent < len(seq)
            kinds = [e.kind for e in events]
            assert "connected" in kinds
            battery = [e for e in events if e.kind == "battery"]
            assert battery and battery[0].battery_pct == 87.0

    run(main())


def test_forced_disconnect_reconnects_and_gap_equals_frames_sent_meanwhile() -> None:
    async def main() -> None:
        async with EmulatorRig() as rig:
            emu = rig.add("InsoleL", "left", n_sensors=8, rate_hz=100, max_mtu=23)
            await emu.start()
            dev = open_device(rig.url("InsoleL", reconnect_s=10))
            await dev.open()

            async def fault() -> None:
                await asyncio.sleep(0.8)
                await emu.disconnect(stay_away_s=0.5)

            try:
                batches, events = await collect(dev, 3.0, fault())
            finally:
                await dev.close()
            seq, pressure, host = concat(batches)
            assert dev.reconnects == 1 and emu.connections == 2
            steps = np.diff(seq)
            assert np.all(steps >= 1)
            jumps = np.flatnonzero(steps > 1)
            assert len(jumps) == 1, "exactly one gap, the disconnect"
            missing = set(range(int(seq[jumps[0]]) + 1, int(seq[jumps[0] + 1])))
            assert missing == set(emu.log.missed_between_delivered())
            assert len(missing) >= 40  # 0.5 s away at 100 Hz
            assert set(seq.tolist()) == set(emu.log.delivered_sequences()) - {
                s for s in emu.log.delivered_sequences() if s > seq[-1]
            }
            check_payloads(emu, seq, pressure)
            kinds = [e.kind for e in events]
            assert "disconnected" in kinds and "outage" in kinds and DeviceEventKind.RECONNECTING in kinds
            assert next(e for e in events if e.kind == DeviceEventKind.DISCONNECTED).reconnecting
            outage = next(e for e in events if e.kind == "outage")
            assert outage.recovered and outage.attempt is not None and outage.attempt >= 1
            assert host[jumps[0]] <= outage.start_host_s + 1e-6
            assert outage.end_host_s <= host[jumps[0] + 1]
            assert 0.4 < outage.end_host_s - outage.start_host_s < 5.0

    run(main())


def test_disconnect_in_the_middle_of_a_frame_loses_only_that_frame() -> None:
    async def main() -> None:
        async with EmulatorRig() as rig:
            emu = rig.add("InsoleL", "left", n_sensors=16, rate_hz=100, max_mtu=23)
            await emu.start()
            dev = open_device(rig.url("InsoleL", reconnect_s=10))
            await dev.open()

            async def fault() -> None:
                await asyncio.sleep(0.6)
                await emu.disconnect(stay_away_s=0.2, mid_frame=True)

            try:
                batches, _ = await collect(dev, 2.5, fault())
            finally:
                await dev.close()
            seq, pressure, _ = concat(batches)
            assert dev.reconnects == 1
            check_payloads(emu, seq, pressure)  # the cut frame is not glued to the next connection's bytes
            assert set(seq.tolist()) <= set(emu.log.delivered_sequences())
            assert np.all(np.diff(seq) >= 1)

    run(main())


def test_delays_lost_notifications_and_garbage_cost_only_the_frames_they_touch() -> None:
    async def main() -> None:
        async with EmulatorRig() as rig:
            emu = rig.add("InsoleL", "left", n_sensors=16, rate_hz=100, max_mtu=23)
            await emu.start()
            dev = open_device(rig.url("InsoleL"))
            await dev.open()

            async def fault() -> None:
                emu.notification_delay_s = 0.004  # a congested link: late, bunched notifications lose nothing
                await asyncio.sleep(0.3)
                emu.notification_delay_s = 0.0
                emu.notification_loss = 0.05
                await asyncio.sleep(0.8)
                emu.notification_loss = 0.0
                rng = np.random.default_rng(3)
                for _ in range(5):
                    await emu.inject(rng.integers(0, 256, 57, dtype=np.uint8).tobytes())
                    await asyncio.sleep(0.05)

            try:
                batches, _ = await collect(dev, 2.0, fault())
            finally:
                await dev.close()
            seq, pressure, _ = concat(batches)
            assert emu.notifications_lost > 0
            check_payloads(emu, seq, pressure)  # nothing corrupted gets through
            assert np.all(np.diff(seq) >= 1)
            # every sample the emulator got out whole was decoded (up to the last one received)
            expected = {s for s in emu.log.delivered_sequences() if seq[0] <= s <= seq[-1]}
            assert set(seq.tolist()) == expected
            c = dev.decoder_counters
            assert c["crc_failures"] + c["framing_errors"] + c["bad_size"] > 0

    run(main())


def test_device_that_never_comes_back_gives_up_with_a_clear_message() -> None:
    async def main() -> None:
        async with EmulatorRig() as rig:
            emu = rig.add("InsoleL", "left", n_sensors=8, rate_hz=50)
            await emu.start()
            dev = open_device(rig.url("InsoleL", reconnect_s=1.5, scan_timeout_s=0.5))
            await dev.open()
            got: list[FrameBatch] = []
            t_lost = None
            try:
                with pytest.raises(DeviceError, match=r"did not come back within 1\.5 s") as err:
                    async for item in dev.stream():
                        if isinstance(item, FrameBatch):
                            got.append(item)
                            if sum(map(len, got)) >= 20 and t_lost is None:
                                t_lost = time.monotonic()
                                await emu.dead_battery()
            finally:
                await dev.close()
            assert "keeps everything received" in str(err.value)
            # it waited the reconnect window before giving up (a lower bound only: a slow machine cannot fail it;
            # the bounded waits of the device itself are the hang guard)
            assert time.monotonic() - t_lost >= 1.4
            seq, pressure, _ = concat(got)
            check_payloads(emu, seq, pressure)

    run(main())


def test_device_without_the_insole_service_is_named_as_such() -> None:
    async def main() -> None:
        async with EmulatorRig() as rig:
            other = rig.add("Headphones", "left", service="none")
            await other.start()
            dev = open_device(rig.url("Headphones", scan_timeout_s=0.5))
            with pytest.raises(DeviceError, match="not the insole service"):
                await dev.open()
            missing = open_device(rig.url("NoSuchInsole", scan_timeout_s=0.3))
            with pytest.raises(DeviceError, match="no insole called 'NoSuchInsole'"):
                await missing.open()

    run(main())


def test_nordic_uart_csv_insole_and_its_required_parameters() -> None:
    async def main() -> None:
        async with EmulatorRig() as rig:
            emu = rig.add("DIY-L", "left", service="nus", n_sensors=8, rate_hz=50, max_mtu=23)
            await emu.start()
            dev = open_device(rig.url("DIY-L", sensors=8))
            with pytest.raises(ConfigurationError, match="rate_hz"):
                await dev.open()
            await dev.close()
            dev = open_device(rig.url("DIY-L", sensors=8, rate_hz=50))
            await dev.open()
            try:
                assert dev.info.side == "left"  # from the advertised manufacturer data
                assert dev.info.extra["ble_service"] == "nus" and dev.info.extra["protocol"] == "csv"
                batches, _ = await collect(dev, 1.2)
            finally:
                await dev.close()
            seq, pressure, _ = concat(batches)
            assert len(seq) >= 30 and np.all(np.diff(seq) == 1)
            check_payloads(emu, seq, pressure)

    run(main())


@pytest.mark.parametrize("service", ["insole", "nus"])
def test_a_12_cell_insole_is_recorded_with_a_placeholder_layout(service: str) -> None:
    """No built-in layout has 12 cells: the insole is not refused, its geometry is unknown (unknown-12)."""

    async def main() -> None:
        async with EmulatorRig() as rig:
            emu = rig.add("DIY12", "right", service=service, n_sensors=12, rate_hz=50)
            await emu.start()
            extra = {"sensors": 12, "rate_hz": 50} if service == "nus" else {}
            dev = open_device(rig.url("DIY12", **extra))
            await dev.open()
            try:
                layout = dev.info.layout
                assert dev.info.n_sensors == 12 and layout.layout_id == "unknown-12" and layout.geometry == "unknown"
                batches, _ = await collect(dev, 1.0)
            finally:
                await dev.close()
            seq, pressure, _ = concat(batches)
            assert len(seq) >= 20 and pressure.shape[1] == 12
            check_payloads(emu, seq, pressure)

    run(main())


def test_scan_filters_by_service_and_reports_side() -> None:
    async def main() -> None:
        async with EmulatorRig() as rig:
            rig.add("InsoleL", "left")
            rig.add("InsoleR", "right")
            rig.add("DIY-L", "left", service="nus")
            rig.add("Headphones", "right", service="none")
            await rig.start()
            found = await scan_insoles(0.5, transport=rig.transport)
            everything = await scan_insoles(0.5, transport=rig.transport, include_all=True)
        by_name = {r.name: r for r in found}
        assert set(by_name) == {"InsoleL", "InsoleR", "DIY-L"}
        assert by_name["InsoleL"].side == "left" and by_name["InsoleR"].side == "right"
        assert by_name["InsoleL"].service == "insole" and by_name["DIY-L"].service == "nus"
        assert {r.name for r in everything} == {"InsoleL", "InsoleR", "DIY-L", "Headphones"}

    run(main())


def test_url_errors_are_clear() -> None:
    with pytest.raises(ConfigurationError, match="unknown parameter"):
        open_device("ble://InsoleL?colour=red")
    with pytest.raises(ConfigurationError, match="name or address"):
        open_device("ble://?transport=local:x")
    with pytest.raises(ConfigurationError, match="backend=bumble needs transport"):
        BleInsole("ble://InsoleL?backend=bumble")
    with pytest.raises(ConfigurationError, match="reconnect_s must be between"):
        open_device("ble://InsoleL?transport=local:x&reconnect_s=-1")
    with pytest.raises(ConfigurationError, match="give_up_s is now called reconnect_s"):
        open_device("ble://InsoleL?transport=local:x&give_up_s=5")
    with pytest.raises(ConfigurationError, match="unknown parameter.*known: .*reconnect_s"):
        open_device("ble://InsoleL?transport=local:x&colour=red")
    with pytest.raises(ConfigurationError, match="unknown protocol"):
        open_device("ble://InsoleL?transport=local:x&protocol=morse")
