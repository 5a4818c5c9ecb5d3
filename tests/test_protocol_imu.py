"""openinsole-v1 IMU_INFO: the decoder turns the IMU block into m/s² and rad/s in the foot frame only once the
device has described its IMU, and never through an impossible (mirror-image) mounting."""

from __future__ import annotations

import numpy as np
import pytest

from insole.emulation.openinsole_device import encode_imu_info, encode_sample, imu_counts
from insole.errors import ProtocolError
from insole.protocols import make_codec
from insole.protocols.cobs_framing import frame_bytes
from insole.protocols.openinsole_v1 import Decoder, ImuInfoMessage
from insole.transports.ble_profile import BleDeviceRecord

COUNTS = [1000, -2000, 2048, 100, -200, 300]  # acc x, y, z, gyr x, y, z (sensor axes)


def _stream(*frames: bytes) -> bytes:
    return b"\x00" + b"".join(frame_bytes(f) for f in frames)


def test_imu_block_is_converted_only_after_imu_info():
    info = ImuInfoMessage("left", 16000, 2000, (2, -1, 3), 1)
    dec = Decoder()
    before = dec.feed(_stream(encode_sample(1, 10, [5, 6], imu=COUNTS)))
    assert before.samples[0].imu is None and before.imu[0].imu.tolist() == [COUNTS]  # raw counts are kept
    out = dec.feed(_stream(encode_imu_info(info), encode_sample(2, 20, [5, 6], imu=COUNTS)))
    got = out.imu_info[0]
    assert len(out.imu_info) == 1 and dec.imu_info is got
    assert (got.acc_full_scale_mg, got.gyr_full_scale_dps, got.axes, got.calibration_code) == (
        16000, 2000, (2, -1, 3), 1)
    acc_lsb, gyr_lsb = 16 * 9.80665 / 32768, np.radians(2000) / 32768
    # foot x = sensor y, foot y = -sensor x, foot z = sensor z
    np.testing.assert_allclose(out.samples[0].imu.acc_m_s2[0], np.array([-2000, -1000, 2048]) * acc_lsb, rtol=1e-6)
    np.testing.assert_allclose(out.samples[0].imu.gyr_rad_s[0], np.array([-200, -100, 300]) * gyr_lsb, rtol=1e-6)
    # the emulator's inverse gives back the counts
    np.testing.assert_array_equal(imu_counts(info, out.samples[0].imu.acc_m_s2, out.samples[0].imu.gyr_rad_s)[0],
                                  COUNTS)
    desc = info.imu_info(100.0, "acme")
    assert desc.frame == "foot" and desc.calibrated is False and desc.acc_range_m_s2 == pytest.approx(16 * 9.80665)


def test_impossible_or_unknown_mountings():
    mirror = ImuInfoMessage("left", 16000, 2000, (1, -2, 3))
    with pytest.raises(ProtocolError, match="mirror image"):
        mirror.conversion()
    dec = Decoder(imu_info=mirror)  # refused: IMU blocks stay unconverted
    assert dec.feed(_stream(encode_sample(1, 10, [5], imu=COUNTS))).samples[0].imu is None
    unknown = ImuInfoMessage("left", 16000, 2000, (0, 0, 0))
    assert unknown.imu_info(100.0).frame == "sensor"  # kept in the device's axes
    with pytest.raises(ProtocolError, match="full scale of 0"):
        ImuInfoMessage("left", 0, 2000).conversion()


def test_ble_record_describes_the_imu_and_the_codec_uses_it():
    record = BleDeviceRecord("right", 8, 100.0, imu=ImuInfoMessage("right", 8000, 1000, (1, 2, 3), 2))
    back = BleDeviceRecord.from_bytes(record.to_bytes())
    assert (back.imu.acc_full_scale_mg, back.imu.gyr_full_scale_dps, back.imu.axes, back.imu.calibration_code) == (
        8000, 1000, (1, 2, 3), 2) and back.extra == {}
    codec = make_codec("openinsole-v1", imu_info=back.imu)
    batch = codec.feed(_stream(encode_sample(1, 10, [5] * 8, side="right", imu=COUNTS))).samples[0]
    np.testing.assert_allclose(batch.imu.acc_m_s2[0], np.array(COUNTS[:3]) * 8 * 9.80665 / 32768, rtol=1e-6)
    with pytest.raises(ProtocolError, match="device-info imu"):
        BleDeviceRecord.from_bytes(b'{"side":"left","n_sensors":8,"rate_hz":100,"imu":{"axes":[1,2,3]}}')
