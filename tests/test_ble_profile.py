"""The BLE GATT profile's pure parts: the device-info record, notification cutting, advertised side."""

from __future__ import annotations

import pytest

from insole.errors import ProtocolError
from insole.transports import ble_profile as P


def test_device_info_record_round_trip_keeps_unknown_keys() -> None:
    rec = P.BleDeviceRecord(side="right", n_sensors=16, sampling_rate_hz=100.0, units="kPa", model="M",
                            serial_number="S1", firmware_version="1.2.3", extra={"hw_rev": "B"})
    back = P.BleDeviceRecord.from_bytes(rec.to_bytes())
    assert back == rec
    minimal = P.BleDeviceRecord.from_bytes(b'{"side":"left","n_sensors":8,"rate_hz":50}')
    assert (minimal.units, minimal.protocol, minimal.foot_length_mm) == ("raw", "openinsole-v1", 265.0)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"side":"left","n_sensors":8}', "lacks rate_hz"),
        (b'{"side":"middle","n_sensors":8,"rate_hz":50}', "side must be"),
        (b'{"side":"left","n_sensors":"many","rate_hz":50}', "non-numeric"),
        (b'{"side":"left","n_sensors":0,"rate_hz":50}', "out of range"),
        (b'{"side":"left","n_sensors":8,"rate_hz":50,"units":"psi"}', "units must be"),
    ],
)
def test_bad_device_info_records_name_the_device_and_the_problem(raw: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message) as err:
        P.BleDeviceRecord.from_bytes(raw, "ble://InsoleL")
    assert str(err.value).startswith("ble://InsoleL")


def test_split_notifications_respects_att_mtu() -> None:
    data = bytes(range(256)) * 2
    for mtu in (23, 24, 185, 247):
        parts = P.split_notifications(data, mtu)
        assert b"".join(parts) == data
        assert max(map(len, parts)) == min(mtu - 3, len(data))


def test_side_from_manufacturer_data() -> None:
    assert P.side_from_manufacturer_data({0xFFFF: b"OIL"}) == "left"
    assert P.side_from_manufacturer_data({0xFFFF: b"OIR\x01"}) == "right"
    assert P.side_from_manufacturer_data({0xFFFF: b"XXL"}) is None
    assert P.side_from_manufacturer_data({0x0059: b"OIL"}) is None
    assert P.side_from_manufacturer_data({}) is None
