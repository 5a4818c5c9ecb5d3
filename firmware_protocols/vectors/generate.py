"""Write the golden vectors of openinsole-v1 (one JSON file per case) from hand-written expected values.

Run ``python firmware_protocols/vectors/generate.py``; the files are checked in, and tests/test_protocol_vectors.py
decodes every one and compares with ``expected``. The expected values below are the inputs given to the encoder,
written by hand, not decoder output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from insole.emulation.openinsole_device import (  # noqa: E402
    encode_device_info,
    encode_imu_info,
    encode_sample,
    encode_status,
    encode_sync_reply,
)
from insole.protocols.cobs_framing import frame_bytes  # noqa: E402
from insole.protocols.crc import crc16_ibm3740  # noqa: E402
from insole.protocols.openinsole_v1 import (  # noqa: E402
    Command,
    DeviceInfoMessage,
    ImuInfoMessage,
    StatusMessage,
    SyncReply,
    encode_command,
)

P16 = [0, 1, 2, 100, 255, 256, 1000, 4095, 0, 0, 0x1234, 0x00FF, 0xFF00, 77, 65534, 9]


def sample(seq, t, p, side="left", **kw):
    return {"type": "sample", "side": side, "sequence": seq, "device_time_us": t, "pressure_counts": list(p),
            "saturated": kw.get("saturated", False), "clock_synced": kw.get("clock_synced", False),
            "imu": kw.get("imu")}


def write(name, description, wire, frames, counters, direction="device-to-host"):
    case = {"name": name, "description": description, "direction": direction, "hex": wire.hex(),
            "expected": {"frames": frames, "counters": counters}}
    (HERE / f"{name}.json").write_text(json.dumps(case, indent=1) + "\n")


def main() -> None:
    s1 = encode_sample(1, 1_000_000, P16)
    write("sample-16-left", "One 16-sensor sample, left foot, after the start delimiter.",
          b"\x00" + frame_bytes(s1), [sample(1, 1_000_000, P16)], {"frames_ok": 1, "crc_failures": 0})
    p8 = [10, 65535, 30, 40, 50, 60, 70, 80]
    imu = [-1, 2, -16384, 32767, -32768, 0]
    s2 = encode_sample(0xFFFFFFFF, 2**40 + 5, p8, side="right", imu=imu, saturated=True, clock_synced=True)
    write("sample-8-right-imu", "8 sensors, right foot, IMU block, saturated and clock-synced flags, sensor 1 "
          "invalid (0xFFFF), last sequence number before the wrap.",
          b"\x00" + frame_bytes(s2),
          [sample(0xFFFFFFFF, 2**40 + 5, p8, "right", saturated=True, clock_synced=True, imu=imu)],
          {"frames_ok": 1})
    seq_frames = [encode_sample(k, 10_000 * k, [k, k + 1, k + 2, k + 3]) for k in range(5)]
    wire = b"\x00" + b"".join(frame_bytes(f) for f in seq_frames)
    write("stream-5-samples", "Five consecutive 4-sensor samples.", wire,
          [sample(k, 10_000 * k, [k, k + 1, k + 2, k + 3]) for k in range(5)], {"frames_ok": 5, "sequence_gaps": 0})
    # damaged streams
    f = [frame_bytes(x) for x in seq_frames]
    bad = bytearray(f[2])
    bad[10] ^= 0x04  # one bit flipped inside frame 2
    write("damaged-crc", "Frame 2 of 5 has one flipped bit: it fails the CRC; the others decode; one sequence gap.",
          b"\x00" + f[0] + f[1] + bytes(bad) + f[3] + f[4],
          [sample(k, 10_000 * k, [k, k + 1, k + 2, k + 3]) for k in (0, 1, 3, 4)],
          {"frames_ok": 4, "crc_failures": 1, "sequence_gaps": 1, "frames_missing": 1})
    write("garbage-and-midstream-start", "The receiver joins mid-frame (tail of a frame), then line noise without "
          "a delimiter merges with nothing; valid frames after each delimiter decode.",
          f[0][20:] + f[1] + b"\x13\x37\x42\x00" + f[2],
          [sample(k, 10_000 * k, [k, k + 1, k + 2, k + 3]) for k in (1, 2)],
          {"frames_ok": 2, "framing_errors": 1, "bytes_discarded": len(f[0]) - 20 + 4})
    write("truncated-frame", "Frame 1 is cut after 10 bytes (its delimiter arrives): too short, dropped.",
          b"\x00" + f[0] + f[1][:10] + b"\x00" + f[2],
          [sample(k, 10_000 * k, [k, k + 1, k + 2, k + 3]) for k in (0, 2)],
          {"frames_ok": 2, "bytes_discarded": 11})
    merged = b"\x00" + f[0] + f[1][:-1] + b"\x01" + f[2]  # delimiter of frame 1 became 0x01: frames 1 and 2 merge
    write("damaged-delimiter", "The delimiter after frame 1 is damaged (0x00 -> 0x01), merging frames 1 and 2; "
          "the receiver recovers both from the ends of the merged run (salvage).", merged,
          [sample(k, 10_000 * k, [k, k + 1, k + 2, k + 3]) for k in (0, 1, 2)], {"frames_ok": 3, "salvaged": 2})
    v2 = bytearray(seq_frames[0][:-2])
    v2[0] = 2
    v2 += crc16_ibm3740(bytes(v2)).to_bytes(2, "little")
    write("wrong-version", "A frame with version 2 (valid CRC) is rejected; the next frame decodes.",
          b"\x00" + frame_bytes(bytes(v2)) + f[1], [sample(1, 10_000, [1, 2, 3, 4])],
          {"frames_ok": 1, "wrong_version": 1, "unknown_type": 0, "bytes_discarded": len(frame_bytes(bytes(v2)))})
    nc = bytearray(seq_frames[0][:-2])
    nc[3] = 20  # claims 20 sensors, carries 4
    nc += crc16_ibm3740(bytes(nc)).to_bytes(2, "little")
    write("impossible-sensor-count", "Count byte says 20 sensors but the frame holds 4 (CRC valid): bad size.",
          b"\x00" + frame_bytes(bytes(nc)) + f[1], [sample(1, 10_000, [1, 2, 3, 4])],
          {"frames_ok": 1, "bad_size": 1, "unknown_type": 0, "bytes_discarded": len(frame_bytes(bytes(nc)))})
    info = DeviceInfoMessage("right", 16, 2, 100, "1.2.3", 1, 4095, 265, "SN-0042", "acme-insole", 7, 123_456)
    write("device-info", "DEVICE_INFO: right, 16 sensors, generic-16, 100 Hz, fw 1.2.3, 0.1 kPa units.",
          b"\x00" + frame_bytes(encode_device_info(info)),
          [{"type": "device_info", "side": "right", "n_sensors": 16, "layout_code": 2, "sampling_rate_hz": 100,
            "firmware_version": "1.2.3", "units_code": 1, "adc_full_scale": 4095, "foot_length_mm": 265,
            "serial_number": "SN-0042", "model": "acme-insole", "sequence": 7, "device_time_us": 123_456,
            "has_imu": False}],
          {"frames_ok": 1})
    info = DeviceInfoMessage("left", 16, 2, 100, "1.2.3", 1, 4095, 265, "SN-0043", "acme-insole", 7, 123_456,
                             has_imu=True)
    write("device-info-imu", "DEVICE_INFO of a left insole with an IMU: flags bit 1 set, an IMU_INFO frame follows.",
          b"\x00" + frame_bytes(encode_device_info(info)),
          [{"type": "device_info", "side": "left", "n_sensors": 16, "layout_code": 2, "sampling_rate_hz": 100,
            "firmware_version": "1.2.3", "units_code": 1, "adc_full_scale": 4095, "foot_length_mm": 265,
            "serial_number": "SN-0043", "model": "acme-insole", "sequence": 7, "device_time_us": 123_456,
            "has_imu": True}],
          {"frames_ok": 1})
    imu_info = ImuInfoMessage("left", 16000, 2000, (2, -1, 3), 1, 7, 123_500)
    write("imu-info", "IMU_INFO: +-16 g (16000 mg), +-2000 deg/s, sensor mounted turned 90 degrees about z (foot x = "
          "sensor y, foot y = -sensor x, foot z = sensor z), raw (uncalibrated) values.",
          b"\x00" + frame_bytes(encode_imu_info(imu_info)),
          [{"type": "imu_info", "side": "left", "acc_full_scale_mg": 16000, "gyr_full_scale_dps": 2000,
            "axes": [2, -1, 3], "calibration_code": 1, "sequence": 7, "device_time_us": 123_500}],
          {"frames_ok": 1, "unknown_type": 0})
    st = StatusMessage("left", 87.0, 3950, True, 200, 3, 1000, 5_000_000)
    write("status", "STATUS: 87 %, 3950 mV, streaming, 200 Hz, 3 samples dropped by the device.",
          b"\x00" + frame_bytes(encode_status(st)),
          [{"type": "status", "side": "left", "battery_pct": 87.0, "battery_mv": 3950, "streaming": True,
            "sampling_rate_hz": 200, "device_dropped": 3, "sequence": 1000, "device_time_us": 5_000_000}],
          {"frames_ok": 1})
    sr = SyncReply("left", 0xDEADBEEF, 9_999_999, 42)
    write("sync-reply", "SYNC_REPLY to request 0xDEADBEEF.", b"\x00" + frame_bytes(encode_sync_reply(sr)),
          [{"type": "sync_reply", "side": "left", "request_id": 0xDEADBEEF, "device_time_us": 9_999_999,
            "sequence": 42}], {"frames_ok": 1})
    cmds = [(Command.START, None), (Command.STOP, None), (Command.GET_INFO, None), (Command.SET_RATE, 200),
            (Command.SYNC, 0x12345678), (Command.GET_STATUS, None)]
    write("commands", "Host commands START, STOP, GET_INFO, SET_RATE 200, SYNC 0x12345678, GET_STATUS.",
          b"".join(encode_command(c, v) for c, v in cmds),
          [{"command": c.name, "value": v} for c, v in cmds], {}, direction="host-to-device")
    (HERE / "crc-check.json").write_text(json.dumps(
        {"name": "crc-check", "algorithm": "CRC-16/IBM-3740", "poly": "0x1021", "init": "0xFFFF",
         "refin": False, "refout": False, "xorout": "0x0000", "input_ascii": "123456789", "check": "0x29B1"},
        indent=1) + "\n")


if __name__ == "__main__":
    main()
