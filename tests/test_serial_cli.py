"""`insole scan`, `insole emulate` and serial URLs as a user meets them: messages, exit codes, extensibility."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from insole.devices import open_device
from insole.errors import ConfigurationError
from insole.transports.discovery import ScanResult, register_scanner, scan

INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*INSOLE, *args], capture_output=True, text=True, timeout=120)


def fake_scan(timeout_s: float) -> list[ScanResult]:
    return [ScanResult("fake", "fake://insole-1", "a registered transport", {"rssi": "-40"}, True)]


def broken_scan(timeout_s: float) -> list[ScanResult]:
    raise OSError("no adapter")


def test_scan_lists_serial_ports_as_json():
    r = run("scan", "--all", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert "serial" in out["transports"]
    from serial.tools import list_ports

    assert len(out["devices"]) == len(list_ports.comports())
    for d in out["devices"]:
        assert d["url"].startswith("serial://") and d["transport"] == "serial"


def test_scan_is_extensible_and_survives_a_broken_transport():
    register_scanner("fake", f"{__name__}:fake_scan")
    register_scanner("broken", f"{__name__}:broken_scan")
    results, problems = scan(["fake", "broken", "nope"])
    assert [r.url for r in results] == ["fake://insole-1"]
    assert problems["broken"] == "no adapter" and "unknown transport" in problems["nope"]


def test_emulate_on_a_missing_port_fails_clearly(tmp_path):
    r = run("emulate", "--port", str(tmp_path / "nope"), "--duration-s", "1")
    assert r.returncode == 1 and "cannot open" in r.stderr and "pty" in r.stderr


def test_record_from_a_missing_port_fails_clearly(tmp_path):
    r = run("record", "--device", f"serial://{tmp_path}/ttyUSB9", "-o", str(tmp_path / "x.h5"), "--quiet")
    assert r.returncode == 1 and "insole scan" in r.stderr and not (tmp_path / "x.h5").exists()


@pytest.mark.parametrize(("url", "message"), [
    ("serial://", "names no port"),
    ("serial:///dev/ttyUSB0?bogus=1", "unknown parameter"),
    ("serial:///dev/ttyUSB0?protocol=nmea", "unknown protocol"),
    ("serial:///dev/ttyUSB0?baud=fast", "must be a number"),
    ("serial:///dev/ttyUSB0?protocol=csv&side=middle", "side must be"),
    ("serial:///dev/ttyUSB0?protocol=csv&fields=seq,temp", "seq, t_us, t_ms"),
])
def test_bad_urls_say_what_is_wrong(url, message):
    with pytest.raises(ConfigurationError, match=message):
        open_device(url)
