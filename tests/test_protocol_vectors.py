"""Golden vectors of openinsole-v1 decode exactly; CRC named by its check value; encoders round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from insole.emulation.openinsole_device import CommandDecoder
from insole.protocols import Decoded
from insole.protocols.crc import CRC_INIT, CRC_POLY, crc16_ibm3740
from insole.protocols.openinsole_v1 import Decoder

VECTORS = Path(__file__).resolve().parents[1] / "firmware_protocols" / "vectors"
CASES = sorted(p for p in VECTORS.glob("*.json") if p.name != "crc-check.json")


def crc16_ibm3740_bitwise(data: bytes) -> int:
    """Bit-by-bit reference CRC, as a firmware author would write it (firmware_protocols/openinsole-v1.md)."""
    crc = CRC_INIT
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ CRC_POLY) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def as_dicts(decoded: list[Decoded]) -> list[dict]:
    """Flatten decoder output into the vector's frame records (no vector mixes frame types)."""
    out: list[dict] = []
    imu_rows: dict[int, list[int]] = {}
    for dec in decoded:
        for it in dec.imu:
            for s, row in zip(it.sequence.tolist(), it.imu.tolist(), strict=True):
                imu_rows[s] = row
    for dec in decoded:
        for it in dec.samples:
            for i in range(len(it)):
                p = it.pressure[i]
                out.append({"type": "sample", "side": it.side, "sequence": int(it.sequence[i]),
                            "device_time_us": int(it.device_time_us[i]),
                            "pressure_counts": [65535 if np.isnan(x) else int(x) for x in p],
                            "saturated": bool(it.saturated[i]), "imu": imu_rows.get(int(it.sequence[i]))})
        for it in dec.device_info:
            d = {k: getattr(it, k) for k in ("side", "n_sensors", "layout_code", "sampling_rate_hz",
                                             "firmware_version", "units_code", "adc_full_scale", "foot_length_mm",
                                             "serial_number", "model", "sequence", "device_time_us",
                                             "has_imu")}
            out.append({"type": "device_info", **d})
        for it in dec.imu_info:
            d = {k: getattr(it, k) for k in ("side", "acc_full_scale_mg", "gyr_full_scale_dps", "calibration_code",
                                             "sequence", "device_time_us")}
            out.append({"type": "imu_info", **d, "axes": list(it.axes)})
        for it in dec.status:
            d = {k: getattr(it, k) for k in ("side", "battery_pct", "battery_mv", "streaming", "sampling_rate_hz",
                                             "device_dropped", "sequence", "device_time_us")}
            out.append({"type": "status", **d})
        for it in dec.sync:
            out.append({"type": "sync_reply", "side": it.side, "request_id": it.request_id,
                        "device_time_us": it.device_time_us, "sequence": it.sequence})
    return out


def test_vectors_exist():
    assert len(CASES) >= 12


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
@pytest.mark.parametrize("piece", [None, 1, 7, 20])  # whole stream, and cut as serial reads / BLE notifications
def test_golden_vector_decodes_exactly(path, piece):
    case = json.loads(path.read_text())
    wire = bytes.fromhex(case["hex"])
    expected = case["expected"]
    if case["direction"] == "host-to-device":
        dec = CommandDecoder()
        got = []
        for i in range(0, len(wire), piece or len(wire)):
            got += [{"command": c.name, "value": v} for c, v in dec.feed(wire[i : i + (piece or len(wire))])]
        assert got == expected["frames"] and dec.rejected == 0
        return
    dec = Decoder(pressure_scale=1.0)
    items = []
    for i in range(0, len(wire), piece or len(wire)):
        items.append(dec.feed(wire[i : i + (piece or len(wire))], host_time_s=1.0))
    want = [{k: v for k, v in f.items() if k != "clock_synced"} for f in expected["frames"]]
    assert as_dicts(items) == want
    counters = dec.counters()
    for key, value in expected["counters"].items():
        assert counters[key] == value, key


def test_crc_is_ibm3740_by_its_check_value():
    check = json.loads((VECTORS / "crc-check.json").read_text())
    assert crc16_ibm3740(b"123456789") == int(check["check"], 16) == 0x29B1
    # the C routine and the documented bit-by-bit algorithm agree on every vector's frames
    for path in CASES:
        wire = bytes.fromhex(json.loads(path.read_text())["hex"])
        assert crc16_ibm3740(wire) == crc16_ibm3740_bitwise(wire)


def test_clock_synced_flag_is_on_the_wire():
    case = json.loads((VECTORS / "sample-8-right-imu.json").read_text())
    from insole.protocols.cobs_framing import cobs_decode

    frame = cobs_decode(bytes.fromhex(case["hex"]).strip(b"\x00"))
    assert frame[2] == 0x01 | 0x02 | 0x04 | 0x08


def test_vector_files_match_their_generator(tmp_path, monkeypatch):
    """The checked-in vectors are what generate.py writes (nobody edited one by hand into inconsistency)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen", VECTORS / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    monkeypatch.setattr(gen, "HERE", tmp_path)
    gen.main()
    for path in VECTORS.glob("*.json"):
        assert (tmp_path / path.name).read_text() == path.read_text(), path.name
