"""Serial ports that could be insoles, for ``insole scan`` (pyserial's ``list_ports``; nothing is opened)."""

from __future__ import annotations

from serial.tools import list_ports

from insole.transports.discovery import ScanResult

#: USB vendor ids of the UART bridges and MCUs that DIY insoles use (FTDI, Silicon Labs CP210x, WCH CH340,
#: Espressif native USB, Nordic nRF52840, Adafruit, Raspberry Pi RP2040).
INSOLE_USB_VIDS = {0x0403, 0x10C4, 0x1A86, 0x303A, 0x1915, 0x239A, 0x2E8A}


def scan_serial_ports(timeout_s: float = 0.0) -> list[ScanResult]:
    """Serial ports that could be insoles (pyserial's ``list_ports``), USB bridges of known makers first."""
    results = []
    for p in list_ports.comports():
        details = {k: str(v) for k, v in (("vid:pid", f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None else None),
                                          ("serial_number", p.serial_number), ("manufacturer", p.manufacturer),
                                          ("location", p.location)) if v}
        results.append(ScanResult("serial", f"serial://{p.device}?protocol=openinsole-v1",
                                  p.description if p.description != "n/a" else p.name or p.device, details,
                                  likely_insole=p.vid in INSOLE_USB_VIDS, address=p.device))
    results.sort(key=lambda r: (not r.likely_insole, r.url))
    return results
