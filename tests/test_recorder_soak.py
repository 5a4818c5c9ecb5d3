"""A short soak (2.5 minutes of data per insole, accelerated): exact frame accounting through a faulty link.

Bit flips at 1e-3 per byte, noise bursts, burst losses, a disconnection, a reboot and a writer stall long enough
to overflow the recorder's queue (:mod:`insole.emulation.soak`; the long run is ``benchmarks/soak.py``). Real
simulator, real wire encoder, injector and decoder, real recorder, real HDF5 file."""

from __future__ import annotations

import pytest

from insole.emulation.soak import run_soak


@pytest.fixture(scope="module")
def soak(tmp_path_factory):
    return run_soak(tmp_path_factory.mktemp("soak") / "soak.h5", minutes=2.5, seed=5, stalls=1)


@pytest.mark.parametrize("side", ["left", "right"])
def test_recorded_plus_gaps_is_sent_exactly_and_nothing_corrupt_is_stored(soak, side):
    foot = soak["feet"][side]
    assert foot["recorded"] + foot["in_gaps"] == foot["sent"], foot
    assert foot["exact"] and foot["corrupt_stored"] == 0 and foot["in_order"]
    assert foot["frames_lost_attr"] == foot["in_gaps"]  # the file's total agrees with its gap records
    # the faults really happened: damaged frames were refused by the CRC or framing, losses were classified
    assert foot["damaged_on_wire"] > 0 and foot["decoder"]["crc_failures"] > 0
    assert foot["gaps_by_cause"].get("sequence_gap", 0) > 0
    assert foot["plan"]["disconnects"] >= 1 and foot["plan"]["reboots"] >= 1


def test_the_soak_file_validates_and_the_writer_stall_overflowed(soak):
    assert soak["valid"] and soak["outcome"] == 0 and soak["stalls"] == 1
    causes = set(soak["feet"]["left"]["gaps_by_cause"]) | set(soak["feet"]["right"]["gaps_by_cause"])
    assert {"outage", "buffer_overflow", "device_restart"} <= causes, causes
