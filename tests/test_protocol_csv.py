"""csv-text-v1 decoder: header, checksums, bad lines, numbering and gaps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insole.emulation.sample_encoders import encode_line
from insole.errors import ConfigurationError
from insole.protocols import make_codec, protocol_name
from insole.protocols.csv_text import CsvDecoder, nmea_checksum


def test_canonical_lines_with_checksum_and_damage():
    lines = [encode_line(k, 10_000 * k, [k, 2 * k, 3 * k], checksum=True) for k in range(6)]
    damaged = bytearray(lines[2])
    damaged[2] ^= 0x01  # one bit: the checksum catches it
    stream = b"junk from before\n" + b"".join(lines[:2]) + bytes(damaged) + b"".join(lines[3:])
    dec = CsvDecoder(side="right")
    out = []
    for i in range(0, len(stream), 7):
        out += dec.feed(stream[i : i + 7], host_time_s=1.0).samples
    seq = np.concatenate([b.sequence for b in out])
    assert seq.tolist() == [0, 1, 3, 4, 5]
    p = np.concatenate([b.pressure for b in out])
    np.testing.assert_array_equal(p[:, 2], [0, 3, 9, 12, 15])
    c = dec.counters()
    assert c["crc_failures"] == 1 and c["frames_missing"] == 1 and out[0].side == "right"


def test_header_defines_columns_and_ms_clock():
    dec = CsvDecoder(synced=True)
    out = dec.feed(b"# banner\nt_ms,heel,toe\n100,5,6\n110,7,\n120,x,1\n130,1,2,3\n").samples
    b = out[0]
    assert b.device_time_us.tolist() == [100_000, 110_000]
    assert b.n_sensors == 2 and np.isnan(b.pressure[1, 1])
    c = dec.counters()
    assert c["framing_errors"] == 1 and c["bad_size"] == 1
    # decoder-side numbering counts the damaged lines, so they show as gaps
    assert b.sequence.tolist() == [0, 1] and c["comments"] == 2


def test_pressures_only_use_nominal_rate():
    dec = CsvDecoder(fields="", rate_hz=50, synced=True)
    b = dec.feed(b"1 2 3\n4 5 6\n").samples[0]
    assert b.device_time_us.tolist() == [0, 20_000] and b.n_sensors == 3


def test_bad_field_names_and_protocol_names():
    with pytest.raises(ConfigurationError, match="seq, t_us, t_ms"):
        CsvDecoder(fields="seq,bogus")
    assert protocol_name("CSV-TEXT-V1") == "csv"
    with pytest.raises(ConfigurationError, match="unknown protocol"):
        make_codec("nmea")


def test_checksum_is_nmea_xor():
    assert nmea_checksum(b"GPGLL,5300.97914,N,00259.98174,E,125926,A") == 0x28  # NMEA 0183 textbook sentence


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash(data):
    dec = CsvDecoder()
    for i in range(0, len(data), 50):
        for b in dec.feed(data[i : i + 50]).samples:
            assert b.pressure.shape == (len(b.sequence), b.n_sensors)
