"""The contract every device shares: URL vocabulary, layout policy, events, codecs and the codec registry."""

from __future__ import annotations

import numpy as np
import pytest

from insole.devices import RENAMED_PARAMETERS, DeviceEvent, DeviceEventKind, open_device
from insole.emulation.openinsole_device import encode_sample
from insole.emulation.sample_encoders import encode_line, sample_encoder
from insole.errors import ConfigurationError, DeviceError
from insole.layouts import BUILTIN_LAYOUTS, builtin_layout, layout_for_device
from insole.protocols import PROTOCOLS, Codec, Decoded, make_codec, protocol_name
from insole.protocols.cobs_framing import frame_bytes
from insole.protocols.csv_text import CsvDecoder
from insole.protocols.openinsole_v1 import Decoder

URLS = {
    "sim": "sim://neutral?realtime=0",
    "serial": "serial:///dev/ttyUSB0?protocol=csv",
    "ble": "ble://InsoleL?transport=local:nowhere",
}


@pytest.mark.parametrize("scheme", sorted(URLS))
@pytest.mark.parametrize("old", sorted(RENAMED_PARAMETERS))
def test_old_parameter_names_are_refused_with_the_new_name(scheme, old):
    with pytest.raises(ConfigurationError, match=f"{old} is now called {RENAMED_PARAMETERS[old]}"):
        open_device(f"{URLS[scheme]}&{old}=30")


@pytest.mark.parametrize("scheme", sorted(URLS))
def test_unknown_parameters_are_refused_with_the_known_ones(scheme):
    with pytest.raises(ConfigurationError, match=r"unknown parameter\(s\) colour; known: .*rate_hz") as err:
        open_device(f"{URLS[scheme]}&colour=red")
    for shared in ("side", "rate_hz", "sensors", "units"):
        assert shared in str(err.value)


@pytest.mark.parametrize("scheme", sorted(URLS))
def test_shared_parameters_have_one_name_and_one_check(scheme):
    """side, rate_hz, sensors, units and foot_length_mm mean the same on every scheme and are checked alike."""
    for bad, message in (("side=middle", "side must be one of left, right"),
                         ("units=psi", "units must be one of"),
                         ("rate_hz=fast", "rate_hz must be a number"),
                         ("foot_length_mm=90", r"foot_length_mm must be between 150(\.0)? and 350")):
        with pytest.raises(ConfigurationError, match=message):
            open_device(f"{URLS[scheme]}&{bad}")
    open_device(f"{URLS[scheme]}&side=right&rate_hz=100&sensors=16&units=raw&foot_length_mm=270")
    if scheme != "sim":
        open_device(f"{URLS[scheme]}&reconnect_s=5")


def test_serial_and_ble_parse_the_shared_parameters_into_the_same_values():
    serial = open_device("serial:///dev/ttyUSB0?protocol=csv&side=right&sensors=12&foot_length_mm=270&reconnect_s=5")
    ble = open_device("ble://X?transport=local:nowhere&side=right&sensors=12&foot_length_mm=270&reconnect_s=5")
    s, b = serial.settings, ble.settings  # type: ignore[attr-defined]
    assert (s.side, s.sensors, s.foot_length_mm, s.reconnect_s) == (b.side, b.sensors, b.foot_length_mm,
                                                                    b.reconnect_s) == ("right", 12, 270.0, 5.0)


# ---------------------------------------------------------------------------------------------- layout policy
@pytest.mark.parametrize("layout_id", sorted(BUILTIN_LAYOUTS))
def test_an_announced_built_in_layout_is_specified(layout_id):
    n = BUILTIN_LAYOUTS[layout_id]
    layout = layout_for_device(n, 250.0, layout_id)
    assert layout.layout_id == layout_id and layout.geometry == "specified" and layout.foot_length_mm == 250.0
    np.testing.assert_array_equal(layout.x_mm, builtin_layout(n, 250.0).x_mm)


@pytest.mark.parametrize("announced", ["", "custom", "acme-16", "generic-8"])
def test_an_unannounced_cell_count_with_a_built_in_layout_is_generic(announced):
    layout = layout_for_device(16, 260.0, announced)  # generic-8 does not fit 16 cells: not usable
    assert layout.layout_id == "generic-16" and layout.geometry == "generic"


@pytest.mark.parametrize("announced", ["", "custom", "generic-16"])
def test_any_other_cell_count_gets_a_placeholder_of_unknown_geometry(announced):
    layout = layout_for_device(12, 260.0, announced)
    assert layout.layout_id == "unknown-12" and layout.geometry == "unknown" and layout.n_sensors == 12


def test_layout_policy_refuses_impossible_devices():
    with pytest.raises(ConfigurationError, match="at least one cell"):
        layout_for_device(0, 260.0)
    with pytest.raises(ConfigurationError, match="between 150 and 350"):
        layout_for_device(16, 20.0)


# ---------------------------------------------------------------------------------------------- events
def test_device_events_have_a_kind_and_the_fields_it_needs():
    ev = DeviceEvent("outage", 3.0, "gone", start_host_s=1.0, end_host_s=3.0)  # a plain string is converted
    assert ev.kind is DeviceEventKind.OUTAGE and ev.recovered and ev.kind == "outage"
    assert DeviceEvent(DeviceEventKind.BATTERY, 0.0, battery_pct=50.0).battery_pct == 50.0
    with pytest.raises(DeviceError, match="unknown device event kind 'status'"):
        DeviceEvent("status", 0.0)
    with pytest.raises(DeviceError, match="start_host_s and end_host_s"):
        DeviceEvent(DeviceEventKind.OUTAGE, 0.0, start_host_s=1.0)
    with pytest.raises(DeviceError, match="battery_pct"):
        DeviceEvent(DeviceEventKind.BATTERY, 0.0)


# ---------------------------------------------------------------------------------------------- codecs
def _wire(protocol: str, n: int = 5) -> bytes:
    seq = np.arange(n)
    t_us = 10_000 * seq
    pressure = np.tile(np.arange(4), (n, 1)) + seq[:, None]
    enc = sample_encoder(protocol)
    return enc.resync + b"".join(enc.encode_samples("right", seq, t_us, pressure))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_codec_keeps_the_one_contract(protocol):
    codec: Codec = make_codec(protocol, side="right", n_sensors=4, rate_hz=100.0, synced=True)
    assert codec.protocol == protocol and isinstance(codec.has_device_clock, bool)
    out = Decoded()
    wire = _wire(protocol)
    for i in range(0, len(wire), 7):  # cut anywhere, as serial reads and BLE notifications are
        part = codec.feed(wire[i : i + 7], host_time_s=2.0)
        assert isinstance(part, Decoded)
        out.samples += part.samples
    assert out.n_samples == 5 and all(b.side == "right" for b in out.samples)
    seq = np.concatenate([b.sequence for b in out.samples])
    assert seq.tolist() == [0, 1, 2, 3, 4]
    c = codec.counters()
    assert c["frames_ok"] == 5 and c["bytes_in"] == len(wire) and c["crc_failures"] == 0
    codec.resync()


def test_one_registry_names_every_protocol():
    assert protocol_name("BINARY") == protocol_name("openinsole") == "openinsole-v1"
    assert protocol_name("text") == protocol_name("csv-text-v1") == "csv"
    assert isinstance(make_codec("binary"), Decoder) and isinstance(make_codec("text"), CsvDecoder)
    assert sample_encoder("binary").name == "openinsole-v1"
    with pytest.raises(ConfigurationError, match="unknown protocol 'morse'; choose one of: openinsole-v1, csv"):
        make_codec("morse")


def test_decoded_sorts_messages_by_kind():
    from insole.emulation.openinsole_device import encode_status
    from insole.protocols.openinsole_v1 import StatusMessage

    wire = (b"\x00" + frame_bytes(encode_sample(1, 10, [1, 2], imu=[1, 2, 3, 4, 5, 6]))
            + frame_bytes(encode_status(StatusMessage("left", 50.0, 3700, True, 100, 0))))
    out = Decoder().feed(wire, host_time_s=1.0)
    assert len(out.samples) == len(out.imu) == len(out.status) == 1 and not out.device_info and not out.sync
    assert out.status[0].battery_pct == 50.0 and out.imu[0].imu.tolist() == [[1, 2, 3, 4, 5, 6]]
    assert not Decoder().feed(b"") and bool(out)
    assert encode_line(1, 2, [3.0, np.nan]) == b"1,2,3,\n"
